# Optimized attacks: projected gradient ascent (Algorithm 1) and SGLD (Algorithm 2).

#' Projected gradient ascent attack
#'
#' Computes fake users that maximize the attacker's `utility` against
#' `learner` by projected gradient ascent on their ratings (Eq. 10), with the
#' implicit gradient of Eq. 11-13. Two supports:
#'
#' * **`support = "search"` (the default, the strongest attack here)** also
#'   optimizes *which* items each fake user rates.
#'   1. *Starts.* Every structured block of [poison_structured()] that serves
#'      the utility, judged by its utility at a refit: for availability
#'      (\eqn{\mu_1 > 0}) fake users who share rarely-rated items in groups
#'      around the learner's best size (0.75, 1, 1.25 and 2 times it: 3, 4, 5
#'      and 8 for ALS with \eqn{\lambda = 5}; see [poison_structured()]) with
#'      one or two anchors each, and groups who share popular items; for
#'      integrity the targets anchored by fillers the real users
#'      agree on, or by popular ones; Algorithm 1's random start; and, on
#'      ALS (not for a nuke), an SGLD start: [poison_sgld()]'s block at
#'      `beta = 6`, ten times the paper's, with its other defaults
#'      (integrity targets kept in every fake user's support, as in every
#'      start). Its fake users share items of middling popularity, a basin
#'      that no structured design reaches: on MovieLens the search from it
#'      won availability at \eqn{\alpha} = 1% and 3% and the push
#'      (`inst/bench/strength.R`). It is drawn only while its dense support
#'      (every fake user rates every item) holds at most \eqn{10^6} fake
#'      ratings, as on MovieLens up to \eqn{\alpha} = 10%: at the
#'      MovieLens-20M shape, run on a sparse support, it doubled the
#'      attack's time and its search fell behind. On the nuclear norm
#'      it was weaker than the group starts and costly, and it is not drawn.
#'      *Split* for availability alone (no stealth, no filter) when there
#'      are more fake users than 1.5% of the real users (10 on MovieLens):
#'      the SGLD block then takes that many fake users and is searched
#'      alone first (`max_iter` steps, as below), and groups sharing rare items, in
#'      the design of the best rare-item start, take the others. The SGLD
#'      block's fake users act together and its gain saturates (on
#'      MovieLens, searched, 6 fake users reached an RMSE shift of 0.055, 9
#'      0.064 and 20 0.073), while each group adds its own share; the two
#'      move different predictions, so their squared shifts add up. On
#'      MovieLens (seed 1) this lifted the default attack at
#'      \eqn{\alpha} = 3% from 0.073 to 0.080 and at 10% from 0.111 to
#'      0.122.
#'   2. *Search,* from the best structured start and from the random and
#'      SGLD ones, in turns (one step each per round). A search that can no longer catch up
#'      with the leader is dropped, keeping its best block: one whose
#'      utility, plus its steps left times the largest gain of its last
#'      three steps, stays below the leader's utility (gains shrink as a
#'      search converges, so the bound is optimistic). A split SGLD start
#'      is not searched again (on MovieLens at 3% and 10% a second search
#'      rejected every step): it is settled first, and its converged
#'      utility counts as a leader's. A nuke
#'      (\eqn{\mu_1 = 0}, every target weighted against the attacker) searches from the
#'      best start alone: a random block's fake users share only the
#'      targets, so it pushes them whatever the sign of its ratings (see
#'      [poison_structured()], `"anchored"`). On MovieLens the random start
#'      raised the target at \eqn{\alpha} = 1%, 3% and 10% and its search
#'      never won a nuke (at 3% it ended at a target shift of -0.64 against
#'      -0.83, and took half of the attack's time); the random start stays a
#'      candidate for the result (step 3). Each
#'      step is one of three moves, in turn: the values (each fake user's
#'      ratings move along its own gradient, its largest entry by `step`);
#'      exchanges (each fake user trades up to `max_swaps` of its entries for
#'      new items); and column moves (up to `max_columns` items move, with
#'      every fake user who rates them, to an item none of them rates, which
#'      keeps fake users who share items together). Exchanges are scored
#'      from the same adjoint solve as the gradient: adding item j to fake
#'      user i gains about \eqn{(r - \tilde u_i^\top v_j)\,\partial R /
#'      \partial \tilde M_{ij}} at \eqn{r = \pm\Lambda}, the derivative of
#'      the utility in the weight of a new rating, and an entry is worth the
#'      same derivative at its residual.
#'   3. *Result.* Whichever of the searches' results and the starts has the
#'      largest converged utility, under [evaluate_attack()]'s stopping rule
#'      from the clean model: the attack does not end below a structured
#'      block it starts from (the loop's refits, which rank the starts for
#'      the search, can rank them otherwise). A settling search (ALS,
#'      `settle = TRUE`) has measured this utility of its start and of its
#'      result already, by the same refit, and so has the loop for a start
#'      whose refit there stopped at that rule's tolerance (the same refit,
#'      sweep for sweep; every start at MovieLens-20M's scale). Only the
#'      other starts are refitted for it, best first, and not those whose loop
#'      utility lies more than 15% below the best converged one: settling
#'      raised a start's utility by at most 5.7% on MovieLens
#'      (`inst/bench/strength.R`) and 12% on small simulated data, and each
#'      such refit costs about 300 sweeps on MovieLens (ALS availability at
#'      \eqn{\alpha = 3\%} skips eight of them).
#'
#'   Integrity targets stay in every fake user's support (unless
#'   `targets_in_support = FALSE`). The search needs `method = "exact"`.
#' * **`support = "random"` with `method = "kkt"` is Algorithm 1 as the paper
#'   states it**, used to reproduce its figures: each fake user rates B items
#'   drawn uniformly at random (for integrity and hybrid utilities the target
#'   items are in every fake user's support unless `targets_in_support =
#'   FALSE`), ratings start uniform in \[-Lambda, Lambda\] (Algorithm 1, line
#'   2), the support stays fixed and the gradient is Eq. 12's (Appendix B for
#'   the nuclear norm).
#'
#' Common to both:
#'
#' * **Projection.** Ratings are clipped to \[-Lambda, Lambda\] after each step.
#' * **Step rule** (the paper leaves s_t open): a step that does not raise the
#'   utility is undone and the step halved (for the search, the size of that
#'   move: the step, or the number of exchanges or columns), so the iterate
#'   kept is always the best seen; the search lets an accepted move grow back.
#'   The attack stops after `max_iter` steps, when the step falls below
#'   `min_step` (for the search: and no exchange or column move promises a
#'   gain or survives at size one), or after three accepted steps in a row
#'   that each gain less than `tol` (relative). With `support = "random"` the
#'   gradient is scaled so that its largest entry over all fake users moves
#'   by `step`.
#' * **Exact gradients** (`method = "exact"`, see [attack_gradient()]) solve
#'   the adjoint by conjugate gradients to a relative residual of 1e-2 in the
#'   search (its direction then agrees with a tight solve to a cosine of
#'   0.9998 on MovieLens) and 1e-4 with the random support, warm started from
#'   the last adjoint solved, and stop early once the residual stalls (at
#'   a refit that is no stationary point it cannot reach 0). Where a refit is
#'   no minimum and the learner's Hessian there has a direction of
#'   non-positive curvature, that step's adjoint uses the Gauss-Newton part of
#'   the Hessian instead (positive definite); the trace's `hessian` column
#'   says which one each step used. An attack never stops on an indefinite
#'   Hessian. The search differentiates only a proposal it accepts (the next
#'   move needs that gradient; a rejected proposal's would never be used), so
#'   its rejected steps solve no adjoint.
#' * **Refits** run at most `refit_sweeps` alternating sweeps (nuclear:
#'   followed by the exact thresholding step). The random support's are
#'   warm-started from the previous iterate's item factors (five sweeps, as
#'   before). The search's start from the clean model's factors every time,
#'   as [evaluate_attack()] refits, and stop early when the objective settles
#'   to a relative 1e-8: the poisoned problem has several optima, and a chain
#'   of warm starts drifts to one that a refit from the clean model does not
#'   reach, so its utility overstates what is measured (by 30% on simulated
#'   data). On the nuclear norm, whose problem (Eq. 5) is convex, the
#'   search's refits start from the last accepted fit instead (the trace's
#'   settings say `warm_start = TRUE`): they reach the same optimum, on
#'   MovieLens four times sooner. On ALS, with `settle = TRUE` (the default),
#'   a step the short refit favours is refitted from the clean model under
#'   [evaluate_attack()]'s stopping rule and accepted only if that settled
#'   utility rises, so the search climbs the utility that is measured; the
#'   next short refits start from that settled fit. Short refits alone
#'   misjudge slow directions: at \eqn{\alpha = 10\%} a nuke's search
#'   climbed their utility while the settled one fell. A settled refit (not
#'   a bagged learner's) that
#'   after 200 of its 500 sweeps still lies more than 15% of the utility's
#'   scale (the largest |utility| among the starts) below the current
#'   utility is cut there and its step rejected: on MovieLens such refits
#'   crawl up from a plateau and end at the 500-sweep cap below the current
#'   utility (for availability at 3%: eight of eight, each 23% or more of
#'   the scale below at sweep 200), while every accepted step of the
#'   strength table's searches lay within 7.5% of the scale by then.
#'
#' **Stealth** (`stealth = s > 0`, an attacker who knows the detectors): the
#' attack maximizes \eqn{R - s \cdot c \cdot P}, where c is the utility's
#' scale (the largest |utility| among the starts, recorded as
#' `settings$stealth_scale`, so that s is unitless) and P sums, over the fake
#' users (averaged) and the block, how far each statistic lies beyond the
#' normal users' median, in units of their interquartile range, squared:
#' per fake user RDMA and WDMA ([detect_features()]), the mean squared
#' deviation of its ratings from the item means, and its popularity
#' deviation (`popularity` of [detect_features()]); for the block the mean
#' reading's paired t statistic ([detect_ttest()]) beyond 1. Item statistics
#' are those of the poisoned data, as a detector sees it. The gradient of P
#' is exact; the search prices new entries by it to first order and accepts
#' every step on the exact penalized utility, which is what the trace and
#' `outcome` report. s = 0 is the plain attack, bit for bit. Given a
#' [learner_filtered()], the attack is computed through the filter (see
#' there); the other attacks refuse a filtered learner. Given a
#' [learner_bagged()], every refit, utility and gradient, in the loop and
#' the settled ones, is the bagged learner's (see there), from the bagged
#' clean model; both supports and both methods work. The frequency
#' reading of [detect_ttest()] tests profile length alone and rejects any
#' B far from the normal users' mean length whatever the attack does; the
#' popularity feature is the length-normalized test of which items are rated.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10,
#' \eqn{\alpha = 3\%}, given the clean model, one thread on an idle core
#' (`inst/bench/strength.R`): about 35 s for availability and 20 s for a
#' push or a nuke. The trace's `seconds` time the returned search's own
#' steps, not the starts or the other search's turns; the attack's
#' `seconds` time the whole call.
#'
#' @param ratings The real users' ratings (`cf_ratings`).
#' @param learner The attacked learner: `learner_als()` (with the Huber loss, the
#'   attack is computed through that defence; with `biases = TRUE`, through
#'   the biased model and its mean) or `learner_nuclear()`, or one
#'   of the defences [learner_bagged()] (the attack is computed through the
#'   bags: see there) and [learner_filtered()] (see there).
#' @param utility The attacker's utility: `utility_availability()`,
#'   `utility_integrity()` or `utility_hybrid()`.
#' @param budget An `attack_budget()`.
#' @param support `"search"` (optimize the support too, the default) or
#'   `"random"` (Algorithm 1's fixed random support).
#' @param method Gradient: `"exact"` (the default) or `"kkt"` (the paper's
#'   Eq. 12, Appendix B for nuclear; `support = "random"` only).
#' @param max_iter Maximum number of gradient steps (default: 20 for each
#'   search, 50 for the random support).
#' @param step Largest change of one rating in a step (default: Lambda).
#' @param min_step,tol Stopping rules (see Details); `min_step` defaults to
#'   `step / 8` for the search (three halvings: value steps then stop while
#'   the other moves go on) and 1e-3 for the random support.
#' @param refit_sweeps Most sweeps per refit (default: 30 for the search,
#'   each from the clean model; 5 for the random support, each warm-started
#'   from the last, as before).
#' @param settle Search on ALS: accept a step by its settled utility (a
#'   refit from the clean model under [evaluate_attack()]'s stopping rule,
#'   the utility that is measured), after a short refit from the current
#'   settled fit screened it. `FALSE` accepts by the short refit from the
#'   clean model alone: two to three times faster, weaker (on MovieLens at
#'   3%: availability 0.061 against 0.066, nuke -0.822 against -0.828, and at
#'   10% -1.198 against -1.350). The nuclear norm's search refits warm (see
#'   Details) and ignores it; with `support = "random"` it is refused, as unused.
#' @param max_swaps Most entries one fake user exchanges in a step (search
#'   only: refused with `support = "random"`; at most B).
#' @param max_columns Most shared columns of the fake block (an item and the
#'   fake users who rate it) moved in a step (search only, as `max_swaps`).
#' @param targets_in_support Put the target items in every fake user's
#'   support (the search then never exchanges them).
#' @param stealth The stealth level s (>= 0; default 0, no penalty): the attack
#'   maximizes its utility less s times a penalty on how far the fake users'
#'   profiles stray from the normal users', on the statistics the shilling
#'   detectors read (see "Stealth" below). 1 is the recommended trade-off.
#' @param tau Appendix B's smoothing parameter (nuclear learner, `method =
#'   "kkt"`; set for any other gradient, it is refused as unused).
#' @param restarts Runs of the support search (search only; default 1), each
#'   from its own draw of the seeded starts: the first under `seed`, the others
#'   under seeds drawn from it (with `seed = NULL`, a single run draws from the
#'   current RNG state, and several runs draw their seeds from it). The block
#'   of largest converged utility over all runs is returned, and
#'   `settings$restarts` lists them. The seed draws the random and SGLD starts
#'   and breaks the structured designs' ties, which moves the result by a few
#'   percent: on MovieLens, ALS availability at \eqn{\alpha = 10\%}, from
#'   0.116 to 0.122 over seeds 1-5, and three runs raised the mean over those
#'   seeds from 0.119 to 0.121 (`inst/bench/strength.R`). Each run costs a
#'   whole search. With `stealth > 0` each run prices the penalty at the scale
#'   of its own starts.
#' @param clean The clean model `fit_cf(ratings, learner)`, if already fitted;
#'   `NULL` fits the package's own, seeded and settled (see [evaluate_attack()]).
#' @param seed Optional seed; `NULL` uses the current RNG state. The same seed
#'   gives the same attack.
#' @param threads Number of OpenMP threads.
#' @param progress Show a progress bar.
#' @return A `cf_attack` object: `fake` (the fake users' ratings as `cf_ratings`
#'   over the same items), `method`, `utility`, `budget`, `learner`,
#'   `settings` (for the search also `start`, the block the returned
#'   trace's search started from (the returned block is the `outcome` row
#'   of largest `converged_utility`, which `print()` names), `starts`, a
#'   data frame of every candidate `start` with its `utility` at a refit and
#'   its `converged_utility` (`NA` for a start too far behind to be settled
#'   and not settled by its loop refit, see *Result*), and
#'   `outcome`, the converged utility of each search's result and of each
#'   start, the largest of which is returned, and whether each search was
#'   `dropped` behind the leader, and `rival`, the converged utility of a
#'   split SGLD start, `-Inf` without one, and `restarts`, a data frame of
#'   each run's `restart`, `seed` (`NA` for a single run without one),
#'   `converged_utility` (of its returned block), `seconds` and whether it
#'   was `returned`; the other search settings are the returned run's), a
#'   `trace` data frame
#'   (`iteration`, `utility` in the loop, `step`, `accepted`, `swaps`
#'   proposed, `cg_iterations` of the adjoint, `hessian` it used, both `NA` for
#'   a step that solved none, `seconds`), `seed`, the `clean` fit, `seconds`
#'   (the whole call's) and a `fingerprint` of `ratings` (the measuring
#'   functions refuse other ratings).
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' attack <- poison_pga(r, learner, utility_availability(), budget, max_iter = 5, seed = 1)
#' attack
#' # Algorithm 1 as the paper states it.
#' poison_pga(r, learner, utility_availability(), budget,
#'   support = "random", method = "kkt", max_iter = 5, seed = 1
#' )
#' @export
poison_pga <- function(ratings, learner, utility, budget, support = c("search", "random"),
                       method = c("exact", "kkt"), max_iter = NULL, step = NULL, min_step = NULL, tol = 1e-4,
                       refit_sweeps = NULL, settle = TRUE, max_swaps = 4, max_columns = 4, targets_in_support = TRUE,
                       stealth = 0, tau = 1, restarts = 1, clean = NULL,
                       seed = NULL, threads = getOption("cfpoison.threads", 1L), progress = interactive()) {
  started <- proc.time()[["elapsed"]]
  check_differentiable(learner)
  support <- cfp_arg_match(support)
  method <- cfp_arg_match(method)
  spec <- attack_spec(ratings, learner, utility, budget, threads)
  search <- support == "search"
  if (!search) {
    only_search <- "only the support search ({.code support = \"search\"})"
    refuse_unused(c(
      max_swaps = if (!missing(max_swaps)) paste(only_search, "exchanges items"),
      max_columns = if (!missing(max_columns)) paste(only_search, "moves columns"),
      settle = if (!missing(settle)) paste(only_search, "settles its refits"),
      restarts = if (!missing(restarts)) paste(only_search, "keeps the best of its restarts")
    ))
  }
  refuse_unused_tau(!missing(tau), learner, method)
  # Through a filter (learner_filtered()): the base learner on the real users
  # the filter keeps, with a penalty that keeps the fake users below its cut-off.
  attacked <- list(ratings = ratings, learner = learner)
  filter <- NULL
  if (inherits(learner, "cf_learner_filtered")) {
    filter <- filter_route(ratings, learner, spec$n_fake, spec$threads)
    ratings <- filter$ratings
    learner <- filter$learner
  }
  # The search's refits are evaluate_attack()'s (refit_learner()), so that
  # its converged utilities are the measured ones; Algorithm 1's and its
  # warm refits stay the paper's plain sweeps.
  plain <- learner
  if (search) learner <- accelerated(learner)
  if (search && method != "exact") {
    cfp_abort(
      c("{.code support = \"search\"} scores new items from the exact adjoint: it needs {.code method = \"exact\"}.",
        i = "Use {.code method = \"exact\"}, or {.code support = \"random\"} for the paper's Algorithm 1."
      ),
      "value"
    )
  }
  max_iter <- check_count(max_iter %||% if (search) 20 else 50, arg = "max_iter", min = 0)
  step <- check_number(step %||% budget$max_rating, arg = "step", min = 0, min_inclusive = FALSE)
  min_step <- check_number(min_step %||% if (search) step / 8 else 1e-3, arg = "min_step", min = 0)
  check_number(tol, min = 0)
  max_swaps <- min(check_count(max_swaps, min = 0), budget$items_per_user)
  max_columns <- check_count(max_columns, min = 0)
  check_flag(targets_in_support)
  check_number(stealth, min = 0)
  check_flag(settle)
  check_flag(progress)
  restarts <- check_count(restarts, min = 1)
  # Before the clean fit, which leaves the RNG as it found it.
  seeds <- restart_seeds(seed, restarts)
  refit <- refit_settings(refit_sweeps %||% if (search) 30 else 5, method, tau, spec$threads)
  if (search) {
    # Refits settle to a relative 1e-8 within refit_sweeps; the adjoint stops
    # at a relative residual of 1e-2, about ten CG steps: on MovieLens its
    # direction then agrees with a tight solve to a cosine of 0.9998, plenty
    # for a step or a score (inst/bench/attacks.R measures its cost).
    refit$tol <- 1e-8
    refit$cg_tol <- 1e-2
  }
  targets <- if (targets_in_support) spec$targets else integer(0)
  if (length(targets) > budget$items_per_user) {
    cfp_abort(
      c("There are {length(targets)} target items but each fake user rates only {budget$items_per_user}.",
        i = "Raise {.code attack_budget(items_per_user = )} or set {.code targets_in_support = FALSE}."
      ),
      "value"
    )
  }

  clean <- check_bagged_clean(clean_fit(clean, learner, ratings, spec$threads), learner, ratings)
  settings <- list(
    max_iter = max_iter, step = step, min_step = min_step, tol = tol, patience = 3L,
    max_rating = budget$max_rating
  )
  # One run under `run_seed`: Algorithm 1's random block, the start of both
  # supports, and the job every refit of the run shares.
  random_start <- function(run_seed) {
    with_seed(run_seed, {
      random <- draw_support(spec$n_fake, length(ratings$item_ids), budget$items_per_user, targets)
      values <- stats::runif(length(random$item), -budget$max_rating, budget$max_rating)
      fake_block(random, values, ratings)
    })
  }
  job_for <- function(run_seed) {
    attack_job(ratings, learner, plain, utility, budget, clean, spec$n_fake, targets, tau, spec$threads, stealth,
      filter, refit, run_seed, progress
    )
  }
  # The support search (search_support() in R/search.R, whose searches run
  # in run_searches(), inst/include/cfpoison/search.hpp), once per restart,
  # or Algorithm 1 on the random block (run_pga(),
  # inst/include/cfpoison/attacks.hpp).
  if (search) {
    found <- best_restart(seeds, function(run_seed) {
      # Drawn before the structured starts, which draw under the same seed.
      random <- random_start(run_seed)
      search_support(job_for(run_seed), random, settings, max_swaps, max_columns, settle)
    }, progress)
    fake <- found$fake
    res <- found$res
    penalty <- found$penalty
    settings <- found$settings
  } else {
    job <- job_for(seeds[[1]])
    fake <- random_start(seeds[[1]])
    penalty <- if (stealth > 0 || !is.null(filter)) {
      stealth_penalty(stealth, ratings, list(random = fake), job_screen(job), filter)
    }
    report <- progress_reporter(progress, "PGA attack", max_iter)
    res <- call_core(.attack_pga(job_problem(job, fake, spec = penalty$spec), settings, report))
    fake <- fake_from_core(res$fake, fake)
  }
  settings <- c(settings, list(
    support = support, method = method, refit_sweeps = refit$sweeps, tau = tau,
    targets_in_support = targets_in_support, stealth = stealth, stealth_scale = penalty$scale %||% NA_real_
  ))
  if (search) settings <- c(settings, found[c("start", "starts", "outcome", "restarts")])
  new_cf_attack("pga", fake, attacked$ratings, utility, budget, attacked$learner, clean, res$trace, seed,
    settings = settings, seconds = proc.time()[["elapsed"]] - started
  )
}

