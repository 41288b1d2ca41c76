# The biased model learner_als(biases = TRUE): mu + b_i + c_j + u_i'v_j.

# The biased objective and its gradient in (U, V, b, c) at mu = mean(rating),
# from the fit's factors u = [U, b, 1, mu] and v = [V, 1, c, 1].
biased_parts <- function(fit) {
  k <- fit$rank
  u <- rbind(fit$u, fit$fake_u)
  list(
    u = u[, seq_len(k), drop = FALSE], v = fit$v[, seq_len(k), drop = FALSE], b = u[, k + 1], c = fit$v[, k + 2],
    mu = u[1, k + 3]
  )
}

biased_objective <- function(ratings, p, lambda_u, lambda_v, lambda_bias) {
  residual <- ratings$rating - p$mu - p$b[ratings$user] - p$c[ratings$item] -
    rowSums(p$u[ratings$user, , drop = FALSE] * p$v[ratings$item, , drop = FALSE])
  sum(residual^2) + 2 * lambda_u * sum(p$u^2) + 2 * lambda_v * sum(p$v^2) + 2 * lambda_bias * (sum(p$b^2) + sum(p$c^2))
}

biased_gradient <- function(ratings, p, lambda_u, lambda_v, lambda_bias) {
  e <- ratings$rating - p$mu - p$b[ratings$user] - p$c[ratings$item] -
    rowSums(p$u[ratings$user, , drop = FALSE] * p$v[ratings$item, , drop = FALSE])
  by_user <- function(x) rowsum(x, factor(ratings$user, levels = seq_len(nrow(p$u))), reorder = TRUE)
  by_item <- function(x) rowsum(x, factor(ratings$item, levels = seq_len(nrow(p$v))), reorder = TRUE)
  c(
    -2 * by_user(e * p$v[ratings$item, , drop = FALSE]) + 4 * lambda_u * p$u,
    -2 * by_item(e * p$u[ratings$user, , drop = FALSE]) + 4 * lambda_v * p$v,
    -2 * by_user(e) + 4 * lambda_bias * p$b,
    -2 * by_item(e) + 4 * lambda_bias * p$c
  )
}

test_that("the biased fit reaches the optimum an independent solver finds, and is stationary", {
  r <- simulate_ratings(12, 8, rank = 2, density = 0.5, noise_sd = 0.3, scale = NULL, seed = 3)
  lambdas <- c(lambda_u = 0.7, lambda_v = 0.4, lambda_bias = 0.3)
  learner <- learner_als(
    rank = 2, lambda_u = 0.7, lambda_v = 0.4, biases = TRUE, lambda_bias = 0.3, max_iter = 20000, tol = 0
  )
  fit <- fit_cf(r, learner, seed = 1)
  p <- biased_parts(fit)
  expect_equal(p$mu, mean(r$rating), tolerance = 1e-14)
  expect_equal(fit$objective, do.call(biased_objective, c(list(r, p), lambdas)), tolerance = 1e-12)
  expect_true(all(diff(fit$trace$objective) <= 1e-12 * abs(fit$trace$objective[-1])))
  # KKT: the objective's gradient vanishes at the fit.
  expect_lt(max(abs(do.call(biased_gradient, c(list(r, p), lambdas)))), 1e-6)
  # BFGS on every parameter (mu fixed at the mean) from its own start.
  m <- length(r$user_ids)
  n <- length(r$item_ids)
  unpack <- function(theta) {
    list(
      u = matrix(theta[1:(2 * m)], m), v = matrix(theta[2 * m + 1:(2 * n)], n), b = theta[2 * (m + n) + 1:m],
      c = theta[2 * (m + n) + m + 1:n], mu = mean(r$rating)
    )
  }
  set.seed(2)
  oracle <- stats::optim(stats::rnorm(3 * (m + n), sd = 0.1),
    function(theta) do.call(biased_objective, c(list(r, unpack(theta)), lambdas)),
    function(theta) do.call(biased_gradient, c(list(r, unpack(theta)), lambdas)),
    method = "BFGS", control = list(reltol = 1e-16, maxit = 10000)
  )
  expect_identical(oracle$convergence, 0L)
  expect_equal(fit$objective, oracle$value, tolerance = 1e-6)
  # Predictions are mu + b_i + c_j + u_i'v_j, and so are u v'.
  expected <- p$mu + p$b[r$user] + p$c[r$item] + rowSums(p$u[r$user, ] * p$v[r$item, ])
  expect_equal(predict(fit, r), expected, tolerance = 1e-12)
  expect_equal((fit$u %*% t(fit$v))[cbind(r$user, r$item)], expected, tolerance = 1e-12)
})

