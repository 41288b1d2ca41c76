# The stealth penalty of poison_pga(stealth = ) and the popularity detector.

stealth_problem <- function() {
  r <- simulate_ratings(120, 40, rank = 3, density = 0.25, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  clean <- fit_cf(r, learner, seed = 1, progress = FALSE)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 8), seed = 2)$fake
  refit <- refit_settings(20, "exact", 1, 1L)
  evaluate <- function(block, spec, gradient = TRUE) {
    call_core(.attack_evaluate(attack_problem(r, learner, clean, block, utility_availability(), refit, spec), gradient))
  }
  list(ratings = r, fake = fake, evaluate = evaluate)
}

# The penalty's gradient, as the attack's gradient less the plain one (the
# refits are the same), against central differences of the penalty.
penalty_gradient_error <- function(p, spec, entries = 1:12, h = 1e-6) {
  plain <- p$evaluate(p$fake, NULL)
  stealthy <- p$evaluate(p$fake, spec)
  expect_equal(plain$utility - stealthy$utility, stealthy$stealth_penalty, tolerance = 1e-10)
  analytic <- (plain$gradient - stealthy$gradient)[entries]
  penalty <- function(block) p$evaluate(block, spec, FALSE)$stealth_penalty
  numeric <- vapply(entries, function(e) {
    up <- down <- p$fake
    up$rating[e] <- up$rating[e] + h
    down$rating[e] <- down$rating[e] - h
    (penalty(up) - penalty(down)) / (2 * h)
  }, numeric(1))
  expect_gt(max(abs(numeric)), 1e-3)
  max(abs(analytic - numeric)) / max(abs(numeric))
}

test_that("the stealth penalty's gradient equals finite differences, statistic by statistic", {
  p <- stealth_problem()
  spec <- stealth_spec(p$ratings, weight = 1)
  for (stat in c("rdma", "wdma", "deviation")) {
    only <- spec
    only$threshold[] <- 1e9 # no cost
    only$threshold[stat] <- 0 # every fake user beyond the threshold
    expect_lt(penalty_gradient_error(p, only), 1e-6)
  }
  # The mean reading's t-test: fake users who rate higher than the normal ones.
  p$fake$rating <- pmin(p$fake$rating + 1.5, 2)
  only <- spec
  only$threshold[] <- 1e9
  expect_gt(p$evaluate(p$fake, only, FALSE)$stealth_penalty, 0)
  expect_lt(penalty_gradient_error(p, only), 1e-6)
})

test_that("the penalty's statistics are the detectors' own", {
  r <- simulate_ratings(100, 30, rank = 2, density = 0.3, seed = 3)
  stats <- profile_statistics(joint_ratings(r))
  features <- detect_features(r, k = 5)
  expect_equal(stats$rdma, features$rdma)
  expect_equal(stats$wdma, features$wdma)
  expect_equal(stats$popularity, features$popularity)
  # The penalty at weight 1 of fake users who copy real users' profiles is
  # the cost of their statistics beyond the median, as computed here.
  copies <- data.frame(user = paste0("copy_", r$user), item = r$item_ids[r$item], rating = r$rating)
  fake <- as_ratings(copies[r$user <= 3, ], items = r$item_ids)
  data <- joint_ratings(r, fake)
  spec <- stealth_spec(r, weight = 1)
  joint <- profile_statistics(data)
  fake_rows <- which(data$is_fake)
  cost <- sum(vapply(names(spec$threshold), function(stat) {
    sum(pmax(0, (joint[[stat]][fake_rows] - spec$threshold[[stat]]) / spec$spread[[stat]])^2)
  }, numeric(1))) / length(fake_rows)
  learner <- learner_als(rank = 2, lambda_u = 1)
  clean <- fit_cf(r, learner, seed = 1, progress = FALSE)
  problem <- attack_problem(r, learner, clean, fake, utility_availability(), refit_settings(5, "exact", 1, 1L), spec)
  # The block's part: the mean reading's t statistic beyond 1.
  t <- unname(detect_ttest(r, fake, "mean")$statistic)
  cost <- cost + max(0, abs(t) - 1)^2
  expect_equal(call_core(.attack_evaluate(problem, FALSE))$stealth_penalty, cost, tolerance = 1e-10)
})

test_that("popularity flags fake users who rate only rare items, at any profile length", {
  # Closed form: two items rated 3 and 1 times; E and S over the 4 ratings.
  df <- data.frame(user = c("a", "b", "c", "c"), item = c(1, 1, 1, 2), rating = 0)
  f <- detect_features(as_ratings(df), k = 2)
  log_pop <- log1p(c(3, 3, 3, 1))
  centre <- mean(log_pop)
  spread <- sqrt(mean((log_pop - centre)^2))
  expect_equal(f$popularity, abs(c(log1p(3), log1p(3), mean(log1p(c(3, 1)))) - centre) / (spread / sqrt(c(1, 1, 2))))

  r <- simulate_ratings(300, 200, rank = 3, density = 0.1, seed = 4)
  learner <- learner_als(rank = 3, lambda_u = 1)
  rare <- poison_structured(r, learner, utility_availability(), attack_budget(alpha = 0.05, items_per_user = 10),
    "rare_items",
    seed = 1
  )
  features <- detect_features(r, rare, k = 5)
  expect_gt(detection_auc(features$popularity, features$is_fake), 0.9)
  expect_true("popularity" %in% evaluate_detection(r, rare)$detector)
})

test_that("stealth trades utility for statistics that look normal", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  clean <- fit_cf(r, learner, seed = 1, progress = FALSE)
  attack <- function(stealth) {
    poison_pga(r, learner, utility_availability(), budget, stealth = stealth, max_iter = 8, clean = clean, seed = 1)
  }
  plain <- attack(0)
  stealthy <- attack(1)
  expect_identical(plain$settings$stealth, 0)
  expect_true(is.na(plain$settings$stealth_scale))
  expect_gt(stealthy$settings$stealth_scale, 0)
  # The fake users' penalized statistics: lower with stealth.
  spec <- stealth_spec(r, weight = 1)
  cost <- function(a) {
    problem <- attack_problem(r, learner, clean, a$fake, utility_availability(), refit_settings(5, "exact", 1, 1L), spec)
    call_core(.attack_evaluate(problem, FALSE))$stealth_penalty
  }
  expect_lt(cost(stealthy), cost(plain))
  shift <- function(a) evaluate_attack(r, a, learner, clean = clean, progress = FALSE)$rmse_shift
  expect_lte(shift(stealthy), shift(plain))
  expect_cfp_error(attack(-1), "value", "stealth")
})
