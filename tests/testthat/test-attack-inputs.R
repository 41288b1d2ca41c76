# The attack engine's inputs and the budget its outputs keep: bad input is a
# classed error that names the argument (never a crash or a bare base-R
# error); every attack's fake block satisfies its budget (Section 3); seeds
# reproduce attacks without disturbing the caller's RNG stream.

# Tiny problem: PGA/SGLD runs of a few sweeps take well under a second.
attack_data <- function() simulate_ratings(80, 40, rank = 2, density = 0.25, seed = 1)
attack_learner <- function() learner_als(rank = 2, lambda_u = 1)

# Every fake block must keep its budget: floor(alpha * m) fake users, at most
# B distinct items each (exactly B where `exact`), |rating| <= Lambda, over the
# same items as the real ratings.
expect_within_budget <- function(attack, ratings, exact = TRUE) {
  fake <- attack$fake
  budget <- attack$budget
  expect_s3_class(attack, "cf_attack")
  expect_s3_class(fake, "cf_ratings")
  n_fake <- floor(budget$alpha * length(ratings$user_ids))
  expect_length(fake$user_ids, n_fake)
  expect_identical(fake$item_ids, ratings$item_ids)
  expect_true(all(fake$user >= 1L & fake$user <= n_fake))
  expect_true(all(fake$item >= 1L & fake$item <= length(ratings$item_ids)))
  per_user <- tabulate(fake$user, n_fake)
  expect_true(all(per_user <= budget$items_per_user))
  if (exact) expect_true(all(per_user == budget$items_per_user))
  expect_identical(anyDuplicated(data.frame(fake$user, fake$item)), 0L)
  expect_true(all(is.finite(fake$rating)))
  expect_true(all(abs(fake$rating) <= budget$max_rating))
  expect_equal(length(fake$user), length(fake$rating))
}

# `run(seed)` is one attack. The same seed gives the same fake block, another
# seed another one, and a seeded run leaves the caller's RNG stream alone.
expect_seeded <- function(run) {
  first <- run(1)$fake
  expect_identical(run(1)$fake, first)
  expect_false(identical(run(2)$fake, first))
  set.seed(99)
  run(1)
  after <- stats::runif(5)
  set.seed(99)
  expect_identical(after, stats::runif(5))
  # Without a seed, the attack uses (and so is reproduced by) the caller's RNG.
  set.seed(7)
  unseeded <- run(NULL)$fake
  set.seed(7)
  expect_identical(run(NULL)$fake, unseeded)
}

# The shilling attacks with their extra arguments, as function(ratings, budget, seed).
shilling_attacks <- list(
  random_push = function(r, b, seed = NULL) poison_random(r, b, targets = 3, seed = seed),
  random_nuke = function(r, b, seed = NULL) poison_random(r, b, targets = 3, direction = "nuke", seed = seed),
  average = function(r, b, seed = NULL) poison_average(r, b, targets = 3, seed = seed),
  bandwagon = function(r, b, seed = NULL) poison_bandwagon(r, b, targets = 3, n_selected = 2, seed = seed),
  reverse_bandwagon = function(r, b, seed = NULL) {
    poison_bandwagon(r, b, targets = 3, direction = "nuke", n_selected = 2, seed = seed)
  },
  segment = function(r, b, seed = NULL) poison_segment(r, b, targets = 3, segment = c(4, 5), seed = seed),
  love_hate = function(r, b, seed = NULL) poison_love_hate(r, b, targets = 3, seed = seed)
)

test_that("attack_budget() rejects alpha outside (0, 10] and names the limit", {
  expect_cfp_error(attack_budget(alpha = 0), "value", c("`alpha`", "> 0", "It is 0"))
  expect_cfp_error(attack_budget(alpha = -0.1), "value", "`alpha`")
  expect_cfp_error(attack_budget(alpha = 10.5), "value", c("`alpha`", "<= 10", "10.5"))
  expect_cfp_error(attack_budget(alpha = NA), "type", "`alpha`")
  expect_cfp_error(attack_budget(alpha = "0.1"), "type", "`alpha`")
  expect_cfp_error(attack_budget(alpha = c(0.1, 0.2)), "type", "`alpha`")
  expect_cfp_error(attack_budget(alpha = Inf), "type", "`alpha`")
  expect_s3_class(attack_budget(alpha = 10), "cf_budget")
})

