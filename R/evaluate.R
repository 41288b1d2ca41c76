# Measuring an attack: refit on the poisoned data and compare with the clean model.

#' Evaluate an attack
#'
#' Refits `learner` on the real ratings plus the attack's fake users and
#' measures what changed, against the clean model under the same protocol.
#'
#' **Protocol.** Every model compared is fitted by `learner` to the stopping
#' rule `refit_sweeps`, `refit_tol` (instead of the learner's own), so that the
#' comparison is between settled models:
#'
#' 1. *Start*: `clean`, by default the attack's clean model. When there is
#'    none (baseline and hand-built attacks), the package fits it: from item
#'    factors drawn with a fixed seed (1, leaving the caller's random stream
#'    untouched) and under the default `refit_sweeps` and `refit_tol`, so
#'    that two identical calls give identical results. The attacks fit the
#'    same model when given no `clean`.
#' 2. *Reference*: the start refitted on `ratings` under the protocol. All
#'    `*_clean` columns, `rmse_shift` and `utility` are measured against it.
#' 3. *Poisoned model*: refitted on `ratings` plus the fake users under the
#'    protocol, from the reference. Alternating minimization is non-convex;
#'    starting from the reference keeps the poisoned model in its basin.
#' 4. *Floor*: refitted on `ratings` alone under the protocol, from the
#'    reference, like the poisoned model but without fake users.
#'
#' The protocol's sweeps are Anderson-accelerated (memory 5; Anderson 1965,
#' Walker and Ni 2011): each sweep starts from an extrapolation of the last
#' ones, and a sweep that would raise the objective is undone. Only a plain
#' sweep (from the last sweep's own output) may stop a refit: after an
#' extrapolated start a gain below `refit_tol` says nothing, as the
#' extrapolation can land beyond a plateau where plain sweeps still gain
#' 1e-6 each (on `movielens_small()` a default availability block at alpha =
#' 3%, its ratings scaled by 0.999, stopped so after 24 sweeps, at an RMSE
#' shift of 0.045 against 0.073 at the limit). They stop near the learner's
#' converged model, the limit of its plain sweeps, in about half the
#' sweeps: on `movielens_small()`, refitting the default availability
#' attacks at alpha = 1%, 3% and 10% (seed 1) from the clean model to
#' `refit_tol = 1e-8` left the utility 0.82%, 0.37% and 0.16% from that
#' limit with plain sweeps (875, 501 and 668 sweeps), and 0.11%, 0.05% and
#' 0.01% with accelerated ones (466, 290 and 408 sweeps). A learner's own fits
#' ([fit_cf()]) sweep plainly; so do the paper's Algorithm 1 and SGLD. The
#' Huber loss is refitted plainly.
#'
#' **External learners** ([learner_external()], [learner_softimpute()],
#' [learner_recosystem()]) can't start from another model, so the protocol
#' becomes: the reference is the learner's own fit of `ratings` (`clean` is
#' used only when it is that fit, from `fit_cf(ratings, learner)`); the
#' poisoned model is its fit of `ratings` plus the fake users; the floor is
#' its fit of `ratings` under its `seed + 1`, the victim's own run-to-run
#' noise (0 for a learner that draws nothing at random). `refit_sweeps` and
#' `refit_tol` do not apply and `refit_converged` is `NA`. Every metric is
#' the same sum as for the package's learners, over the m x n matrix of the
#' normal users' predictions (49 MB on `movielens_small()`).
#'
#' Target metrics are `NA` without targets (an availability attack). The
#' availability metrics `rmse_shift` and `rmse_shift_floor` are `NA`, with a
#' warning of class `cfpoison_warning_undefined`, when every entry of
#' `ratings` is observed: there is no unseen entry to average over.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10:
#' about 3 s on one thread with the package's own clean fit (a bagged
#' learner refits every bag: see [evaluate_defence()]).
#'
#' @param ratings The real users' ratings the attack was computed on.
#' @param attack A `cf_attack` computed on `ratings`, or fake users you built:
#'   a `cf_ratings` over the same items (`as_ratings(df, items =
#'   ratings$item_ids)`), or a data frame with columns `user` (any ids, taken
#'   as fake users), `item` (ids from `ratings$item_ids`) and `rating`. A
#'   `cf_attack` computed on other ratings is an error.
#' @param learner The learner to refit; defaults to the attack's (give it for
#'   baseline attacks and fake users you built). An external learner
#'   ([learner_external()]) measures an attack crafted on another learner on
#'   it (see Details).
#' @param test Optional held-out `cf_ratings` over the same users and items.
#' @param targets Target item ids; defaults to the attack's.
#' @param clean The clean model the protocol starts from (see Details);
#'   defaults to the attack's, or to the package's own clean fit.
#' @param refit_sweeps,refit_tol The protocol's stopping rule: at most
#'   `refit_sweeps` sweeps of `learner`, stopping when the objective changes by
#'   less than `refit_tol` (relative); they replace the learner's `max_iter` and
#'   `tol`.
#' @param top_n List length of the hit ratio.
#' @param threads Number of OpenMP threads.
#' @param progress Show a progress bar over the refits, naming the refit
#'   running and its sweep (or bag, for a bagged learner).
#' @return A one-row tibble. Ratings and their differences are in the units
#'   of `ratings` (on the paper's \[-2, 2\] scale, a star is 1); "normal
#'   users" are the real users of `ratings`.
#'   \describe{
#'     \item{`method`}{The attack: `"pga"`, `"sgld"`, `"structured"`,
#'       `"uniform"`, a shilling baseline (`"random"`, `"average"`,
#'       `"bandwagon"`, `"segment"`, `"love_hate"`), or `"custom"` for fake
#'       users you built.}
#'     \item{`n_fake_users`}{Number of fake users (integer); for a
#'       [learner_filtered()] victim, those its filter kept.}
#'     \item{`alpha`}{The budget's fake users per real user; `NA` for fake
#'       users you built.}
#'     \item{`rmse_shift`}{The paper's RMSE (footnote 2): the root mean
#'       square change of the normal users' predictions on their unseen
#'       entries, poisoned model against the reference,
#'       \eqn{\sqrt{R^{av} / |\Omega^C|}}, computed in factored form. At least
#'       0; larger means a stronger availability effect.}
#'     \item{`rmse_shift_floor`}{The same metric for the floor, i.e. the
#'       `rmse_shift` an attack without fake users would get: how far the
#'       protocol moves the reference by itself, because it stopped short of
#'       convergence. It gauges how much of `rmse_shift` the protocol alone
#'       produces; tighten `refit_tol` when it is not small beside `rmse_shift`. For
#'       the convex nuclear-norm learner it is near 0. On `movielens_small()`
#'       with `learner_als(rank = 10, lambda_u = 5)` and the defaults it is
#'       1.4% of the uniform attack's shift at \eqn{\alpha = 3\%}
#'       (`attack_budget(alpha = 0.03)`).}
#'     \item{`test_rmse_clean`, `test_rmse_poisoned`}{RMSE of the reference
#'       and of the poisoned model on the held-out `test` ratings; `NA`
#'       without `test`.}
#'     \item{`target_rating_clean`, `target_rating_poisoned`}{The target
#'       items' predicted rating averaged over every normal user, then over
#'       the targets (Figure 1 c, d), for the reference and the poisoned
#'       model. Poisoned minus clean is the attack's push (positive) or nuke
#'       (negative). `NA` without targets.}
#'     \item{`hit_ratio_clean`, `hit_ratio_poisoned`}{The share (0 to 1) of
#'       the normal users who have not rated a target whose `top_n` unrated
#'       items by predicted rating include it (ties count against the
#'       target), averaged over the targets. `NA` without targets.}
#'     \item{`utility`}{The attack's utility (Eq. 7-9, with its own
#'       \eqn{\mu}, targets and weights) at the poisoned model, against the
#'       reference: a sum over the normal users, not a mean (the availability
#'       term is a sum of squared changes). `NA` for attacks without a
#'       utility (the baselines and fake users you built).}
#'     \item{`refit_converged`}{Whether the poisoned refit met `refit_tol` within
#'       `refit_sweeps` sweeps; `NA` for an external learner.}
#'     \item{`attack_seconds`}{Seconds the attack's call took, every start
#'       and search of the default PGA included; `NA` for attacks that do
#'       not record them (the baselines, structured blocks, fake users you
#'       built).}
#'     \item{`evaluation_seconds`}{Seconds this evaluation took.}
#'   }
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#' evaluate_attack(r, attack, learner, targets = 5)
#' # Fake users built by hand: two users who rate item 5 at the top of the scale.
#' fake <- data.frame(user = c("f1", "f2"), item = 5, rating = 2)
#' evaluate_attack(r, fake, learner, targets = 5)
#' @export
evaluate_attack <- function(ratings, attack, learner = attack$learner, test = NULL, targets = NULL,
                            clean = attack$clean, refit_sweeps = 500, refit_tol = 1e-8, top_n = 10,
                            threads = getOption("cfpoison.threads", 1L), progress = interactive()) {
  started <- proc.time()[["elapsed"]]
  check_ratings(ratings)
  attack <- as_cf_attack(attack, ratings)
  check_refit_learner(learner, attack)
  threads <- check_threads(threads)
  top_n <- check_count(top_n, min = 1)
  if (!is.null(test)) check_ratings(test)
  check_flag(progress)
  protocol <- refit_learner(learner, refit_sweeps, refit_tol)
  clean_arg <- if (missing(clean)) "attack$clean" else "clean"
  # The clean fit (when there is no clean model), the reference, the floor
  # and the poisoned model.
  # An external learner's own clean fit is its reference (no refit of it).
  n_refits <- 3L + (is.null(clean) && !is_external(learner))
  refit <- refitter(progress_reporter(progress, "Evaluating the attack", n_refits, refits_format))
  reference <- protocol_reference(clean, protocol, ratings, threads, arg = clean_arg, refit = refit)
  tibble::as_tibble(
    measure_attack(attack, ratings, protocol, reference, test, targets, top_n, threads, started, refit = refit)
  )
}

