# The default attack (support search), structured blocks, and Algorithm 1 as
# the paper states it.

search_case <- function() {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 7)
  learner <- learner_als(rank = 3, lambda_u = 1)
  set.seed(3)
  list(ratings = r, learner = learner, budget = attack_budget(alpha = 0.05, items_per_user = 10), clean = fit_cf(r, learner))
}

# One refit of `block` from the clean model, as the search runs them
# (accelerated, as evaluate_attack() refits): at most `sweeps` sweeps,
# stopping at the settled refit's tolerance (500 sweeps: the settled refit
# itself); .attack_evaluate()'s list, without the gradient.
refit_block <- function(case, block, utility, sweeps = 500L) {
  refit <- utils::modifyList(cfpoison:::refit_settings(sweeps, "exact", 1, 1L), list(tol = 1e-8))
  learner <- cfpoison:::accelerated(case$learner)
  cfpoison:::.attack_evaluate(cfpoison:::attack_problem(case$ratings, learner, case$clean, block, utility, refit), FALSE)
}

converged_utility <- function(attack, case, utility = attack$utility) {
  attack$utility <- utility
  evaluate_attack(case$ratings, attack, case$learner, clean = case$clean)$utility
}

test_that("one learner refitting blocks in turn (the screen of the starts) refits each as a fresh one does", {
  # The screen lays the joint index out anew per block, moving the real
  # users' entries in place; blocks of 6, 10 and 3 items per fake user (the
  # index grows, then shrinks) and the first again must each give, bitwise,
  # the refit of a learner built for that block alone.
  case <- search_case()
  utility <- utility_availability()
  blocks <- lapply(c(6, 10, 3, 6), function(items) {
    poison_uniform(case$ratings, attack_budget(alpha = 0.05, items_per_user = items), seed = items)$fake
  })
  refit <- utils::modifyList(cfpoison:::refit_settings(500L, "exact", 1, 1L), list(tol = 1e-8))
  learner <- cfpoison:::accelerated(case$learner)
  problem <- cfpoison:::attack_problem(case$ratings, learner, case$clean, blocks[[1]], utility, refit)
  screened <- cfpoison:::.attack_screen(problem, lapply(blocks, cfpoison:::core_ratings))
  alone <- lapply(blocks, function(block) refit_block(case, block, utility))
  expect_identical(vapply(screened, `[[`, numeric(1), "utility"), vapply(alone, `[[`, numeric(1), "utility"))
  expect_identical(vapply(screened, `[[`, logical(1), "converged"), vapply(alone, `[[`, logical(1), "converged"))
  expect_gt(length(unique(vapply(alone, `[[`, numeric(1), "utility"))), 2L)
})

test_that("searches that take turns on one copy of the ratings each follow the path they follow alone", {
  # The searches' learners share the joint data, and each evaluation lays
  # out its own block (PoisonedLearner); starts of 6 and 10 items per fake
  # user give supports, and index sizes, that differ at every turn. Three
  # steps each: the drop rule needs three gains, so no search is cut short.
  case <- search_case()
  blocks <- lapply(c(6, 10), function(items) {
    poison_uniform(case$ratings, attack_budget(alpha = 0.05, items_per_user = items), seed = items)$fake
  })
  refit <- utils::modifyList(cfpoison:::refit_settings(30L, "exact", 1, 1L), list(tol = 1e-8, cg_tol = 1e-2))
  settings <- list(
    max_iter = 3L, step = 2, max_swaps = 4L, max_columns = 4L, min_step = 0.25, tol = 1e-4, patience = 3L,
    max_rating = 2, kept_items = integer(0), warm_start = FALSE, settle_sweeps = 500L, settle_tol = 1e-8,
    settle_check = 200L, settle_gap = Inf, rival = -Inf
  )
  learner <- cfpoison:::accelerated(case$learner)
  search <- function(starts) {
    problem <- cfpoison:::attack_problem(case$ratings, learner, case$clean, starts[[1]], utility_availability(), refit)
    cfpoison:::.attack_search(problem, lapply(starts, cfpoison:::core_ratings), settings, NULL)
  }
  together <- search(blocks)
  for (k in seq_along(blocks)) {
    alone <- search(blocks[k])[[1]]
    expect_identical(together[[k]]$fake, alone$fake)
    expect_identical(together[[k]]$trace$utility, alone$trace$utility)
    expect_identical(together[[k]]$utility, alone$utility)
  }
  # Each search changed its support, so the turns did lay out new blocks.
  for (k in seq_along(blocks)) expect_gt(sum(together[[k]]$trace$swaps), 0)
})

