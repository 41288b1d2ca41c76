# Measuring an attack: refit on the poisoned data and compare with the clean model.

#' Evaluate an attack
#'
#' Refits `learner` on the real ratings plus the attack's fake users and
#' measures what changed, against the clean model `clean`:
#'
#' * `rmse_shift`: the paper's RMSE (footnote 2), predictions after poisoning
#'   against the clean model's on the normal users' unseen entries,
#'   \eqn{\sqrt{R^{av} / |\Omega^C|}}, in factored form.
#' * `rmse_shift_floor`: the same metric for a clean refit under the same
#'   protocol. Alternating minimization is non-convex and slow to converge, so
#'   both refits start from the clean model's factors and run to the same
#'   tolerance; the floor says how much of `rmse_shift` the protocol alone
#'   produces (for the convex nuclear-norm learner it is near 0).
#' * `test_rmse_clean`, `test_rmse_poisoned`: RMSE on held-out `test` ratings.
#' * `target_rating_clean`, `target_rating_poisoned`: the targets' average
#'   predicted rating over the normal users (Figure 1 c, d), averaged over targets.
#' * `hit_ratio_clean`, `hit_ratio_poisoned`: share of the normal users who have
#'   not rated a target and find it in their top 10 unrated items.
#' * `utility`: the attack's utility at the converged poisoned model.
#'
#' Target metrics are `NA` without targets (an availability attack).
#'
#' @param attack A `cf_attack`.
#' @param ratings The real users' ratings the attack was computed on.
#' @param learner The learner to refit; defaults to the attack's.
#' @param test Optional held-out `cf_ratings` over the same users and items.
#' @param targets Target item ids; defaults to the attack's.
#' @param clean The clean model; defaults to the attack's (or a fresh fit).
#' @param max_iter,tol The refits' stopping rule (sweeps, relative objective change).
#' @param top_n List length of the hit ratio.
#' @param threads Number of OpenMP threads.
#' @param floor The clean refit behind `rmse_shift_floor`: `learner` refitted
#'   on `ratings` from `clean` under the same `max_iter` and `tol`. It is the
#'   same for every attack on these data, so pass it when evaluating many
#'   (as [attack_grid()] does); `NULL` fits it here.
#' @return A one-row data frame.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, n_items = 10), seed = 1)
#' evaluate_attack(attack, r, learner, targets = 5)
#' @export
evaluate_attack <- function(attack, ratings, learner = attack$learner, test = NULL, targets = NULL,
                            clean = attack$clean, max_iter = 500, tol = 1e-7, top_n = 10,
                            threads = getOption("cfpoison.threads", 1L), floor = NULL) {
  started <- proc.time()[["elapsed"]]
  if (!inherits(attack, "cf_attack")) {
    cfp_abort("{.arg attack} must be a {.cls cf_attack} from a {.code poison_*()} function.", "type")
  }
  check_ratings(ratings)
  if (is.null(learner)) {
    cfp_abort("This attack was not computed against a learner: give {.arg learner}.", "value")
  }
  check_learner(learner)
  threads <- check_threads(threads)
  top_n <- check_count(top_n, min = 1)
  if (!is.null(test)) check_ratings(test)
  fake_users(attack, ratings)
  # Exact names: `$targets` would partially match PGA's `targets_in_support`.
  targets <- targets %||% attack$utility[["items"]] %||% attack$settings[["targets"]]
  target_index <- target_indices(targets, ratings)

  tight <- refit_learner(learner, max_iter, tol)
  clean <- clean_fit(clean, learner, ratings, threads)
  floor_fit <- if (is.null(floor)) {
    protocol_floor(learner, ratings, clean, max_iter, tol, threads)
  } else {
    clean_fit(floor, learner, ratings, threads, arg = "floor")
  }
  poisoned <- fit_cf(tight, ratings, fake = attack$fake, init = clean, threads = threads)

  reference <- prediction_factors(clean)
  at <- function(fit, mu, targets = integer(0), weights = numeric(0)) {
    current <- prediction_factors(fit)
    .utility_at(
      ratings$user - 1L, ratings$item - 1L, current$user, current$item, reference$user, reference$item,
      mu[1], mu[2], targets, weights, threads
    )$value
  }
  n_unseen <- prod(dim(ratings)) - length(ratings$rating)
  rmse_shift <- function(fit) sqrt(max(at(fit, c(1, 0)), 0) / n_unseen)
  target_rating <- function(fit) {
    factors <- prediction_factors(fit)
    if (length(target_index) == 0L) {
      return(NA_real_)
    }
    mean(colMeans(factors$user) %*% t(factors$item[target_index, , drop = FALSE]))
  }
  hit_ratio <- function(fit) {
    if (length(target_index) == 0L) {
      return(NA_real_)
    }
    factors <- prediction_factors(fit)
    mean(.hit_ratio(ratings$user - 1L, ratings$item - 1L, factors$user, factors$item, target_index - 1L, top_n, threads))
  }
  utility <- if (is.null(attack$utility)) {
    NA_real_
  } else {
    spec <- utility_spec(attack$utility, ratings)
    at(poisoned, attack$utility$mu, spec$targets, spec$weights)
  }
  data.frame(
    method = attack$method,
    n_fake_users = length(attack$fake$user_ids),
    alpha = attack$budget$alpha,
    rmse_shift = rmse_shift(poisoned),
    rmse_shift_floor = rmse_shift(floor_fit),
    test_rmse_clean = if (is.null(test)) NA_real_ else rmse(clean, test),
    test_rmse_poisoned = if (is.null(test)) NA_real_ else rmse(poisoned, test),
    target_rating_clean = target_rating(clean),
    target_rating_poisoned = target_rating(poisoned),
    hit_ratio_clean = hit_ratio(clean),
    hit_ratio_poisoned = hit_ratio(poisoned),
    utility = utility,
    refit_converged = poisoned$converged,
    attack_seconds = if (is.null(attack$trace)) NA_real_ else attack$trace$seconds[nrow(attack$trace)],
    evaluation_seconds = proc.time()[["elapsed"]] - started
  )
}