test_that("the biased fit's latent part is softImpute's optimum on the bias-removed matrix", {
  skip_if_not_installed("softImpute")
  r <- small_ratings()
  lambda <- 8
  # lambda_u = lambda_v = lambda / 2 at a rank above the optimum's: the
  # problem is convex in (U V', b, c), and given the biases its latent part is
  # softImpute's problem on M - mu - b - c.
  learner <- learner_als(rank = 12, lambda_u = lambda / 2, biases = TRUE, lambda_bias = 1, max_iter = 5000, tol = 1e-15)
  fit <- fit_cf(r, learner, seed = 1)
  p <- biased_parts(fit)
  residual <- r$rating - p$mu - p$b[r$user] - p$c[r$item]
  si <- suppressWarnings(softImpute::softImpute(softImpute::Incomplete(r$user, r$item, residual),
    rank.max = 12, lambda = lambda, type = "als", maxit = 20000, thresh = 1e-14
  ))
  si_prediction <- rowSums(sweep(si$u, 2, si$d, `*`)[r$user, ] * si$v[r$item, ])
  si_objective <- sum((residual - si_prediction)^2) + 2 * lambda * sum(si$d)
  ours <- fit$objective - 2 * (sum(p$b^2) + sum(p$c^2))
  expect_equal(ours, si_objective, tolerance = 1e-6)
  expect_lt(max(abs(biased_gradient(r, p, lambda / 2, lambda / 2, 1))), 1e-5)
})

test_that("mu is the mean of every rating fitted, fake ones included", {
  r <- small_ratings()
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1, biases = TRUE, max_iter = 3000, tol = 1e-14)
  fit <- fit_cf(r, learner, attack = attack, seed = 1)
  p <- biased_parts(fit)
  expect_equal(p$mu, mean(c(r$rating, attack$fake$rating)), tolerance = 1e-14)
  expect_identical(fit$fake_u[, 6], rep(p$mu, length(attack$fake$user_ids)))
  joint <- poisoned_ratings(r, attack)
  # Stationary at that mu (at the real ratings' mean the biases' gradients
  # would be of the order of the shift times their ratings).
  expect_lt(max(abs(biased_gradient(joint, p, 1, 1, 1))), 1e-4)
})

test_that("the biased learner's settings are checked, printed and tidied", {
  expect_cfp_error(learner_als(biases = TRUE, lambda_bias = -1), "value", "lambda_bias")
  expect_cfp_error(learner_als(biases = TRUE, lambda_bias = "a"), "type", "lambda_bias")
  expect_cfp_error(learner_als(biases = NA), "type", "biases")
  expect_identical(learner_als(biases = TRUE, lambda_u = 3)$lambda_bias, 3)
  expect_null(learner_als(lambda_bias = 2)$lambda_bias)
  learner <- learner_als(rank = 2, lambda_u = 1, biases = TRUE, lambda_bias = 0.5)
  expect_output(print(learner), "lambda_bias = 0.5")
  r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
  fit <- fit_cf(r, learner, seed = 1)
  expect_output(print(fit), "with biases")
  expect_identical(dim(fit$u), c(60L, 5L))
  expect_identical(dim(fit$v), c(30L, 5L))
  summary <- glance(fit, ratings = r)
  expect_identical(summary$rank, 2L)
  expect_true(summary$biases)
  expect_identical(summary$lambda_bias, 0.5)
  expect_false(glance(fit_cf(r, learner_als(rank = 2, lambda_u = 1), seed = 1))$biases)
  expect_equal(summary$train_rmse, sqrt(mean((predict(fit, r) - r$rating)^2)))
  components <- tidy(fit)
  expect_equal(sum(components$singular_value^2), sum((fit$u %*% t(fit$v))^2), tolerance = 1e-10)
})