test_that("Algorithm 1 (random support, KKT gradient) reproduces its earlier numbers", {
  case <- search_case()
  pga <- poison_pga(case$ratings, case$learner, utility_availability(), case$budget,
    support = "random", method = "kkt", max_iter = 10, clean = case$clean, seed = 1
  )
  # Recorded with cfpoison 0.1.0, before the support search existed; the
  # nuclear-norm numbers again once the clean fit's zero singular directions
  # restarted with a fixed seed instead of the caller's random stream.
  expect_equal(pga$trace$utility[c(1, 5, 11)], c(58.64102055509273, 303.20296982977874, 403.13856028430513),
    tolerance = 1e-12
  )
  expect_equal(sum(pga$fake$rating * seq_along(pga$fake$rating)), 167.20485963520869, tolerance = 1e-12)
  nuclear <- learner_nuclear(lambda = 5, rank_max = 10)
  set.seed(3)
  nuclear_clean <- fit_cf(case$ratings, nuclear)
  integrity <- poison_pga(case$ratings, nuclear, utility_integrity(targets = case$ratings$item_ids[4]), case$budget,
    support = "random", method = "kkt", max_iter = 5, clean = nuclear_clean, seed = 2
  )
  expect_equal(integrity$trace$utility[c(1, 6)], c(-6.5036437396037421, -3.7820340192854172), tolerance = 1e-12)
  expect_equal(sum(integrity$fake$rating * seq_along(integrity$fake$rating)), 279.11322548790019, tolerance = 1e-12)
})

test_that("the default attack beats its starts, every structured block and the paper's PGA", {
  case <- search_case()
  availability <- utility_availability()
  default <- poison_pga(case$ratings, case$learner, availability, case$budget, clean = case$clean, seed = 1)
  expect_identical(default$settings$support, "search")
  expect_gte(default$trace$utility[nrow(default$trace)], max(default$settings$starts$utility))
  expect_true(all(diff(default$trace$utility) >= 0))
  strongest <- converged_utility(default, case)
  paper <- poison_pga(case$ratings, case$learner, availability, case$budget,
    support = "random", method = "kkt", clean = case$clean, seed = 1
  )
  expect_gt(strongest, converged_utility(paper, case))
  for (design in c("rare_items", "popular_items")) {
    block <- poison_structured(case$ratings, case$learner, availability, case$budget, design, clean = case$clean, seed = 1)
    expect_gt(strongest, converged_utility(block, case))
  }
  uniform <- poison_uniform(case$ratings, case$budget, seed = 1)
  expect_gt(strongest, 2 * converged_utility(uniform, case, availability))
})

test_that("the support search keeps the budget and the targets", {
  case <- search_case()
  target <- case$ratings$item_ids[c(5, 9)]
  for (w in c(2, -2)) {
    attack <- poison_pga(case$ratings, case$learner, utility_integrity(targets = target, weights = w), case$budget,
      max_iter = 8, clean = case$clean, seed = 1
    )
    fake <- attack$fake
    per_user <- tabulate(fake$user, length(fake$user_ids))
    expect_true(all(per_user == case$budget$items_per_user))
    expect_false(anyDuplicated(paste(fake$user, fake$item)) > 0)
    expect_true(all(abs(fake$rating) <= case$budget$max_rating))
    for (j in match(target, fake$item_ids)) expect_identical(sum(fake$item == j), length(fake$user_ids))
    expect_true(any(attack$trace$swaps > 0))
    # Only an accepted proposal is differentiated: a rejected step solved no adjoint.
    expect_identical(is.na(attack$trace$hessian), !attack$trace$accepted)
    expect_identical(is.na(attack$trace$cg_iterations), !attack$trace$accepted)
    expect_true(all(attack$trace$hessian[attack$trace$accepted] %in% c("exact", "gauss_newton")))
  }
})

test_that("a nuke moves the target down, a push up, and the search beats the anchored block", {
  case <- search_case()
  target <- case$ratings$item_ids[5]
  for (w in c(2, -2)) {
    utility <- utility_integrity(targets = target, weights = w)
    default <- poison_pga(case$ratings, case$learner, utility, case$budget, clean = case$clean, seed = 1)
    anchored <- poison_structured(case$ratings, case$learner, utility, case$budget, "anchored", clean = case$clean, seed = 1)
    on_default <- evaluate_attack(case$ratings, default, case$learner, clean = case$clean)
    on_anchored <- evaluate_attack(case$ratings, anchored, case$learner, clean = case$clean)
    shift <- sign(w) * (on_default$target_rating_poisoned - on_default$target_rating_clean)
    expect_gt(shift, 0.05)
    expect_gt(shift, sign(w) * (on_anchored$target_rating_poisoned - on_anchored$target_rating_clean))
  }
})

