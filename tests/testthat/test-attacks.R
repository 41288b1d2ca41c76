# Attacks (Algorithms 1 and 2) and their evaluation.

attack_case <- function() {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 7)
  list(ratings = r, learner = learner_als(rank = 3, lambda_u = 1), budget = attack_budget(alpha = 0.05, items_per_user = 10))
}

test_that("PGA never ends below its start and beats the uniform attack", {
  case <- attack_case()
  set.seed(1)
  clean <- fit_cf(case$ratings, learner_als(rank = 3, lambda_u = 1, max_iter = 2000, tol = 1e-12))
  pga <- poison_pga(case$ratings, case$learner, utility_availability(), case$budget, max_iter = 15, clean = clean, seed = 1)
  utility <- pga$trace$utility
  expect_gte(utility[length(utility)], utility[1])
  expect_true(all(diff(utility) >= 0)) # rejected steps keep the best iterate
  uniform <- poison_uniform(case$ratings, case$budget, seed = 1)
  uniform$utility <- utility_availability()
  on_pga <- evaluate_attack(case$ratings, pga, case$learner, clean = clean)
  on_uniform <- evaluate_attack(case$ratings, uniform, case$learner, clean = clean)
  expect_gt(on_pga$utility, 2 * on_uniform$utility)
  expect_gt(on_pga$rmse_shift, on_uniform$rmse_shift)
  expect_lt(on_pga$rmse_shift_floor, 1e-3)
})

test_that("an integrity PGA attack raises its target's rating", {
  case <- attack_case()
  set.seed(1)
  clean <- fit_cf(case$ratings, learner_als(rank = 3, lambda_u = 1, max_iter = 2000, tol = 1e-12))
  target <- select_targets(clean, near = 0, tolerance = 0.3, seed = 1)
  attack <- poison_pga(case$ratings, case$learner, utility_integrity(targets = target), case$budget,
    method = "exact", max_iter = 10, clean = clean, seed = 1
  )
  result <- evaluate_attack(case$ratings, attack, case$learner, clean = clean)
  expect_gt(result$target_rating_poisoned, result$target_rating_clean + 0.05)
  expect_gte(result$hit_ratio_poisoned, result$hit_ratio_clean)
})

test_that("SGLD moves toward the utility as beta grows and respects the budget", {
  case <- attack_case()
  set.seed(1)
  clean <- fit_cf(case$ratings, case$learner)
  run <- function(beta) {
    poison_sgld(case$ratings, case$learner, utility_availability(), case$budget, beta = beta, max_iter = 30,
      clean = clean, seed = 1
    )
  }
  weak <- evaluate_attack(case$ratings, run(0), case$learner, clean = clean)
  strong <- evaluate_attack(case$ratings, run(50), case$learner, clean = clean)
  expect_gt(strong$utility, weak$utility)
})

test_that("evaluate_attack measures against held-out ratings and the nuclear learner", {
  r <- simulate_ratings(120, 50, rank = 3, density = 0.25, seed = 3)
  s <- split_ratings(r, seed = 3)
  learner <- learner_nuclear(lambda = 5, rank_max = 10)
  set.seed(1)
  attack <- poison_pga(s$train, learner, utility_availability(), attack_budget(0.05, items_per_user = 8), max_iter = 5, seed = 2)
  result <- evaluate_attack(s$train, attack, test = s$test, targets = s$train$item_ids[1:2])
  expect_s3_class(result, "data.frame")
  expect_identical(nrow(result), 1L)
  expect_true(all(is.finite(unlist(result[c("rmse_shift", "test_rmse_clean", "test_rmse_poisoned", "utility")]))))
  expect_lt(result$rmse_shift_floor, 1e-3) # convex: the refit protocol adds no noise
  expect_true(result$hit_ratio_clean >= 0 && result$hit_ratio_clean <= 1)
})

test_that("hit ratio matches a dense computation", {
  r <- simulate_ratings(50, 30, rank = 2, density = 0.3, seed = 8)
  set.seed(1)
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 1))
  x <- fit$u %*% t(fit$v)
  rated <- matrix(FALSE, 50, 30)
  rated[cbind(r$user, r$item)] <- TRUE
  target <- 4
  hits <- vapply(which(!rated[, target]), function(i) {
    others <- x[i, !rated[i, ] & seq_len(30) != target]
    sum(others >= x[i, target]) < 10
  }, logical(1))
  got <- cfpoison:::.hit_ratio(cfpoison:::core_ratings(r), fit$u, fit$v, target - 1L, 10L, 1L)
  expect_equal(got, mean(hits))
})

test_that("SGLD's prior (Algorithm 2) counts unobserved entries as 0, item by item", {
  r <- as_ratings(data.frame(user = c(1, 2, 1), item = c(1, 1, 3), rating = c(2, 0, 1)), items = 1:3)
  prior <- cfpoison:::item_prior(r, min_var = 0.01)
  expect_equal(prior$mean, c(1, 0, 0.5))
  expect_equal(prior$var, c(1, 0.01, 0.25))
})