# evaluate_attack()'s measurements, against `reference` (the clean model
# under `protocol`), without checking the attack against `ratings`: callers
# check it once, at their entry point (evaluate_defence() measures on filtered
# ratings on purpose). `refit` fits the floor and the poisoned model (see
# refitter()). A plain data frame, for the callers to bind rows and columns
# of; the exported functions return tibbles.
measure_attack <- function(attack, ratings, protocol, reference, test = NULL, targets = NULL, top_n = 10,
                           threads = 1L, started = proc.time()[["elapsed"]], refit = refitter(NULL, call),
                           floor = NULL, call = rlang::caller_env()) {
  force(started)
  # Exact names: `$targets` would partially match PGA's `targets_in_support`.
  targets <- targets %||% attack$utility[["targets"]] %||% attack$settings[["targets"]]
  target_index <- target_indices(targets, ratings, call = call)
  poisoned <- refit("poisoned refit", ratings, protocol, attack = attack$fake, init = reference, threads = threads)
  # Callers that measure many attacks against one reference (transfer_matrix())
  # fit a floor that does not depend on the attack once.
  floor_fit <- floor %||%
    refit("noise-floor refit", ratings, floor_learner(protocol, poisoned), init = reference, threads = threads)
  # An external fit's predictions, which every metric reads, are made once.
  reference <- with_predictions(reference)
  floor_fit <- with_predictions(floor_fit)
  poisoned <- with_predictions(poisoned)

  metrics <- fit_metrics(ratings, reference, threads)
  at <- metrics$utility
  n_unseen <- prod(dim(ratings)) - length(ratings$rating)
  if (n_unseen == 0) {
    cli::cli_warn(
      c("Every entry of {.arg ratings} is observed: the availability metrics {.field rmse_shift} and {.field rmse_shift_floor} are {.code NA}.",
        i = "They average over the normal users' unseen entries, and there are none."
      ),
      class = "cfpoison_warning_undefined",
      call = call
    )
  }
  rmse_shift <- function(fit) if (n_unseen == 0) NA_real_ else sqrt(max(at(fit, c(1, 0)), 0) / n_unseen)
  target_rating <- function(fit) {
    if (length(target_index) == 0L) {
      return(NA_real_)
    }
    mean(average_predictions(fit)[target_index])
  }
  hit_ratio <- function(fit) {
    if (length(target_index) == 0L) {
      return(NA_real_)
    }
    mean(metrics$hit_ratio(fit, target_index, top_n))
  }
  utility <- if (is.null(attack$utility)) {
    NA_real_
  } else {
    spec <- utility_spec(attack$utility, ratings, call = call)
    at(poisoned, attack$utility$mu, spec$targets, spec$weights)
  }
  data.frame(
    method = attack$method,
    # A filtered learner (learner_filtered()) counts the fake users it kept.
    n_fake_users = length(attack$fake$user_ids) - sum(poisoned$dropped$is_fake),
    alpha = attack$budget[["alpha"]] %||% NA_real_,
    rmse_shift = rmse_shift(poisoned),
    rmse_shift_floor = rmse_shift(floor_fit),
    test_rmse_clean = if (is.null(test)) NA_real_ else rmse(reference, test),
    test_rmse_poisoned = if (is.null(test)) NA_real_ else rmse(poisoned, test),
    target_rating_clean = target_rating(reference),
    target_rating_poisoned = target_rating(poisoned),
    hit_ratio_clean = hit_ratio(reference),
    hit_ratio_poisoned = hit_ratio(poisoned),
    utility = utility,
    refit_converged = poisoned$converged,
    attack_seconds = attack_seconds(attack),
    evaluation_seconds = proc.time()[["elapsed"]] - started
  )
}