test_that("biased fits warm-start from biased and unbiased fits", {
  r <- small_ratings()
  learner <- learner_als(rank = 3, lambda_u = 1, biases = TRUE, max_iter = 400, tol = 1e-12)
  fit <- fit_cf(r, learner, seed = 1)
  again <- fit_cf(r, learner, init = fit)
  expect_lt(again$iterations, 5)
  expect_equal(again$objective, fit$objective, tolerance = 1e-9)
  # Across the two kinds: the latent factors carry over, biases start at 0.
  plain <- fit_cf(r, learner_als(rank = 3, lambda_u = 1, max_iter = 400, tol = 1e-12), init = fit)
  expect_identical(dim(plain$v), c(80L, 3L))
  expect_identical(dim(fit_cf(r, learner, init = plain)$v), c(80L, 6L))
  expect_identical(dim(fit_cf(r, learner, init = matrix(0.1, 80, 3))$v), c(80L, 6L))
})

test_that("the biased learner's exact gradients match finite differences", {
  r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)$fake
  target <- r$item_ids[3]
  learner <- learner_als(rank = 2, lambda_u = 1, biases = TRUE, lambda_bias = 0.5)
  huber <- learner_als(rank = 2, lambda_u = 1, biases = TRUE, lambda_bias = 0.5, loss = "huber", huber_delta = 1)
  utilities <- list(
    utility_availability(), utility_integrity(targets = target), utility_hybrid(c(-1, 1), targets = target)
  )
  for (utility in utilities) {
    for (l in list(learner, huber)) {
      set.seed(2)
      check <- check_gradient(r, fake, l, utility, method = "exact", n_entries = 6, seed = 3)
      expect_lt(max(check$relative_error), 1e-4)
    }
  }
  # The paper's KKT gradient (Eq. 12 on [v_j; c_j]) points the right way.
  set.seed(2)
  check <- check_gradient(r, fake, learner, utility_availability(), method = "kkt", n_entries = 15, seed = 3)
  expect_gt(attr(check, "cosine"), 0.5)
})

test_that("every attack, measure, detector and defence takes the biased learner", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  s <- split_ratings(r, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1, biases = TRUE)
  budget <- attack_budget(alpha = 0.05, items_per_user = 10)
  measure <- function(attack, l = learner) evaluate_attack(s$train, attack, learner = l, test = s$test)
  uniform <- measure(poison_uniform(s$train, budget, seed = 1))
  search <- poison_pga(s$train, learner, utility_availability(), budget, seed = 1)
  random <- poison_pga(s$train, learner, utility_availability(), budget, support = "random", method = "kkt", seed = 1)
  sgld <- poison_sgld(s$train, learner, utility_availability(), budget, max_iter = 20, seed = 1)
  shifts <- vapply(list(search, random, sgld), function(a) measure(a)$rmse_shift, numeric(1))
  # Both PGA supports beat uniform fake users on the biased victim by far.
  expect_gt(shifts[1], 2 * uniform$rmse_shift)
  expect_gt(shifts[2], 2 * uniform$rmse_shift)
  expect_gt(shifts[3], 0)
  expect_true(all(is.finite(sgld$trace$utility)))
  expect_gt(measure(search)$test_rmse_poisoned, uniform$test_rmse_poisoned)
  # A nuke lowers its target's average prediction.
  target <- s$train$item_ids[5]
  nuke <- measure(poison_pga(s$train, learner, utility_integrity(targets = target, weights = -1), budget, seed = 1))
  expect_lt(nuke$target_rating_poisoned, nuke$target_rating_clean - 0.1)
  # Detectors read the profiles, whatever the learner.
  features <- detect_features(s$train, search)
  expect_identical(nrow(features), length(s$train$user_ids) + length(search$fake$user_ids))
  expect_true(all(is.finite(detect_pca(s$train, search)$suspicion)))
  # Defences built on the biased learner, and an attack through a filter.
  defences <- list(
    huber = learner_als(rank = 3, lambda_u = 1, biases = TRUE, loss = "huber", huber_delta = 0.5),
    bagged = learner_bagged(learner, n_bags = 4, seed = 1),
    filtered = learner_filtered(learner, n = 8)
  )
  through <- poison_pga(s$train, defences$filtered, utility_availability(), budget, max_iter = 5, seed = 1)
  defence <- suppressWarnings(evaluate_defence(s$train, search, s$test, defences, adaptive = list(filtered = through)))
  expect_identical(defence$defence, c("none", "huber", "bagged", "filtered", "filtered"))
  expect_true(all(is.finite(defence$rmse_shift)))
  expect_lt(defence$rmse_shift[defence$defence == "huber"], defence$rmse_shift[1])
})
