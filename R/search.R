# The support search of poison_pga() (support = "search"): its starts, the
# searches that take turns from them in one C++ loop (run_searches() in
# inst/include/cfpoison/search.hpp), the choice of the result by its
# converged utility, and the best of several runs (restarts).
# poison_pga()'s documentation describes the search as a user sees it.

# The search from the starts of `job` (attack_job()) and the `random`
# block (Algorithm 1's start), under the loop's `settings` and
# poison_pga()'s `max_swaps`, `max_columns` and `settle`. Returns the result `fake`, the trace `res` of
# the search it came from (the first search's for a start), that search's
# `start`, the `penalty` (stealth_penalty()), the loop's `settings`, the
# `starts` (their loop and converged utilities) and the `outcome` of every
# search and start.
search_support <- function(job, random, settings, max_swaps, max_columns, settle) {
  starts <- structured_starts(job$ratings, job$learner, job$utility, job$budget, job$clean, job$n_fake, job$seed)
  settled <- utils::modifyList(job$refit, list(
    sweeps = as.integer(formals(evaluate_attack)$refit_sweeps), tol = formals(evaluate_attack)$refit_tol
  ))
  # The nuclear norm is convex: a refit from the last accepted fit reaches
  # the optimum a refit from the clean model reaches, sooner. ALS has
  # several optima: its search accepts by the settled utility (evaluate_attack()'s
  # stopping rule from the clean model), screened by short refits.
  warm_start <- inherits(job$learner, "cf_learner_nuclear")
  settings <- c(settings, list(
    max_swaps = max_swaps, max_columns = max_columns, kept_items = job$targets - 1L, warm_start = warm_start,
    settle_sweeps = if (settle && !warm_start) settled$sweeps else 0L, settle_tol = settled$tol
  ))
  starts <- c(starts, list(random = random))
  # The SGLD start (sgld_start()), but not on the nuclear norm (on
  # MovieLens at alpha = 3% its search ended 12% below the best group
  # start's, and the start took 29 s of a 45 s attack), for a nuke (its
  # block pushes, as the random one does), or where its dense support
  # would exceed 10^6 fake ratings (at the MovieLens-20M shape, alpha =
  # 0.5%, with its dynamics on a sparse support the attack took 33
  # minutes beside other jobs, 19 of them before the searches began
  # against 5.4 without it, and the search from its block fell behind at
  # less than half the winner's utility).
  others <- if (!nukes_alone(job$utility, starts)) "random"
  # For availability alone (no stealth, no filter) the SGLD block takes at
  # most the fake users of alpha = 1.5%, and rare-item groups the rest
  # (split_sgld_start()).
  availability_alone <- job$utility$mu[2] == 0 && job$stealth == 0 && is.null(job$filter)
  n_sgld <- if (availability_alone) min(job$n_fake, soft_users(job$ratings)) else job$n_fake
  if (!warm_start && !is.null(others) && as.double(n_sgld) * length(job$ratings$item_ids) <= 1e6) {
    starts$sgld <- sgld_start(job, n_sgld)
    others <- c(others, "sgld")
  }
  # The loop's refits rank the structured starts for the search, which
  # climbs their utility: the best one is searched, and so are the random
  # and the SGLD starts (structured blocks win on real data, but a search
  # from them can end in a local optimum that one from another start
  # passes: from the random one on simulated low-rank data, from the SGLD
  # one for a push and availability on MovieLens), except for a nuke (see
  # nukes_alone()). The best structured start is searched even when the
  # SGLD one leads in the loop: through a filter the SGLD block's search
  # stalled where the best structured block's went on.
  # A split SGLD start (split_sgld_start()) is built once the others are
  # screened: its search needs their scale (settle_gap below).
  rare <- grep("^rare_items_", names(starts), value = TRUE)
  split <- !is.null(starts$sgld) && length(starts$sgld$user_ids) < job$n_fake && length(rare) > 0L
  screen <- job_screen(job)
  penalty <- stealth_penalty(job$stealth, job$ratings, if (split) starts[names(starts) != "sgld"] else starts,
    screen, job$filter
  )
  in_loop <- penalty$utility
  # A proposal's settled refit that after 2/5 of its sweeps still lies more
  # than 15% of the utility's scale (the largest |utility| among the
  # starts) below the current utility is cut there and the proposal
  # rejected (see SupportSearch in inst/include/cfpoison/search.hpp).
  settings$settle_check <- (settings$settle_sweeps * 2L) %/% 5L
  settings$settle_gap <- hopeless_gap * max(abs(in_loop))
  settings$rival <- -Inf
  # One refit of `block` and its utility (less the stealth penalty).
  utility_at <- function(block, refit) {
    call_core(.attack_evaluate(job_problem(job, block, refit, penalty$spec), FALSE))$utility
  }
  if (split) {
    starts$sgld <- split_sgld_start(job, starts$sgld, rare[which.max(in_loop[rare])], settings)
    # Both vectors are kept in the starts' order, which the code below indexes by.
    at <- screen(starts["sgld"], NULL)$sgld
    in_loop <- c(in_loop, sgld = at$utility)[names(starts)]
    penalty$converged <- c(penalty$converged, sgld = at$converged)[names(starts)]
    settings$settle_gap <- hopeless_gap * max(abs(in_loop))
    # Searched already (on MovieLens at alpha = 3% and 10% a second search
    # from the whole block rejected every step, 14 s at 3%), and settled
    # here, since its loop refit understates it: the searches that cannot
    # reach it are dropped.
    others <- setdiff(others, "sgld")
    settings$rival <- utility_at(starts$sgld, settled)
  }
  structured <- setdiff(names(starts), c("random", "sgld"))
  if (length(structured) == 0L) structured <- names(starts)
  searched <- unique(c(structured[which.max(in_loop[structured])], others))
  # The searches take turns, one step each, and one that can no longer
  # catch up with the leader is dropped (see run_searches() in
  # inst/include/cfpoison/search.hpp). No search that won a row of
  # inst/bench/strength.R at alpha = 3% is dropped, so every row keeps its
  # result.
  problem <- job_problem(job, starts[[searched[1]]], spec = penalty$spec)
  report <- progress_reporter(job$progress, paste("PGA search from", paste(searched, collapse = ", ")),
    settings$max_iter * length(searched)
  )
  runs <- call_core(.attack_search(problem, lapply(starts[searched], core_ratings), settings, report))
  settles <- settings$settle_sweeps > 0L
  # The starts' converged utilities known already. A start whose loop refit
  # stopped at the settled refit's tolerance was settled: both refit from
  # the clean model under that tolerance, sweep for sweep the same (on
  # MovieLens-20M's scale every start does). A settling search has settled
  # its start (the same refit, bitwise), and a split SGLD start was settled
  # above.
  known <- rep(NA_real_, length(starts))
  if (identical(job$refit$tol, settled$tol)) known[penalty$converged] <- in_loop[penalty$converged]
  if (settles) known[match(searched, names(starts))] <- vapply(runs, `[[`, numeric(1), "start_utility")
  if (split) known[names(starts) == "sgld"] <- settings$rival
  chosen <- converged_best(runs, starts, searched, in_loop, known, settles, function(block) {
    utility_at(block, settled)
  })
  c(chosen, list(penalty = penalty, settings = settings))
}