test_that("no attack stops on an indefinite Hessian, on either learner", {
  r <- simulate_ratings(80, 40, rank = 3, density = 0.3, seed = 11)
  budget <- attack_budget(alpha = 0.1, items_per_user = 8)
  learners <- list(learner_als(rank = 4, lambda_u = 0.05), learner_nuclear(lambda = 3, rank_max = 20))
  for (learner in learners) {
    for (support in c("search", "random")) {
      # One sweep per refit: every gradient is taken far from a minimum.
      attack <- poison_pga(r, learner, utility_availability(), budget, support = support, method = "exact",
        refit_sweeps = 1, max_iter = 6, seed = 1
      )
      expect_true(all(is.finite(attack$trace$utility)))
      solved <- attack$trace$accepted | support == "random"
      expect_true(all(attack$trace$hessian[solved] %in% c("exact", "gauss_newton")))
    }
  }
})

test_that("the search needs the exact gradient", {
  case <- search_case()
  expect_cfp_error(
    poison_pga(case$ratings, case$learner, utility_availability(), case$budget, method = "kkt", seed = 1),
    "value", c("exact", "random")
  )
  expect_cfp_error(
    poison_pga(case$ratings, case$learner, utility_availability(), case$budget, support = "dense"),
    "value", c("support", "search")
  )
})

test_that("structured blocks follow their designs", {
  case <- search_case()
  rare <- poison_structured(case$ratings, case$learner, utility_availability(), case$budget, "rare_items",
    group_size = 2, clean = case$clean, seed = 1
  )
  fake <- rare$fake
  items_of <- split(fake$item, fake$user)
  # A group shares B - 1 of the least-rated items; each member adds one anchor.
  shared <- intersect(items_of[[1]], items_of[[2]])
  expect_length(shared, case$budget$items_per_user - 1L)
  expect_length(intersect(shared, items_of[[3]]), 0L)
  popularity <- tabulate(case$ratings$item, length(case$ratings$item_ids))
  expect_lte(max(popularity[shared]), sort(popularity)[case$budget$items_per_user])
  expect_gte(popularity[setdiff(items_of[[1]], shared)], 5)
  expect_true(all(abs(fake$rating) == case$budget$max_rating))
  nuke <- poison_structured(case$ratings, case$learner, utility_integrity(targets = case$ratings$item_ids[5], weights = -2),
    case$budget, "anchored", clean = case$clean, seed = 1
  )$fake
  on_target <- nuke$item == 5
  expect_identical(sum(on_target), length(nuke$user_ids))
  expect_true(all(nuke$rating[on_target] == -case$budget$max_rating))
  expect_cfp_error(
    poison_structured(case$ratings, case$learner, utility_availability(), case$budget, "anchored"),
    "value", "target"
  )
})

test_that("a group of fake users keeps Lambda sqrt(gS) - tau of its rank-one block, as the group sizes assume", {
  # g fake users rate S items that no real user rates, all at Lambda: a
  # rank-one block of singular value Lambda sqrt(g S), apart from the real
  # users. The fit keeps sigma - tau of it (the singular value of its
  # predictions), tau = 2 sqrt(lambda_u lambda_v) for Eq. 4 and lambda for
  # Eq. 5, and nothing when sigma <= tau.
  real <- simulate_ratings(40, 20, rank = 2, density = 0.5, noise_sd = 0.1, scale = NULL, seed = 2)
  shared_ids <- paste0("new", 1:6)
  ratings <- as_ratings(as.data.frame(real), items = c(real$item_ids, shared_ids))
  kept <- function(learner, g) {
    block <- data.frame(user = rep(seq_len(g), each = 6), item = shared_ids, rating = 2)
    fake <- as_ratings(block, items = ratings$item_ids)
    set.seed(1)
    fit <- fit_cf(ratings, learner, attack = fake)
    fake_u <- if (is.null(fit$d)) fit$fake_u else sweep(fit$fake_u, 2, fit$d, `*`)
    sum(svd(fake_u %*% t(fit$v[match(shared_ids, ratings$item_ids), , drop = FALSE]))$d)
  }
  als <- learner_als(rank = 3, lambda_u = 1, lambda_v = 4, max_iter = 5000, tol = 1e-15)
  for (g in c(1, 2, 4)) expect_equal(kept(als, g), 2 * sqrt(g * 6) - 2 * sqrt(1 * 4), tolerance = 1e-4)
  nuclear <- learner_nuclear(lambda = 6, rank_max = 5, max_iter = 5000, tol = 1e-15)
  for (g in c(2, 4)) expect_equal(kept(nuclear, g), 2 * sqrt(g * 6) - 6, tolerance = 1e-4)
  expect_lt(kept(nuclear, 1), 1e-6) # 2 sqrt(6) = 4.9 <= lambda = 6: a lone fake user is invisible
  # The starts' group sizes follow from tau: g = (2 tau / Lambda)^2 / S.
  expect_equal(cfpoison:::best_group_size(als, 24, 2), (2 * 4 / 2)^2 / 24)
  expect_equal(cfpoison:::best_group_size(nuclear, 24, 2), (2 * 6 / 2)^2 / 24)
})

