# Benchmark of the attack engine, in one R process, against the learner it
# attacks: every cost is also reported in ALS sweeps measured in the same run.
#
#   R CMD INSTALL --preclean .
#   Rscript inst/bench/attacks.R
#
# Set CFPOISON_BENCH_SKIP_20M=1 to skip the MovieLens-20M-shaped part.

library(cfpoison)

goals <- list(
  pga_iteration_in_sweeps = 10, # time per PGA iteration / one ALS sweep, at most
  pga_50_seconds = 20, # 50 PGA iterations at alpha = 5%, one thread, below
  exact_gradient_in_sweeps = 20, # one exact gradient, at most
  gradient_in_attack_sweeps = 10, # one exact gradient inside the default attack, at most
  default_attack_seconds = 60, # the default attack at alpha = 3%, one thread, below
  ml20m_peak_gb = 4 # 5 PGA iterations at alpha = 0.5% on 20M-shaped data, below
)

# Shared helpers (peak memory, goal reports) live beside this script.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))

ms_per_sweep <- function(fit) 1000 * stats::median(diff(fit$trace$seconds))

# MovieLens (dslabs), rank 10, lambda 5 -------------------------------------------

ratings <- movielens_small()
learner <- learner_als(rank = 10, lambda_u = 5)
set.seed(1)
clean <- fit_cf(ratings, learner_als(rank = 10, lambda_u = 5, max_iter = 1000, tol = 1e-9), threads = 1)
sweep_ms <- ms_per_sweep(fit_cf(ratings, learner_als(rank = 10, lambda_u = 5, max_iter = 50, tol = 0), init = clean))
cat("movielens_small:", nrow(as.data.frame(ratings)), "ratings; rank 10; one thread\n")
report("one ALS sweep", sweep_ms, "ms")

pga_seconds <- system.time(
  pga <- poison_pga(ratings, learner, utility_availability(), attack_budget(alpha = 0.05),
    support = "random", method = "kkt", max_iter = 50, clean = clean, seed = 1, threads = 1
  )
)[["elapsed"]]
iterations <- nrow(pga$trace) - 1
pga_iteration_ms <- 1000 * stats::median(diff(pga$trace$seconds))
report("Algorithm 1 iteration (refit 5 sweeps + utility + KKT gradient)", pga_iteration_ms, "ms")
report("Algorithm 1 iteration / ALS sweep", pga_iteration_ms / sweep_ms, "sweeps", goals$pga_iteration_in_sweeps)
report(sprintf("Algorithm 1 at alpha = 5%%, %d iterations, wall time", iterations), pga_seconds, "s", goals$pga_50_seconds)

# A gradient's cost in ALS sweeps, robust to a shared machine's changing load:
# in each round, time one evaluation of `problem` without the gradient (one
# warm sweep), one with it, and one with 11 sweeps and no gradient, back to
# back; the gradient is the second less the first, a sweep a tenth of the third
# less the first. The median round's ratio.
gradient_in_sweeps <- function(problem, rounds = 9, reps = 3) {
  problem$refit$sweeps <- 1L
  longer <- problem
  longer$refit$sweeps <- 11L
  longer$refit$tol <- -1 # every sweep, even where a converged fit's objective no longer moves
  timed <- function(p, with_gradient) {
    system.time(for (i in seq_len(reps)) cfpoison:::.attack_evaluate(p, with_gradient))[["elapsed"]] / reps
  }
  stats::median(vapply(seq_len(rounds), function(r) {
    without <- timed(problem, FALSE)
    with <- timed(problem, TRUE)
    sweeps <- timed(longer, FALSE)
    (with - without) / ((sweeps - without) / 10)
  }, numeric(1)))
}

# One exact gradient at a converged poisoned model.
problem <- cfpoison:::gradient_problem(ratings, pga$fake, learner, utility_availability(), "exact", 1, clean,
  refit_sweeps = 2000, refit_tol = 1e-10, threads = 1
)
problem$item_init <- cfpoison:::.attack_evaluate(problem, FALSE)$item_factors
problem$refit$sweeps <- 1L
problem$refit$factor_tol <- 0
tight <- cfpoison:::.attack_evaluate(problem, TRUE)$gradient
# The attacks' own CG tolerance (relative residual 1e-4).
attack_defaults <- cfpoison:::refit_settings(5, "exact", 1, 1L)
problem$refit[c("cg_tol", "cg_max_iter")] <- attack_defaults[c("cg_tol", "cg_max_iter")]
exact <- cfpoison:::.attack_evaluate(problem, TRUE)
error <- sqrt(sum((exact$gradient - tight)^2) / sum(tight^2))
report(sprintf("exact gradient at a converged fit (%d CG steps to residual %.0e; error %.0e vs tight) / ALS sweep",
  exact$cg_iterations, attack_defaults$cg_tol, error), gradient_in_sweeps(problem), "sweeps", goals$exact_gradient_in_sweeps)