test_that("attack_budget() rejects B < 1 and Lambda <= 0", {
  expect_cfp_error(attack_budget(0.1, items_per_user = 0), "value", c("`items_per_user`", ">= 1"))
  expect_cfp_error(attack_budget(0.1, items_per_user = -3), "value", "`items_per_user`")
  expect_cfp_error(attack_budget(0.1, items_per_user = 2.5), "type", c("`items_per_user`", "whole number"))
  expect_cfp_error(attack_budget(0.1, max_rating = 0), "value", c("`max_rating`", "> 0"))
  expect_cfp_error(attack_budget(0.1, max_rating = -2), "value", "`max_rating`")
  expect_cfp_error(attack_budget(0.1, max_rating = NA_real_), "type", "`max_rating`")
})

test_that("an alpha that gives no fake user is a classed error naming alpha", {
  r <- attack_data()
  tiny <- attack_budget(alpha = 0.001, items_per_user = 5)
  expect_cfp_error(poison_uniform(r, tiny, seed = 1), "value", c("`alpha`", "no fake user", "0.0125"))
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_availability(), tiny, max_iter = 1),
    "value", "`alpha`"
  )
  expect_cfp_error(
    poison_sgld(r, attack_learner(), utility_availability(), tiny, max_iter = 1),
    "value", "`alpha`"
  )
  for (attack in shilling_attacks) {
    expect_cfp_error(attack(r, tiny, seed = 1), "value", "`alpha`")
  }
})

test_that("the number of fake users is floor(alpha * m) without floating-point loss", {
  r <- simulate_ratings(100, 30, rank = 2, density = 0.2, seed = 3)
  # 0.29 * 100 is 28.999... in floating point; the budget means 29.
  expect_length(poison_uniform(r, attack_budget(0.29, items_per_user = 3), seed = 1)$fake$user_ids, 29L)
  expect_length(poison_uniform(r, attack_budget(0.57, items_per_user = 3), seed = 1)$fake$user_ids, 57L)
  expect_length(poison_uniform(r, attack_budget(0.015, items_per_user = 3), seed = 1)$fake$user_ids, 1L)
  expect_length(poison_uniform(r, attack_budget(0.999, items_per_user = 3), seed = 1)$fake$user_ids, 99L)
})

test_that("B larger than the number of items is a classed error naming items_per_user", {
  r <- attack_data()
  big <- attack_budget(alpha = 0.1, items_per_user = 41)
  expect_cfp_error(poison_uniform(r, big, seed = 1), "value", c("items_per_user", "only 40"))
  expect_cfp_error(poison_pga(r, attack_learner(), utility_availability(), big, max_iter = 1), "value", "items_per_user")
  expect_cfp_error(poison_sgld(r, attack_learner(), utility_availability(), big, max_iter = 1), "value", "items_per_user")
  for (attack in shilling_attacks) {
    expect_cfp_error(attack(r, big, seed = 1), "value", "items_per_user")
  }
  # B equal to the number of items is allowed.
  expect_within_budget(poison_uniform(r, attack_budget(0.1, items_per_user = 40), seed = 1), r)
})

test_that("a budget that is not a cf_budget is a classed error", {
  r <- attack_data()
  fake_budget <- list(alpha = 0.1, items_per_user = 5, max_rating = 2)
  expect_cfp_error(poison_uniform(r, fake_budget), "type", c("`budget`", "attack_budget()"))
  expect_cfp_error(poison_pga(r, attack_learner(), utility_availability(), fake_budget), "type", "`budget`")
  expect_cfp_error(poison_sgld(r, attack_learner(), utility_availability(), fake_budget), "type", "`budget`")
  for (attack in shilling_attacks) {
    expect_cfp_error(attack(r, fake_budget), "type", "`budget`")
    expect_cfp_error(attack(r, NULL), "type", "`budget`")
  }
})

test_that("target items not in the data are classed errors that list them", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_integrity(targets = "nope"), budget, max_iter = 1),
    "value", c("nope", "not in the ratings", "item_ids")
  )
  expect_cfp_error(
    poison_sgld(r, attack_learner(), utility_hybrid(c(1, 1), targets = 41), budget, max_iter = 1),
    "value", "41"
  )
  # Several numeric ids at once (once a crash inside cli's pluralization).
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_integrity(targets = c(98, 99)), budget, max_iter = 1),
    "value", c("98", "99", "not in the ratings")
  )
  for (attack in list(poison_random, poison_average, poison_bandwagon, poison_love_hate)) {
    expect_cfp_error(attack(r, budget, targets = "nope"), "value", "nope")
    expect_cfp_error(attack(r, budget, targets = c(41, 42, 3)), "value", c("41", "42"))
  }
  expect_cfp_error(poison_segment(r, budget, targets = "nope", segment = 4), "value", "nope")
  expect_cfp_error(poison_segment(r, budget, targets = 3, segment = c(4, 99)), "value", "99")
})