test_that("on the nuclear norm the search refits from its last fit, reproducibly, and its utility is the one measured", {
  # Eq. 5 is convex: a refit from the last accepted fit reaches the optimum a
  # refit from the clean model reaches (on MovieLens 4x sooner, at 3%).
  case <- search_case()
  nuclear <- learner_nuclear(lambda = 5, rank_max = 10)
  set.seed(3)
  clean <- fit_cf(case$ratings, learner_nuclear(lambda = 5, rank_max = 10, max_iter = 5000, tol = 1e-14))
  attack <- poison_pga(case$ratings, nuclear, utility_availability(), case$budget, clean = clean, seed = 1)
  expect_true(attack$settings$warm_start)
  tight <- evaluate_attack(case$ratings, attack, clean = clean, refit_sweeps = 5000, refit_tol = 1e-14)$utility
  expect_equal(attack$trace$utility[nrow(attack$trace)], tight, tolerance = 0.02)
  # The clean fit's zero singular directions restart at random: with the same
  # seed the attack is the same whatever the caller's random stream.
  stats::runif(1)
  again <- poison_pga(case$ratings, nuclear, utility_availability(), case$budget, clean = clean, seed = 1)
  expect_identical(again$fake, attack$fake)
  als <- poison_pga(case$ratings, case$learner, utility_availability(), case$budget, max_iter = 2,
    clean = case$clean, seed = 1
  )
  expect_false(als$settings$warm_start)
})

test_that("on ALS the search climbs the settled utility, the one evaluate_attack() measures", {
  case <- search_case()
  target <- case$ratings$item_ids[5]
  for (utility in list(utility_availability(), utility_integrity(targets = target, weights = -2))) {
    settled <- poison_pga(case$ratings, case$learner, utility, case$budget, clean = case$clean, seed = 1)
    outcome <- settled$settings$outcome
    searched <- outcome$converged_utility[outcome$result == paste("search from", settled$settings$start)]
    # The trace's last utility is its search's result, settled from the clean model.
    expect_equal(settled$trace$utility[nrow(settled$trace)], searched, tolerance = 1e-8)
    quick <- poison_pga(case$ratings, case$learner, utility, case$budget, settle = FALSE, clean = case$clean, seed = 1)
    expect_identical(quick$settings$settle_sweeps, 0L)
    # Either way the result is chosen by the settled utility: no start's is larger.
    for (attack in list(settled, quick)) {
      result <- attack$settings$outcome$converged_utility
      expect_identical(max(result, na.rm = TRUE), refit_block(case, attack$fake, utility)$utility)
      expect_gte(max(result, na.rm = TRUE), max(attack$settings$starts$converged_utility, na.rm = TRUE))
    }
  }
  expect_cfp_error(
    poison_pga(case$ratings, case$learner, utility_availability(), case$budget, settle = NA),
    "type", "settle"
  )
})

test_that("a settled refit still far behind at its check is cut, and its step rejected", {
  case <- search_case()
  utility <- utility_availability()
  attack <- poison_pga(case$ratings, case$learner, utility, case$budget, max_iter = 6, clean = case$clean, seed = 1)
  expect_identical(attack$settings$settle_check, 200L)
  expect_equal(attack$settings$settle_gap, 0.15 * max(abs(attack$settings$starts$utility)))
  n_fake <- length(attack$fake$user_ids)
  start <- cfpoison:::structured_starts(case$ratings, case$learner, utility, case$budget, case$clean, n_fake, 1)[[1]]
  refit <- utils::modifyList(cfpoison:::refit_settings(30L, "exact", 1, 1L), list(tol = 1e-8, cg_tol = 1e-2))
  search <- function(...) {
    problem <- cfpoison:::attack_problem(case$ratings, case$learner, case$clean, start, utility, refit)
    settings <- utils::modifyList(attack$settings, list(rival = -Inf, ...))
    cfpoison:::.attack_search(problem, list(cfpoison:::core_ratings(start)), settings, NULL)[[1]]
  }
  plain <- search(settle_check = 0L)
  # A check no refit fails changes nothing, bit for bit.
  never <- search(settle_check = 1L, settle_gap = Inf)
  expect_identical(never$fake, plain$fake)
  expect_identical(never$trace$utility, plain$trace$utility)
  # A check every refit fails: the screen still proposes, nothing is accepted.
  expect_true(any(plain$trace$accepted[-1]))
  always <- search(settle_check = 1L, settle_gap = -Inf)
  expect_false(any(always$trace$accepted[-1]))
  expect_identical(always$fake, cfpoison:::core_ratings(start)[c("user", "item", "rating")], ignore_attr = TRUE)
})