problem$refit$method <- "kkt"
report("KKT gradient (Eq. 12) / ALS sweep", gradient_in_sweeps(problem), "sweeps")

# The exact gradient inside the default attack (the support search, alpha = 3%):
# its CG steps per gradient from the trace (each solve warm-started from the
# search's previous adjoint), and the cost of one gradient at the attack's
# adjoint settings, at its final block refitted to convergence: cold (CG from
# zero, to the attack's residual) and capped at the median number of steps the
# warm-started solves took inside the attack, which is what the attack pays.
budget <- attack_budget(alpha = 0.03)
search_seconds <- system.time(
  search <- poison_pga(ratings, learner, utility_availability(), budget, clean = clean, seed = 1, threads = 1)
)[["elapsed"]]
report("default attack at alpha = 3%, wall time", search_seconds, "s", goals$default_attack_seconds)
# (Only accepted steps solve an adjoint; a rejected one's columns are NA.)
solved <- which(search$trace$cg_iterations > 0)
warm_steps <- as.integer(stats::median(search$trace$cg_iterations[solved]))
report("CG steps per exact gradient in the attack (median, warm-started)", warm_steps, "steps")
report("steps whose adjoint used the Gauss-Newton Hessian", sum(search$trace$hessian == "gauss_newton", na.rm = TRUE), "steps")
inside <- cfpoison:::gradient_problem(ratings, search$fake, learner, utility_availability(), "exact", 1, clean,
  refit_sweeps = 2000, refit_tol = 1e-10, threads = 1
)
inside$item_init <- cfpoison:::.attack_evaluate(inside, FALSE)$item_factors
inside$refit$factor_tol <- 0
inside$refit$cg_tol <- 1e-2 # the search's adjoint residual (R/attacks.R)
cold <- cfpoison:::.attack_evaluate(utils::modifyList(inside, list(refit = utils::modifyList(inside$refit, list(sweeps = 1L)))), TRUE)
report(sprintf("exact gradient at the attack's block, cold (%d CG steps to residual %.0e) / ALS sweep",
  cold$cg_iterations, inside$refit$cg_tol), gradient_in_sweeps(inside), "sweeps")
inside$refit$cg_max_iter <- warm_steps
report(sprintf("exact gradient inside the attack (%d CG steps, the warm median) / ALS sweep", warm_steps),
  gradient_in_sweeps(inside), "sweeps", goals$gradient_in_attack_sweeps)

# MovieLens-20M-shaped synthetic data --------------------------------------------

if (!identical(Sys.getenv("CFPOISON_BENCH_SKIP_20M"), "1")) {
  cat("\nMovieLens-20M-shaped synthetic data: 138,493 users x 26,744 items, 20,000,263 ratings, rank 10, 2 threads\n")
  big <- simulate_ratings(138493, 26744,
    rank = 10, density = 20000263 / (138493 * 26744), zipf_exponent = 1,
    seed = 1, threads = 2
  )
  big_learner <- learner_als(rank = 10, lambda_u = 5, max_iter = 5)
  set.seed(1)
  big_clean <- fit_cf(big, big_learner, threads = 2)
  seconds <- system.time(
    big_pga <- poison_pga(big, big_learner, utility_availability(), attack_budget(alpha = 0.005),
      support = "random", method = "kkt", max_iter = 5, clean = big_clean, seed = 1, threads = 2
    )
  )[["elapsed"]]
  report(sprintf("5 PGA iterations at alpha = 0.5%% (%d fake users)", length(big_pga$fake$user_ids)), seconds, "s")
  report("PGA iteration", stats::median(diff(big_pga$trace$seconds)), "s")
  # One CG step of the exact gradient's adjoint at this size: the exact
  # gradient less the KKT one (the same 3-sweep refit from the clean model),
  # per CG step, at the rare-items block.
  block <- poison_structured(big, big_learner, utility_availability(), attack_budget(alpha = 0.005), "rare_items",
    clean = big_clean, seed = 1, threads = 2
  )
  timed_gradient <- function(method) {
    seconds <- system.time(gradient <- attack_gradient(big, block, big_learner, utility_availability(),
      method = method, clean = big_clean, refit_sweeps = 3, refit_tol = 0, threads = 2
    ))[["elapsed"]]
    list(gradient = gradient, seconds = seconds)
  }
  kkt <- timed_gradient("kkt")
  exact <- timed_gradient("exact")
  steps <- attr(exact$gradient, "cg_iterations")
  report(sprintf("exact gradient's adjoint, per CG step (%d steps)", steps), (exact$seconds - kkt$seconds) / steps, "s")
  report("peak memory of the process", peak_memory_gb(), "GB", goals$ml20m_peak_gb)
}
