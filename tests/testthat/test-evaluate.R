# evaluate_attack()'s measurement protocol: deterministic by default, a noise
# floor small beside the effects it measures, and target metrics only for targets.

# The columns that measure time differ between any two calls.
without_timing <- function(result) {
  result[setdiff(names(result), c("attack_seconds", "evaluation_seconds"))]
}

test_that("evaluate_attack() with its defaults gives the same result twice", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  # The uniform attack has no clean model: evaluate_attack() fits its own.
  uniform <- poison_uniform(r, budget, seed = 1)
  expect_null(uniform$clean)
  expect_identical(
    without_timing(evaluate_attack(r, uniform, learner, targets = 3)),
    without_timing(evaluate_attack(r, uniform, learner, targets = 3))
  )
  # PGA without a clean model fits the package's own, the same one every time.
  run_pga <- function() {
    poison_pga(r, learner, utility_availability(), budget, max_iter = 2, progress = FALSE, seed = 2)
  }
  first <- run_pga()
  second <- run_pga()
  expect_identical(first$clean$v, second$clean$v)
  expect_identical(without_timing(evaluate_attack(r, first)), without_timing(evaluate_attack(r, second)))
})

test_that("the package's own clean fit leaves the caller's random stream alone", {
  r <- small_ratings()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  set.seed(3)
  evaluate_attack(r, attack, learner_als(rank = 4, lambda_u = 1))
  after <- stats::runif(1)
  set.seed(3)
  expect_identical(stats::runif(1), after)
})

test_that("an availability attack has no target metrics", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  pga <- poison_pga(r, learner, utility_availability(), budget, max_iter = 2, progress = FALSE, seed = 1)
  uniform <- poison_uniform(r, budget, seed = 1)
  uniform$utility <- utility_availability()
  target_columns <- c("target_rating_clean", "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned")
  for (result in list(evaluate_attack(r, pga), evaluate_attack(r, uniform, learner))) {
    expect_true(all(is.na(unlist(result[target_columns]))))
    expect_true(is.finite(result$utility))
  }
})

test_that("the floor is small beside the uniform attack's shift on MovieLens (the README call)", {
  skip_on_cran()
  skip_if_not_installed("dslabs")
  ratings <- movielens_small()
  learner <- learner_als(rank = 10, lambda_u = 5)
  attack <- poison_uniform(ratings, attack_budget(alpha = 0.03), seed = 1)
  result <- evaluate_attack(ratings, attack, learner)
  expect_true(result$refit_converged)
  expect_lt(result$rmse_shift_floor, 0.1 * result$rmse_shift)
  expect_identical(without_timing(evaluate_attack(ratings, attack, learner)), without_timing(result))
})