test_that("the SGLD start is poison_sgld()'s block at beta = 6, drawn on ALS but not for a nuke or the nuclear norm", {
  case <- search_case()
  target <- case$ratings$item_ids[5]
  # A push: the start is the whole block, searched with the others.
  push <- utility_integrity(targets = target, weights = 2)
  attack <- poison_pga(case$ratings, case$learner, push, case$budget, targets_in_support = FALSE,
    clean = case$clean, seed = 2
  )
  outcome <- attack$settings$outcome
  expect_true("search from sgld" %in% outcome$result)
  start <- outcome$converged_utility[outcome$result == "start sgld"]
  expect_gte(max(outcome$converged_utility), start)
  # The search settled poison_sgld()'s block itself: its measure is that
  # attack's converged utility. (With the targets kept in every fake user's
  # support, as by default, Algorithm 2's projection may drop them.)
  sgld <- poison_sgld(case$ratings, case$learner, push, case$budget, beta = 6, clean = case$clean, seed = 2)
  expect_equal(start, converged_utility(sgld, case), tolerance = 1e-4)
  expect_identical(start, refit_block(case, sgld$fake, push)$utility)
  # The identity above holds because the start runs poison_sgld()'s default
  # support, the dense one (every fake user rates every item).
  expect_identical(sgld$settings$support, "dense")
  nuke <- poison_pga(case$ratings, case$learner, utility_integrity(targets = target, weights = -2), case$budget,
    clean = case$clean, seed = 2
  )
  expect_false("sgld" %in% nuke$settings$starts$start)
  nuclear <- learner_nuclear(lambda = 5, rank_max = 10)
  set.seed(3)
  nuclear_clean <- fit_cf(case$ratings, nuclear)
  convex <- poison_pga(case$ratings, nuclear, utility_availability(), case$budget, max_iter = 2,
    clean = nuclear_clean, seed = 2
  )
  expect_false("sgld" %in% convex$settings$starts$start)
  expect_true("random" %in% convex$settings$starts$start)
})