# What measure_attack() measures on a fit, against `reference` and the
# normal users' observed entries of `ratings`: `utility(fit, mu, targets,
# weights)` (Eq. 7-9, targets 0-based as utility_spec() gives them) and
# `hit_ratio(fit, targets, top_n)` (one share per target, targets 1-based;
# see evaluate_attack()). The package's fits are measured in
# factored form by the C++ core; an external fit has only predictions, so
# its metrics are the same sums over the m x n matrix of the normal users'
# predictions.
fit_metrics <- function(ratings, reference, threads) {
  if (inherits(reference, "cf_fit_external")) {
    return(dense_metrics(ratings, external_predictions(reference)))
  }
  reference_factors <- prediction_factors(reference)
  observed <- core_ratings(ratings)
  list(
    utility = function(fit, mu, targets = integer(0), weights = numeric(0)) {
      current <- prediction_factors(fit)
      .utility_at(
        observed, current$user, current$item, reference_factors$user, reference_factors$item, mu[1], mu[2],
        targets, weights, threads
      )$value
    },
    hit_ratio = function(fit, targets, top_n) {
      factors <- prediction_factors(fit)
      .hit_ratio(observed, factors$user, factors$item, targets - 1L, top_n, threads)
    }
  )
}

# fit_metrics() from predictions: `reference` is the m x n matrix of the
# normal users' predictions by the reference.
dense_metrics <- function(ratings, reference) {
  rated <- matrix(FALSE, nrow(reference), ncol(reference))
  rated[cbind(ratings$user, ratings$item)] <- TRUE
  list(
    utility = function(fit, mu, targets = integer(0), weights = numeric(0)) {
      predictions <- external_predictions(fit)
      value <- 0
      # Eq. 7: the squared change summed over the unseen entries.
      if (mu[1] != 0) value <- mu[1] * sum((predictions - reference)[!rated]^2)
      # Eq. 8: the targets' weighted predictions summed over the normal users.
      if (mu[2] != 0) value <- value + mu[2] * sum(weights * colSums(predictions[, targets + 1L, drop = FALSE]))
      value
    },
    hit_ratio = function(fit, targets, top_n) {
      predictions <- external_predictions(fit)
      vapply(targets, function(target) {
        eligible <- !rated[, target]
        if (!any(eligible)) {
          return(NaN)
        }
        scores <- predictions[eligible, , drop = FALSE]
        # Unrated items scored at least the target's (ties count against
        # it), less the target itself.
        better <- rowSums(scores >= scores[, target] & !rated[eligible, , drop = FALSE]) - 1L
        mean(better < top_n)
      }, numeric(1))
    }
  )
}

