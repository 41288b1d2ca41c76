# Learners: Eq. 2 (alternating minimization) and Eq. 3 (nuclear norm).

# Objective of Eq. 2 / Eq. 3 on our scale for factors u (m x k), d, v (n x k).
objective_by_hand <- function(ratings, u, v, d = NULL, lambda_u = 0, lambda_v = 0, lambda_nuclear = NULL) {
  if (!is.null(d)) u <- sweep(u, 2, d, `*`)
  pred <- rowSums(u[ratings$user, , drop = FALSE] * v[ratings$item, , drop = FALSE])
  rss <- sum((ratings$rating - pred)^2)
  if (!is.null(lambda_nuclear)) {
    return(rss + 2 * lambda_nuclear * sum(d))
  }
  rss + 2 * lambda_u * sum(u^2) + 2 * lambda_v * sum(v^2)
}

test_that("ALS objective never increases across sweeps and matches Eq. 2", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 0.5, lambda_v = 1.5, max_iter = 100, tol = 0)
  fit <- fit_cf(r, learner)
  obj <- fit$trace$objective
  expect_gt(length(obj), 20)
  expect_true(all(diff(obj) <= 1e-10 * abs(obj[-1])))
  expect_equal(fit$objective, objective_by_hand(r, fit$u, fit$v, lambda_u = 0.5, lambda_v = 1.5), tolerance = 1e-12)
})

test_that("ALS and nuclear fits reach softImpute's objective", {
  skip_if_not_installed("softImpute")
  r <- small_ratings()
  lambda <- 8 # softImpute's lambda; Eq. 2 with lambda_u = lambda_v = lambda / 2
  incomplete <- softImpute::Incomplete(r$user, r$item, r$rating)
  oracle_objective <- function(type) {
    # type = "svd" passes `thresh` to its inner SVDs too, so a threshold near
    # machine precision costs minutes; 1e-10 already agrees to ~1e-10. softImpute
    # may warn that it stopped at maxit: the agreement below is what matters.
    si <- suppressWarnings(softImpute::softImpute(incomplete, rank.max = 12, lambda = lambda, type = type, maxit = 20000, thresh = 1e-10))
    objective_by_hand(r, si$u, si$v, si$d, lambda_nuclear = lambda)
  }
  # At this lambda the optimum has rank < 12, so every solver reaches the
  # (convex) nuclear-norm optimum and all objectives agree.
  als <- fit_cf(r, learner_als(rank = 12, lambda_u = lambda / 2, max_iter = 5000, tol = 1e-15))
  nuclear <- fit_cf(r, learner_nuclear(lambda = lambda, rank_max = 12, max_iter = 5000, tol = 1e-15))
  expect_lt(nuclear$rank, 12)
  expect_equal(als$objective, oracle_objective("als"), tolerance = 1e-6)
  expect_equal(nuclear$objective, oracle_objective("svd"), tolerance = 1e-6)
  expect_equal(nuclear$objective, als$objective, tolerance = 1e-6)
})

test_that("the nuclear fit satisfies the optimality conditions of Eq. 3", {
  r <- small_ratings()
  lambda <- 8
  fit <- fit_cf(r, learner_nuclear(lambda = lambda, rank_max = 12, max_iter = 5000, tol = 1e-15))
  keep <- fit$d > 0
  u <- fit$u[, keep, drop = FALSE]
  v <- fit$v[, keep, drop = FALSE]
  expect_equal(crossprod(u), diag(sum(keep)), tolerance = 1e-8)
  expect_equal(crossprod(v), diag(sum(keep)), tolerance = 1e-8)
  # KKT (Eq. 14): the residual G = R_Omega(M - X) lies in lambda * subdifferential of
  # ||X||_*, i.e. G v_t = lambda u_t on the support and ||G||_2 <= lambda.
  x <- u %*% (fit$d[keep] * t(v))
  residual <- matrix(0, nrow(x), ncol(x))
  residual[cbind(r$user, r$item)] <- r$rating - x[cbind(r$user, r$item)]
  expect_equal(residual %*% v, lambda * u, tolerance = 1e-6)
  expect_lte(svd(residual, 0, 0)$d[1], lambda * (1 + 1e-6))
})

