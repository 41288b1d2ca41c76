# Detect-then-fit as a learner: a defence that attacks can be computed through.

#' Filter-then-fit learner (a defence)
#'
#' Wraps `learner` in a detector: every fit first scores all users of the
#' data it is given (real and fake alike: the defender cannot tell them
#' apart) with `detector`, drops the `n` most suspicious as [defend_filter()]
#' does, and fits `learner` on the rest. Dropped users do not shape the
#' model; the real ones among them are then served as a new user is: their
#' factors are the ridge solve of Eq. 2's user step given the fitted item
#' factors (squared loss; for the nuclear norm on the balanced factors), so
#' that the filter's cost and an attack's effect measure the model, not
#' missing predictions. Give it to [evaluate_attack()] or
#' [evaluate_defence()] as the victim, and to [poison_pga()] to compute the
#' attack *through* the filter:
#'
#' **The adaptive attack.** `poison_pga(ratings, learner_filtered(...), ...)`
#' attacks `learner` fitted on the real users the filter keeps on the clean
#' data, with a penalty that keeps every fake user's detector statistic
#' below the filter's cut-off: the score of the \eqn{(n + m')}-th most
#' suspicious real user, for m' fake users, so that m' real users stand
#' between the fake ones and the n dropped. The penalty is the stealth
#' penalty of [poison_pga()] restricted to that statistic, with its
#' threshold at the cut-off and weight 100 (in units of the utility's
#' scale), so that crossing it costs far more than it gains; with a positive
#' `stealth` the stealth penalty's lower thresholds (the normal users'
#' medians) apply instead. The detectors an attack can be computed through are those
#' the penalty differentiates: `"rdma"`, `"wdma"` and `"popularity"`.
#'
#' **Measuring.** A filter that drops exactly n users moves the model even
#' when it catches every fake user: each one caught spares a real user it
#' dropped on the clean data, and that user's ratings now shape the fit. So
#' [evaluate_attack()]'s noise floor for a filtered learner refits the real
#' users the poisoned fit kept, without the fake users: the floor holds the
#' shift of the displaced real users, and what the fake users add on top is
#' about \eqn{\sqrt{shift^2 - floor^2}}.
#'
#' @param learner The base learner: `learner_als()` or `learner_nuclear()`.
#' @param detector The suspicion score: a column of [detect_features()]
#'   (`"rdma"`, `"wdma"`, `"wda"`, `"length"`, `"length_var"`, `"mean_var"`,
#'   `"degsim"`, `"popularity"`) or `"pca"` ([detect_pca()]'s suspicion);
#'   higher is more suspicious. Default `"rdma"`.
#' @param n Number of users dropped before each fit.
#' @return A `cf_learner_filtered` specification: the base learner's
#'   settings plus `detector` and `n`; its fits (class `cf_fit`) add
#'   `dropped`, [defend_filter()]'s table of the users dropped.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' filtered <- learner_filtered(learner, "rdma", n = 8)
#' filtered
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' attack <- poison_uniform(r, budget, seed = 1)
#' fit <- fit_cf(r, filtered, attack = attack)
#' fit$dropped
#' # The attack computed through the filter.
#' through <- poison_pga(r, filtered, utility_availability(), budget, max_iter = 4, seed = 1)
#' @export
learner_filtered <- function(learner, detector = c("rdma", "wdma", "wda", "length", "length_var", "mean_var", "degsim",
                                                  "popularity", "pca"), n) {
  check_learner(learner)
  if (inherits(learner, c("cf_learner_bagged", "cf_learner_filtered")) || is_external(learner)) {
    cfp_abort(
      c("{.arg learner} must be a base learner, not {.obj_type_friendly {learner}}.",
        i = "Filter {.fn learner_als} or {.fn learner_nuclear}."
      ),
      "value"
    )
  }
  detector <- cfp_arg_match(detector)
  check_required(n)
  learner$detector <- detector
  learner$n <- check_count(n, min = 0)
  class(learner) <- c("cf_learner_filtered", class(learner))
  learner
}

#' @export
print.cf_learner_filtered <- function(x, ...) {
  cat_line("{.cls cf_learner_filtered}: drops the {x$n} user{?s} of highest {.field {x$detector}}, then fits")
  print(filtered_base(x))
  invisible(x)
}

filtered_base <- function(learner) {
  unwrap_learner(learner, "cf_learner_filtered", c("detector", "n", "drop"))
}

# Every user's suspicion under the filter's detector: the real users of
# `ratings`, then the fake users of `fake` (NULL: none).
filter_scores <- function(learner, ratings, fake, threads = 1L) {
  if (learner$detector == "pca") {
    return(detect_pca(ratings, fake, threads = threads)$suspicion)
  }
  detect_features(ratings, fake, threads = threads)[[learner$detector]]
}