# Each item's predicted rating averaged over the normal users.
average_predictions <- function(fit) {
  if (inherits(fit, "cf_fit_external")) {
    return(colMeans(external_predictions(fit)))
  }
  factors <- prediction_factors(fit)
  as.vector(factors$item %*% colMeans(factors$user))
}

# The learner evaluate_attack() refits; baseline attacks and hand-built fake
# users were computed against none.
check_refit_learner <- function(learner, attack, call = rlang::caller_env()) {
  if (is.null(learner)) {
    what <- if (identical(attack$method, "custom")) "Fake users built by hand come" else "This attack comes"
    cfp_abort(
      c("{what} without a learner: give {.arg learner}.",
        i = "Pass the learner to refit, e.g. {.code learner = learner_als(rank = 10, lambda_u = 5)}."
      ),
      "value",
      call = call
    )
  }
  check_learner(learner, call = call)
}

# The learner under evaluate_attack()'s protocol: its stopping rule replaced
# by `refit_sweeps` and `refit_tol` (by default evaluate_attack()'s defaults),
# its sweeps accelerated. An external learner has no stopping rule to replace.
refit_learner <- function(learner, refit_sweeps = formals(evaluate_attack)$refit_sweeps,
                          refit_tol = formals(evaluate_attack)$refit_tol, call = rlang::caller_env()) {
  refit_sweeps <- check_count(refit_sweeps, min = 1, call = call)
  refit_tol <- check_number(refit_tol, min = 0, call = call)
  if (is_external(learner)) {
    return(learner)
  }
  learner$max_iter <- refit_sweeps
  learner$tol <- refit_tol
  accelerated(learner)
}

