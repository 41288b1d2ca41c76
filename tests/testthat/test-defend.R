# Defences: filtering, the bagged learner and the Huber loss.

# Fixed starting item factors, so that fits differ only by their data.
start_factors <- function(r, k, seed = 1) {
  set.seed(seed)
  matrix(rnorm(length(r$item_ids) * k, sd = 0.1), length(r$item_ids), k)
}

# Eq. 2 with 2 rho_delta(e) for e^2 (the Huber objective of learner_als()).
huber_objective_by_hand <- function(r, u, v, delta, lambda) {
  e <- r$rating - rowSums(u[r$user, , drop = FALSE] * v[r$item, , drop = FALSE])
  loss <- ifelse(abs(e) <= delta, e^2, 2 * delta * abs(e) - delta^2)
  sum(loss) + 2 * lambda * sum(u^2) + 2 * lambda * sum(v^2)
}

test_that("filtering the true fake users restores the clean model", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1, max_iter = 300, tol = 1e-9)
  v0 <- start_factors(r, 4)
  clean <- fit_cf(r, learner, init = v0)
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 15), seed = 2)
  n_fake <- length(attack$fake$user_ids)
  poisoned <- fit_cf(r, learner, attack = attack$fake, init = v0)
  pairs <- data.frame(user = rep(r$user_ids[1:20], 5), item = rep(r$item_ids[1:5], each = 20))
  expect_gt(max(abs(predict(poisoned, pairs) - predict(clean, pairs))), 1e-2)

  labels <- c(rep(0, length(r$user_ids)), rep(1, n_fake))
  filtered <- defend_filter(r, attack, labels, n = n_fake)
  expect_s3_class(filtered, "cf_filtered")
  expect_true(all(filtered$dropped$is_fake))
  expect_setequal(filtered$dropped$user, attack$fake$user_ids)
  fields <- c("user", "item", "rating", "user_ids", "item_ids", "scale")
  expect_identical(unclass(filtered$ratings)[fields], unclass(r)[fields])
  expect_length(filtered$fake$user_ids, 0)
  expect_identical(filtered$fake$item_ids, r$item_ids)
  expect_output(print(filtered), "dropped 12 users (0 real, 12 fake)", fixed = TRUE)

  refit <- fit_cf(filtered$ratings, learner, attack = filtered$fake, init = v0)
  expect_equal(predict(refit, pairs), predict(clean, pairs), tolerance = 1e-6)
  expect_equal(refit$objective, clean$objective, tolerance = 1e-9)
})

test_that("a filter drops the highest scores and keeps every id", {
  r <- small_ratings()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 2)
  m <- length(r$user_ids)
  scores <- c(seq_len(m) / m, c(5, 0, 0, 0, 0, 3)) # fakes 1 and 6, then real user m
  filtered <- defend_filter(r, attack$fake, scores, n = 3)
  expect_identical(filtered$dropped$user, c(attack$fake$user_ids[c(1, 6)], as.character(m)))
  expect_identical(filtered$dropped$is_fake, c(TRUE, TRUE, FALSE))
  expect_identical(filtered$ratings$user_ids, r$user_ids)
  expect_false(m %in% filtered$ratings$user)
  expect_identical(sum(filtered$ratings$user != m), length(r$rating) - sum(r$user == m))
  expect_identical(filtered$fake$user_ids, attack$fake$user_ids[2:5])
  kept <- as.data.frame(filtered$fake)
  original <- as.data.frame(attack$fake)
  expect_identical(kept, original[original$user %in% attack$fake$user_ids[2:5], , drop = FALSE], ignore_attr = TRUE)
  # The dropped real user has no ratings left: predicted at 0.
  fit <- fit_cf(filtered$ratings, learner_als(rank = 3, lambda_u = 1, max_iter = 30), attack = filtered$fake)
  expect_equal(unname(predict(fit, user = m)[1, ]), rep(0, length(r$item_ids)))
  expect_null(defend_filter(r, scores = seq_len(m), n = 0)$fake)
})

