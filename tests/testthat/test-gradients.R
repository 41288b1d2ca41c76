# Implicit gradients (Eq. 11-13, Appendix B, exact adjoint) against finite differences.

gradient_case <- function() {
  r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)$fake
  list(ratings = r, fake = fake, target = r$item_ids[3])
}

test_that("the exact gradient matches finite differences for alternating minimization", {
  case <- gradient_case()
  learner <- learner_als(rank = 2, lambda_u = 1)
  for (utility in list(utility_availability(), utility_integrity(targets = case$target), utility_hybrid(c(-1, 1), targets = case$target))) {
    set.seed(2)
    check <- check_gradient(case$ratings, case$fake, learner, utility, method = "exact", n_entries = 6, seed = 3)
    expect_lt(max(check$relative_error), 1e-4)
    expect_gt(attr(check, "cosine"), 1 - 1e-8)
  }
})

test_that("a cf_attack gives the gradients of its fake block", {
  r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
  learner <- learner_als(rank = 2, lambda_u = 1)
  expect_identical(
    attack_gradient(r, attack, learner, utility_availability()),
    attack_gradient(r, attack$fake, learner, utility_availability())
  )
  # check_gradient() drew its entries from the cf_attack's fields, not its block.
  expect_identical(
    check_gradient(r, attack, learner, utility_availability(), n_entries = 3, seed = 1),
    check_gradient(r, attack$fake, learner, utility_availability(), n_entries = 3, seed = 1)
  )
})

test_that("the exact gradient through the Huber learner matches finite differences", {
  # delta = 0.5 puts some fake ratings beyond delta of the fit: their
  # gradient is exactly 0 (the fit's pull no longer depends on them), which
  # the squared loss's gradient is not.
  case <- gradient_case()
  huber <- learner_als(rank = 2, lambda_u = 1, loss = "huber", huber_delta = 0.5)
  squared <- learner_als(rank = 2, lambda_u = 1)
  for (utility in list(utility_availability(), utility_integrity(targets = case$target))) {
    set.seed(2)
    g <- attack_gradient(case$ratings, case$fake, huber, utility, method = "exact")
    inside <- which(g$gradient != 0)
    beyond <- which(g$gradient == 0)
    expect_gt(length(inside), 5)
    expect_gt(length(beyond), 2)
    set.seed(2)
    expect_true(all(attack_gradient(case$ratings, case$fake, squared, utility, method = "exact")$gradient != 0))
    set.seed(2)
    check <- check_gradient(case$ratings, case$fake, huber, utility, method = "exact", entries = inside[1:6])
    expect_lt(max(check$relative_error), 1e-4)
    set.seed(2)
    flat <- check_gradient(case$ratings, case$fake, huber, utility, method = "exact", entries = beyond[1:3])
    expect_lt(max(abs(flat$numeric)), 1e-7 * max(abs(check$numeric)))
  }
})

test_that("the exact gradient matches finite differences for nuclear-norm minimization", {
  case <- gradient_case()
  learner <- learner_nuclear(lambda = 3, rank_max = 8)
  for (utility in list(utility_availability(), utility_integrity(targets = case$target))) {
    set.seed(2)
    check <- check_gradient(case$ratings, case$fake, learner, utility, method = "exact", n_entries = 6, seed = 3)
    expect_lt(max(check$relative_error), 1e-4)
  }
})

test_that("the paper's KKT gradients point the right way", {
  case <- gradient_case()
  cases <- list(
    list(learner = learner_als(rank = 2, lambda_u = 1), utility = utility_availability()),
    list(learner = learner_nuclear(lambda = 3, rank_max = 8), utility = utility_availability())
  )
  for (x in cases) {
    set.seed(2)
    check <- check_gradient(case$ratings, case$fake, x$learner, x$utility, method = "kkt", n_entries = 15, seed = 3)
    expect_gt(attr(check, "cosine"), 0.5)
  }
})

test_that("the KKT gradient of an integrity utility only moves target ratings (Eq. 12)", {
  case <- gradient_case()
  fake <- as_ratings(
    data.frame(user = rep(c("f1", "f2"), each = 3), item = case$ratings$item_ids[c(3, 5, 9, 3, 6, 12)], rating = c(1, -1, 2, 0, 1, -2)),
    items = case$ratings$item_ids
  )
  set.seed(2)
  g <- attack_gradient(case$ratings, fake, learner_als(rank = 2, lambda_u = 1), utility_integrity(targets = case$target), method = "kkt")
  expect_true(all(g$gradient[g$item != case$target] == 0))
  expect_true(all(g$gradient[g$item == case$target] != 0))
})

test_that("utilities match a dense computation (Eq. 7-9)", {
  r <- simulate_ratings(40, 25, rank = 2, density = 0.3, seed = 4)
  fake <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 6), seed = 4)$fake
  learner <- learner_als(rank = 2, lambda_u = 0.5, max_iter = 300, tol = 1e-12)
  set.seed(1)
  clean <- fit_cf(r, learner)
  utility <- utility_hybrid(c(1.5, -2), targets = r$item_ids[c(2, 7)], weights = c(2, 0.5))
  g <- attack_gradient(r, fake, learner, utility, clean = clean)
  poisoned <- fit_cf(r, learner_als(rank = 2, lambda_u = 0.5, max_iter = 5000, tol = 1e-15), attack = fake, init = clean)
  x_hat <- poisoned$u %*% t(poisoned$v)
  x_bar <- clean$u %*% t(clean$v)
  unseen <- matrix(TRUE, 40, 25)
  unseen[cbind(r$user, r$item)] <- FALSE
  availability <- sum((x_hat - x_bar)[unseen]^2)
  integrity <- sum(x_hat[, 2]) * 2 + sum(x_hat[, 7]) * 0.5
  expect_equal(attr(g, "utility"), 1.5 * availability - 2 * integrity, tolerance = 1e-6)
})

test_that("the exact gradient is the same for any thread count", {
  # The adjoint's coupling products split the items among the threads by
  # their share of the entries (Coupling::apply_transpose()); every item's
  # terms are still added in user order, so the threads change nothing.
  case <- gradient_case()
  clean <- fit_cf(case$ratings, learner_als(rank = 2, lambda_u = 1, max_iter = 500, tol = 1e-10), seed = 1)
  learners <- list(
    squared = learner_als(rank = 2, lambda_u = 1),
    huber = learner_als(rank = 2, lambda_u = 1, loss = "huber", huber_delta = 0.5),
    biased = learner_als(rank = 2, lambda_u = 1, biases = TRUE)
  )
  for (learner in learners) {
    start <- if (isTRUE(learner$biases)) NULL else clean
    one <- attack_gradient(case$ratings, case$fake, learner, utility_availability(), method = "exact",
      clean = start, threads = 1
    )
    expect_gt(attr(one, "cg_iterations"), 0)
    for (threads in 2:3) {
      expect_identical(
        attack_gradient(case$ratings, case$fake, learner, utility_availability(), method = "exact",
          clean = start, threads = threads
        ),
        one
      )
    }
  }
})
