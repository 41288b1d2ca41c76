# Benchmark of cfpoison's learners against softImpute, the reference solver.
#
# Run after installing the package, from the package root:
#   R CMD INSTALL .
#   Rscript inst/bench/learners.R
# Set CFPOISON_BENCH_SKIP_20M=1 to skip the MovieLens-20M-shaped part (it needs a
# few GB of memory and a few minutes).
#
# Everything runs in one R process, so the peak memory reported at the end is
# the whole script's high-water mark, an upper bound for the 20M fit alone.
#
# Scales. Eq. 2 is sum (r - u'v)^2 + 2 lambda_u ||U||^2 + 2 lambda_v ||V||^2.
# softImpute(type = "als", lambda = L) minimizes half of it with
# lambda_u = lambda_v = L / 2; at its balanced factors (u d^1/2, v d^1/2) the
# penalty is 2 * L * sum(d) on our scale. The nuclear learner's objective,
# sum (r - x)^2 + 2 lambda ||X||_*, is likewise twice softImpute(type = "svd")'s
# with the same lambda. So every softImpute result is scored as
# sum((r - pred)^2) + 2 * L * sum(d).

library(cfpoison)
suppressPackageStartupMessages(library(Matrix))

# Settings ---------------------------------------------------------------------

als_rank <- 10L
als_lambda <- 5 # lambda_u = lambda_v; softImpute's lambda is twice this
als_seeds <- 1:3 # ALS is non-convex: the time to an objective depends on the start
als_softimpute_maxit <- 500L
als_max_sweeps <- 1000L # enough to pass softImpute's 500 iterations on every seed

sweep_timing_sweeps <- 50L
sweep_timing_threads <- c(1L, 2L)
# The machine is shared: other tenants slow a fit by up to 1.5x in bursts. The
# code's own speed is the fastest of a few fits' median sweep.
sweep_timing_fits <- 5L

nuclear_lambda <- 20 # solution rank 27 on movielens_small, below nuclear_rank_max
nuclear_rank_max <- 30L
nuclear_softimpute_maxit <- 500L
# type = "svd" passes `thresh` (and `maxit`) to its inner SVD as well, so a
# vanishing threshold would run 500 x 500 inner iterations. Let it converge to
# a tight tolerance of its own instead; it stops well before `maxit`.
nuclear_softimpute_thresh <- 1e-7
nuclear_max_sweeps <- 3000L

# Doubles: their product overflows an integer.
ml20m_users <- 138493
ml20m_items <- 26744
ml20m_ratings <- 20000263
ml20m_sweeps <- 5L
ml20m_threads <- 2L

goals <- list(
  als_speedup = 20, # softImpute time / cfpoison time, at least
  ms_per_sweep = 10, # ms per ALS sweep at 1 thread, below
  flop_bound_ratio = 3, # ALS sweep time / its FLOP count at the core's peak, below
  ml20m_seconds_per_sweep = 5, # on 2 threads, below
  ml20m_peak_gb = 3 # below
)

# Helpers ----------------------------------------------------------------------

# Evaluates `expr` and returns its value with the elapsed wall-clock seconds.
timed <- function(expr) {
  seconds <- system.time(value <- expr, gcFirst = TRUE)[["elapsed"]]
  list(value = value, seconds = seconds)
}

# softImpute warns when it runs out of iterations; for the ALS runs that is the
# point (a vanishing threshold makes it run all of them), so record the warning
# instead of printing it.
run_softimpute <- function(x, ..., seed) {
  hit_maxit <- FALSE
  set.seed(seed)
  run <- timed(withCallingHandlers(
    softImpute::softImpute(x, ...),
    warning = function(w) {
      if (grepl("Convergence not achieved", conditionMessage(w))) {
        hit_maxit <<- TRUE
        invokeRestart("muffleWarning")
      }
    }
  ))
  run$hit_maxit <- hit_maxit
  run
}

# softImpute's input. Incomplete() keeps explicit zeros: after the shift to
# [-2, 2] a 3-star rating is an observed 0, and a plain dgCMatrix would drop it.
softimpute_matrix <- function(ratings) {
  softImpute::Incomplete(ratings$user, ratings$item, ratings$rating)
}

# A softImpute fit's objective on cfpoison's scale (see the header).
softimpute_objective <- function(fit, ratings, lambda) {
  pred <- softImpute::impute(fit, ratings$user, ratings$item)
  sum((ratings$rating - pred)^2) + 2 * lambda * sum(fit$d)
}

