# External victims (learner_external() and the ready-made ones) and transfer_matrix().

victim_data <- function() simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
all_pairs <- function(r) {
  data.frame(user = rep(r$user_ids, length(r$item_ids)), item = rep(r$item_ids, each = length(r$user_ids)))
}

# The package's nuclear-norm learner behind learner_external(), fitted to a
# tight tolerance from a cold start: a convex problem, so it reaches the
# optimum the package's own warm-started refits reach.
nuclear_via_fit_cf <- function(lambda) {
  learner_external(
    fit = function(data) {
      r <- as_ratings(data, users = seq_len(attr(data, "n_users")), items = seq_len(attr(data, "n_items")))
      fit_cf(r, learner_nuclear(lambda = lambda, rank_max = 10, max_iter = 20000, tol = 1e-14), seed = 1)
    },
    predict = function(model, data) predict(model, data),
    name = "nuclear through fit_cf()"
  )
}

test_that("learner_softimpute() reproduces softImpute's own predictions", {
  skip_if_not_installed("softImpute")
  r <- victim_data()
  # A user and an item without ratings, whose rows softImpute must still have.
  r$rating <- r$rating[keep <- r$user != 150 & r$item != 60]
  r$user <- r$user[keep]
  r$item <- r$item[keep]
  fit <- fit_cf(r, learner_softimpute(rank_max = 5, lambda = 2, seed = 7))
  expect_s3_class(fit, c("cf_fit_external", "cf_fit"))
  set.seed(7)
  direct <- softImpute::softImpute(as_sparse(r, "Incomplete", zeros = "explicit"), rank.max = 5, lambda = 2, type = "als")
  pairs <- all_pairs(r)
  expect_equal(predict(fit, pairs), softImpute::impute(direct, pairs$user, pairs$item), tolerance = 1e-8)
  expect_equal(predict(fit, user = 3:4)[2, ], softImpute::impute(direct, rep(4, 60), 1:60), tolerance = 1e-8,
    ignore_attr = TRUE
  )
  expect_equal(rmse(fit, r), sqrt(mean((softImpute::impute(direct, r$user, r$item) - r$rating)^2)), tolerance = 1e-8)
})

test_that("learner_recosystem() fits, predicts, and gives the same model for the same seed", {
  skip_if_not_installed("recosystem")
  r <- victim_data()
  pairs <- all_pairs(r)
  first <- predict(fit_cf(r, learner_recosystem(dim = 3, seed = 1)), pairs)
  again <- predict(fit_cf(r, learner_recosystem(dim = 3, seed = 1)), pairs)
  other <- predict(fit_cf(r, learner_recosystem(dim = 3, seed = 2)), pairs)
  expect_true(all(is.finite(first)))
  expect_identical(first, again)
  expect_gt(max(abs(first - other)), 1e-3)
  # It learns the ratings: far better than predicting their mean.
  fit <- fit_cf(r, learner_recosystem(dim = 3, seed = 1))
  expect_lt(rmse(fit, r), 0.7 * sd(r$rating))
})

test_that("an external learner's evaluation equals the package learner's when it wraps the same fit", {
  r <- victim_data()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  attack$utility <- utility_hybrid(c(1, 1), targets = 5)
  ours <- evaluate_attack(r, attack, learner_nuclear(lambda = 5, rank_max = 10),
    refit_sweeps = 20000, refit_tol = 1e-14
  )
  theirs <- evaluate_attack(r, attack, nuclear_via_fit_cf(5))
  measured <- c(
    "rmse_shift", "target_rating_clean", "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned"
  )
  expect_equal(unlist(theirs[measured]), unlist(ours[measured]), tolerance = 1e-5)
  # The utility sums over every user and unseen entry: it carries the
  # optimizers' 1e-8 differences summed, and partly cancels.
  expect_equal(theirs$utility, ours$utility, tolerance = 1e-4)
  # The attack moved the model well beyond that agreement.
  expect_gt(ours$rmse_shift, 0.01)
  # A learner that draws nothing at random has no floor; the package's
  # warm-started protocol has a tiny one.
  expect_identical(theirs$rmse_shift_floor, 0)
  expect_identical(theirs$refit_converged, NA)
})

