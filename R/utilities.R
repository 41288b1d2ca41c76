# The attack specification: budget (Section 3) and attacker utilities (Eq. 7-9).

#' Attack budget
#'
#' The attacker of Section 3 adds `alpha * m` fake users (rounded down) to the
#' m real ones; each rates at most `items_per_user` (B) items, with ratings in
#' \[-`max_rating`, `max_rating`\] (\[-Lambda, Lambda\]). The paper's experiments
#' use B = 25 and Lambda = 2 (MovieLens shifted to \[-2, 2\]); alpha ranges over
#' 1% to 10%.
#'
#' @param alpha Fake users per real user, in (0, 10]: at most ten fake users per
#'   real one (beyond that the "attack" is a different data set).
#' @param items_per_user B, the most items a fake user rates (paper: 25).
#' @param max_rating Lambda, the bound on fake ratings' absolute values (paper: 2).
#' @return A `cf_budget` object: `alpha`, `items_per_user` and `max_rating`.
#' @examples
#' attack_budget(alpha = 0.03)
#' @export
attack_budget <- function(alpha, items_per_user = 25, max_rating = 2) {
  check_number(alpha, min = 0, max = 10, min_inclusive = FALSE)
  structure(
    list(
      alpha = alpha,
      items_per_user = check_count(items_per_user, min = 1),
      max_rating = check_number(max_rating, min = 0, min_inclusive = FALSE)
    ),
    class = "cf_budget"
  )
}

#' @export
print.cf_budget <- function(x, ...) {
  cat_line(
    "{.cls cf_budget}: alpha = {x$alpha} fake users per real user, ",
    "B = {x$items_per_user} items each, ratings in [-{x$max_rating}, {x$max_rating}]"
  )
  invisible(x)
}

# Fake users the budget allows for m real users, floor(alpha * m); at least one.
# The tolerance keeps floating point from losing one (0.29 * 100 is 28.999...).
n_fake_users <- function(budget, n_users, call = rlang::caller_env()) {
  n_fake <- floor(budget$alpha * n_users + 1e-8)
  if (n_fake < 1) {
    cfp_abort(
      c("{.arg alpha} = {budget$alpha} gives no fake user for {n_users} real users.",
        i = "Raise {.arg alpha} to at least {signif(1 / n_users, 3)}."
      ),
      "value",
      call = call
    )
  }
  as.integer(n_fake)
}

check_budget <- function(budget, ratings, call = rlang::caller_env()) {
  check_required(budget, call = call)
  if (!inherits(budget, "cf_budget")) {
    cfp_abort(
      c("{.arg budget} must be a {.cls cf_budget}, not {.obj_type_friendly {budget}}.",
        i = "Make one with {.fn attack_budget}."
      ),
      "type",
      call = call
    )
  }
  # A budget edited by hand (NA in an if(), a negative sample size).
  check_not_damaged(
    function() attack_budget(budget$alpha, budget$items_per_user, budget$max_rating), "budget", "cf_budget",
    "Make budgets with {.fn attack_budget}, not by editing their fields.",
    call = call
  )
  n <- length(ratings$item_ids)
  if (budget$items_per_user > n) {
    cfp_abort(
      c("The budget lets each fake user rate {budget$items_per_user} items, but there are only {n}.",
        i = "Use {.code attack_budget(items_per_user = )} at most {n}."
      ),
      "value",
      call = call
    )
  }
  invisible(budget)
}

#' Attacker utilities
#'
#' What the attacker maximizes (Section 3), over the m normal users only (the
#' fake users' own predictions are not part of the gain):
#'
#' * `utility_availability()`, Eq. 7: \eqn{R^{av} = \|R_{\Omega^C}(\hat M - \bar M)\|_F^2},
#'   the squared change of the predictions on the unseen entries against the
#'   clean model's predictions \eqn{\bar M}.
#' * `utility_integrity()`, Eq. 8: \eqn{R^{in} = \sum_{i=1}^m \sum_{j \in J_0} w(j) \hat M_{ij}},
#'   the weighted predicted ratings of the target items (negative weights demote).
#' * `utility_hybrid()`, Eq. 9: \eqn{\mu_1 R^{av} + \mu_2 R^{in}}; \eqn{\mu_1 < 0}
#'   leaves a "light trace". The paper's settings are mu = (1, 0), (1, -1),
#'   (0, 1), (-1, 1), (0, -1) and (-1, -1), with one target item and w = 2.
#'
#' All are computed in factored form (no m x n matrix).
#'
#' @param targets Target item ids (J0), as in the ratings' `item_ids`.
#' @param weights w(j): one weight for all targets or one per target (paper: 2).
#' @param mu The pair (mu_1, mu_2).
#' @return A `cf_utility` object: `mu`, `targets` (`NULL` without an
#'   integrity term) and `weights` (one per target).
#' @examples
#' utility_availability()
#' utility_integrity(targets = 50, weights = 2)
#' utility_hybrid(mu = c(-1, 1), targets = 50)
#' @name utilities
NULL