# The learner with its alternating minimization Anderson-accelerated (memory
# refit_anderson; see fit_als() in inst/include/cfpoison/als.hpp): the
# package's refits to a tolerance, which measure a learner's converged model,
# stop near it in about half the sweeps (see evaluate_attack()'s Details). A
# user's own fit_cf() sweeps plainly.
accelerated <- function(learner) {
  learner$anderson <- refit_anderson
  learner
}
refit_anderson <- 5L

# The seed of the item factors the package's own clean fit starts from.
clean_seed <- 1L

# The clean model the package fits when the user gave none (see
# evaluate_attack(), step 1): seeded, so that identical calls agree, and under
# the default protocol, so that it is settled enough to measure against.
default_clean_fit <- function(learner, ratings, threads, refit) {
  with_seed(clean_seed, refit("clean fit", ratings, refit_learner(learner), threads = threads))
}

# The reference of evaluate_attack() (step 2): `clean`, or the package's own
# clean fit, refitted on `ratings` under `protocol`.
protocol_reference <- function(clean, protocol, ratings, threads, arg = "clean", refit = refitter(NULL, call),
                               call = rlang::caller_env()) {
  start <- clean_fit(clean, protocol, ratings, threads, arg = arg, refit = refit, call = call)
  reference_refit(start, protocol, ratings, threads, refit)
}

# `start` refitted on `ratings` under `protocol`; an external learner's own
# fit of these ratings is already its reference (its refit would be the same).
reference_refit <- function(start, protocol, ratings, threads, refit, what = "reference refit") {
  if (is_own_clean_fit(start, protocol, ratings)) {
    return(start)
  }
  refit(what, ratings, protocol, init = start, threads = threads)
}

#' Pick target items the way the paper does
#'
#' Section 5 attacks "one item j0 selected randomly from all items whose
#' average predicted ratings are around 0.8". This draws `n` items among those
#' whose average predicted rating over the normal users lies within
#' `tolerance` of `near` (the `n` closest ones when fewer qualify).
#'
#' @param fit A clean `cf_fit`.
#' @param n Number of targets.
#' @param near,tolerance The window of average predicted ratings.
#' @param min_ratings Only consider items with at least this many ratings in
#'   `ratings`, so the target is a real, rated item.
#' @param ratings The ratings `fit` was fitted on, for `min_ratings` (needed
#'   when it is positive).
#' @param seed Optional seed.
#' @return A vector of `n` distinct item ids (elements of `fit$item_ids`).
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.2, seed = 1)
#' fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 1))
#' select_targets(fit, near = 0.5, seed = 1)
#' @export
select_targets <- function(fit, n = 1, near = 0.8, tolerance = 0.05, min_ratings = 0, ratings = NULL, seed = NULL) {
  if (!inherits(fit, "cf_fit")) {
    cfp_abort("{.arg fit} must be a {.cls cf_fit}.", "type")
  }
  n <- check_count(n, min = 1, max = length(fit$item_ids))
  check_number(near)
  check_number(tolerance, min = 0)
  check_number(min_ratings, min = 0)
  average <- average_predictions(fit)
  if (!is.null(ratings)) {
    check_ratings(ratings)
    if (!identical(ratings$item_ids, fit$item_ids)) {
      cfp_abort(
        c("{.arg ratings} must rate the same items as {.arg fit}.",
          i = "Give the ratings {.arg fit} was fitted on."
        ),
        "shape"
      )
    }
  }
  eligible <- seq_along(average)
  if (min_ratings > 0) {
    if (is.null(ratings)) {
      cfp_abort(
        c("{.arg min_ratings} counts ratings in {.arg ratings}, which is {.code NULL}.",
          i = "Give the ratings {.arg fit} was fitted on, or leave {.arg min_ratings} at 0."
        ),
        "missing"
      )
    }
    eligible <- which(tabulate(ratings$item, length(fit$item_ids)) >= min_ratings)
  }
  if (length(eligible) < n) {
    cfp_abort(
      c("Only {length(eligible)} item{?s} {?has/have} {min_ratings} or more ratings: {n} target{?s} can't be drawn.",
        i = "Lower {.arg min_ratings} or {.arg n}."
      ),
      "value"
    )
  }
  close <- eligible[abs(average[eligible] - near) <= tolerance]
  if (length(close) < n) close <- eligible[order(abs(average[eligible] - near))][seq_len(n)]
  chosen <- with_seed(seed, close[sample.int(length(close), n)])
  fit$item_ids[chosen]
}
