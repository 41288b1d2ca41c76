# Detection and defences on MovieLens (Sections 4.3, 5 and 6): alternating
# minimization (rank 10, lambda 5), alpha = 3%, B = 25, Lambda = 2.
#   * For PGA, SGLD (beta in {0.1, 0.6, 1, 2}), uniform, average and bandwagon
#     attacks: each detector's AUC and both t-test readings' p-values.
#   * For the PGA attack (mu = (1, 0)) and a PGA integrity attack (mu = (0, 1)):
#     the paper's RMSE and the target's rating under each defence, and each
#     defence's cost in held-out RMSE on clean data.
#
#   Rscript inst/scripts/detection-table.R
library(cfpoison)

ratings <- movielens_small()
learner <- learner_als(rank = 10, lambda_u = 5)
budget <- attack_budget(alpha = 0.03)
set.seed(2016)
clean <- fit_cf(learner_als(rank = 10, lambda_u = 5, max_iter = 1000, tol = 1e-9), ratings)
target <- select_targets(clean, near = 0.8, min_ratings = 10, ratings = ratings, seed = 2016)

attacks <- c(
  list(pga = poison_pga(ratings, learner, utility_availability(), budget, clean = clean, seed = 1)),
  stats::setNames(lapply(c(0.1, 0.6, 1, 2), function(beta) {
    poison_sgld(ratings, learner, utility_availability(), budget, beta = beta, clean = clean, seed = 1)
  }), paste0("sgld_beta_", c(0.1, 0.6, 1, 2))),
  list(
    uniform = poison_uniform(ratings, budget, seed = 1),
    average = poison_average(ratings, budget, targets = target, seed = 1),
    bandwagon = poison_bandwagon(ratings, budget, targets = target, seed = 1)
  )
)
detection <- do.call(rbind, lapply(names(attacks), function(name) {
  cbind(attack = name, evaluate_detection(attacks[[name]], ratings))
}))
auc <- stats::reshape(detection[detection$kind != "t-test", c("attack", "detector", "auc")],
  idvar = "attack", timevar = "detector", direction = "wide"
)
names(auc) <- sub("^auc\\.", "", names(auc))
p_values <- stats::reshape(detection[detection$kind == "t-test", c("attack", "detector", "p_value")],
  idvar = "attack", timevar = "detector", direction = "wide"
)
names(p_values) <- sub("^p_value\\.", "", names(p_values))
cat("\nDetection AUC (0.5 = chance, below 0.5 = reversed) and paired t-test p-values, alpha = 3%\n")
print(merge(auc, p_values, sort = FALSE), digits = 3, row.names = FALSE)

# Defences: filter the 20 users with the highest RDMA (the strongest feature
# above), a bag of 10 learners, and Huber ALS.
split <- split_ratings(ratings, test_fraction = 0.1, seed = 2016)
rdma_filter <- function(ratings, fake) {
  scores <- detect_features(ratings, fake)$rdma
  defend_filter(ratings, scores, n = 20, fake = fake)
}
defences <- list(
  filter_rdma_20 = rdma_filter,
  bagged_10 = learner_bagged(learner, n_bags = 10, seed = 1),
  huber = learner_als(rank = 10, lambda_u = 5, loss = "huber", huber_delta = 1)
)
for (goal in c("availability", "integrity")) {
  utility <- if (goal == "availability") utility_availability() else utility_integrity(items = target)
  attack <- poison_pga(split$train, learner, utility, budget, seed = 1)
  result <- evaluate_defence(attack, split$train, split$test, defences)
  cat(sprintf("\nDefences against PGA (%s), alpha = 3%%\n", goal))
  print(result[c(
    "defence", "test_rmse_cost", "rmse_shift", "rmse_shift_floor",
    "target_rating_clean", "target_rating_poisoned"
  )], digits = 3, row.names = FALSE)
}
