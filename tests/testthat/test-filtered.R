# learner_filtered(): detect-then-fit as a learner, and attacks through it.

filtered_setup <- function() {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  list(
    ratings = r, learner = learner, filtered = learner_filtered(learner, "rdma", n = 8),
    budget = attack_budget(alpha = 0.05, items_per_user = 10)
  )
}

test_that("a filtered fit is the base learner on the users the filter keeps, the dropped real users folded in", {
  s <- filtered_setup()
  attack <- poison_uniform(s$ratings, s$budget, seed = 1)
  fit <- fit_cf(s$ratings, s$filtered, attack = attack, seed = 1, progress = FALSE)
  scores <- detect_features(s$ratings, attack)$rdma
  kept <- defend_filter(s$ratings, attack, scores, 8)
  expect_identical(fit$dropped, kept$dropped)
  base <- fit_cf(kept$ratings, s$learner, attack = kept$fake, seed = 1, progress = FALSE)
  expect_identical(fit$v, base$v)
  expect_identical(fit$fake_u, base$fake_u)
  real_dropped <- match(kept$dropped$user[!kept$dropped$is_fake], s$ratings$user_ids)
  expect_gt(length(real_dropped), 0)
  expect_identical(fit$u[-real_dropped, ], base$u[-real_dropped, ])
  # Each folded-in user solves its ridge problem: V'(V u - r) + 2 lambda u = 0.
  for (i in real_dropped) {
    rated <- s$ratings$user == i
    v <- fit$v[s$ratings$item[rated], , drop = FALSE]
    u <- fit$u[i, ]
    expect_equal(drop(crossprod(v, v %*% u - s$ratings$rating[rated]) + 2 * s$learner$lambda_u * u), rep(0, 3),
      tolerance = 1e-10
    )
    expect_gt(sum(abs(u)), 0)
  }
  # The nuclear norm: the folded-in user's predictions solve the ridge
  # problem on the balanced factors.
  nuclear <- learner_filtered(learner_nuclear(lambda = 5, rank_max = 10), "rdma", n = 8)
  fit <- fit_cf(s$ratings, nuclear, attack = attack, seed = 1, progress = FALSE)
  i <- real_dropped[1]
  balanced <- sweep(fit$v, 2, sqrt(fit$d), `*`)
  rated <- s$ratings$user == i
  b <- balanced[s$ratings$item[rated], , drop = FALSE]
  a <- solve(crossprod(b) + 5 * diag(10), crossprod(b, s$ratings$rating[rated]))
  expect_equal(drop(predict(fit, user = s$ratings$user_ids[i])), drop(balanced %*% a), tolerance = 1e-8,
    ignore_attr = TRUE
  )
})

test_that("the attack through the filter keeps its fake users and beats the plain attack on the filter", {
  s <- filtered_setup()
  pga <- function(learner) {
    poison_pga(s$ratings, learner, utility_availability(), s$budget, max_iter = 6, seed = 1, progress = FALSE)
  }
  plain <- pga(s$learner)
  through <- pga(s$filtered)
  expect_identical(through$learner, s$filtered)
  expect_gt(through$settings$stealth_scale, 0)
  kept_fake <- function(a) sum(!fit_cf(s$ratings, s$filtered, attack = a, progress = FALSE)$dropped$is_fake)
  # The filter drops only real users when the fake ones stay below its cut-off.
  expect_equal(kept_fake(through), 8)
  expect_lt(kept_fake(plain), 8)
  shift <- function(a) evaluate_attack(s$ratings, a, s$filtered, progress = FALSE)$rmse_shift
  expect_gt(shift(through), 1.5 * shift(plain))
  # evaluate_defence() with the filtered learner as a defence and the adaptive attack.
  split <- split_ratings(s$ratings, seed = 1)
  table <- evaluate_defence(s$ratings, plain, split$test, list(filter = s$filtered),
    adaptive = list(filter = through), progress = FALSE
  )
  expect_equal(table$attacker, c("non_adaptive", "non_adaptive", "adaptive"))
  expect_equal(table$rmse_shift[3], shift(through), tolerance = 1e-4)
})

test_that("the noise floor of a filtered learner keeps the poisoned fit's decisions on the real users", {
  s <- filtered_setup()
  attack <- poison_uniform(s$ratings, s$budget, seed = 1)
  poisoned <- fit_cf(s$ratings, s$filtered, attack = attack, seed = 1, progress = FALSE)
  floor <- fit_cf(s$ratings, same_filter(s$filtered, poisoned), seed = 1, progress = FALSE)
  real <- function(fit) fit$dropped$user[!fit$dropped$is_fake]
  expect_setequal(real(floor), real(poisoned))
  expect_lt(length(real(poisoned)), 8) # the caught fake users spared real ones
  clean <- fit_cf(s$ratings, s$filtered, seed = 1, progress = FALSE)
  expect_length(real(clean), 8)
  # The floor holds the displaced real users' shift.
  measured <- evaluate_attack(s$ratings, attack, s$filtered, progress = FALSE)
  expect_gt(measured$rmse_shift_floor, 1e-3)
  expect_identical(measured$n_fake_users, length(attack$fake$user_ids) - sum(poisoned$dropped$is_fake))
})

test_that("learner_filtered() refuses what it cannot do", {
  s <- filtered_setup()
  expect_cfp_error(learner_filtered(learner_bagged(s$learner, n_bags = 2, seed = 1), n = 3), "value", "base learner")
  expect_cfp_error(learner_filtered(s$learner, "nonsense", n = 3), "value", "detector")
  expect_cfp_error(learner_filtered(s$learner, n = -1), "value", "n")
  expect_cfp_error(
    poison_pga(s$ratings, learner_filtered(s$learner, "degsim", n = 3), utility_availability(), s$budget),
    "value", "stealth"
  )
  expect_cfp_error(fit_cf(s$ratings, learner_filtered(s$learner, n = 1000), progress = FALSE), "value", "1000")
  # Only poison_pga() attacks through the filter; the others would attack the base learner.
  expect_cfp_error(poison_sgld(s$ratings, s$filtered, utility_availability(), s$budget), "learner", "poison_pga")
  expect_cfp_error(
    poison_structured(s$ratings, s$filtered, utility_availability(), s$budget, "rare_items"), "learner", "poison_pga"
  )
})