test_that("a noiseless low-rank matrix is recovered", {
  # Uniform sampling (zipf_exponent = 0): completion theory needs every row and
  # column observed often enough, which Zipf popularity does not give rare items.
  r <- simulate_ratings(200, 150, rank = 3, density = 0.3, noise_sd = 0, zipf_exponent = 0, scale = NULL, seed = 9)
  s <- split_ratings(r, test_fraction = 0.2, seed = 1)
  fit <- fit_cf(s$train, learner_als(rank = 3, lambda_u = 1e-8, max_iter = 2000, tol = 1e-14))
  expect_lt(rmse(fit, s$test), 1e-3)
})

test_that("results are identical for 1 and 2 threads and for the same seed", {
  r <- small_ratings()
  for (learner in list(learner_als(rank = 5, lambda_u = 1, max_iter = 30), learner_nuclear(lambda = 5, rank_max = 10, max_iter = 30))) {
    set.seed(11)
    one <- fit_cf(r, learner, threads = 1)
    set.seed(11)
    two <- fit_cf(r, learner, threads = 2)
    expect_identical(one$u, two$u)
    expect_identical(one$v, two$v)
    expect_identical(one$objective, two$objective)
  }
})

test_that("accelerated refits (evaluate_attack()'s) reach plain sweeps' limit sooner, never raising the objective", {
  r <- small_ratings()
  for (learner in list(
    learner_als(rank = 4, lambda_u = 0.5, lambda_v = 1.5), learner_als(rank = 4, lambda_u = 0.5, biases = TRUE, lambda_bias = 1),
    learner_nuclear(lambda = 5, rank_max = 8)
  )) {
    fit_at <- function(learner, tol, threads = 1L) {
      learner$max_iter <- 20000L
      learner$tol <- tol
      set.seed(2)
      fit_cf(r, learner, threads = threads)
    }
    limit <- fit_at(learner, 1e-13)
    plain <- fit_at(learner, 1e-8)
    fast <- fit_at(cfpoison:::accelerated(learner), 1e-8)
    expect_true(fast$converged)
    expect_true(all(diff(fast$trace$objective) <= 0))
    # Sooner, and at least as close to the limit of plain sweeps.
    expect_lt(fast$iterations, plain$iterations)
    expect_lte(fast$objective - limit$objective, plain$objective - limit$objective + 1e-9 * limit$objective)
    expect_equal(fast$objective, limit$objective, tolerance = 1e-7)
    predictions <- function(fit) with(cfpoison:::prediction_factors(fit), user %*% t(item))
    expect_equal(predictions(fast), predictions(limit), tolerance = 1e-3)
    # The extrapolation sums in a fixed order: the thread count changes nothing.
    expect_identical(fit_at(cfpoison:::accelerated(learner), 1e-8, threads = 2L)$v, fast$v)
  }
})

test_that("an accelerated refit does not stop where an extrapolation lands on a plateau", {
  # A default availability block of poison_pga() on MovieLens at alpha = 3%,
  # its ratings scaled by 0.999. Refitted from the clean model, the poisoned
  # fit crosses a plateau (plain sweeps gain about 3e-6 each) before its
  # limit; a sweep from an extrapolated start there gained less than 1e-8,
  # and the refit stopped after 24 sweeps at an RMSE shift of 0.045.
  ratings <- movielens_small()
  learner <- learner_als(rank = 10, lambda_u = 5)
  set.seed(1)
  clean <- fit_cf(ratings, learner_als(rank = 10, lambda_u = 5, max_iter = 2000, tol = 1e-9))
  block <- readRDS(test_path("fixtures", "plateau-block.rds"))
  measured <- evaluate_attack(ratings, block, learner, clean = clean)$rmse_shift
  limit <- evaluate_attack(ratings, block, learner, clean = clean, refit_tol = 1e-12, refit_sweeps = 3000)$rmse_shift
  expect_gt(limit, 0.07)
  expect_equal(measured, limit, tolerance = 1e-3)
})