# fit_cf() for a filtered learner: the base learner on the users the filter
# keeps (see learner_filtered()).
fit_filtered <- function(learner, ratings, fake, init, seed, threads, on_step = NULL, call = rlang::caller_env()) {
  if (learner$n > length(ratings$user_ids) + length(fake$user_ids)) {
    cfp_abort(
      "The filter drops {learner$n} users, but the data have only {length(ratings$user_ids) + length(fake$user_ids)}.",
      "value",
      call = call
    )
  }
  # Fixed decisions (same_filter()) drop exactly the users in `drop`.
  kept <- if (is.null(learner$drop)) {
    defend_filter(ratings, fake, filter_scores(learner, ratings, fake, threads), learner$n)
  } else {
    scores <- c(ratings$user_ids %in% learner$drop, rep(FALSE, length(fake$user_ids)))
    defend_filter(ratings, fake, as.numeric(scores), sum(scores))
  }
  fake_kept <- if (!is.null(fake) && length(kept$fake$user_ids) > 0L) kept$fake
  base <- filtered_base(learner)
  fit <- fit_model(kept$ratings, base, fake_kept, init, seed, threads, on_step, call = call)
  dropped_real <- match(kept$dropped$user[!kept$dropped$is_fake], as.character(ratings$user_ids))
  fit$u[dropped_real, ] <- fold_in(fit, ratings, dropped_real, base)
  fit$learner <- learner
  fit$dropped <- kept$dropped
  fit
}

# `learner` with the filter decisions of `fit` on the real users fixed (its
# `drop`, the real users it dropped), for evaluate_attack()'s floor: the
# poisoned data's filtering without the fake users. Other learners as they are.
same_filter <- function(learner, fit) {
  if (!inherits(learner, "cf_learner_filtered")) {
    return(learner)
  }
  learner$drop <- fit$dropped$user[!fit$dropped$is_fake]
  learner
}

# Factors of `users` (rows of `ratings`) given the fit's item factors, as a
# new user is served: the ridge solve of Eq. 2's user step (for a nuclear fit
# on its balanced factors V diag(sqrt(d)), penalty lambda, then expressed in
# the fit's u, whose products with diag(d) V' are the predictions; for a
# biased fit [u, b] against [v_j, 1] with target r - mu - c_j, returned as
# [u, b, 1, mu]).
fold_in <- function(fit, ratings, users, learner) {
  items <- fit$v
  if (!is.null(fit$d)) items <- sweep(items, 2, sqrt(fit$d), `*`)
  ridge <- 2 * factor_penalties(learner)[["lambda_u"]]
  offset <- numeric(nrow(items))
  biased <- is_biased(learner)
  if (biased) {
    columns <- biased_columns(fit$rank)
    mean <- fit$u[1L, columns$mean]
    offset <- items[, columns$item_bias] + mean
    items <- items[, c(columns$latent, columns$user_bias), drop = FALSE]
    ridge <- c(rep(ridge, fit$rank), 2 * learner$lambda_bias)
  }
  ridge <- diag(ridge, ncol(items))
  out <- matrix(0, length(users), ncol(items))
  for (row in seq_along(users)) {
    rated <- ratings$user == users[row]
    v <- items[ratings$item[rated], , drop = FALSE]
    out[row, ] <- solve(crossprod(v) + ridge, crossprod(v, ratings$rating[rated] - offset[ratings$item[rated]]))
  }
  if (biased) out <- cbind(out, 1, mean, deparse.level = 0)
  if (!is.null(fit$d)) {
    # u d = a' diag(sqrt(d)): u = a / sqrt(d) where d > 0, 0 elsewhere.
    out <- sweep(out, 2, ifelse(fit$d > 0, 1 / sqrt(pmax(fit$d, 1e-300)), 0), `*`)
  }
  out
}

# An attack through a filtered learner (see learner_filtered()): the real
# users the filter keeps on the clean data, the base learner, and the
# penalty's threshold on the detector's statistic, the suspicion of the
# (n + m')-th most suspicious real user.
filter_route <- function(ratings, learner, n_fake, threads, call = rlang::caller_env()) {
  if (!learner$detector %in% c("rdma", "wdma", "popularity")) {
    cfp_abort(
      c("An attack through {.fn learner_filtered} keeps its fake users below the cut-off of the detector's statistic,
         which it can do for {.val rdma}, {.val wdma} and {.val popularity}, not {.val {learner$detector}}.",
        i = "Compute the attack on the base learner with {.code poison_pga(..., stealth = 1)} and measure it on the filter."
      ),
      "value",
      call = call
    )
  }
  scores <- filter_scores(learner, ratings, NULL, threads)
  kept <- defend_filter(ratings, NULL, scores, learner$n)
  rank <- min(learner$n + n_fake, length(scores))
  list(
    ratings = kept$ratings,
    learner = filtered_base(learner),
    threshold = stats::setNames(sort(scores, decreasing = TRUE)[rank], learner$detector)
  )
}

# Only poison_pga() computes an attack through a filter; the other attacks
# would silently attack the base learner.
check_not_filtered <- function(learner, call = rlang::caller_env()) {
  if (inherits(learner, "cf_learner_filtered")) {
    cfp_abort(
      c("Only {.fn poison_pga} computes an attack through {.fn learner_filtered}.",
        i = "Use {.fn poison_pga}, or give the base learner and measure the attack on the filter with {.fn evaluate_attack}."
      ),
      "learner",
      call = call
    )
  }
  invisible(learner)
}