test_that("the Huber learner with a huge delta is the squared-loss learner", {
  r <- small_ratings()
  v0 <- start_factors(r, 4)
  # 30 sweeps each: tol = 0 stops where the objective no longer moves at all,
  # which the two data terms (summed differently) reach a few sweeps apart.
  squared <- fit_cf(r, learner_als(rank = 4, lambda_u = 1, max_iter = 30, tol = 0), init = v0)
  huber <- fit_cf(r, learner_als(rank = 4, lambda_u = 1, max_iter = 30, tol = 0, loss = "huber", huber_delta = 1e10), init = v0)
  expect_identical(c(nrow(squared$trace), nrow(huber$trace)), c(30L, 30L))
  expect_equal(huber$u, squared$u, tolerance = 1e-12)
  expect_equal(huber$v, squared$v, tolerance = 1e-12)
  expect_equal(huber$objective, squared$objective, tolerance = 1e-12)
})

test_that("the Huber objective never increases and is the one reported", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 0.5, max_iter = 80, tol = 0, loss = "huber", huber_delta = 0.2)
  fit <- fit_cf(r, learner, init = start_factors(r, 4))
  obj <- fit$trace$objective
  expect_true(all(diff(obj) <= 1e-10 * abs(obj[-1])))
  expect_equal(fit$objective, huber_objective_by_hand(r, fit$u, fit$v, 0.2, 0.5), tolerance = 1e-12)
  expect_output(print(fit), "Huber loss (delta = 0.2)", fixed = TRUE)
})

test_that("converged Huber factors solve their weighted ridge systems, short rows included", {
  # Rank 12 exceeds many items' rating counts, so those items use the
  # push-through identity; at convergence every factor must satisfy the
  # weighted ridge equations of its full k x k system.
  r <- small_ratings()
  k <- 12
  delta <- 0.3
  lambda <- 0.7
  fit <- fit_cf(r, learner_als(rank = k, lambda_u = lambda, max_iter = 3000, tol = 1e-15, loss = "huber", huber_delta = delta),
    init = start_factors(r, k))
  expect_gt(sum(tabulate(r$item, length(r$item_ids)) < k), 5)
  e <- r$rating - rowSums(fit$u[r$user, ] * fit$v[r$item, ])
  w <- pmin(1, delta / abs(e))
  counts <- tabulate(r$item, length(r$item_ids))
  for (j in c(which(counts < k)[1:5], which(counts >= k)[1:3])) {
    at <- r$item == j
    uj <- fit$u[r$user[at], , drop = FALSE]
    lhs <- crossprod(uj, w[at] * uj) + 2 * lambda * diag(k)
    expect_equal(drop(lhs %*% fit$v[j, ]), drop(crossprod(uj, w[at] * r$rating[at])), tolerance = 1e-5)
  }
})

test_that("with outliers, the Huber loss predicts held-out ratings better", {
  r <- small_ratings()
  s <- split_ratings(r, test_fraction = 0.2, seed = 1)
  train <- s$train
  set.seed(1)
  corrupted <- sample.int(length(train$rating), round(0.05 * length(train$rating)))
  train$rating[corrupted] <- train$rating[corrupted] + sample(c(-8, 8), length(corrupted), replace = TRUE)
  v0 <- start_factors(r, 4)
  squared <- fit_cf(train, learner_als(rank = 4, lambda_u = 1, max_iter = 500, tol = 1e-10), init = v0)
  huber <- fit_cf(train, learner_als(rank = 4, lambda_u = 1, max_iter = 500, tol = 1e-10, loss = "huber", huber_delta = 0.5), init = v0)
  expect_lt(rmse(huber, s$test), 0.5 * rmse(squared, s$test))
})

