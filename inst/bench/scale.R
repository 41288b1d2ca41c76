# Benchmark of the helpers at MovieLens-20M scale (issue 13) and of a grid run
# through a Slurm scheduler: seconds (elapsed and CPU) and peak memory.
#
#   R CMD INSTALL --preclean .
#   bash scripts/slurm-local.sh      # optional: without it the Slurm part is skipped
#   Rscript inst/bench/scale.R
#
# Parts, each with its peak resident memory (VmHWM, reset before each part)
# and the memory resident when it began (the data it works on, and what the
# process's heap kept from the parts before):
#   * a 2 x 2 attack_grid() under plan(sequential) and under Slurm (one
#     batchtools job per run), and the scheduler's overhead per job;
#   * simulate_ratings() of MovieLens-20M's shape (138,493 x 26,744, 20M ratings);
#   * the hit ratio at 10 of 10 targets on that data, from an ALS fit's factors;
#   * DegSim (k = 25) of a sample of 500 users, min_corated 2 and 10;
#   * read_movielens() of a 20M-line ratings.csv written by data.table::fwrite();
#   * the default attack (poison_pga()) on 20M-shaped data and its evaluation
#     (about 13 minutes on 2 threads at alpha = 0.5%, of which the attack 10).
# Set CFPOISON_BENCH_SKIP_20M=1 to run only the grid, CFPOISON_BENCH_THREADS
# to change the thread count (default 2), CFPOISON_BENCH_20M_ATTACKS to choose
# the attacks (goal@alpha pairs, goal availability, push or nuke; default
# "availability@0.005", empty for none; a push or nuke runs on data with a
# shared taste, see below). The 20M parts need about 4 GB.

library(cfpoison)

goals <- list(simulate_seconds = 10, read_seconds = 20, attack_seconds = 900, attack_gb = 4)

source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))

threads <- as.integer(Sys.getenv("CFPOISON_BENCH_THREADS", "2"))

# Elapsed and CPU seconds (this process and its children) of `expr`, and the
# peak memory while it ran.
measure <- function(expr) {
  invisible(gc())
  reset_peak_memory()
  held_gb <- peak_memory_gb()
  start <- proc.time()
  value <- force(expr)
  used <- proc.time() - start
  list(
    value = value, elapsed = used[["elapsed"]],
    cpu = sum(used[c("user.self", "sys.self", "user.child", "sys.child")], na.rm = TRUE),
    peak_gb = peak_memory_gb(), held_gb = held_gb
  )
}

report_part <- function(label, m, goal = NULL) {
  report(paste(label, "(elapsed)"), m$elapsed, "s", goal)
  report(paste(label, "(CPU)"), m$cpu, "s")
  report(paste(label, "(peak memory)"), m$peak_gb, "GB")
  report(paste(label, "(resident before it)"), m$held_gb, "GB")
}

cat(sprintf("R %s, %d threads, load average %s\n\n", getRversion(), threads,
  paste(utils::head(strsplit(readLines("/proc/loadavg"), " ")[[1]], 3), collapse = " ")))

# A 2 x 2 grid under plan(sequential) and under Slurm ---------------------------

grid_ratings <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
small_grid <- function() {
  attack_grid(grid_ratings, learner_als(rank = 3, lambda_u = 1),
    methods = c("pga", "uniform"), alpha = c(0.03, 0.06), seeds = 1L, items_per_user = 10,
    attack_args = list(pga = list(max_iter = 4)), detect = FALSE, progress = FALSE
  )
}
timing <- c("attack_seconds", "evaluation_seconds", "seconds")
future::plan(future::sequential)
sequential <- measure(small_grid())
report_part("2 x 2 grid, plan(sequential)", sequential)

slurm_up <- nzchar(Sys.which("sinfo")) &&
  any(grepl("^(idle|mixed)", suppressWarnings(system2("sinfo", c("-h", "-N", "-o", "%T"), stdout = TRUE))))
