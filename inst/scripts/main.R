# The main job: fit both learners of the paper on MovieLens (dslabs' movielens,
# shifted to [-2, 2] as in Section 5) and report fit quality and speed.
library(cfpoison)

set.seed(2016)
ratings <- movielens_small()
print(ratings)
split <- split_ratings(ratings, test_fraction = 0.1, seed = 2016)

learners <- list(
  "alternating minimization (rank 10, lambda 5)" = learner_als(rank = 10, lambda_u = 5, max_iter = 100),
  "nuclear norm (lambda 20, rank_max 40)" = learner_nuclear(lambda = 20, rank_max = 40, max_iter = 300)
)
report <- do.call(rbind, lapply(names(learners), function(name) {
  fit <- fit_cf(learners[[name]], split$train)
  data.frame(
    learner = name,
    rank = fit$rank,
    sweeps = fit$iterations,
    converged = fit$converged,
    seconds = round(fit$seconds, 2),
    ms_per_sweep = round(1000 * fit$seconds / fit$iterations, 1),
    objective = round(fit$objective, 1),
    train_rmse = round(rmse(fit, split$train), 4),
    test_rmse = round(rmse(fit, split$test), 4)
  )
}))
print(report, row.names = FALSE)