# The seeds of poison_pga()'s runs (`restarts` runs of the search, one of
# Algorithm 1), `seed` checked: `seed` for the first, then seeds drawn from
# it; with a NULL `seed`, one run draws from the current RNG state as an
# attack without restarts does, and more runs draw their seeds from it.
restart_seeds <- function(seed, restarts, call = rlang::caller_env()) {
  if (!is.null(seed)) check_count(seed, arg = "seed", min = 0, call = call)
  if (restarts == 1L) {
    return(list(seed))
  }
  if (is.null(seed)) {
    return(as.list(sample.int(.Machine$integer.max, restarts)))
  }
  c(list(seed), as.list(with_seed(seed, sample.int(.Machine$integer.max, restarts - 1L))))
}

# The search run once under each of `seeds` (`run(seed)` gives a
# search_support() result): the run whose returned block has the largest
# converged utility (the first of equals), with `restarts`, each run's
# `seed`, `converged_utility` and `seconds`, and which one is `returned`.
# With `progress`, several runs are announced one by one above their bars.
# Why restarts: the seed draws the random and SGLD starts and breaks the
# structured designs' ties, and moves the result by a few percent (on
# MovieLens, ALS availability at alpha = 10%, 0.1164 to 0.1221 over seeds
# 1-5, inst/bench/strength.R), so the best of several runs is the stronger
# attack, as random restarts are for projected gradient attacks on
# classifiers (Madry et al. 2018, "Towards deep learning models resistant to
# adversarial attacks", ICLR).
best_restart <- function(seeds, run, progress) {
  best <- 0L
  utility <- seconds <- numeric(length(seeds))
  for (r in seq_along(seeds)) {
    if (progress && length(seeds) > 1L) {
      # Formatted now: cli formats a step's message again when it ends.
      cli::cli_progress_step(sprintf("Run %d of %d of the search", r, length(seeds)))
    }
    started <- proc.time()[["elapsed"]]
    found <- run(seeds[[r]])
    seconds[r] <- proc.time()[["elapsed"]] - started
    utility[r] <- max(found$outcome$converged_utility, na.rm = TRUE)
    if (best == 0L || utility[r] > utility[best]) {
      best <- r
      chosen <- found
    }
  }
  seed <- vapply(seeds, function(s) if (is.null(s)) NA_integer_ else as.integer(s), integer(1))
  c(chosen, list(restarts = data.frame(
    restart = seq_along(seeds), seed = seed, converged_utility = utility, seconds = seconds,
    returned = seq_along(seeds) == best
  )))
}