# The learner as evaluate_attack() refits it: to a stated tolerance, from the clean model.
refit_learner <- function(learner, max_iter, tol, call = rlang::caller_env()) {
  learner$max_iter <- check_count(max_iter, min = 1, call = call)
  learner$tol <- check_number(tol, min = 0, call = call)
  learner
}

# The noise floor's clean refit under evaluate_attack()'s protocol (its
# defaults unless told otherwise); the same for every attack on `ratings`.
protocol_floor <- function(learner, ratings, clean, max_iter = formals(evaluate_attack)$max_iter,
                           tol = formals(evaluate_attack)$tol, threads = 1L) {
  fit_cf(refit_learner(learner, max_iter, tol), ratings, init = clean, threads = threads)
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
#'   `ratings` (when given), so the target is a real, rated item.
#' @param ratings Optional ratings for `min_ratings`.
#' @param seed Optional seed.
#' @return Item ids.
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.2, seed = 1)
#' fit <- fit_cf(learner_als(rank = 2, lambda_u = 1), r)
#' select_targets(fit, near = 0.5, seed = 1)
#' @export
select_targets <- function(fit, n = 1, near = 0.8, tolerance = 0.05, min_ratings = 0, ratings = NULL, seed = NULL) {
  if (!inherits(fit, "cf_fit")) {
    cfp_abort("{.arg fit} must be a {.cls cf_fit}.", "type")
  }
  n <- check_count(n, min = 1, max = length(fit$item_ids))
  check_number(near)
  check_number(tolerance, min = 0)
  factors <- prediction_factors(fit)
  average <- as.vector(factors$item %*% colMeans(factors$user))
  eligible <- seq_along(average)
  if (!is.null(ratings) && min_ratings > 0) {
    check_ratings(ratings)
    eligible <- which(tabulate(ratings$item, length(fit$item_ids)) >= min_ratings)
  }
  close <- eligible[abs(average[eligible] - near) <= tolerance]
  if (length(close) < n) close <- eligible[order(abs(average[eligible] - near))][seq_len(n)]
  chosen <- with_seed(seed, close[sample.int(length(close), n)])
  fit$item_ids[chosen]
}