test_that("predictions map back to the original ids", {
  df <- data.frame(
    user = rep(c("zoe", "adam", "mia"), each = 4),
    item = rep(c("m9", "m1", "m5", "m3"), 3),
    rating = c(2, 1, 0, -1, 1, 0, -2, 2, 0, 0, 1, -1)
  )
  r <- as_ratings(df)
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 0.1))
  by_hand <- sum(fit$u[match("mia", fit$user_ids), ] * fit$v[match("m5", fit$item_ids), ])
  expect_equal(predict(fit, data.frame(user = "mia", item = "m5")), by_hand)
  rows <- predict(fit, user = c("zoe", "mia"))
  expect_identical(dimnames(rows), list(c("zoe", "mia"), sort(unique(df$item))))
  expect_equal(rows["mia", "m5"], by_hand)
  expect_equal(predict(fit, r), predict(fit, as.data.frame(r)))
})

test_that("fake users are fitted as extra rows (Eq. 4)", {
  r <- small_ratings()
  fake_df <- data.frame(user = rep(c("f1", "f2"), each = 3), item = c(1, 2, 3, 2, 4, 6), rating = c(2, -2, 2, 1, 1, -1))
  fake <- as_ratings(fake_df, items = r$item_ids)
  fit <- fit_cf(r, learner_als(rank = 3, lambda_u = 1, max_iter = 50), attack = fake)
  expect_identical(dim(fit$fake_u), c(2L, 3L))
  expect_identical(nrow(fit$u), length(r$user_ids))
  all_u <- rbind(fit$u, fit$fake_u)
  joint <- list(
    user = c(r$user, fake$user + length(r$user_ids)), item = c(r$item, fake$item),
    rating = c(r$rating, fake$rating)
  )
  expect_equal(fit$objective, objective_by_hand(joint, all_u, fit$v, lambda_u = 1, lambda_v = 1), tolerance = 1e-12)
})

test_that("warm starts continue a fit and follow a lambda path", {
  r <- small_ratings()
  learner <- learner_als(rank = 4, lambda_u = 1, max_iter = 20, tol = 0)
  first <- fit_cf(r, learner)
  second <- fit_cf(r, learner, init = first)
  expect_lte(second$trace$objective[1], first$objective * (1 + 1e-12))

  path <- c(30, 15, 8)
  warm <- NULL
  for (lambda in path) {
    warm <- fit_cf(r, learner_nuclear(lambda = lambda, rank_max = 12, max_iter = 5000, tol = 1e-14), init = warm)
  }
  cold <- fit_cf(r, learner_nuclear(lambda = 8, rank_max = 12, max_iter = 5000, tol = 1e-14))
  expect_equal(warm$objective, cold$objective, tolerance = 1e-8)
})

test_that("the nuclear learner warns when rank_max binds", {
  r <- small_ratings()
  expect_warning(fit_cf(r, learner_nuclear(lambda = 0.01, rank_max = 2)), class = "cfpoison_warning_rank")
})

test_that("users who rate every item and items rated by everyone get their exact ridge solution", {
  # Full rows and columns share one Gram matrix in the C++ sweep (SGLD's dense
  # fake users); stationarity of every row and column checks that it is the right one.
  base <- as.data.frame(small_ratings())
  items <- sort(unique(base$item))
  set.seed(11)
  full_users <- expand.grid(user = max(base$user) + 1:3, item = items)
  full_users$rating <- stats::rnorm(nrow(full_users))
  everyone <- setdiff(unique(base$user), base$user[base$item == items[1]])
  full_item <- data.frame(user = everyone, item = items[1], rating = stats::rnorm(length(everyone)))
  r <- as_ratings(rbind(base, full_users, full_item))
  expect_true(all(tabulate(r$user) > 0))
  expect_equal(sum(r$item == 1L), length(r$user_ids))
  lambda_u <- 0.5
  lambda_v <- 1.5
  fit <- fit_cf(r, learner_als(rank = 4, lambda_u = lambda_u, lambda_v = lambda_v, max_iter = 3000, tol = 1e-14))
  ridge_gap <- function(factors, other, rows, cols, ratings, lambda) {
    max(vapply(seq_len(nrow(factors)), function(t) {
      mine <- rows == t
      f <- other[cols[mine], , drop = FALSE]
      solution <- solve(crossprod(f) + 2 * lambda * diag(ncol(other)), crossprod(f, ratings[mine]))
      max(abs(solution - factors[t, ]))
    }, numeric(1)))
  }
  expect_lt(ridge_gap(fit$u, fit$v, r$user, r$item, r$rating, lambda_u), 1e-6)
  expect_lt(ridge_gap(fit$v, fit$u, r$item, r$user, r$rating, lambda_v), 1e-6)
})
