# Attacks computed through the bagged learner (learner_bagged()): every refit,
# utility and gradient of the attack is the bagged learner's.

bagged_attack_case <- function() {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  list(
    ratings = r,
    learner = learner,
    bagged = learner_bagged(learner, n_bags = 5, seed = 1),
    budget = attack_budget(alpha = 0.05, items_per_user = 10)
  )
}

test_that("the support search through the bagged learner climbs the utility evaluate_attack() measures", {
  case <- bagged_attack_case()
  attack <- poison_pga(case$ratings, case$bagged, utility_availability(), case$budget, max_iter = 10, seed = 1)
  expect_s3_class(attack$clean, "cf_fit_bagged")
  expect_identical(attack$learner, case$bagged)
  # The settled utility the search chose its result by is the bagged
  # learner's under evaluate_attack()'s protocol, from the same clean model
  # (evaluate_attack() refits its reference from it first, which moves it by
  # about 1e-5 relative: hence 5e-5).
  measured <- evaluate_attack(case$ratings, attack)
  expect_equal(measured$utility, max(attack$settings$outcome$converged_utility, na.rm = TRUE), tolerance = 5e-5)
  expect_gt(measured$rmse_shift, 20 * measured$rmse_shift_floor)
  # On the bagged learner it beats the same attack computed on the base
  # learner (the attacks' learner before), measured from the same clean model.
  plain <- poison_pga(case$ratings, case$learner, utility_availability(), case$budget, max_iter = 10, seed = 1)
  transferred <- evaluate_attack(case$ratings, plain, case$bagged, clean = attack$clean)
  expect_gt(measured$utility, 1.1 * transferred$utility)
})

test_that("Algorithm 1 runs through the bagged learner with either gradient", {
  case <- bagged_attack_case()
  for (method in c("kkt", "exact")) {
    attack <- poison_pga(case$ratings, case$bagged, utility_integrity(targets = case$ratings$item_ids[5]),
      case$budget, support = "random", method = method, max_iter = 6, seed = 1
    )
    expect_gt(attack$trace$utility[nrow(attack$trace)], attack$trace$utility[1])
    expect_identical(length(attack$fake$rating), 7L * 10L)
    measured <- evaluate_attack(case$ratings, attack)
    expect_gt(measured$target_rating_poisoned, measured$target_rating_clean)
  }
})

test_that("SGLD samples through the bagged learner", {
  case <- bagged_attack_case()
  run <- function(learner) {
    poison_sgld(case$ratings, learner, utility_availability(), case$budget, max_iter = 3, seed = 1)
  }
  bagged <- run(case$bagged)
  expect_s3_class(bagged$clean, "cf_fit_bagged")
  # The same draws on another learner: another utility from the first refit on.
  expect_false(isTRUE(all.equal(bagged$trace$utility, run(case$learner)$trace$utility)))
})

test_that("an attack through the bagged learner refuses a clean model of another learner", {
  case <- bagged_attack_case()
  clean <- fit_cf(case$ratings, case$learner, seed = 1)
  expect_cfp_error(
    poison_pga(case$ratings, case$bagged, utility_availability(), case$budget, clean = clean, max_iter = 2, seed = 1),
    "value", "bagged learner"
  )
  expect_cfp_error(
    poison_sgld(case$ratings, case$bagged, utility_availability(), case$budget, clean = clean, max_iter = 2, seed = 1),
    "value", "bagged learner"
  )
})

test_that("the search through a bagged biased learner climbs the utility evaluate_attack() measures", {
  case <- bagged_attack_case()
  bagged <- learner_bagged(learner_als(rank = 3, lambda_u = 1, biases = TRUE), n_bags = 5, seed = 1)
  attack <- poison_pga(case$ratings, bagged, utility_availability(), case$budget, max_iter = 6, seed = 1)
  expect_true(all(diff(attack$trace$utility) >= 0))
  measured <- evaluate_attack(case$ratings, attack)
  expect_equal(measured$utility, max(attack$settings$outcome$converged_utility, na.rm = TRUE), tolerance = 1e-5)
  # Uniform fake users already move a biased model's mean; the attack moves
  # it further, and further than the attack computed on the base learner.
  uniform <- poison_uniform(case$ratings, case$budget, seed = 1)
  expect_gt(measured$rmse_shift, 1.5 * evaluate_attack(case$ratings, uniform, bagged, clean = attack$clean)$rmse_shift)
  plain <- poison_pga(case$ratings, cfpoison:::base_learner(bagged), utility_availability(), case$budget, max_iter = 6, seed = 1)
  expect_gt(measured$utility, evaluate_attack(case$ratings, plain, bagged, clean = attack$clean)$utility)
})