test_that("for availability the SGLD start is split: its block on a few fake users, searched alone, then rare-item groups", {
  case <- search_case()
  utility <- utility_availability()
  attack <- poison_pga(case$ratings, case$learner, utility, case$budget, clean = case$clean, seed = 2)
  n_fake <- length(attack$fake$user_ids)
  n_sgld <- cfpoison:::soft_users(case$ratings)
  expect_identical(n_sgld, 2L) # 1.5% of 150 users
  expect_lt(n_sgld, n_fake)
  outcome <- attack$settings$outcome
  starts <- attack$settings$starts
  # Searched already, it is not searched again; it is settled, and the
  # searches had to reach that utility (the rival) or be dropped.
  expect_false("search from sgld" %in% outcome$result)
  start <- outcome$converged_utility[outcome$result == "start sgld"]
  expect_identical(attack$settings$rival, start)
  expect_gte(max(outcome$converged_utility), start)
  # print() names the returned block, which need not be the trace's search's.
  best <- outcome$result[which.max(outcome$converged_utility)]
  expect_output(print(attack), paste0("returned the ", best, ": converged utility"), fixed = TRUE)
  # Rebuilt from its parts: poison_sgld()'s block on n_sgld fake users,
  # searched alone under the attack's settings (the gap of the other
  # starts' scale), then the best rare_items start's groups for the others.
  small <- attack_budget(alpha = n_sgld / length(case$ratings$user_ids), items_per_user = 10)
  sgld <- poison_sgld(case$ratings, case$learner, utility, small, beta = 6, clean = case$clean, seed = 2)$fake
  expect_length(sgld$user_ids, n_sgld)
  refit <- utils::modifyList(cfpoison:::refit_settings(30L, "exact", 1, 1L), list(tol = 1e-8, cg_tol = 1e-2))
  learner <- cfpoison:::accelerated(case$learner)
  problem <- cfpoison:::attack_problem(case$ratings, learner, case$clean, sgld, utility, refit)
  others <- starts$start != "sgld"
  settings <- utils::modifyList(attack$settings, list(rival = -Inf, settle_gap = 0.15 * max(abs(starts$utility[others]))))
  searched <- cfpoison:::.attack_search(problem, list(cfpoison:::core_ratings(sgld)), settings, NULL)[[1]]
  expect_gte(searched$utility, searched$start_utility)
  rare <- starts$start[startsWith(starts$start, "rare_items_")]
  design <- cfpoison:::rare_start_design(rare[which.max(starts$utility[match(rare, starts$start)])])
  groups <- cfpoison:::with_seed(2, cfpoison:::structured_block("rare_items", case$ratings, utility, case$budget,
    case$clean, n_fake - n_sgld, design$group_size, anchors = design$anchors
  ))
  block <- cfpoison:::fake_block(
    list(user = c(searched$fake$user + 1L, groups$user + n_sgld), item = c(searched$fake$item + 1L, groups$item)),
    c(searched$fake$rating, groups$rating), case$ratings
  )
  expect_identical(refit_block(case, block, utility)$utility, start)
  # A search that cannot reach the rival is dropped after its first three steps.
  behind <- cfpoison:::.attack_search(problem, list(cfpoison:::core_ratings(sgld)),
    utils::modifyList(settings, list(rival = Inf)), NULL
  )[[1]]
  expect_true(behind$dropped)
  expect_identical(nrow(behind$trace), 4L)
  # With no more fake users than that, the start is the whole block, searched with the others.
  few <- poison_pga(case$ratings, case$learner, utility, small, max_iter = 2, clean = case$clean, seed = 2)
  expect_true("search from sgld" %in% few$settings$outcome$result)
  expect_identical(few$settings$rival, -Inf)
})

test_that("a start whose loop refit converged is measured by it, not refitted", {
  case <- search_case()
  utility <- utility_availability()
  attack <- poison_pga(case$ratings, case$learner, utility, case$budget, clean = case$clean, seed = 1)
  starts <- attack$settings$starts
  n_fake <- length(attack$fake$user_ids)
  blocks <- cfpoison:::structured_starts(case$ratings, case$learner, utility, case$budget, case$clean, n_fake, 1)
  # The loop's refit (30 sweeps from the clean model) and the settled one
  # (500) stop at the same tolerance.
  converged <- vapply(blocks, function(block) refit_block(case, block, utility, 30L)$converged, logical(1))
  rows <- match(names(blocks), starts$start)
  best <- max(attack$settings$outcome$converged_utility, na.rm = TRUE)
  hopeless <- starts$utility[rows] < best - 0.15 * pmax(abs(best), abs(starts$utility[rows]))
  # Here a start far behind the best converged in the loop: it is measured
  # all the same (were its loop refit not converged, it would not be).
  expect_true(any(converged & hopeless))
  expect_false(anyNA(starts$converged_utility[rows][converged]))
  # Its measure is the settled refit's utility, bit for bit.
  for (b in which(converged)) {
    expect_identical(starts$converged_utility[rows[b]], refit_block(case, blocks[[b]], utility)$utility)
  }
})