# First sweep of a cf_fit whose objective is at or below `target`, with the
# elapsed seconds there; NA when the fit never gets there. For the nuclear
# learner the trace holds the factored objective, an upper bound on Eq. 3 at
# the same iterate, so the time found is conservative.
time_to_objective <- function(fit, target) {
  hit <- which(fit$trace$objective <= target)[1]
  data.frame(
    sweep = fit$trace$iteration[hit],
    seconds = fit$trace$seconds[hit]
  )
}

# The arithmetic of one ALS sweep of rank k as ridge_update() does it, counted
# from the data, once for the users and once for the items. A target with n >=
# k ratings adds each rating's factor's outer product to a Gram matrix's lower
# triangle (k (k + 1) flops, a multiply and an add per element) and its
# multiple to a right-hand side (2 k), then takes a Cholesky factorization
# (k^3 / 3) and two triangular solves (2 k^2). One with n < k solves the n x n
# push-through system instead: n (n + 1) / 2 dot products of length k, a
# Cholesky factorization (n^3 / 3), two triangular solves (2 n^2) and the
# factor as a sum of n scaled factors (2 n k).
sweep_flops <- function(ratings, k) {
  side <- function(n) {
    sum(ifelse(
      n >= k,
      n * (k * (k + 1) + 2 * k) + k^3 / 3 + 2 * k^2,
      n * (n + 1) * k + n^3 / 3 + 2 * n^2 + 2 * n * k
    ))
  }
  side(tabulate(ratings$user, length(ratings$user_ids))) + side(tabulate(ratings$item, length(ratings$item_ids)))
}

# One core's peak in double precision, for the instructions this build uses:
# R compiles packages without -march, so for x86-64 the compiler targets SSE2,
# two doubles per vector and no fused multiply-add. A core issuing two vector
# multiplies and two vector adds per cycle (AMD Zen, Intel since Haswell) then
# does 8 flops per cycle, at the clock /proc/cpuinfo reports (its base clock;
# a turbo clock would lower the time bound and raise the ratio below).
peak_flops_per_cycle <- 8
peak_gflops_per_core <- function() {
  mhz <- tryCatch(
    as.numeric(sub(".*:\\s*", "", grep("^cpu MHz", readLines("/proc/cpuinfo"), value = TRUE)[1])),
    error = function(e) NA_real_
  )
  peak_flops_per_cycle * mhz / 1000
}

# Median time per sweep, from the differences of the trace's timestamps.
seconds_per_sweep <- function(fit) {
  stats::median(diff(fit$trace$seconds))
}

# Shared helpers (peak memory, goal reports) live beside this script.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))

# One time-to-objective comparison: softImpute runs first, then cfpoison fits
# from the same seed until its trace passes softImpute's final objective.
compare_with_softimpute <- function(ratings, x, learner, lambda, seed, ...) {
  reference <- run_softimpute(x, lambda = lambda, ..., seed = seed)
  reference_objective <- softimpute_objective(reference$value, ratings, lambda)
  set.seed(seed)
  fit <- fit_cf(ratings, learner, threads = 1L)
  reached <- time_to_objective(fit, reference_objective)
  data.frame(
    seed = seed,
    softimpute_seconds = reference$seconds,
    softimpute_all_iterations = reference$hit_maxit,
    softimpute_rank = sum(reference$value$d > 0),
    softimpute_objective = reference_objective,
    cfpoison_sweep = reached$sweep,
    cfpoison_seconds = reached$seconds,
    cfpoison_rank = fit$rank,
    cfpoison_final_objective = fit$objective,
    cfpoison_final_sweeps = nrow(fit$trace),
    cfpoison_fit_seconds = fit$seconds,
    # A fit that never reaches the target is infinitely slow: ratio 0.
    speedup = if (is.na(reached$seconds)) 0 else reference$seconds / reached$seconds
  )
}

section <- function(title) {
  cat("\n", title, "\n", strrep("-", nchar(title)), "\n", sep = "")
}

report_goal <- function(label, value, goal, at_least = TRUE, digits = 3) {
  met <- !is.na(value) && (if (at_least) value >= goal else value < goal)
  relation <- if (at_least) ">=" else "<"
  cat(sprintf(
    "  goal: %s %s %s -> %s (%s)\n",
    label, relation, format(goal), format(signif(value, digits)), if (met) "met" else "not met"
  ))
  invisible(met)
}