test_that("evaluate_attack() measures ready-made victims with finite metrics and their own floor", {
  skip_if_not_installed("softImpute")
  skip_if_not_installed("recosystem")
  r <- victim_data()
  s <- split_ratings(r, seed = 1)
  attack <- poison_uniform(s$train, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  for (victim in list(learner_softimpute(rank_max = 5, lambda = 2), learner_recosystem(dim = 3))) {
    result <- evaluate_attack(s$train, attack, victim, test = s$test, targets = 5)
    numbers <- unlist(result[c(
      "rmse_shift", "rmse_shift_floor", "test_rmse_clean", "test_rmse_poisoned", "target_rating_clean",
      "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned"
    )])
    expect_true(all(is.finite(numbers)))
    # Both draw at random: a refit under another seed moves them.
    expect_gt(result$rmse_shift_floor, 0)
    # The clean model's test RMSE is the fit's own.
    expect_equal(result$test_rmse_clean, rmse(fit_cf(s$train, victim), s$test))
    expect_identical(evaluate_attack(s$train, attack, victim, test = s$test, targets = 5)[names(numbers)], result[names(numbers)])
  }
})

test_that("evaluate_defence() and attack_grid() take an external victim", {
  skip_if_not_installed("softImpute")
  r <- victim_data()
  s <- split_ratings(r, seed = 1)
  victim <- learner_softimpute(rank_max = 5, lambda = 2)
  attack <- poison_uniform(s$train, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  defended <- evaluate_defence(s$train, attack, s$test, list(huber = learner_als(rank = 3, lambda_u = 1, loss = "huber")),
    learner = victim, progress = FALSE
  )
  expect_identical(defended$defence, c("none", "huber"))
  alone <- evaluate_attack(s$train, attack, victim, test = s$test)
  expect_equal(defended$rmse_shift[1], alone$rmse_shift)
  expect_true(all(is.finite(defended$rmse_shift)))

  grid <- attack_grid(r, victim, methods = c("uniform", "average"), alpha = 0.05, seeds = 1, items_per_user = 10,
    detect = FALSE, progress = FALSE
  )
  expect_true(all(is.na(grid$error)))
  expect_true(all(is.finite(grid$rmse_shift)))
  expect_true(is.finite(grid$hit_ratio_poisoned[grid$method == "average"]))
})

test_that("gradient attacks refuse an external learner and name the surrogate route", {
  r <- victim_data()
  victim <- nuclear_via_fit_cf(5)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  uniform <- poison_uniform(r, budget, seed = 1)
  util <- utility_availability()
  expect_error(poison_pga(r, victim, util, budget), class = "cfpoison_error_learner")
  expect_error(poison_sgld(r, victim, util, budget), class = "cfpoison_error_learner")
  expect_error(poison_structured(r, victim, util, budget), class = "cfpoison_error_learner")
  expect_error(attack_gradient(r, uniform, victim, util), class = "cfpoison_error_learner")
  expect_error(check_gradient(r, uniform, victim, util), class = "cfpoison_error_learner")
  expect_error(attack_grid(r, victim, methods = c("pga", "uniform"), progress = FALSE), class = "cfpoison_error_learner")
  expect_error(learner_bagged(victim), class = "cfpoison_error_learner")
  refusal <- tryCatch(poison_pga(r, victim, util, budget), cfpoison_error_learner = conditionMessage)
  expect_match(refusal, "nuclear through fit_cf()", fixed = TRUE)
  expect_match(refusal, "Craft the attack on `learner_als()`", fixed = TRUE)
  expect_match(refusal, "evaluate_attack()", fixed = TRUE)
})

test_that("transfer_matrix() measures every attack on every victim against uniform, under any plan", {
  skip_if_not_installed("softImpute")
  r <- victim_data()
  surrogate <- learner_als(rank = 3, lambda_u = 1)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  attacks <- list(
    pga = poison_pga(r, surrogate, utility_availability(), budget, max_iter = 3, seed = 1),
    uniform = poison_uniform(r, budget, seed = 1)
  )
  victims <- list(als = surrogate, softimpute = learner_softimpute(rank_max = 5, lambda = 2))
  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)
  sequential <- transfer_matrix(r, attacks, victims, progress = FALSE)
  expect_s3_class(sequential, c("cf_transfer", "tbl_df"))
  expect_identical(sequential$attack, c("pga", "pga", "uniform", "uniform"))
  expect_identical(sequential$victim, c("als", "softimpute", "als", "softimpute"))
  # Each cell is evaluate_attack() on its victim with the package's own clean fit.
  alone <- evaluate_attack(r, attacks$pga, surrogate, clean = NULL)
  expect_equal(sequential$rmse_shift[1], alone$rmse_shift)
  expect_equal(sequential$rmse_shift_floor[1], alone$rmse_shift_floor)
  expect_equal(sequential$rmse_shift[2], evaluate_attack(r, attacks$pga, victims$softimpute)$rmse_shift)
  # The baseline has the same seed as the uniform attack: it is 1x uniform.
  expect_equal(sequential$times_uniform[3:4], c(1, 1))
  expect_equal(sequential$times_uniform, sequential$rmse_shift / sequential$uniform_shift)
  expect_gt(sequential$times_uniform[1], 1)

  future::plan(future::multisession, workers = 2)
  parallel <- transfer_matrix(r, attacks, victims, progress = FALSE)
  expect_identical(parallel, sequential)

  p <- autoplot(sequential)
  expect_s3_class(p, "ggplot")
  expect_identical(levels(p$data$attack), c("uniform", "pga"))
  header <- format(sequential)[1:2]
  expect_match(header[1], "A cf_transfer:\\s+4 x 17")
  expect_match(header[2], "Uniform baseline: 7 fake users (alpha = 0.05), 10 ratings each, seed 1", fixed = TRUE)
})

test_that("bad inputs give classed errors", {
  r <- victim_data()
  expect_error(learner_external("fit", function(model, data) 0), class = "cfpoison_error_type")
  expect_error(learner_external(function(data) 0, 1), class = "cfpoison_error_type")
  expect_error(learner_external(function(data) 0), class = "cfpoison_error_missing")
  expect_error(learner_external(function(data) 0, function(model, data) 0, name = NA), class = "cfpoison_error_type")
  expect_error(learner_external(function(data) 0, function(model, data) 0, seed = -1), class = "cfpoison_error_value")

  failing <- learner_external(function(data) stop("no data"), function(model, data) 0)
  expect_error(fit_cf(r, failing), class = "cfpoison_error_external")
  short <- learner_external(function(data) NULL, function(model, data) 0)
  expect_error(predict(fit_cf(r, short), data.frame(user = 1:2, item = 1)), class = "cfpoison_error_external")
  missing_values <- learner_external(function(data) NULL, function(model, data) rep(NA_real_, nrow(data)))
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  expect_error(evaluate_attack(r, attack, missing_values), class = "cfpoison_error_external")
  expect_error(fit_cf(r, short, init = matrix(0, 60, 2)), class = "cfpoison_error_value")
  expect_error(tidy(fit_cf(r, short)), class = "cfpoison_error_learner")

  learner <- learner_als(rank = 3, lambda_u = 1)
  expect_error(transfer_matrix(r, attack, list(als = learner)), class = "cfpoison_error_type")
  expect_error(transfer_matrix(r, list(attack), list(als = learner)), class = "cfpoison_error_type")
  expect_error(transfer_matrix(r, list(a = attack), learner), class = "cfpoison_error_type")
  expect_error(transfer_matrix(r, list(a = attack), list(als = learner, als = learner)), class = "cfpoison_error_type")
  expect_error(transfer_matrix(r, list(a = attack), list(als = "als")), class = "cfpoison_error_type")
  expect_error(transfer_matrix(r, list(a = data.frame(user = 1, item = 1, rating = 2)), list(als = learner)),
    class = "cfpoison_error_value"
  )
  other <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 10), seed = 1)
  expect_error(transfer_matrix(r, list(a = attack, b = other), list(als = learner)), class = "cfpoison_error_value")
  expect_error(transfer_matrix(r, list(a = attack), list(als = learner), refit_sweeps = 0), class = "cfpoison_error_value")
})