if (slurm_up && requireNamespace("future.batchtools", quietly = TRUE)) {
  registries <- tempfile("cfpoison-slurm-")
  dir.create(registries)
  options(future.cache.path = registries, future.delete = TRUE)
  future::plan(future.batchtools::batchtools_slurm,
    template = system.file("templates", "slurm-cfpoison.tmpl", package = "cfpoison"),
    resources = list(ncpus = 1, walltime = 600, memory = 1024)
  )
  slurm <- measure(small_grid())
  future::plan(future::sequential)
  unlink(registries, recursive = TRUE)
  jobs <- nrow(slurm$value)
  same <- identical(slurm$value[setdiff(names(slurm$value), timing)], sequential$value[setdiff(names(sequential$value), timing)])
  report_part(sprintf("2 x 2 grid, Slurm (%d jobs)", jobs), slurm)
  report("  the same table as plan(sequential) (1 = yes)", as.numeric(same), "")
  # Work the runs themselves did, summed, against the wall clock of the jobs:
  # the rest is submitting, queueing, starting R and collecting results.
  run_seconds <- sum(slurm$value$seconds)
  report("  scheduler overhead per job ((elapsed - run seconds) / jobs)", (slurm$elapsed - run_seconds) / jobs, "s")
  report("  extra elapsed per job against sequential", (slurm$elapsed - sequential$elapsed) / jobs, "s")
} else {
  cat("Slurm part skipped: no idle Slurm node (scripts/slurm-local.sh starts one) or no future.batchtools.\n")
}

if (Sys.getenv("CFPOISON_BENCH_SKIP_20M") == "1") {
  cat("MovieLens-20M-shaped parts skipped (CFPOISON_BENCH_SKIP_20M=1)\n")
  quit(save = "no")
}

# simulate_ratings() at MovieLens-20M's shape ------------------------------------

m <- 138493
n <- 26744
simulated <- measure(simulate_ratings(m, n, rank = 10, density = 20000263 / (m * n), seed = 1, threads = threads))
big <- simulated$value
simulated$value <- NULL
cat(sprintf("\nMovieLens-20M-shaped data: %d ratings, %d users x %d items\n", length(big$rating), m, n))
report_part("simulate_ratings", simulated, goals$simulate_seconds)

# Hit ratio from an ALS fit's factors ---------------------------------------------

fitted <- measure(fit_cf(big, learner_als(rank = 10, lambda_u = 5, max_iter = 3), seed = 1, threads = threads, progress = FALSE))
fit <- fitted$value
report("ALS fit, 3 sweeps, for the factors (elapsed)", fitted$elapsed, "s")
targets <- seq(100L, 1000L, by = 100L)
hits <- measure(cfpoison:::.hit_ratio(cfpoison:::core_ratings(big), fit$u, fit$v, targets - 1L, 10L, threads))
report_part(sprintf("hit ratio at 10, %d targets, all users", length(targets)), hits)
report("  per user (CPU)", hits$cpu / m * 1e3, "ms")
rm(fit, fitted)

# DegSim of a sample of users ----------------------------------------------------

set.seed(1)
sample_users <- sample.int(m, 500)
for (min_corated in c(2, 10)) {
  degsim <- measure(detect_features(big, users = sample_users, min_corated = min_corated, threads = threads))
  report_part(sprintf("DegSim (k = 25, min_corated = %d), 500 users", min_corated), degsim)
}

# read_movielens() of a 20M-line ratings.csv -------------------------------------

if (requireNamespace("data.table", quietly = TRUE)) {
  csv_dir <- tempfile("ml-20m-")
  dir.create(csv_dir)
  csv <- file.path(csv_dir, "ratings.csv")
  # Stars as in the release: half stars from 0.5 to 5.
  data.table::fwrite(
    data.frame(
      userId = big$user_ids[big$user], movieId = big$item_ids[big$item],
      rating = pmin(pmax(round((big$rating + 3) * 2) / 2, 0.5), 5), timestamp = 1e9 + seq_along(big$rating)
    ),
    csv
  )
  rm(big)
  cat(sprintf("ratings.csv: %.0f MB\n", file.size(csv) / 1e6))
  read <- measure(read_movielens(csv))
  report_part("read_movielens (data.table::fread)", read, goals$read_seconds)
  report("  ratings read", length(read$value$rating) / 1e6, "x 1e6")
  rm(read)
  unlink(csv_dir, recursive = TRUE)
} else {
  cat("read_movielens part skipped: data.table is not installed.\n")
}

