# Data out: fit_cf(seed = ).

test_that("fit_cf(seed = ) gives the same fit for the same seed and leaves the RNG alone", {
  r <- small_ratings()
  learner <- learner_als(rank = 3, lambda_u = 1)
  set.seed(42)
  before <- .Random.seed
  a <- fit_cf(learner, r, seed = 1)
  expect_identical(.Random.seed, before)
  b <- fit_cf(learner, r, seed = 1)
  expect_identical(a$u, b$u)
  expect_identical(a$v, b$v)
  expect_identical(a$objective, b$objective)
  expect_false(isTRUE(all.equal(a$v, fit_cf(learner, r, seed = 2)$v)))
  # Unseeded fits draw from the caller's stream.
  expect_false(identical(fit_cf(learner, r)$v, fit_cf(learner, r)$v))

  bagged <- learner_bagged(learner, n_bags = 10, seed = 1)
  expect_identical(fit_cf(bagged, r, seed = 1)$v, fit_cf(bagged, r, seed = 1)$v)
  expect_false(isTRUE(all.equal(fit_cf(bagged, r, seed = 1)$v, fit_cf(bagged, r, seed = 2)$v)))
  expect_cfp_error(fit_cf(learner, r, seed = -1), "value", "seed")
  expect_cfp_error(fit_cf(learner, r, seed = "a"), "type", "seed")
})