test_that("utility constructors reject bad weights, mu and targets", {
  expect_cfp_error(utility_integrity(targets = 1:2, weights = c(1, 2, 3)), "value", c("`weights`", "length 3"))
  expect_cfp_error(utility_integrity(targets = 1, weights = numeric(0)), "value", "`weights`")
  expect_cfp_error(utility_integrity(targets = 1, weights = NA_real_), "value", "`weights`")
  expect_cfp_error(utility_integrity(targets = 1, weights = "2"), "value", "`weights`")
  expect_cfp_error(utility_hybrid(mu = c(1, 1), targets = 1:3, weights = 1:2), "value", "`weights`")
  expect_cfp_error(utility_hybrid(mu = 1, targets = 1), "value", c("`mu`", "length 1"))
  expect_cfp_error(utility_hybrid(mu = c(1, 2, 3), targets = 1), "value", c("`mu`", "length 3"))
  expect_cfp_error(utility_hybrid(mu = c(NA, 1), targets = 1), "value", "`mu`")
  expect_cfp_error(utility_hybrid(mu = c("1", "1"), targets = 1), "value", "`mu`")
  expect_cfp_error(utility_integrity(targets = c(1, 1)), "value", "`targets`")
  expect_cfp_error(utility_integrity(targets = NULL), "value", "`targets`")
  expect_cfp_error(utility_integrity(targets = NA), "value", "`targets`")
  # One weight for all targets, or one per target.
  expect_equal(utility_integrity(targets = 1:3, weights = 2)$weights, c(2, 2, 2))
  expect_equal(utility_integrity(targets = 1:2, weights = c(1, -1))$weights, c(1, -1))
})

test_that("a utility that is not a cf_utility is a classed error", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  expect_cfp_error(poison_pga(r, attack_learner(), "availability", budget), "type", "`utility`")
  expect_cfp_error(poison_sgld(r, attack_learner(), list(mu = c(1, 0)), budget), "type", "`utility`")
})

test_that("beta < 0 and other bad SGLD settings are classed errors", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  sgld <- function(...) poison_sgld(r, attack_learner(), utility_availability(), budget, max_iter = 1, ...)
  expect_cfp_error(sgld(beta = -0.1), "value", c("`beta`", ">= 0"))
  expect_cfp_error(sgld(beta = NA), "type", "`beta`")
  expect_cfp_error(sgld(step = 0), "value", "`step`")
  expect_cfp_error(sgld(min_var = 0), "value", "`min_var`")
  expect_cfp_error(sgld(support = "sparse", support_size = 4), "value", "`support_size`")
  expect_cfp_error(sgld(support = "sparse", support_size = 41), "value", "`support_size`")
  expect_error(sgld(support = "banana"), "support")
})

test_that("bad PGA settings are classed errors", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  pga <- function(...) poison_pga(r, attack_learner(), utility_availability(), budget, ...)
  expect_cfp_error(pga(max_iter = -1), "value", "`max_iter`")
  expect_cfp_error(pga(max_iter = 1.5), "type", "`max_iter`")
  expect_cfp_error(pga(step = 0), "value")
  expect_cfp_error(pga(refit_sweeps = 0), "value", "`refit_sweeps`")
  expect_cfp_error(
    poison_pga(r, learner_nuclear(lambda = 5), utility_availability(), budget, support = "random", method = "kkt", tau = 0),
    "value", c("`tau`", "> 0")
  )
  expect_cfp_error(pga(threads = 0), "value", "`threads`")
  expect_cfp_error(pga(targets_in_support = NA), "type", "`targets_in_support`")
  expect_cfp_error(pga(seed = -1), "value", "`seed`")
  expect_cfp_error(pga(seed = "a"), "type", "`seed`")
})