# The result of the searches `runs` (from the starts named `searched`):
# whichever of their blocks and the `starts` has the largest converged
# utility (evaluate_attack()'s stopping rule, from the clean model), so that
# the result is never below a start that could win: on the nuclear norm the
# loop's refits ranked two starts the other way round. A settling search
# (`settles`) has measured it for its result; the other results are settled
# (`settle()`), and so are the starts whose converged utility is not
# `known`, best first by their loop utility `in_loop`, except those that lie
# too far below the best converged one to overtake it (hopeless()): each
# settled refit costs as much as several search steps.
converged_best <- function(runs, starts, searched, in_loop, known, settles, settle) {
  results <- lapply(runs, function(run) fake_from_core(run$fake, starts[["random"]]))
  result_utility <- if (settles) vapply(runs, `[[`, numeric(1), "utility") else vapply(results, settle, numeric(1))
  start_utility <- known
  leader <- max(result_utility, start_utility, na.rm = TRUE)
  for (s in order(in_loop, decreasing = TRUE)) {
    if (!is.na(start_utility[s]) || hopeless(in_loop[[s]], leader)) next
    start_utility[s] <- settle(starts[[s]])
    leader <- max(leader, start_utility[s])
  }
  converged <- c(result_utility, start_utility)
  best <- which.max(converged)
  run <- if (best > length(runs)) 1L else best # a start comes with the trace of the first search
  list(
    fake = c(results, starts)[[best]],
    res = runs[[run]],
    start = searched[run],
    starts = data.frame(start = names(starts), utility = in_loop, converged_utility = start_utility),
    outcome = data.frame(
      result = c(paste("search from", searched), paste("start", names(starts))), converged_utility = converged,
      dropped = c(vapply(runs, `[[`, logical(1), "dropped"), rep(NA, length(starts)))
    )
  )
}

# The support search's SGLD start for `job` (attack_job()), of `n_fake`
# fake users: poison_sgld() at beta = 6, ten times the paper's 0.6, with its
# other defaults (100 steps of 0.03, the KKT gradient, 5 warm sweeps per
# refit, the dense support: every fake user rates every item). Its block is
# exactly poison_sgld(beta = 6)'s with the same clean model and seed, except
# that the job's `targets` (the integrity targets in the support) stay in
# every fake user's support, as in every start. Why a start: its fake users
# share items of middling popularity (rated by about 50-350 of MovieLens'
# 671 users), a basin that no structured design reaches and that the search
# climbs well beyond (inst/bench/strength.R); its loop refit understates it
# (it settles only after about 100 sweeps), so it is searched whatever its
# loop utility.
sgld_start <- function(job, n_fake) {
  n <- length(job$ratings$item_ids)
  defaults <- formals(poison_sgld)
  settings <- list(
    max_iter = as.integer(defaults$max_iter), step = defaults$step, beta = 6, max_rating = job$budget$max_rating
  )
  refit <- refit_settings(defaults$refit_sweeps, "kkt", job$tau, job$threads)
  report <- progress_reporter(job$progress, "SGLD start (beta = 6)", settings$max_iter)
  with_seed(job$seed, sgld_block(job$ratings, job$plain, job$utility, job$budget, job$clean, n_fake, settings,
    "dense", n, defaults$min_var, refit, report, job$targets
  ))$fake
}