test_that("bagged predictions are the mean of the bags' predictions", {
  r <- small_ratings()
  m <- length(r$user_ids)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 4)$fake
  base <- learner_als(rank = 3, lambda_u = 1, max_iter = 40, tol = 0)
  bagged <- learner_bagged(base, n_bags = 3, seed = 7)
  v0 <- start_factors(r, 3)
  # With 3 bags some users fall in none (probability e^-3 each).
  expect_warning(fit <- fit_cf(r, bagged, attack = fake, init = v0), class = "cfpoison_warning_bags")
  expect_s3_class(fit, "cf_fit_bagged")
  expect_s3_class(fit, "cf_fit")
  counts <- fit$bag_counts
  expect_identical(dim(counts), c(m + length(fake$user_ids), 3L))

  # Each bag by hand: every user copied as often as the bag drew it.
  joint <- list(user = c(r$user, fake$user + m), item = c(r$item, fake$item), rating = c(r$rating, fake$rating))
  pairs <- expand.grid(user = r$user_ids, item = r$item_ids[c(1, 2, 40, 80)])
  index <- match(pairs$user, r$user_ids)
  per_bag <- sapply(1:3, function(b) {
    copies <- rep(seq_len(nrow(counts)), counts[, b])
    rows <- lapply(seq_along(copies), function(c) {
      at <- joint$user == copies[c]
      data.frame(user = rep(c, sum(at)), item = joint$item[at], rating = joint$rating[at])
    })
    bag <- as_ratings(do.call(rbind, rows), users = seq_along(copies), items = r$item_ids)
    bag_fit <- fit_cf(bag, base, init = v0)
    first_copy <- match(index, copies)
    out <- rep(NA_real_, nrow(pairs))
    held <- !is.na(first_copy)
    out[held] <- predict(bag_fit, data.frame(user = first_copy[held], item = pairs$item[held]))
    out
  })
  expected <- rowMeans(per_bag, na.rm = TRUE)
  expected[is.nan(expected)] <- 0
  expect_true(any(rowSums(counts[seq_len(m), ] > 0) == 0))
  expect_equal(predict(fit, pairs), expected, tolerance = 1e-8)
  expect_equal(rmse(fit, r), sqrt(mean((predict(fit, r) - r$rating)^2)))
  expect_output(print(fit), "3 bags of alternating minimization")
})

test_that("real users' bags do not depend on the fake users, and bags warm-start bag by bag", {
  r <- small_ratings()
  m <- length(r$user_ids)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 4)$fake
  bagged <- learner_bagged(learner_als(rank = 3, lambda_u = 1, max_iter = 300, tol = 1e-10), n_bags = 8, seed = 11)
  set.seed(1)
  clean <- fit_cf(r, bagged)
  poisoned <- fit_cf(r, bagged, attack = fake, init = clean)
  expect_identical(poisoned$bag_counts[seq_len(m), ], clean$bag_counts)
  again <- fit_cf(r, bagged, init = clean)
  expect_lt(max(again$trace$iteration), 5)
  expect_equal(predict(again, r), predict(clean, r), tolerance = 1e-4)
  two_bags <- learner_bagged(learner_als(rank = 3, lambda_u = 1, max_iter = 5), n_bags = 2, seed = 1)
  expect_warning(two_fit <- fit_cf(r, two_bags), class = "cfpoison_warning_bags")
  expect_error(fit_cf(r, bagged, init = two_fit), class = "cfpoison_error_shape")
})

test_that("evaluate_defence() reports each defence's cost and effect", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.25, seed = 3)
  s <- split_ratings(r, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  attack <- poison_pga(s$train, learner, utility_availability(), attack_budget(alpha = 0.05, items_per_user = 10),
    max_iter = 3, seed = 1
  )
  m <- length(r$user_ids)
  n_fake <- length(attack$fake$user_ids)
  drop_fakes <- function(ratings, fake) {
    defend_filter(ratings, fake, c(rep(0, m), rep(1, length(fake$user_ids))), n = length(fake$user_ids))
  }
  result <- evaluate_defence(s$train, attack, s$test, list(
    huber = learner_als(rank = 3, lambda_u = 1, loss = "huber", huber_delta = 0.5),
    bagged = learner_bagged(learner, n_bags = 8, seed = 1),
    filter = drop_fakes
  ), refit_sweeps = 300, refit_tol = 1e-9)
  expect_identical(result$defence, c("none", "huber", "bagged", "filter"))
  expect_identical(result$test_rmse_cost[1], 0)
  expect_true(all(is.finite(result$test_rmse_clean)))
  expect_identical(result$n_fake_users, c(n_fake, n_fake, n_fake, 0L))
  # Without fake users left, the attack moves nothing beyond the noise floor.
  expect_lt(result$rmse_shift[4], result$rmse_shift_floor[4] + 1e-6)
  expect_gt(result$rmse_shift[1], result$rmse_shift[4])
})

