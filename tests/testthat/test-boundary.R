# The boundary to the C++ core: one layout of ratings, one encoding of a
# learner, and checks of everything the core is handed.

test_that("joint_ratings() lays out real users, then fake users, in cf_ratings order", {
  r <- simulate_ratings(30, 12, rank = 2, density = 0.3, seed = 1)
  fake <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 4), seed = 1)$fake
  joint <- cfpoison:::joint_ratings(r, fake)
  m <- length(r$user_ids)
  expect_identical(joint$user, c(r$user, fake$user + m))
  expect_false(is.unsorted(joint$user))
  expect_identical(joint$is_fake, rep(c(FALSE, TRUE), c(m, length(fake$user_ids))))
  core <- cfpoison:::core_ratings(joint)
  expect_identical(core$user, joint$user - 1L)
  expect_identical(core$n_users, m + length(fake$user_ids))
  expect_identical(cfpoison:::core_ratings(r)$user, r$user - 1L)
})

test_that("the core refuses ratings out of order or out of range, with a classed error", {
  learner <- learner_als(rank = 1, lambda_u = 1)
  core_learner <- cfpoison:::core_learner(learner)
  init <- matrix(0.1, 2, 1)
  fit <- function(ratings) cfpoison:::call_core(cfpoison:::.fit_factors(ratings, core_learner, init, 1L))
  good <- list(user = c(0L, 0L, 1L), item = c(0L, 1L, 0L), rating = c(1, -1, 2), n_users = 2L, n_items = 2L)
  expect_type(fit(good)$objective, "double")
  unsorted <- utils::modifyList(good, list(user = c(1L, 0L, 0L), item = c(0L, 0L, 1L)))
  expect_cfp_error(fit(unsorted), "numerical", "sorted by user")
  outside <- utils::modifyList(good, list(item = c(0L, 1L, 5L)))
  expect_cfp_error(fit(outside), "numerical", "outside")
  short <- utils::modifyList(good, list(rating = c(1, 2)))
  expect_cfp_error(fit(short), "numerical", "differ in length")
  expect_cfp_error(
    cfpoison:::call_core(cfpoison:::.fit_factors(good, core_learner, matrix(0.1, 3, 1), 1L)),
    "numerical", "one row per item"
  )
})

test_that("core_learner() encodes every learner the same way", {
  als <- cfpoison:::core_learner(learner_als(rank = 3, lambda_u = 2, lambda_v = 4, loss = "huber", huber_delta = 0.5))
  expect_identical(als[c("nuclear", "lambda_u", "lambda_v", "lambda", "huber_delta")],
    list(nuclear = FALSE, lambda_u = 2, lambda_v = 4, lambda = 0, huber_delta = 0.5)
  )
  nuclear <- cfpoison:::core_learner(learner_nuclear(lambda = 6, rank_max = 5))
  expect_identical(nuclear[c("nuclear", "lambda_u", "lambda_v", "lambda", "huber_delta")],
    list(nuclear = TRUE, lambda_u = 3, lambda_v = 3, lambda = 6, huber_delta = 0)
  )
})
