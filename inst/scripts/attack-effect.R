# The attacks' effect on MovieLens (Section 5, Figure 1 a and c): alternating
# minimization (rank 10, lambda 5), alpha in {1%, 3%, 5%}, three seeds, B = 25,
# Lambda = 2. For PGA, SGLD (beta = 0.6) and the uniform attack it reports
#   * the paper's RMSE (footnote 2) under the availability utility, mu = (1, 0);
#   * the target item's average predicted rating under mu = (0, 1), w = 2, the
#     target drawn among items whose average predicted rating is near 0.8.
# The paper's claim is PGA > SGLD > uniform on both.
#
#   Rscript inst/scripts/attack-effect.R [results.csv]
#
# Takes about 15 minutes on one core.
library(cfpoison)

output <- commandArgs(trailingOnly = TRUE)[1]
alphas <- c(0.01, 0.03, 0.05)
seeds <- 1:3

ratings <- movielens_small()
learner <- learner_als(rank = 10, lambda_u = 5)
set.seed(2016)
clean <- fit_cf(learner_als(rank = 10, lambda_u = 5, max_iter = 1000, tol = 1e-9), ratings)
target <- select_targets(clean, near = 0.8, min_ratings = 10, ratings = ratings, seed = 2016)
cat("target item (movieId):", target, "\n")

run_one <- function(alpha, seed) {
  budget <- attack_budget(alpha, n_items = 25, max_rating = 2)
  utilities <- list(availability = utility_availability(), integrity = utility_hybrid(c(0, 1), items = target, weights = 2))
  rows <- lapply(names(utilities), function(goal) {
    utility <- utilities[[goal]]
    attacks <- list(
      pga = poison_pga(ratings, learner, utility, budget, clean = clean, seed = seed),
      sgld = poison_sgld(ratings, learner, utility, budget, beta = 0.6, clean = clean, seed = seed),
      uniform = poison_uniform(ratings, budget, seed = seed)
    )
    attacks$uniform$utility <- utility
    result <- do.call(rbind, lapply(attacks, evaluate_attack, ratings = ratings, learner = learner, clean = clean, targets = target))
    cbind(goal = goal, seed = seed, result)
  })
  do.call(rbind, rows)
}

started <- proc.time()[["elapsed"]]
results <- do.call(rbind, unlist(lapply(alphas, function(alpha) lapply(seeds, function(seed) run_one(alpha, seed))), recursive = FALSE))
cat(sprintf("wall time: %.0f s\n", proc.time()[["elapsed"]] - started))

summarise <- function(goal, column) {
  rows <- results[results$goal == goal, ]
  means <- stats::aggregate(rows[[column]], rows[c("alpha", "method")], mean)
  sds <- stats::aggregate(rows[[column]], rows[c("alpha", "method")], stats::sd)
  table <- stats::reshape(
    data.frame(alpha = means$alpha, method = means$method, value = sprintf("%.4f +- %.4f", means$x, sds$x)),
    idvar = "alpha", timevar = "method", direction = "wide"
  )
  names(table) <- sub("^value\\.", "", names(table))
  table
}

cat("\nPaper's RMSE (footnote 2) under mu = (1, 0), mean +- sd over seeds; noise floor",
    sprintf("%.1e\n", max(results$rmse_shift_floor)))
print(summarise("availability", "rmse_shift"), row.names = FALSE)
cat(sprintf("\nTarget's average predicted rating under mu = (0, 1) (clean: %.4f)\n", results$target_rating_clean[1]))
print(summarise("integrity", "target_rating_poisoned"), row.names = FALSE)

if (!is.na(output)) utils::write.csv(results, output, row.names = FALSE)