test_that("evaluate_defence() measures an adaptive attack on its defence like the fixed one", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.25, seed = 3)
  s <- split_ratings(r, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  huber <- learner_als(rank = 3, lambda_u = 1, loss = "huber", huber_delta = 0.5)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  attack <- poison_pga(s$train, learner, utility_availability(), budget, max_iter = 3, seed = 1)
  through_huber <- poison_pga(s$train, huber, utility_availability(), budget, max_iter = 3, seed = 1)
  defences <- list(huber = huber, bagged = learner_bagged(learner, n_bags = 8, seed = 1))
  result <- evaluate_defence(s$train, attack, s$test, defences, adaptive = list(huber = through_huber))
  expect_identical(result$defence, c("none", "huber", "huber", "bagged"))
  expect_identical(result$attacker, c("non_adaptive", "non_adaptive", "adaptive", "non_adaptive"))
  expect_identical(result$test_rmse_cost[2], result$test_rmse_cost[3])
  # The adaptive row is the attack measured as `attack` is, against the same reference.
  alone <- through_huber
  alone$clean <- attack$clean
  expected <- evaluate_defence(s$train, alone, s$test, defences["huber"], learner = learner)
  expect_equal(result$rmse_shift[3], expected$rmse_shift[2])
  expect_equal(result$utility[3], expected$utility[2])
  expect_false(isTRUE(all.equal(result$rmse_shift[2], result$rmse_shift[3])))

  expect_error(
    evaluate_defence(s$train, attack, s$test, defences, adaptive = list(filter = through_huber)),
    class = "cfpoison_error_type"
  )
  expect_error(evaluate_defence(s$train, attack, s$test, defences, adaptive = through_huber), class = "cfpoison_error_type")
  expect_error(
    evaluate_defence(s$train, attack, s$test, defences, adaptive = list(huber = poison_uniform(r, budget, seed = 1))),
    class = "cfpoison_error_mismatch"
  )
})

test_that("bad input to the defences is a classed error", {
  r <- small_ratings()
  m <- length(r$user_ids)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 2)$fake
  scores <- c(runif(m), runif(length(fake$user_ids)))
  expect_error(defend_filter(r, fake, scores[-1], n = 1), class = "cfpoison_error_shape")
  expect_error(defend_filter(r, scores = scores, n = 1), class = "cfpoison_error_shape")
  expect_error(defend_filter(r, fake, replace(scores, 3, NA), n = 1), class = "cfpoison_error_missing")
  expect_error(defend_filter(r, fake, as.character(scores), n = 1), class = "cfpoison_error_type")
  expect_error(defend_filter(r, fake, scores, n = length(scores) + 1), class = "cfpoison_error_value")
  expect_error(defend_filter(r, fake, scores, n = -1), class = "cfpoison_error_value")
  expect_error(defend_filter(r, fake, scores, n = 1.5), class = "cfpoison_error_type")
  other <- as_ratings(data.frame(user = "f", item = 1:2, rating = 1), items = 1:2)
  expect_error(defend_filter(r, other, c(scores[1:m], 1), n = 1), class = "cfpoison_error_shape")

  expect_error(learner_bagged("als"), class = "cfpoison_error_type")
  expect_error(learner_bagged(learner_als(), n_bags = 0), class = "cfpoison_error_value")
  expect_error(learner_bagged(learner_bagged(learner_als())), class = "cfpoison_error_value")
  # More bags than an int matrix of counts holds for these users: a classed
  # error that names the cap (rpois() said "invalid arguments").
  many <- learner_bagged(learner_als(rank = 3, lambda_u = 1), n_bags = 1e9, seed = 1)
  expect_cfp_error(fit_cf(r, many), "value", c("n_bags = ", "at most"))
  expect_error(learner_als(loss = "huber", huber_delta = 0), class = "cfpoison_error_value")
  expect_error(learner_als(loss = "absolute"))

  attack <- poison_pga(r, learner_als(rank = 3, lambda_u = 1), utility_availability(),
    attack_budget(alpha = 0.05, items_per_user = 10), max_iter = 1, seed = 1
  )
  expect_error(evaluate_defence(r, attack, r, list(1)), class = "cfpoison_error_type")
  expect_error(evaluate_defence(r, attack, r, list(learner_als())), class = "cfpoison_error_type")
  expect_error(evaluate_defence(r, list(fake), r, list(a = learner_als())), class = "cfpoison_error_type")
  # A bare fake block is measured like an attack, but it brings no learner.
  expect_error(evaluate_defence(r, fake, r, list(a = learner_als())), class = "cfpoison_error_value")
})
