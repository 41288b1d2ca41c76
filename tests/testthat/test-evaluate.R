# evaluate_attack()'s measurement protocol: deterministic by default, a noise
# floor small beside the effects it measures, and target metrics only for targets.

test_that("an availability attack has no target metrics", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1)
  budget <- attack_budget(alpha = 0.05, n_items = 10)
  pga <- poison_pga(r, learner, utility_availability(), budget, max_iter = 2, progress = FALSE, seed = 1)
  uniform <- poison_uniform(r, budget, seed = 1)
  uniform$utility <- utility_availability()
  target_columns <- c("target_rating_clean", "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned")
  for (result in list(evaluate_attack(pga, r), evaluate_attack(uniform, r, learner))) {
    expect_true(all(is.na(unlist(result[target_columns]))))
    expect_true(is.finite(result$utility))
  }
})