#' Stochastic gradient Langevin dynamics attack (Algorithm 2)
#'
#' Samples fake users from the posterior of Eq. 16: a Gaussian prior per item
#' fitted to the normal users, times \eqn{\exp(\beta R)} for the attacker's
#' utility R (Eq. 15). Small `beta` gives fake users that look like normal ones
#' (hard to detect, weaker attack); the paper's experiments use `beta = 0.6`.
#'
#' * **Prior** (Algorithm 2, line 2, as written): \eqn{\xi_j = \frac1m \sum_i M_{ij}} and
#'   \eqn{\sigma_j^2 = \frac1m \sum_i (M_{ij} - \xi_j)^2} over all m normal users,
#'   unobserved entries counted as 0. Items that (almost) nobody rated get
#'   \eqn{\sigma_j^2} near 0; the variance is floored at `min_var` so that the
#'   Langevin step stays stable (it needs `step < 4 sigma_j^2`).
#' * **Dynamics** (Eq. 17): \eqn{\tilde M \leftarrow \tilde M +
#'   \frac{s}{2}(-(\tilde M - \Xi)\Sigma^{-1} + \beta \nabla R) + N(0, s)}
#'   with a constant step s, for `max_iter` steps, each after a warm-started
#'   refit. Ratings are kept in \[-Lambda, Lambda\] during the dynamics (a
#'   projected Langevin step: the paper leaves this open).
#' * **Support.** `support = "dense"` is the paper's: every fake user rates every
#'   item during the dynamics (m' x n ratings). `support = "sparse"`, for large
#'   data, draws `support_size` items per fake user without replacement with
#'   probability proportional to their number of ratings by normal users (so
#'   the support itself looks like a normal user's) and runs the dynamics there.
#' * **Projection** (Algorithm 2, line 9): each fake user keeps its B ratings of
#'   largest absolute value, clipped to \[-Lambda, Lambda\].
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10:
#' about 13 s on one thread with the defaults at \eqn{\alpha = 3\%} (100
#' steps on the dense support).
#'
#' @inheritParams poison_pga
#' @param learner The attacked learner: `learner_als()`, `learner_nuclear()`
#'   or [learner_bagged()] (the attack is computed through the bags); a
#'   [learner_filtered()] is refused (only [poison_pga()] attacks through it).
#' @param beta Eq. 15's trade-off between utility and the prior (paper: 0.6).
#' @param step The Langevin step size s (constant; the paper leaves s_t open).
#'   The prior's pull \eqn{-(\tilde M_{ij} - \xi_j)/\sigma_j^2} is stable only
#'   for `step < 4 * min_var`. The default 0.03 with `max_iter = 100` lets the
#'   chain travel about two prior standard deviations of a popular MovieLens item.
#' @param support `"dense"` (the paper's) or `"sparse"`.
#' @param support_size Items per fake user in sparse mode (default 4 B).
#' @param min_var Floor of the prior variances.
#' @param method Gradient: `"kkt"` (the paper's Eq. 12, Appendix B for the
#'   nuclear norm; the default, as in Algorithm 2) or `"exact"`.
#' @param refit_sweeps Warm-started sweeps per refit.
#' @return A `cf_attack` object (see [poison_pga()]).
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_sgld(r, learner_als(rank = 3, lambda_u = 1),
#'   utility_availability(), attack_budget(alpha = 0.05, items_per_user = 10),
#'   max_iter = 5, seed = 1
#' )
#' attack
#' @export
poison_sgld <- function(ratings, learner, utility, budget, beta = 0.6, method = c("kkt", "exact"),
                        max_iter = 100, step = 0.03, support = c("dense", "sparse"), support_size = NULL,
                        min_var = 0.01, refit_sweeps = 5, tau = 1, clean = NULL, seed = NULL,
                        threads = getOption("cfpoison.threads", 1L), progress = interactive()) {
  started <- proc.time()[["elapsed"]]
  check_differentiable(learner)
  check_not_filtered(learner)
  method <- cfp_arg_match(method)
  support <- cfp_arg_match(support)
  spec <- attack_spec(ratings, learner, utility, budget, threads)
  check_number(beta, min = 0)
  max_iter <- check_count(max_iter, min = 0)
  check_number(step, min = 0, min_inclusive = FALSE)
  check_number(min_var, min = 0, min_inclusive = FALSE)
  if (step >= 4 * min_var) {
    cfp_abort(
      c("{.arg step} = {step} makes the Langevin step unstable for items with prior variance {.arg min_var} = {min_var}.",
        i = "Keep {.arg step} below 4 * {.arg min_var} = {4 * min_var}, or raise {.arg min_var}."
      ),
      "value"
    )
  }
  check_flag(progress)
  n <- length(ratings$item_ids)
  refuse_unused(c(support_size = if (support == "dense" && !is.null(support_size)) {
    "only the sparse support ({.code support = \"sparse\"}) draws items per fake user"
  }))
  refuse_unused_tau(!missing(tau), learner, method)
  support_size <- if (support == "dense") n else support_size %||% min(n, 4L * budget$items_per_user)
  support_size <- check_count(support_size, min = budget$items_per_user, max = n)
  refit <- refit_settings(refit_sweeps, method, tau, spec$threads)
  settings <- list(max_iter = max_iter, step = step, beta = beta, max_rating = budget$max_rating)
  with_seed(seed, {
    clean <- check_bagged_clean(clean_fit(clean, learner, ratings, spec$threads), learner, ratings)
    res <- sgld_block(ratings, learner, utility, budget, clean, spec$n_fake, settings, support, support_size,
      min_var, refit, progress_reporter(progress, "SGLD attack", max_iter)
    )
  })
  new_cf_attack("sgld", res$fake, ratings, utility, budget, learner, clean, res$trace, seed,
    settings = c(settings, list(
      method = method, support = support, support_size = support_size, min_var = min_var,
      refit_sweeps = refit$sweeps, tau = tau
    )),
    seconds = proc.time()[["elapsed"]] - started
  )
}

# Algorithm 2 from the clean model, under the caller's RNG state: the
# projected fake block (`fake`) and the dynamics' `trace`. The items `kept`
# (indices) stay in every fake user's support and survive the projection.
sgld_block <- function(ratings, learner, utility, budget, clean, n_fake, settings, support, support_size, min_var,
                       refit, report, kept = integer(0)) {
  n <- length(ratings$item_ids)
  prior <- item_prior(ratings, min_var)
  cells <- if (support == "dense") {
    list(user = rep(seq_len(n_fake), each = n), item = rep(seq_len(n), n_fake))
  } else {
    draw_support(n_fake, n, support_size, kept, prob = tabulate(ratings$item, n))
  }
  values <- stats::rnorm(length(cells$item), prior$mean[cells$item], sqrt(prior$var[cells$item]))
  fake <- fake_block(cells, values, ratings)
  problem <- attack_problem(ratings, learner, clean, fake, utility, refit)
  res <- call_core(.attack_sgld(problem, settings, prior$mean[fake$item], prior$var[fake$item], report))
  list(fake = keep_largest(fake_from_core(res$fake, fake), budget, kept), trace = res$trace)
}

# Per-item prior of Algorithm 2 from all m normal users, unobserved counted as 0.
item_prior <- function(ratings, min_var) {
  m <- length(ratings$user_ids)
  mean <- item_sums(ratings, ratings$rating) / m
  list(mean = mean, var = pmax(item_sums(ratings, ratings$rating^2) / m - mean^2, min_var))
}

# Algorithm 2's projection: each fake user's B ratings of largest |value|,
# clipped, those of the items `kept` first.
keep_largest <- function(fake, budget, kept = integer(0)) {
  ord <- order(fake$user, !fake$item %in% kept, -abs(fake$rating))
  rank_in_user <- stats::ave(seq_along(ord), fake$user[ord], FUN = seq_along)
  keep <- ord[rank_in_user <= budget$items_per_user]
  new_cf_ratings(fake$user[keep], fake$item[keep],
    pmin(pmax(fake$rating[keep], -budget$max_rating), budget$max_rating),
    fake$user_ids, fake$item_ids, c(-budget$max_rating, budget$max_rating)
  )
}

# Validates what every optimized attack takes; returns derived quantities.
attack_spec <- function(ratings, learner, utility, budget, threads, call = rlang::caller_env()) {
  check_ratings(ratings, call = call)
  check_learner(learner, call = call)
  check_utility(utility, call = call)
  check_budget(budget, ratings, call = call)
  list(
    n_fake = n_fake_users(budget, length(ratings$user_ids), call = call),
    targets = target_indices(utility$targets, ratings, call = call),
    threads = check_threads(threads, call = call)
  )
}

# Appendix B's smoothing `tau` is taken by the nuclear norm's KKT gradient
# alone (a bagged or filtered learner's class names its base learner's): `set`
# (by the caller) for another gradient, it is refused as unused.
refuse_unused_tau <- function(set, learner, method, call = rlang::caller_env()) {
  smoothed <- method == "kkt" && inherits(learner, "cf_learner_nuclear")
  refuse_unused(
    c(tau = if (set && !smoothed) "only the nuclear norm's KKT gradient ({.code method = \"kkt\"}, Appendix B) is smoothed"),
    call = call
  )
}

refit_settings <- function(sweeps, method, tau, threads, call = rlang::caller_env()) {
  list(
    sweeps = check_count(sweeps, arg = "refit_sweeps", min = 1, call = call),
    tol = 1e-8,
    factor_tol = 0,
    method = method,
    tau = check_number(tau, arg = "tau", min = 0, min_inclusive = FALSE, call = call),
    # The adjoint's CG stops at a relative residual of 1e-4 (gradient error
    # about 1e-5 relative on MovieLens), or when it stalls at a refit that is
    # no stationary point (within 25 steps on MovieLens, where the direction
    # agrees with a 2000-step solve to a cosine of 1 - 1e-7): enough for an
    # ascent direction.
    cg_max_iter = 100L,
    cg_tol = 1e-4,
    threads = threads
  )
}

# The clean model `clean`, checked, or when NULL the package's own clean fit,
# fitted by `refit` (see refitter()).
clean_fit <- function(clean, learner, ratings, threads, arg = "clean", refit = refitter(NULL, call),
                      call = rlang::caller_env()) {
  if (is.null(clean)) {
    return(default_clean_fit(learner, ratings, threads, refit))
  }
  if (!inherits(clean, "cf_fit") || !identical(clean$item_ids, ratings$item_ids) ||
    !identical(clean$user_ids, ratings$user_ids) || !is.null(clean$fake_u)) {
    hint <- if (arg == "clean") {
      "Leave it {.code NULL} to fit it here."
    } else {
      # The caller gave no `clean`: the default, the attack's, is at fault.
      "It was fitted on other users or items: pass the ratings the attack was computed on, or {.code clean = NULL} to fit the clean model here."
    }
    cfp_abort(
      c("{.arg {arg}} must be a model of the clean data {.code fit_cf(ratings, learner)}.", i = hint),
      "value",
      call = call
    )
  }
  clean
}

# B distinct items for each of n_fake users: the targets plus a draw without
# replacement from the other items (uniform, or weighted by `prob`).
draw_support <- function(n_fake, n_items, size, targets, prob = NULL) {
  others <- setdiff(seq_len(n_items), targets)
  weights <- if (is.null(prob)) NULL else prob[others] + 1e-12
  draws <- lapply(seq_len(n_fake), function(u) {
    c(targets, others[sample.int(length(others), size - length(targets), prob = weights)])
  })
  list(user = rep(seq_len(n_fake), each = size), item = unlist(draws))
}

fake_block <- function(cells, values, ratings) {
  n_fake <- max(cells$user)
  new_cf_ratings(cells$user, cells$item, values, paste0("fake_", seq_len(n_fake)), ratings$item_ids, NULL)
}

# The fake block the core returns, over `like`'s fake user and item ids.
fake_from_core <- function(block, like) {
  new_cf_ratings(block$user + 1L, block$item + 1L, block$rating, like$user_ids, like$item_ids, NULL)
}

# The joint problem as src/attacks.cpp reads it: the fake block apart from
# the real users' ratings, since the search changes its support.
attack_problem <- function(ratings, learner, clean, fake, utility, refit, stealth = NULL) {
  reference <- prediction_factors(clean)
  list(
    normal = core_ratings(ratings),
    fake = core_ratings(fake),
    learner = core_learner(learner),
    clean_p = reference$user,
    clean_q = reference$item,
    item_init = attack_item_init(clean, learner, ratings),
    utility = utility_spec(utility, ratings),
    refit = refit,
    stealth = stealth,
    # A bagged learner's bags (see BaggedRefit in
    # inst/include/cfpoison/bagged.hpp): each user's copies in each.
    bags = if (inherits(learner, "cf_learner_bagged")) {
      bag_counts(learner, length(ratings$user_ids), length(fake$user_ids))
    }
  )
}

# What every refit of one poison_pga() attack shares: its `ratings`,
# `learner` (for the support search accelerated(), whose refits are
# evaluate_attack()'s) and `plain` (its plain sweeps, which the SGLD start
# runs), `utility`, `budget`, `clean` fit, `n_fake` fake users, the `targets`
# kept in every support (indices), `tau`, `threads`, `stealth` weight,
# `filter` (filter_route(), or NULL), the loop's `refit` settings, `seed`
# and `progress`.
attack_job <- function(ratings, learner, plain, utility, budget, clean, n_fake, targets, tau, threads, stealth,
                       filter, refit, seed, progress) {
  list(
    ratings = ratings, learner = learner, plain = plain, utility = utility, budget = budget, clean = clean,
    n_fake = n_fake, targets = targets, tau = tau, threads = threads, stealth = stealth, filter = filter,
    refit = refit, seed = seed, progress = progress
  )
}

# The joint problem of `job` at the fake block `block`, under `refit`
# settings and the stealth penalty `spec` (see attack_problem()).
job_problem <- function(job, block, refit = job$refit, spec = NULL) {
  attack_problem(job$ratings, job$learner, job$clean, block, job$utility, refit, spec)
}

# A function that refits each of `blocks` (named) at the loop's refits and
# returns its evaluation (utility less the stealth penalty `spec`), in one
# call: stealth_penalty()'s `evaluate`.
job_screen <- function(job) {
  function(blocks, spec) {
    problem <- job_problem(job, blocks[[1]], spec = spec)
    stats::setNames(call_core(.attack_screen(problem, lapply(blocks, core_ratings))), names(blocks))
  }
}

# The item factors the attack's refits start from: the clean model's, or
# for a bagged learner each bag's, stacked (bag b in columns (b - 1) k + 1 to
# b k), as fit_bagged() warm-starts bag b from bag b of a bagged fit.
attack_item_init <- function(clean, learner, ratings) {
  if (!inherits(learner, "cf_learner_bagged")) {
    return(initial_item_factors(clean, learner, ratings))
  }
  base <- base_learner(learner)
  do.call(cbind, lapply(seq_len(learner$n_bags), function(b) {
    initial_item_factors(bag_init(clean, b), base, ratings)
  }))
}

# An attack through a bagged learner measures its utility against the
# bagged clean model: `clean` must be a fit of `ratings` by that learner
# (its bags, the same draws for the real users).
check_bagged_clean <- function(clean, learner, ratings, call = rlang::caller_env()) {
  if (!inherits(learner, "cf_learner_bagged")) {
    return(invisible(clean))
  }
  m <- length(ratings$user_ids)
  # Each bag's prediction factors: k columns, or a biased base's k + 3.
  width <- if (is_biased(learner)) biased_columns(learner$rank)$width else learner$rank
  same <- inherits(clean, "cf_fit_bagged") && identical(clean$learner$n_bags, learner$n_bags) &&
    identical(inherits(clean$learner, "cf_learner_nuclear"), inherits(learner, "cf_learner_nuclear")) &&
    identical(is_biased(clean$learner), is_biased(learner)) &&
    ncol(clean$v) == learner$n_bags * width &&
    identical(clean$bag_counts[seq_len(m), , drop = FALSE], bag_counts(learner, m, 0L))
  if (!same) {
    cfp_abort(
      c("{.arg clean} must be a fit of {.arg ratings} by the bagged learner: its {learner$n_bags} bag{?s}, seed {learner$seed}.",
        i = "Give {.code fit_cf(ratings, learner)}, or leave {.arg clean} {.code NULL} to fit it here."
      ),
      "value",
      call = call
    )
  }
  invisible(clean)
}

# `ratings` are those the attack was computed on, recorded as a fingerprint
# that the measuring functions check; NULL for fake users built by hand.
# `seconds`: the whole call's (the default search's trace times one search's
# own steps).
new_cf_attack <- function(method, fake, ratings, utility = NULL, budget = NULL, learner = NULL, clean = NULL,
                          trace = NULL, seed = NULL, settings = list(), seconds = NA_real_) {
  structure(
    list(
      fake = fake,
      fingerprint = if (is.null(ratings)) NULL else ratings_fingerprint(ratings),
      method = method,
      utility = utility,
      budget = budget,
      learner = learner,
      settings = settings,
      trace = trace,
      seed = seed,
      clean = clean,
      seconds = seconds
    ),
    class = "cf_attack"
  )
}

# Seconds the attack took: the whole call's, or for an attack that did not
# record them (saved before they were) its trace's last; NA without either.
attack_seconds <- function(attack) {
  if (!is.null(attack$seconds)) return(attack$seconds)
  if (is.null(attack$trace)) NA_real_ else attack$trace$seconds[nrow(attack$trace)]
}

#' @export
print.cf_attack <- function(x, ...) {
  n_fake <- length(x$fake$user_ids)
  per_user <- tabulate(x$fake$user, n_fake)
  trace <- x$trace
  cat_line("{.cls cf_attack}: {x$method}, {n_fake} fake user{?s}, {length(x$fake$rating)} ratings (at most {max(per_user)} per user)")
  if (!is.null(trace) && nrow(trace) > 0) {
    cat_line(
      "  utility in the loop {format(signif(trace$utility[1], 6))} -> {format(signif(trace$utility[nrow(trace)], 6))} ",
      "over {nrow(trace) - 1} iteration{?s} ({format(signif(attack_seconds(x), 3))} s)"
    )
  }
  # The search returns the best of its results and starts, which need not be
  # the trace's: name it, with the utility evaluate_attack() would measure.
  returned <- returned_outcome(x)
  if (!is.null(returned)) {
    restarts <- x$settings[["restarts"]]
    of_restarts <- if (NROW(restarts) > 1L) {
      sprintf(" of restart %d, the best of %d", which(restarts$returned), nrow(restarts))
    } else {
      ""
    }
    cat_line(
      "  returned the {returned$result}{of_restarts}: ",
      "converged utility {format(signif(returned$converged_utility, 6))}"
    )
  }
  invisible(x)
}

# The `outcome` row of the block the default search returned (the largest
# converged utility, as poison_pga() chooses it); NULL for other attacks.
returned_outcome <- function(attack) {
  outcome <- attack$settings[["outcome"]]
  best <- which.max(outcome$converged_utility)
  if (length(best) == 0L) NULL else outcome[best, , drop = FALSE]
}

#' @export
summary.cf_attack <- function(object, ...) {
  trace <- object$trace
  data.frame(
    method = object$method,
    n_fake_users = length(object$fake$user_ids),
    n_fake_ratings = length(object$fake$rating),
    # Baseline attacks have no utility and hand-built fake users no budget.
    alpha = object$budget$alpha %||% NA_real_,
    items_per_user = object$budget$items_per_user %||% NA_integer_,
    max_rating = object$budget$max_rating %||% NA_real_,
    mu_1 = object$utility$mu[1] %||% NA_real_,
    mu_2 = object$utility$mu[2] %||% NA_real_,
    iterations = if (is.null(trace)) 0L else nrow(trace) - 1L,
    utility_start = if (is.null(trace)) NA_real_ else trace$utility[1],
    utility_end = if (is.null(trace)) NA_real_ else trace$utility[nrow(trace)],
    # The loop's utilities are short refits' and, for the search, its first
    # run's: the returned block is measured by its converged utility.
    converged_utility = returned_outcome(object)$converged_utility %||% NA_real_,
    seconds = attack_seconds(object)
  )
}

#' @export
as.data.frame.cf_attack <- function(x, ...) {
  as.data.frame(x$fake)
}