test_that("an argument the attack's settings leave unused is refused, not ignored", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  utility <- utility_availability()
  paper <- function(...) poison_pga(r, attack_learner(), utility, budget, support = "random", method = "kkt", ...)
  expect_cfp_error(paper(max_swaps = 2), "value", c("`max_swaps`", "not used", "support search"))
  expect_cfp_error(paper(max_columns = 2), "value", c("`max_columns`", "not used"))
  expect_cfp_error(paper(settle = FALSE), "value", c("`settle`", "not used"))
  # Appendix B's tau smooths the nuclear norm's KKT gradient alone.
  expect_cfp_error(paper(tau = 2), "value", c("`tau`", "not used", "Appendix B"))
  expect_cfp_error(poison_pga(r, learner_nuclear(lambda = 5), utility, budget, tau = 2), "value", "`tau`")
  expect_cfp_error(poison_sgld(r, attack_learner(), utility, budget, max_iter = 1, tau = 2), "value", "`tau`")
  attack <- poison_uniform(r, budget, seed = 1)
  expect_cfp_error(attack_gradient(r, attack, attack_learner(), utility, tau = 2), "value", "`tau`")
  expect_cfp_error(
    check_gradient(r, attack, learner_nuclear(lambda = 5), utility, method = "exact", tau = 2),
    "value", "`tau`"
  )
  # Where it is used, it is taken: a different tau, a different gradient.
  nuclear <- learner_nuclear(lambda = 5)
  smoothed <- function(tau) {
    attack_gradient(r, attack, nuclear, utility, tau = tau, refit_sweeps = 500, refit_tol = 1e-8)$gradient
  }
  expect_false(isTRUE(all.equal(smoothed(0.5), smoothed(5))))
  expect_s3_class(paper(max_iter = 1, refit_sweeps = 2, seed = 1), "cf_attack")
  nuke <- utility_integrity(targets = r$item_ids[3], weights = -2)
  expect_cfp_error(
    poison_structured(r, attack_learner(), nuke, budget, design = "anchored", group_size = 2),
    "value", c("`group_size`", "not used")
  )
})

test_that("poison_pga() names `step` when it is not positive", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_availability(), budget, step = 0),
    "value", c("`step`", "> 0")
  )
})

test_that("a learner spec of the wrong class is a classed error", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  bad <- list(rank = 2, lambda_u = 1, lambda_v = 1)
  expect_cfp_error(
    poison_pga(r, bad, utility_availability(), budget, max_iter = 1),
    "type", c("`learner`", "learner_als()")
  )
  expect_cfp_error(poison_sgld(r, bad, utility_availability(), budget, max_iter = 1), "type", "`learner`")
  expect_cfp_error(poison_pga(r, "als", utility_availability(), budget, max_iter = 1), "type", "`learner`")
  attack <- poison_uniform(r, budget, seed = 1)
  expect_cfp_error(evaluate_attack(r, attack, learner = bad), "type", "`learner`")
  # A baseline attack has no learner of its own: evaluate_attack() asks for one.
  expect_cfp_error(evaluate_attack(r, attack), "value", "`learner`")
  expect_cfp_error(evaluate_attack(r, list(fake = attack$fake), attack_learner()), "type", "`attack`")
  fake <- attack$fake
  expect_cfp_error(attack_gradient(r, fake, bad, utility_availability()), "type", "`learner`")
})

test_that("ratings that are not a cf_ratings are classed errors", {
  r <- attack_data()
  df <- as.data.frame(r)
  mat <- matrix(c(1, NA, -1, 2), 2)
  budget <- attack_budget(alpha = 0.1, items_per_user = 1)
  learner <- attack_learner()
  for (bad in list(df, mat, NULL)) {
    expect_cfp_error(poison_pga(bad, learner, utility_availability(), budget), "type", c("`ratings`", "as_ratings()"))
    expect_cfp_error(poison_sgld(bad, learner, utility_availability(), budget), "type", "`ratings`")
    expect_cfp_error(poison_uniform(bad, budget), "type", "`ratings`")
    for (attack in shilling_attacks) {
      expect_cfp_error(attack(bad, budget), "type", "`ratings`")
    }
  }
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)
  expect_cfp_error(evaluate_attack(df, attack, learner), "type", "`ratings`")
  expect_cfp_error(attack_gradient(df, attack$fake, learner, utility_availability()), "type", "`ratings`")
  expect_cfp_error(attack_gradient(r, as.data.frame(attack$fake), learner, utility_availability()), "type", "`attack`")
})