# Objectives to two decimals (the solvers differ in the 5th-7th digit), other
# numbers to four significant digits.
print_table <- function(table) {
  shown <- lapply(names(table), function(name) {
    column <- table[[name]]
    if (!is.double(column)) {
      return(format(column))
    }
    if (grepl("objective", name)) formatC(column, format = "f", digits = 2) else format(signif(column, 4))
  })
  names(shown) <- names(table)
  print(as.data.frame(shown), row.names = FALSE)
}

# Setup ------------------------------------------------------------------------

cat("cfpoison learner benchmark\n")
cat(sprintf(
  "cfpoison %s, softImpute %s, %s; %d cores; BLAS %s\n",
  utils::packageVersion("cfpoison"), utils::packageVersion("softImpute"), R.version.string,
  parallel::detectCores(), basename(extSoftVersion()[["BLAS"]])
))

# Timings are wall-clock: other work on the machine slows them, multi-threaded
# ones most of all, so say how busy it was.
load_average <- tryCatch(
  strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3],
  error = function(e) rep("?", 3)
)
cat(sprintf("load average at start: %s\n", paste(load_average, collapse = " ")))

ml <- movielens_small()
ml_matrix <- softimpute_matrix(ml)
cat(sprintf(
  "movielens_small: %d users x %d items, %d ratings (%d observed zeros)\n",
  length(ml$user_ids), length(ml$item_ids), length(ml$rating), sum(ml$rating == 0)
))

# 1. ALS: time to softImpute's objective --------------------------------------

section(sprintf(
  "1. ALS, rank %d, lambda_u = lambda_v = %g: time to reach softImpute's objective",
  als_rank, als_lambda
))
cat(sprintf(
  "softImpute(type = \"als\", lambda = %g, rank.max = %d, maxit = %d, thresh = 1e-16) vs\n",
  2 * als_lambda, als_rank, als_softimpute_maxit
))
cat(sprintf("learner_als(rank = %d, lambda_u = %g, tol = 0), 1 thread\n", als_rank, als_lambda))
als_learner <- learner_als(
  rank = als_rank, lambda_u = als_lambda, lambda_v = als_lambda, max_iter = als_max_sweeps, tol = 0
)
als_runs <- do.call(rbind, lapply(als_seeds, function(seed) {
  compare_with_softimpute(
    ml, ml_matrix, als_learner,
    lambda = 2 * als_lambda, seed = seed,
    rank.max = als_rank, type = "als", maxit = als_softimpute_maxit, thresh = 1e-16
  )
}))
print_table(als_runs[c(
  "seed", "softimpute_seconds", "softimpute_all_iterations", "softimpute_objective",
  "cfpoison_sweep", "cfpoison_seconds", "cfpoison_final_sweeps", "cfpoison_final_objective", "speedup"
)])
cat(sprintf(
  paste0(
    "softImpute's time is for all %d of its iterations; cfpoison's is to its first sweep at or\n",
    "below softImpute's final objective (its final objective is after cfpoison_final_sweeps).\n"
  ),
  als_softimpute_maxit
))
report_goal("median speedup (softImpute s / cfpoison s)", stats::median(als_runs$speedup), goals$als_speedup)

# 2. ALS: time per sweep -------------------------------------------------------

section(sprintf(
  "2. ALS time per sweep, movielens_small, rank %d (median of %d sweeps, fastest of %d fits)",
  als_rank, sweep_timing_sweeps, sweep_timing_fits
))
sweep_learner <- learner_als(rank = als_rank, lambda_u = als_lambda, max_iter = sweep_timing_sweeps, tol = 0)
sweep_ms <- vapply(sweep_timing_threads, function(threads) {
  fits_ms <- vapply(seq_len(sweep_timing_fits), function(attempt) {
    set.seed(1)
    1000 * seconds_per_sweep(fit_cf(ml, sweep_learner, threads = threads))
  }, numeric(1))
  min(fits_ms)
}, numeric(1))
print_table(data.frame(threads = sweep_timing_threads, ms_per_sweep = sweep_ms))
report_goal("ms per sweep at 1 thread", sweep_ms[sweep_timing_threads == 1L], goals$ms_per_sweep, at_least = FALSE)
one_thread_ms <- sweep_ms[sweep_timing_threads == 1L]
flops <- sweep_flops(ml, als_rank)
peak_gflops <- peak_gflops_per_core()
bound_ms <- 1000 * flops / (peak_gflops * 1e9)
cat(sprintf(
  paste0(
    "one sweep: %.1f MFLOP, %.2f GFLOP/s at 1 thread; the FLOP bound at %.1f GFLOP/s per core\n",
    "(SSE2: %g flops per cycle) is %.2f ms, and the sweep takes %.1f times that\n"
  ),
  flops / 1e6, flops / (one_thread_ms / 1000) / 1e9, peak_gflops, peak_flops_per_cycle,
  bound_ms, one_thread_ms / bound_ms
))
report_goal("sweep time / FLOP bound at 1 thread", one_thread_ms / bound_ms, goals$flop_bound_ratio, at_least = FALSE)