test_that("the searches take turns: each keeps its own path, one left behind is dropped, and what they measured is reused", {
  case <- search_case()
  settled_utility <- function(block, utility) refit_block(case, block, utility)$utility
  target <- case$ratings$item_ids[5]
  utilities <- list(
    availability = utility_availability(), push = utility_integrity(targets = target, weights = 2),
    nuke = utility_integrity(targets = target, weights = -2)
  )
  for (goal in names(utilities)) {
    utility <- utilities[[goal]]
    attack <- poison_pga(case$ratings, case$learner, utility, case$budget, clean = case$clean, seed = 1)
    outcome <- attack$settings$outcome
    searches <- startsWith(outcome$result, "search from")
    # The result's utility is the settled refit's, bitwise, whether measured
    # by the search or afterwards; so is the start's (the trace's first row).
    expect_identical(max(outcome$converged_utility, na.rm = TRUE), settled_utility(attack$fake, utility))
    # A start is left unsettled only when its loop utility is more than 15%
    # below the best converged one, and then it would not have won.
    starts <- attack$settings$starts
    skipped <- is.na(starts$converged_utility)
    best <- max(outcome$converged_utility, na.rm = TRUE)
    expect_true(all(starts$utility[skipped] < best - 0.15 * pmax(abs(best), abs(starts$utility[skipped]))))
    expect_false(anyNA(outcome$converged_utility[searches]))
    if (any(skipped)) {
      n_fake <- length(attack$fake$user_ids)
      blocks <- cfpoison:::structured_starts(case$ratings, case$learner, utility, case$budget, case$clean, n_fake, 1)
      blocks$random <- cfpoison:::with_seed(1, {
        support <- cfpoison:::draw_support(n_fake, length(case$ratings$item_ids), case$budget$items_per_user,
          if (goal == "availability") integer(0) else 5L
        )
        cfpoison:::fake_block(support, stats::runif(length(support$item), -2, 2), case$ratings)
      })
      if (goal != "nuke") {
        blocks$sgld <- poison_sgld(case$ratings, case$learner, utility, case$budget, beta = 6, clean = case$clean,
          seed = 1
        )$fake
      }
      for (name in starts$start[skipped]) expect_lt(settled_utility(blocks[[name]], utility), best)
    }
    expect_identical(
      attack$trace$utility[1],
      outcome$converged_utility[outcome$result == paste("start", attack$settings$start)]
    )
    expect_true(is.logical(outcome$dropped) && !anyNA(outcome$dropped[searches]) && all(is.na(outcome$dropped[!searches])))
    structured <- !starts$start %in% c("random", "sgld")
    if (goal == "nuke") {
      # A nuke searches from its best structured start alone; the random
      # start stays a candidate.
      expect_identical(outcome$result[searches], paste("search from", attack$settings$start))
      expect_false(attack$settings$start == "random")
      expect_true("start random" %in% outcome$result)
    } else {
      # The best structured start, the random and the SGLD ones are searched
      # (for availability the split SGLD start was searched before); here a
      # losing search falls behind and is dropped; the winner never is.
      best_structured <- starts$start[structured][which.max(starts$utility[structured])]
      searched <- c(best_structured, "random", if (goal != "availability") "sgld")
      expect_identical(outcome$result[searches], paste("search from", unique(searched)))
      expect_true(any(outcome$dropped[searches]))
      expect_false(outcome$dropped[which.max(outcome$converged_utility)])
    }
  }

  # Only a pure nuke skips the random start, and only with another start to search.
  starts <- list(anchored = NULL, random = NULL)
  nukes_alone <- cfpoison:::nukes_alone
  expect_true(nukes_alone(utility_integrity(targets = target, weights = -2), starts))
  expect_true(nukes_alone(utility_hybrid(c(0, -1), targets = target, weights = 2), starts))
  expect_false(nukes_alone(utility_integrity(targets = target, weights = -2), starts["random"]))
  expect_false(nukes_alone(utility_hybrid(c(1, 1), targets = target, weights = -2), starts))
  expect_false(nukes_alone(utility_integrity(targets = case$ratings$item_ids[5:6], weights = c(-2, 2)), starts))
  expect_false(nukes_alone(utility_availability(), starts))

  # Taking turns leaves a search's path as it is alone: its learner, warm
  # adjoint and moves are its own.
  utility <- utility_availability()
  starts <- list(
    rare = poison_structured(case$ratings, case$learner, utility, case$budget, "rare_items", clean = case$clean, seed = 1)$fake,
    other = poison_structured(case$ratings, case$learner, utility, case$budget, "popular_items", clean = case$clean, seed = 1)$fake
  )
  refit <- utils::modifyList(cfpoison:::refit_settings(30L, "exact", 1, 1L), list(tol = 1e-8, cg_tol = 1e-2))
  problem <- cfpoison:::attack_problem(case$ratings, case$learner, case$clean, starts$rare, utility, refit)
  settings <- list(
    max_iter = 8L, step = 2, min_step = 0.25, tol = 1e-4, patience = 3L, max_rating = 2, max_swaps = 4L,
    max_columns = 4L, kept_items = integer(0), warm_start = FALSE, settle_sweeps = 500L, settle_tol = 1e-8,
    settle_check = 200L, settle_gap = 10, rival = -Inf
  )
  core <- lapply(starts, cfpoison:::core_ratings)
  alone <- cfpoison:::.attack_search(problem, core["rare"], settings, NULL)[[1]]
  both <- cfpoison:::.attack_search(problem, core, settings, NULL)
  kept <- both[[1]]
  if (kept$dropped) kept <- both[[2]] # compare the one that ran to its end
  run_alone <- if (identical(kept, both[[1]])) alone else cfpoison:::.attack_search(problem, core["other"], settings, NULL)[[1]]
  expect_identical(kept$trace$utility, run_alone$trace$utility)
  expect_identical(kept$fake, run_alone$fake)
  for (run in both) expect_identical(run$utility, run$trace$utility[nrow(run$trace)])
})