test_that("more targets than B in PGA is a classed error", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 3)
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_integrity(targets = 1:4), budget, max_iter = 1),
    "value", c("4 target items", "items_per_user", "targets_in_support")
  )
  # Drawn like any other item, more targets than B is fine.
  attack <- poison_pga(r, attack_learner(), utility_integrity(targets = 1:4), budget,
    max_iter = 1, targets_in_support = FALSE, seed = 1, progress = FALSE
  )
  expect_within_budget(attack, r)
})

test_that("a wrong clean model is a classed error", {
  r <- attack_data()
  learner <- attack_learner()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  other <- fit_cf(simulate_ratings(70, 40, rank = 2, density = 0.25, seed = 2), learner)
  poisoned <- fit_cf(r, learner, attack = poison_uniform(r, budget, seed = 1)$fake)
  for (bad in list("clean", other, poisoned, unclass(fit_cf(r, learner)))) {
    expect_cfp_error(
      poison_pga(r, learner, utility_availability(), budget, max_iter = 1, clean = bad),
      "value", c("`clean`", "NULL")
    )
    expect_cfp_error(
      poison_sgld(r, learner, utility_availability(), budget, max_iter = 1, clean = bad),
      "value", "`clean`"
    )
  }
  attack <- poison_uniform(r, budget, seed = 1)
  expect_cfp_error(evaluate_attack(r, attack, learner, clean = other), "value", "`clean`")
  expect_cfp_error(attack_gradient(r, attack$fake, learner, utility_availability(), clean = other), "value", "`clean`")
})

test_that("a bad refit setting is a classed error naming refit_sweeps or refit_tol", {
  r <- attack_data()
  learner <- attack_learner()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 3), seed = 1)
  expect_cfp_error(evaluate_attack(r, attack, learner, refit_sweeps = 0), "value", "`refit_sweeps`")
  expect_cfp_error(evaluate_attack(r, attack, learner, refit_tol = -1), "value", "`refit_tol`")
  expect_cfp_error(evaluate_defence(r, attack, r, list(a = learner), learner, refit_sweeps = 1.5), "type", "`refit_sweeps`")
  expect_cfp_error(attack_gradient(r, attack, learner, utility_availability(), refit_sweeps = 0), "value", "`refit_sweeps`")
  expect_cfp_error(check_gradient(r, attack, learner, utility_availability(), refit_tol = -1), "value", "`refit_tol`")
})

test_that("check_gradient() rejects entries out of range", {
  r <- attack_data()
  learner <- attack_learner()
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 3), seed = 1)$fake
  n <- length(fake$rating)
  for (bad in list(0, n + 1, -1, NA, integer(0), "1", 1.5)) {
    expect_cfp_error(
      check_gradient(r, fake, learner, utility_availability(), entries = bad),
      "value", c("`entries`", as.character(n))
    )
  }
  expect_cfp_error(check_gradient(r, fake, learner, utility_availability(), n_entries = 0), "value", "`n_entries`")
  expect_cfp_error(check_gradient(r, fake, learner, utility_availability(), h = 0), "value", "`h`")
})

test_that("attack_gradient() rejects a fake block over other items", {
  r <- attack_data()
  learner <- attack_learner()
  other <- simulate_ratings(80, 30, rank = 2, density = 0.25, seed = 1)
  fake <- poison_uniform(other, attack_budget(alpha = 0.05, items_per_user = 3), seed = 1)$fake
  expect_cfp_error(attack_gradient(r, fake, learner, utility_availability()), "shape", c("`attack`", "same items"))
  expect_cfp_error(check_gradient(r, fake, learner, utility_availability(), entries = 1), "shape", "`attack`")
  # Same number of items under other ids is still other items.
  renamed <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 3), seed = 1)$fake
  renamed$item_ids <- paste0("item_", renamed$item_ids)
  expect_cfp_error(attack_gradient(r, renamed, learner, utility_availability()), "shape", "`attack`")
  # evaluate_attack() likewise.
  attack <- poison_uniform(other, attack_budget(alpha = 0.05, items_per_user = 3), seed = 1)
  expect_cfp_error(evaluate_attack(r, attack, learner), "shape", "`attack`")
})

test_that("PGA keeps its budget, is reproducible and leaves the RNG alone", {
  r <- attack_data()
  learner <- attack_learner()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  run <- function(seed) {
    poison_pga(r, learner, utility_availability(), budget, max_iter = 3, seed = seed, progress = FALSE)
  }
  expect_within_budget(run(1), r)
  expect_seeded(run)
  # A non-default Lambda is kept too.
  small <- attack_budget(alpha = 0.05, items_per_user = 4, max_rating = 0.5)
  expect_within_budget(
    poison_pga(r, learner, utility_availability(), small, max_iter = 3, step = 1, seed = 1, progress = FALSE),
    r
  )
})

