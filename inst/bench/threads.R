# OpenMP threads on a loaded machine: the ALS sweep with 1 and 2 threads,
# libgomp's default wait policy against OMP_WAIT_POLICY=PASSIVE, on an idle
# machine and beside a process that keeps one core busy (issue 13).
#
#   Rscript inst/bench/threads.R
#
# libgomp reads its wait policy once, when it is loaded, and R links it (R's
# own libR.so), so the policy is fixed when R starts: Sys.setenv() or
# .Renviron come too late. Each measurement therefore runs in a child R
# process started with the policy in its environment (the only figure not
# taken as a ratio within one process). By default a thread that reaches the
# end of a parallel region spins for a while before it sleeps; on a machine
# whose cores are taken, the spinning thread holds a core that the thread
# still working needs.
#
# Each child fits ALS (rank 10, lambda 5) for 200 sweeps (tol 0) on
# movielens_small() and on simulated data of 20,000 x 5,000 with 1M ratings,
# three times, and prints the median milliseconds per sweep.

child <- '
library(cfpoison)
threads <- as.integer(Sys.getenv("CFPOISON_BENCH_CHILD_THREADS"))
sweep_ms <- function(ratings, sweeps) {
  learner <- learner_als(rank = 10, lambda_u = 5, max_iter = sweeps, tol = 0)
  fit_cf(ratings, learner, seed = 1, threads = threads, progress = FALSE)
  seconds <- replicate(3, system.time(fit_cf(ratings, learner, seed = 1, threads = threads, progress = FALSE))[["elapsed"]])
  1000 * stats::median(seconds) / sweeps
}
small <- sweep_ms(movielens_small(), 200)
larger <- sweep_ms(simulate_ratings(20000, 5000, rank = 10, density = 1e-2, seed = 1), 40)
cat(sprintf("%.3f %.3f\n", small, larger))
'

script <- tempfile(fileext = ".R")
writeLines(child, script)
rscript <- file.path(R.home("bin"), "Rscript")

measure <- function(threads, policy) {
  env <- c(sprintf("CFPOISON_BENCH_CHILD_THREADS=%d", threads), if (!is.na(policy)) sprintf("OMP_WAIT_POLICY=%s", policy))
  out <- system2(rscript, script, stdout = TRUE, env = env)
  as.numeric(strsplit(utils::tail(out, 1), " ")[[1]])
}

# A process that keeps one core busy until it is killed.
start_load <- function() {
  busy <- tempfile(fileext = ".R")
  writeLines(c("writeLines(as.character(Sys.getpid()), commandArgs(TRUE)[1])", "repeat x <- sqrt(2)"), busy)
  pid_file <- tempfile()
  system2(rscript, c(busy, pid_file), wait = FALSE)
  while (!file.exists(pid_file) || length(readLines(pid_file)) == 0L) Sys.sleep(0.1)
  as.integer(readLines(pid_file))
}

cat(sprintf("R %s, %d cores, load average %s\n\n", getRversion(), parallel::detectCores(),
  paste(utils::head(strsplit(readLines("/proc/loadavg"), " ")[[1]], 3), collapse = " ")))
cells <- expand.grid(
  policy = c(NA, "PASSIVE"), threads = c(1L, 2L), machine = c("idle", "one core busy"),
  stringsAsFactors = FALSE
)
cells <- cells[!(cells$threads == 1L & !is.na(cells$policy)), ]
results <- NULL
for (machine in unique(cells$machine)) {
  load_pid <- if (machine == "one core busy") start_load()
  for (k in which(cells$machine == machine)) {
    ms <- measure(cells$threads[k], cells$policy[k])
    results <- rbind(results, data.frame(
      machine = machine, threads = cells$threads[k],
      wait_policy = ifelse(is.na(cells$policy[k]), "default", cells$policy[k]),
      movielens_ms = ms[1], simulated_ms = ms[2]
    ))
  }
  if (!is.null(load_pid)) tools::pskill(load_pid)
}
print(results, row.names = FALSE, digits = 3)