test_that("the default attack, SGLD and the measurement are the same for any thread count", {
  # The learners' and the gradient's own tests check their parts alone; this
  # checks whole attacks. The threads share out users and items in chunks of
  # up to 256: on 400 users and 300 items both threads get work. The ALS
  # availability attack runs the split SGLD start, the others their
  # structured starts.
  r <- simulate_ratings(400, 300, rank = 3, density = 0.05, seed = 1)
  budget <- attack_budget(alpha = 0.02, items_per_user = 10)
  nuke <- utility_integrity(targets = r$item_ids[5], weights = -2)
  for (learner in list(learner_als(rank = 3, lambda_u = 1), learner_nuclear(lambda = 5, rank_max = 10))) {
    for (utility in list(utility_availability(), nuke)) {
      one <- poison_pga(r, learner, utility, budget, seed = 3, threads = 1)
      two <- poison_pga(r, learner, utility, budget, seed = 3, threads = 2)
      expect_identical(two$fake, one$fake)
      expect_identical(two$settings$outcome, one$settings$outcome)
    }
  }
  als <- learner_als(rank = 3, lambda_u = 1)
  one <- poison_sgld(r, als, nuke, budget, max_iter = 10, seed = 3, threads = 1)
  expect_identical(poison_sgld(r, als, nuke, budget, max_iter = 10, seed = 3, threads = 2)$fake, one$fake)
  timeless <- function(threads) {
    evaluation <- evaluate_attack(r, one, threads = threads)
    evaluation[setdiff(names(evaluation), c("attack_seconds", "evaluation_seconds"))]
  }
  expect_identical(timeless(2), timeless(1))
})

test_that("restarts run the search under their own seeds and return the run of largest converged utility", {
  case <- search_case()
  utility <- utility_availability()
  attack <- function(..., progress = FALSE) {
    poison_pga(case$ratings, case$learner, utility, case$budget, max_iter = 4, clean = case$clean,
      progress = progress, ...
    )
  }
  restarted <- attack(restarts = 3, seed = 11)
  runs <- restarted$settings$restarts
  expect_identical(names(runs), c("restart", "seed", "converged_utility", "seconds", "returned"))
  expect_identical(runs$restart, 1:3)
  # The first run is the attack without restarts under the same seed; the
  # others, under seeds drawn from it, are that attack under their seed.
  expect_identical(runs$seed[1], 11L)
  expect_identical(length(unique(runs$seed)), 3L)
  alone <- lapply(runs$seed, function(seed) attack(seed = seed))
  expect_identical(runs$converged_utility, vapply(alone, function(a) max(a$settings$outcome$converged_utility), 1))
  expect_gt(length(unique(runs$converged_utility)), 1L)
  # The best run is returned, whole, with the converged utility its settled
  # refit measures: at least as strong as the attack without restarts.
  best <- which.max(runs$converged_utility)
  expect_identical(runs$returned, seq_len(3) == best)
  expect_identical(restarted$fake, alone[[best]]$fake)
  expect_identical(restarted$settings$outcome, alone[[best]]$settings$outcome)
  expect_identical(refit_block(case, restarted$fake, utility)$utility, max(runs$converged_utility))
  expect_gte(converged_utility(restarted, case), converged_utility(alone[[1]], case))
  expect_identical(attack(seed = 11)$settings$restarts$seed, 11L)
  expect_output(print(restarted), sprintf("of restart %d, the best of 3", best))
  # Without a seed the runs' seeds come from the RNG state: set, it repeats.
  set.seed(5)
  first <- attack(restarts = 2)
  set.seed(5)
  expect_identical(attack(restarts = 2)$fake, first$fake)
  expect_false(anyNA(first$settings$restarts$seed))
  # Shown progress announces each run, and ends it.
  shown <- testthat::capture_messages(attack(restarts = 2, seed = 11, progress = TRUE))
  expect_match(shown, "Run 1 of 2 of the search", all = FALSE)
  expect_identical(sum(grepl("Run 2 of 2 of the search", shown)), 2L)
  # Restarts are the search's; a seed is checked as without them.
  expect_error(attack(seed = -1), "seed", class = "cfpoison_error_value")
  expect_error(attack(seed = -1, restarts = 2), "seed", class = "cfpoison_error_value")
  expect_error(attack(restarts = 0), "restarts", class = "cfpoison_error_value")
  expect_error(attack(restarts = 1.5), "restarts", class = "cfpoison_error_type")
  expect_error(attack(support = "random", method = "kkt", restarts = 2), "not used here", class = "cfpoison_error_value")
})