test_that("integrity PGA puts the target items in every fake user's support", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  for (targets in list(7, c(7, 22))) {
    attack <- poison_pga(r, attack_learner(), utility_integrity(targets = targets), budget,
      max_iter = 3, seed = 1, progress = FALSE
    )
    expect_within_budget(attack, r)
    fake <- attack$fake
    for (target in targets) {
      has_target <- tapply(fake$item_ids[fake$item] == target, fake$user, sum)
      expect_length(has_target, length(fake$user_ids))
      expect_true(all(has_target == 1L))
    }
  }
  hybrid <- poison_pga(r, attack_learner(), utility_hybrid(c(-1, 1), targets = 12), budget,
    max_iter = 2, seed = 3, progress = FALSE
  )
  expect_true(all(tapply(hybrid$fake$item_ids[hybrid$fake$item] == 12, hybrid$fake$user, any)))
})

test_that("SGLD keeps its budget (dense and sparse), is reproducible and leaves the RNG alone", {
  r <- attack_data()
  learner <- attack_learner()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  for (support in c("dense", "sparse")) {
    run <- function(seed) {
      poison_sgld(r, learner, utility_availability(), budget,
        max_iter = 3, support = support, seed = seed, progress = FALSE
      )
    }
    attack <- run(1)
    expect_within_budget(attack, r)
    expect_identical(attack$settings$support, support)
    expect_seeded(run)
  }
  integrity <- poison_sgld(r, learner, utility_integrity(targets = 7), budget,
    beta = 2, max_iter = 3, support = "sparse", support_size = 10, seed = 1, progress = FALSE
  )
  expect_within_budget(integrity, r)
})

test_that("the uniform attack keeps its budget, is reproducible and leaves the RNG alone", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 6)
  run <- function(seed) poison_uniform(r, budget, seed = seed)
  expect_within_budget(run(1), r)
  expect_seeded(run)
})

test_that("every shilling attack keeps its budget, is reproducible and leaves the RNG alone", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 6)
  for (name in names(shilling_attacks)) {
    attack <- shilling_attacks[[name]]
    run <- function(seed) attack(r, budget, seed = seed)
    expect_within_budget(run(1), r)
    expect_seeded(run)
  }
})

test_that("logical or list targets and empty segments are classed errors", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  # TRUE would otherwise match item 1.
  expect_cfp_error(utility_integrity(targets = TRUE), "value", "`targets`")
  expect_cfp_error(utility_hybrid(c(1, 1), targets = list(1, 2)), "value", "`targets`")
  for (attack in list(poison_random, poison_average, poison_bandwagon, poison_love_hate)) {
    expect_cfp_error(attack(r, budget, targets = TRUE), "type", c("`targets`", "`TRUE`"))
  }
  expect_cfp_error(poison_segment(r, budget, targets = 3, segment = list(4, 5)), "type", "`segment`")
  for (empty in list(NULL, integer(0), character(0))) {
    expect_cfp_error(poison_segment(r, budget, targets = 3, segment = empty), "value", "`segment`")
  }
  expect_cfp_error(poison_segment(r, budget, targets = 3, segment = c(4, 4)), "value", "`segment`")
})

test_that("a support_size for SGLD's dense support is a classed error, not ignored", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  for (size in list(10, NA, "a")) {
    expect_cfp_error(
      poison_sgld(r, attack_learner(), utility_availability(), budget, max_iter = 1, support_size = size),
      "value", c("`support_size`", "sparse")
    )
  }
})

test_that("a cf_budget edited by hand is a classed error, not a base-R one", {
  r <- attack_data()
  budget <- attack_budget(alpha = 0.1, items_per_user = 5)
  no_alpha <- budget
  no_alpha$alpha <- NA
  expect_cfp_error(
    poison_pga(r, attack_learner(), utility_availability(), no_alpha, max_iter = 1),
    "value", c("`budget`", "damaged", "`alpha`")
  )
  negative <- budget
  negative$items_per_user <- -3
  expect_cfp_error(poison_uniform(r, negative), "value", c("`budget`", "`items_per_user`"))
  expect_cfp_error(poison_random(r, negative, targets = 3), "value", "`budget`")
})