#' @rdname utilities
#' @export
utility_availability <- function() {
  new_utility(c(1, 0), targets = NULL, weights = numeric(0))
}

#' @rdname utilities
#' @export
utility_integrity <- function(targets, weights = 2) {
  check_required(targets)
  new_utility(c(0, 1), targets, weights)
}

#' @rdname utilities
#' @export
utility_hybrid <- function(mu, targets, weights = 2) {
  check_required(mu)
  check_required(targets)
  if (!is.numeric(mu) || length(mu) != 2L || any(!is.finite(mu))) {
    cfp_abort(
      c("{.arg mu} must be two finite numbers {.code c(mu_1, mu_2)}.", x = problem_with_numbers(mu, 2L)),
      "value"
    )
  }
  new_utility(as.double(mu), targets, weights)
}

new_utility <- function(mu, targets, weights, call = rlang::caller_env()) {
  if (mu[2] != 0) {
    if (!is.atomic(targets) || is.logical(targets) || length(targets) == 0L || anyNA(targets) || anyDuplicated(targets)) {
      cfp_abort("{.arg targets} must hold one or more distinct target item ids.", "value", call = call)
    }
    if (!is.numeric(weights) || !length(weights) %in% c(1L, length(targets)) || any(!is.finite(weights))) {
      cfp_abort(
        c("{.arg weights} must be one finite number or one per target item ({length(targets)}).",
          x = problem_with_numbers(weights, c(1L, length(targets)))
        ),
        "value",
        call = call
      )
    }
    weights <- rep_len(as.double(weights), length(targets))
  } else {
    targets <- NULL
    weights <- numeric(0)
  }
  structure(list(mu = mu, targets = targets, weights = weights), class = "cf_utility")
}

# What is wrong with `x` where `lengths` finite numbers were expected.
problem_with_numbers <- function(x, lengths) {
  if (!is.numeric(x)) {
    cli::format_inline("It is {.obj_type_friendly {x}}.")
  } else if (!length(x) %in% lengths) {
    cli::format_inline("It has length {length(x)}.")
  } else {
    "It holds NA, NaN or infinite values."
  }
}

#' @export
print.cf_utility <- function(x, ...) {
  kind <- utility_kind(x)
  equation <- c(availability = "Eq. 7", integrity = "Eq. 8", hybrid = "Eq. 9")[[kind]]
  cat_line("{.cls cf_utility}: {kind} ({equation}), mu = ({x$mu[1]}, {x$mu[2]})")
  if (!is.null(x$targets)) cat_line("  targets {.val {x$targets}} with weights {x$weights}")
  invisible(x)
}

# Which of Eq. 7-9 a utility is: "availability", "integrity" or "hybrid".
utility_kind <- function(utility) {
  if (utility$mu[2] == 0) {
    "availability"
  } else if (utility$mu[1] == 0) {
    "integrity"
  } else {
    "hybrid"
  }
}

check_utility <- function(utility, call = rlang::caller_env()) {
  check_required(utility, call = call)
  if (!inherits(utility, "cf_utility")) {
    cfp_abort(
      c("{.arg utility} must be a {.cls cf_utility}, not {.obj_type_friendly {utility}}.",
        i = "Make one with {.fn utility_availability}, {.fn utility_integrity} or {.fn utility_hybrid}."
      ),
      "type",
      call = call
    )
  }
  invisible(utility)
}

# The utility as the C++ core takes it, with targets as 0-based item indices.
utility_spec <- function(utility, ratings, call = rlang::caller_env()) {
  targets <- target_indices(utility$targets, ratings, call = call)
  list(
    mu_availability = utility$mu[1],
    mu_integrity = utility$mu[2],
    targets = targets - 1L,
    weights = utility$weights
  )
}

target_indices <- function(targets, ratings, arg = rlang::caller_arg(targets), call = rlang::caller_env()) {
  if (is.null(targets)) {
    return(integer(0))
  }
  check_ids(targets, ratings$item_ids, arg = arg, call = call)
  index <- match(targets, ratings$item_ids)
  if (anyNA(index)) {
    missing <- targets[is.na(index)]
    cfp_abort(
      c("{length(missing)} target item{?s} {?is/are} not in the ratings: {.val {utils::head(missing, 5)}}.",
        i = "Targets are item ids from {.code ratings$item_ids}."
      ),
      "value",
      call = call
    )
  }
  index
}