# The default attack ------------------------------------------------------------
#
# poison_pga() with its defaults (the support search) against ALS (rank 10,
# lambda 5) fitted to tol 1e-8, then its converged effect (evaluate_attack()),
# on the 20M-shaped data of inst/bench/learners.R and attacks.R (item
# popularity Zipf with exponent 1, as MovieLens's is skewed). There the users'
# mean factor is about 0, so every item's average prediction lies within
# +-0.005 and hardly any attack can move it: a push or nuke runs on the same
# shape with a shared taste instead (simulate_ratings(user_mean = 0.3): items'
# average predictions spread by about 0.5, against 0.18 for an ALS fit to
# movielens_small(), so that many items lie near the paper's target's 0.8),
# against the item select_targets() picks near a clean average prediction of
# 0.8.

attack_cells <- strsplit(strsplit(Sys.getenv("CFPOISON_BENCH_20M_ATTACKS", "availability@0.005"), ",")[[1]], "@")
cell_goals <- vapply(attack_cells, `[`, "", 1)
for (user_mean in unique(ifelse(cell_goals == "availability", 0, 0.3))) {
  big <- simulate_ratings(m, n, rank = 10, density = 20000263 / (m * n), zipf_exponent = 1, user_mean = user_mean,
    seed = 1, threads = threads
  )
  cleaned <- measure(fit_cf(big, learner_als(rank = 10, lambda_u = 5, max_iter = 500, tol = 1e-8),
    seed = 1, threads = threads, progress = FALSE
  ))
  clean <- cleaned$value
  report_part(sprintf("clean ALS fit to tol 1e-8 (%d sweeps), user_mean = %g", nrow(clean$trace), user_mean), cleaned)
  target <- select_targets(clean, near = 0.8, min_ratings = 10, ratings = big, seed = 1)
  for (cell in attack_cells[(cell_goals == "availability") == (user_mean == 0)]) {
    goal <- cell[1]
    alpha <- as.numeric(cell[2])
    utility <- switch(goal,
      availability = utility_availability(),
      push = utility_integrity(targets = target, weights = 2),
      nuke = utility_integrity(targets = target, weights = -2)
    )
    attacked <- measure(poison_pga(big, learner_als(rank = 10, lambda_u = 5), utility, attack_budget(alpha = alpha),
      clean = clean, seed = 1, threads = threads, progress = FALSE
    ))
    cat(sprintf("default attack, %s at alpha = %g: %d fake users, best from the search from %s\n", goal, alpha,
      length(attacked$value$fake$user_ids), attacked$value$settings$start))
    report("  attack (elapsed)", attacked$elapsed, "s", goals$attack_seconds)
    report("  attack (CPU)", attacked$cpu, "s")
    report("  attack (peak memory)", attacked$peak_gb, "GB", goals$attack_gb)
    report("  attack (resident before it)", attacked$held_gb, "GB")
    evaluated <- measure(evaluate_attack(big, attacked$value, threads = threads, progress = FALSE))
    report_part("  evaluate_attack", evaluated)
    effect <- evaluated$value
    if (goal == "availability") {
      report("  RMSE shift (its floor below)", effect$rmse_shift, "")
      report("  RMSE shift of the refit alone", effect$rmse_shift_floor, "")
    } else {
      report("  target's average prediction, clean", effect$target_rating_clean, "")
      report("  target's average prediction, poisoned - clean", effect$target_rating_poisoned - effect$target_rating_clean, "")
    }
  }
  rm(big, clean, cleaned, attacked, evaluated)
}
