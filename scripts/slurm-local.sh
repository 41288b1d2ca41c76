#!/usr/bin/env bash
# A single-node Slurm on this machine (Debian 12: slurm-wlm and munge), for
# running grids through future.batchtools and inst/templates/slurm-cfpoison.tmpl.
#
#   bash scripts/slurm-local.sh        installs what is missing, writes a minimal
#                                      /etc/slurm/slurm.conf, starts munged,
#                                      slurmctld and slurmd, waits for the node
#   bash scripts/slurm-local.sh stop   stops the three daemons it started
#
# No systemd is assumed (containers have none): the daemons are started
# directly. Does nothing when sinfo already shows an idle node. Needs root (or
# sudo); the daemons run as root, which a throwaway single-node setup allows.
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker="# Written by cfpoison's scripts/slurm-local.sh"
state=/var/spool/cfpoison-slurm
run_dir=/run/cfpoison-slurm
log_dir=/var/log/cfpoison-slurm

sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

fail() {
  echo "slurm-local.sh: $*" >&2
  exit 1
}

node_state() {
  # States of this node as sinfo reports them ("idle", "mixed", "down*", ...).
  command -v sinfo >/dev/null 2>&1 || return 0
  timeout 10 sinfo -h -N -o '%T' 2>/dev/null || true
}

stop_daemon() {
  local name=$1 pid_file=$2
  if [ -s "$pid_file" ]; then
    local pid
    pid=$(cat "$pid_file")
    if $sudo_cmd kill "$pid" 2>/dev/null; then
      # Wait for it to go, so that a restart right after finds the port free.
      for _ in $(seq 50); do
        $sudo_cmd kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      echo "Stopped $name (pid $pid)."
    fi
    $sudo_cmd rm -f "$pid_file"
  fi
}

if [ "${1:-start}" = "stop" ]; then
  stop_daemon slurmd "$run_dir/slurmd.pid"
  stop_daemon slurmctld "$run_dir/slurmctld.pid"
  stop_daemon munged "$run_dir/munged.pid"
  exit 0
fi
[ "${1:-start}" = "start" ] || fail "unknown command '$1': use 'start' (the default) or 'stop'."

if node_state | grep -qE '^(idle|mixed|allocated)'; then
  echo "Slurm is already up: $(sinfo -h -N -o '%N %T %c CPUs')."
  exit 0
fi

packages=(slurm-wlm munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    fail "could not install ${missing[*]} with apt-get."
fi

# A configuration someone else wrote is theirs: never overwrite it.
if [ -e "$conf" ] && ! head -n 1 "$conf" | grep -qF "$marker"; then
  fail "$conf exists and was not written by this script; start that cluster's daemons instead."
fi

host=$(hostname -s)
cpus=$(nproc)
# The memory slurmd itself detects, so that it accepts the node's definition.
memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
[ -n "$memory" ] || fail "slurmd -C did not report the node's memory."

$sudo_cmd mkdir -p "$state/ctld" "$state/d" "$run_dir" "$log_dir" /etc/slurm
$sudo_cmd tee "$conf" >/dev/null <<EOF
$marker: a single-node cluster for tests.
ClusterName=cfpoison
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
# No cgroups in a container: track processes through /proc, bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# A node that was down comes back by itself once slurmd registers.
ReturnToService=2
SchedulerType=sched/backfill
# Short intervals: test jobs last seconds, the defaults are tuned for hours.
SchedulerParameters=sched_min_interval=100000
MessageTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# munged: its key comes with the Debian package; it runs as the munge user.
if ! munge -n >/dev/null 2>&1; then
  $sudo_cmd mkdir -p /run/munge && $sudo_cmd chown munge:munge /run/munge
  [ -s /etc/munge/munge.key ] || $sudo_cmd runuser -u munge -- /usr/sbin/mungekey --verbose
  $sudo_cmd runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid ||
    fail "munged did not start (see /var/log/munge/munged.log)."
  $sudo_cmd cp /run/munge/munged.pid "$run_dir/munged.pid"
  munge -n >/dev/null || fail "munged started but does not answer."
fi

# Clear a failed start's daemons before starting new ones.
stop_daemon slurmd "$run_dir/slurmd.pid"
stop_daemon slurmctld "$run_dir/slurmctld.pid"
$sudo_cmd /usr/sbin/slurmctld || fail "slurmctld did not start (see $log_dir/slurmctld.log)."
$sudo_cmd /usr/sbin/slurmd || fail "slurmd did not start (see $log_dir/slurmd.log)."

for _ in $(seq 60); do
  if node_state | grep -qE '^(idle|mixed|allocated)'; then
    echo "Slurm is up: $(sinfo -h -N -o '%N %T %c CPUs'), partition debug."
    exit 0
  fi
  sleep 1
done
fail "the node is not up after 60 s: sinfo says '$(node_state | tr '\n' ' ')'; see $log_dir/*.log."
