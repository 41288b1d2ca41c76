# Attacks through the bagged learner (learner_bagged()): the gradient of the
# utility of the bagged prediction, through each bag's adjoint.

bagged_case <- function() {
  r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
  fake <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)$fake
  list(ratings = r, fake = fake, target = r$item_ids[3])
}

# Six fake users, three bags: fake_2 falls in no bag, the others in one or two.
bagged_als <- function(...) {
  learner_bagged(learner_als(rank = 2, lambda_u = 1, ...), n_bags = 3, seed = 142)
}

test_that("the case's bags hold some fake users once, some several times, one in none (fake_2)", {
  case <- bagged_case()
  counts <- cfpoison:::bag_counts(bagged_als(), 60L, 6L)[60 + 1:6, ]
  expect_identical(unname(rowSums(counts > 0)), c(2, 0, 2, 2, 1, 2))
  expect_true(any(counts > 1))
  # Every real user is in a bag, so that no warning clouds the tests.
  expect_true(all(rowSums(cfpoison:::bag_counts(bagged_als(), 60L, 0L) > 0) > 0))
})

test_that("the gradient through the bagged learner matches finite differences (ALS)", {
  case <- bagged_case()
  bagged <- bagged_als()
  base <- learner_als(rank = 2, lambda_u = 1)
  for (utility in list(utility_availability(), utility_integrity(targets = case$target))) {
    g <- attack_gradient(case$ratings, case$fake, bagged, utility, method = "exact")
    # A fake user in no bag does not move the bagged prediction.
    outside <- g$user == "fake_2"
    expect_true(all(g$gradient[outside] == 0))
    expect_true(all(g$gradient[!outside] != 0))
    inside <- which(!outside)
    check <- check_gradient(case$ratings, case$fake, bagged, utility, method = "exact",
      entries = inside[seq(1, length(inside), length.out = 8)]
    )
    expect_lt(max(check$relative_error), 1e-4)
    expect_gt(attr(check, "cosine"), 1 - 1e-8)
    flat <- check_gradient(case$ratings, case$fake, bagged, utility, method = "exact", entries = which(outside)[1:2])
    expect_lt(max(abs(flat$numeric)), 1e-7 * max(abs(check$numeric)))
    # Not the base learner's gradient (what the attacks differentiated before).
    plain <- attack_gradient(case$ratings, case$fake, base, utility, method = "exact")$gradient
    expect_gt(sqrt(sum((g$gradient - plain)^2) / sum(plain^2)), 0.3)
  }
})

test_that("the gradient through bagged Huber, biased and nuclear-norm learners matches finite differences", {
  case <- bagged_case()
  learners <- list(
    huber = bagged_als(loss = "huber", huber_delta = 0.5),
    # Each bag's mu is the mean of the bag's ratings, copies included, and
    # every copy of a fake rating moves it.
    biased = bagged_als(biases = TRUE, lambda_bias = 0.5),
    nuclear = learner_bagged(learner_nuclear(lambda = 3, rank_max = 8), n_bags = 3, seed = 142)
  )
  for (name in names(learners)) {
    for (utility in list(utility_availability(), utility_integrity(targets = case$target))) {
      g <- attack_gradient(case$ratings, case$fake, learners[[name]], utility, method = "exact")
      inside <- which(g$gradient != 0)
      check <- check_gradient(case$ratings, case$fake, learners[[name]], utility, method = "exact",
        entries = inside[seq(1, length(inside), length.out = 6)]
      )
      expect_lt(max(check$relative_error), 1e-4)
    }
  }
})

test_that("the utility differentiated is that of the bagged prediction", {
  case <- bagged_case()
  bagged <- bagged_als()
  tight <- learner_bagged(learner_als(rank = 2, lambda_u = 1, max_iter = 20000, tol = 1e-15), n_bags = 3, seed = 142)
  clean <- fit_cf(case$ratings, tight, seed = 1)
  poisoned <- fit_cf(case$ratings, tight, attack = case$fake, init = clean)
  rated <- matrix(FALSE, 60, 30)
  rated[cbind(case$ratings$user, case$ratings$item)] <- TRUE
  shift <- poisoned$u %*% t(poisoned$v) - clean$u %*% t(clean$v)
  g <- attack_gradient(case$ratings, case$fake, bagged, utility_availability(), method = "exact", clean = clean)
  # fit_cf() stops on the objective, attack_gradient() on the factors.
  expect_equal(attr(g, "utility"), sum(shift[!rated]^2), tolerance = 1e-5)
  g <- attack_gradient(case$ratings, case$fake, bagged, utility_integrity(targets = case$target, weights = 1),
    clean = clean
  )
  expect_equal(attr(g, "utility"), sum(poisoned$u %*% poisoned$v[3, ]), tolerance = 1e-6)
})

test_that("the paper's KKT gradient through the bagged learner points the right way", {
  case <- bagged_case()
  check <- check_gradient(case$ratings, case$fake, bagged_als(), utility_availability(), method = "kkt",
    n_entries = 15, seed = 3
  )
  expect_gt(attr(check, "cosine"), 0.5)
})

test_that("an attack through the bagged learner needs the bagged clean model", {
  case <- bagged_case()
  bagged <- bagged_als()
  plain <- fit_cf(case$ratings, learner_als(rank = 2, lambda_u = 1), seed = 1)
  other_seed <- fit_cf(case$ratings, learner_bagged(learner_als(rank = 2, lambda_u = 1), n_bags = 3, seed = 78), seed = 1)
  for (clean in list(plain, other_seed)) {
    expect_cfp_error(
      attack_gradient(case$ratings, case$fake, bagged, utility_availability(), clean = clean),
      "value", "bagged learner"
    )
  }
})