# The SGLD start of an availability attack (`job`, see attack_job()) with
# more fake users than soft_users(): its block `sgld`, of soft_users() fake
# users, searched alone (one search under the attack's `settings`), then
# groups sharing rare items for the other fake users, in the design of the
# rare_items start named `rare_start` (the best one in the loop). Why: the
# SGLD block's fake users act together and its gain saturates, while each
# rare-item group adds its own share, and the two add up as they move
# different predictions. On MovieLens (ALS rank 10) a searched SGLD block
# of 6 fake users reached an RMSE shift of 0.055,
# of 9 0.064 and of 20 0.073 (its gain per fake user falling from 3,000 to
# 1,600 in the utility), while groups of 4 gain about 1,100 per fake user
# at any size: 9 searched SGLD users with 11 in groups reached 0.076 at
# alpha = 3%, and 6 with 61 in groups 0.118 at 10% (0.110 before); at 10%
# a second SGLD block of 10, searched alone on items apart from the first's,
# in place of 10 group users, led to 0.1157 against 0.1221. The block
# is searched before the groups join: at 10% (seed 1, four SGLD draws) its
# search alone led to 0.1146-0.1221, a search of it beside the groups held
# fixed to 0.1108-0.1169 (lower on three draws of four), and one of the whole
# block (three draws) to 0.1108-0.1178. What the search gains from the SGLD
# block is mostly its support: Algorithm 2's projection keeps each fake user's
# B largest ratings, which fall on items of wide prior spread (rated by 19 to
# 341 real users, nine in ten by over 40), and before the search the block
# moved the utility by 16 to 44 on six draws of seven (4,925 on the seventh),
# against 19,900 to 27,600 after. The searched block moves the real users'
# factors rather than its own items': at 10% (seed 1) the returned block moved
# the predictions by 17,983 through the real users' factors (along the minor
# eigenvectors of the clean V'V: the fake pattern takes over part of the
# fit's smallest components) and by 17,366 on items no fake user rates,
# against 3,420 on the block's own items. Without the dynamics (each fake
# user rating B items drawn in proportion to the prior's variance, 1.6 prior
# deviations from its mean) the search led to 0.1153-0.1181 over four draws,
# against 0.1144-0.1221 (mean 0.1175) over seven SGLD draws.
split_sgld_start <- function(job, sgld, rare_start, settings) {
  n_sgld <- length(sgld$user_ids)
  report <- progress_reporter(job$progress, sprintf("PGA search of the SGLD start (%d fake users)", n_sgld),
    settings$max_iter
  )
  run <- call_core(.attack_search(job_problem(job, sgld), list(core_ratings(sgld)), settings, report))[[1]]
  searched <- fake_from_core(run$fake, sgld)
  design <- rare_start_design(rare_start)
  groups <- with_seed(job$seed, structured_block("rare_items", job$ratings, job$utility, job$budget, job$clean,
    job$n_fake - n_sgld, design$group_size, anchors = design$anchors
  ))
  cells <- list(user = c(searched$user, groups$user + n_sgld), item = c(searched$item, groups$item))
  fake_block(cells, c(searched$rating, groups$rating), job$ratings)
}

# The fake users of the SGLD block in split_sgld_start(): those of alpha =
# 1.5% (10 of MovieLens' 671 users; see there), at least one.
soft_users <- function(ratings) max(1L, as.integer(floor(0.015 * length(ratings$user_ids) + 1e-8)))

# Whether the support search skips the random start (which stays a
# candidate for the result): for a nuke (mu_1 = 0 and every target weighted
# against the attacker's direction) with a structured start to search
# instead. A random block's fake users share only the targets, so each one's
# factor follows its own rating of a target, and the target's factor follows
# theirs whatever that rating's sign: the block pushes (see
# poison_structured(), "anchored"). On MovieLens (inst/bench/strength.R) the
# random start raised the target at alpha = 1%, 3% and 10%, and the search
# from it never won a nuke: at 3% it ended at a target shift of -0.64
# against -0.83 from the anchored start, at the cost of half the attack's
# time (the attack took 2.5 minutes); at 1% and 10% it fell behind and was
# dropped. On the nuclear norm at 3% it came closest: -368.97 against
# -363.87 in utility. For a push or availability the search from the random
# start won on MovieLens at 3% before the SGLD start (which wins there now),
# and wins on simulated low-rank data, so there it is searched.
nukes_alone <- function(utility, starts) {
  utility$mu[1] == 0 && length(utility$weights) > 0L && all(utility$mu[2] * utility$weights < 0) &&
    length(setdiff(names(starts), "random")) > 0L
}

# Whether a start whose utility at the loop's refit is `loop` cannot overtake
# the best converged utility `leader`: it lies below it by more than 15% of
# the larger of their sizes. Settling moves a start's utility little: by at
# most 5.7% in inst/bench/strength.R (the nuclear norm's rare_items start for
# availability at alpha = 3%, which then won its row; 3% on ALS), and by 12%
# on the small simulated data of the tests (a start 15% behind would then
# still end 4.8% behind).
hopeless <- function(loop, leader) {
  loop < leader - hopeless_gap * max(abs(leader), abs(loop))
}

hopeless_gap <- 0.15