# 3. Nuclear norm: time to softImpute's objective ------------------------------

section(sprintf(
  "3. Nuclear norm, lambda = %g, rank_max = %d: time to reach softImpute's objective",
  nuclear_lambda, nuclear_rank_max
))
cat(sprintf(
  "softImpute(type = \"svd\", lambda = %g, rank.max = %d, maxit = %d, thresh = %g) vs\n",
  nuclear_lambda, nuclear_rank_max, nuclear_softimpute_maxit, nuclear_softimpute_thresh
))
cat(sprintf("learner_nuclear(lambda = %g, rank_max = %d, tol = 0), 1 thread\n", nuclear_lambda, nuclear_rank_max))
nuclear_run <- compare_with_softimpute(
  ml, ml_matrix,
  learner_nuclear(lambda = nuclear_lambda, rank_max = nuclear_rank_max, max_iter = nuclear_max_sweeps, tol = 0),
  lambda = nuclear_lambda, seed = 1L,
  rank.max = nuclear_rank_max, type = "svd", maxit = nuclear_softimpute_maxit, thresh = nuclear_softimpute_thresh
)
print_table(nuclear_run[c(
  "softimpute_seconds", "softimpute_all_iterations", "softimpute_rank", "softimpute_objective",
  "cfpoison_sweep", "cfpoison_seconds", "speedup"
)])
print_table(nuclear_run[c(
  "cfpoison_rank", "cfpoison_final_objective", "cfpoison_final_sweeps", "cfpoison_fit_seconds"
)])
# The problem is convex: both solvers should agree on the optimum.
cat(sprintf(
  "solution rank below rank_max: softImpute %s, cfpoison %s; final objectives differ by %.2g (relative)\n",
  nuclear_run$softimpute_rank < nuclear_rank_max, nuclear_run$cfpoison_rank < nuclear_rank_max,
  (nuclear_run$softimpute_objective - nuclear_run$cfpoison_final_objective) / nuclear_run$cfpoison_final_objective
))
report_goal("speedup (softImpute s / cfpoison s)", nuclear_run$speedup, goals$als_speedup)

# 4. MovieLens-20M-shaped ALS --------------------------------------------------

section(sprintf(
  "4. ALS on a simulated MovieLens-20M-shaped problem (%d x %d, %d ratings), %d threads",
  ml20m_users, ml20m_items, ml20m_ratings, ml20m_threads
))
if (identical(Sys.getenv("CFPOISON_BENCH_SKIP_20M"), "1")) {
  cat("skipped (CFPOISON_BENCH_SKIP_20M=1)\n")
} else {
  generated <- timed(simulate_ratings(
    ml20m_users, ml20m_items,
    rank = als_rank, density = ml20m_ratings / (ml20m_users * ml20m_items),
    zipf_exponent = 1, seed = 1, threads = ml20m_threads
  ))
  big <- generated$value
  set.seed(1)
  big_fit <- timed(fit_cf(
    big, learner_als(rank = als_rank, lambda_u = als_lambda, max_iter = ml20m_sweeps, tol = 0),
    threads = ml20m_threads
  ))
  big_sweep_seconds <- seconds_per_sweep(big_fit$value)
  peak_gb <- peak_memory_gb()
  print_table(data.frame(
    ratings = length(big$rating),
    generate_seconds = generated$seconds,
    fit_seconds = big_fit$seconds,
    sweeps = nrow(big_fit$value$trace),
    seconds_per_sweep = big_sweep_seconds,
    peak_memory_gb = peak_gb
  ))
  cat("fit_seconds includes building the index over the ratings; seconds_per_sweep does not.\n")
  report_goal("seconds per sweep, 2 threads", big_sweep_seconds, goals$ml20m_seconds_per_sweep, at_least = FALSE)
  report_goal("peak memory (GB, VmHWM)", peak_gb, goals$ml20m_peak_gb, at_least = FALSE)
}
