# tidy() and glance() (the generics package's generics, as in broom): fits,
# attacks and t-tests as tibbles.

#' @importFrom generics tidy
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' Tidy summaries of a fitted model
#'
#' `tidy()` describes the fitted rating matrix component by component: the
#' singular values of the predictions \eqn{\hat M = U V^\top} (\eqn{U
#' \mathrm{diag}(d) V^\top} for the nuclear norm) over every user the model
#' was fitted on, fake users included. Alternating minimization's factors are
#' not orthogonal, so their columns are no components; the singular values
#' are, for every learner: how many directions the model uses and how much
#' each carries. For a nuclear-norm fit they are `d`; for a bagged fit,
#' those of the bags' average. They come from QR decompositions of the
#' factors: no users x items matrix is formed.
#'
#' `glance()` gives the fit in one row, from `summary()` of the fit and
#' the learner's settings.
#'
#' @param x A `cf_fit` from [fit_cf()].
#' @param ratings For `glance()`: optional ratings over the fit's users and
#'   items (those it was fitted on, for the training RMSE).
#' @param ... Unused; for compatibility with the generics.
#' @return `tidy()`: a tibble with one row per component, largest first, as
#'   many as the factors have columns (at most the number of users or items).
#'   \describe{
#'     \item{`component`}{1, 2, ... (integer).}
#'     \item{`singular_value`}{The component's singular value \eqn{s_k};
#'       their squares sum to the sum of the squared predictions.}
#'     \item{`share`}{Its share of \eqn{\|\hat M\|_F^2}, the sum of the
#'       squared predictions: \eqn{s_k^2 / \sum_l s_l^2} (`NA` when every
#'       prediction is 0).}
#'     \item{`cumulative_share`}{The share of components 1 to this one.}
#'   }
#'
#'   `glance()`: a one-row tibble.
#'   \describe{
#'     \item{`learner`}{`"als"` or `"nuclear"` (the base learner of a bagged
#'       fit).}
#'     \item{`loss`}{`"squared"` or `"huber"`.}
#'     \item{`rank`}{The factors' rank; for the nuclear norm, the number of
#'       positive singular values.}
#'     \item{`lambda_u`, `lambda_v`}{Alternating minimization's penalties
#'       (Eq. 2); `NA` for the nuclear norm.}
#'     \item{`lambda`}{The nuclear-norm weight (Eq. 3); `NA` for alternating
#'       minimization.}
#'     \item{`biases`}{Whether the model fits biases
#'       (`learner_als(biases = TRUE)`).}
#'     \item{`lambda_bias`}{The biases' penalty; `NA` without biases.}
#'     \item{`n_bags`}{Bootstrap bags of a bagged fit; `NA` otherwise.}
#'     \item{`n_users`, `n_fake_users`, `n_items`}{The real users, the fake
#'       users and the items the model was fitted on.}
#'     \item{`n_ratings`, `n_fake_ratings`}{The real and the fake users'
#'       ratings it was fitted on.}
#'     \item{`sweeps`}{Alternating sweeps run (summed over the bags).}
#'     \item{`converged`}{Whether the fit met the learner's `tol` (every bag
#'       did, for a bagged fit).}
#'     \item{`objective`}{The objective at the fit, as [objective()].}
#'     \item{`train_rmse`}{The RMSE of the fit on `ratings` ([rmse()]), in
#'       rating units; `NA` without `ratings`.}
#'     \item{`seconds`}{Seconds the fit took.}
#'   }
#' @examples
#' r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
#' fit <- fit_cf(r, learner_als(rank = 3, lambda_u = 1), seed = 1)
#' tidy(fit)
#' glance(fit, ratings = r)
#' @export
tidy.cf_fit <- function(x, ...) {
  singular_value <- fit_singular_values(x)
  total <- sum(singular_value^2)
  share <- if (total > 0) singular_value^2 / total else rep(NA_real_, length(singular_value))
  tibble::tibble(
    component = seq_along(singular_value), singular_value = singular_value, share = share,
    cumulative_share = cumsum(share)
  )
}

#' @rdname tidy.cf_fit
#' @export
glance.cf_fit <- function(x, ratings = NULL, ...) {
  overview <- summary(x)
  # Exact names: `$lambda` would match an ALS learner's lambda_u and lambda_v.
  setting <- function(name, missing) x$learner[[name]] %||% missing
  tibble::tibble(
    learner = if (inherits(x$learner, "cf_learner_nuclear")) "nuclear" else "als",
    loss = setting("loss", "squared"),
    rank = overview$rank,
    lambda_u = setting("lambda_u", NA_real_),
    lambda_v = setting("lambda_v", NA_real_),
    lambda = setting("lambda", NA_real_),
    biases = is_biased(x$learner),
    lambda_bias = setting("lambda_bias", NA_real_),
    n_bags = setting("n_bags", NA_integer_),
    n_users = overview$n_users,
    n_fake_users = overview$n_fake_users,
    n_items = overview$n_items,
    n_ratings = x$n_ratings,
    n_fake_ratings = x$n_fake_ratings,
    sweeps = overview$iterations,
    converged = overview$converged,
    objective = overview$objective,
    train_rmse = if (is.null(ratings)) NA_real_ else rmse(x, ratings),
    seconds = overview$seconds
  )
}

# Singular values of a fit's predictions over all its users (real, then fake):
# with X = Q_X R_X for the user and the item factors, U V' = Q_U (R_U R_V') Q_V',
# whose singular values are those of the small R_U R_V'.
fit_singular_values <- function(fit) {
  # Over every user the model was fitted on, fake users included.
  fit$u <- rbind(fit$u, fit$fake_u)
  fit$user_ids <- c(fit$user_ids, fit$fake_user_ids)
  factors <- prediction_factors(fit)
  triangle <- function(x) {
    decomposition <- qr(x)
    qr.R(decomposition)[, order(decomposition$pivot), drop = FALSE]
  }
  svd(triangle(factors$user) %*% t(triangle(factors$item)), nu = 0, nv = 0)$d
}

#' Tidy summaries of an attack
#'
#' `tidy()` gives the fake users' ratings, `glance()` the attack in one row:
#' `summary()` of the attack, which gives the columns below but `utility_kind`,
#' `utility_best` and `seed`, with those three added.
#'
#' @param x A `cf_attack` (from a `poison_*()` function).
#' @param ... Unused; for compatibility with the generics.
#' @return `tidy()`: a tibble with one row per fake rating, the rows of
#'   `as.data.frame(x)` (by fake user, then item).
#'   \describe{
#'     \item{`user`}{The fake user's id.}
#'     \item{`item`}{The item's id, as in the ratings' `item_ids`.}
#'     \item{`rating`}{The fake rating.}
#'   }
#'
#'   `glance()`: a one-row tibble.
#'   \describe{
#'     \item{`method`}{The attack (`"pga"`, `"sgld"`, `"structured"`,
#'       `"uniform"`, a shilling baseline, or `"custom"`).}
#'     \item{`n_fake_users`, `n_fake_ratings`}{Fake users and their ratings.}
#'     \item{`alpha`, `items_per_user`, `max_rating`}{The budget: fake users
#'       per real user, B (the most items a fake user rates) and
#'       \eqn{\Lambda}; `NA` without a budget.}
#'     \item{`utility_kind`}{`"availability"`, `"integrity"` or `"hybrid"`
#'       (Eq. 7-9); `NA` for attacks without a utility.}
#'     \item{`mu_1`, `mu_2`}{The utility's \eqn{\mu}.}
#'     \item{`iterations`}{Steps of the attack's loop (0 without a trace).}
#'     \item{`utility_start`, `utility_end`}{The utility in the loop at the
#'       start and after the last step (the loop's short refits: an
#'       estimate). For the default PGA search, the trace's: that of its
#'       first search, whose result need not be the one returned.}
#'     \item{`utility_best`}{The largest utility in the loop (SGLD, a
#'       sampler, returns its last sample, not the best one).}
#'     \item{`converged_utility`}{For the default PGA search, the utility of
#'       the returned fake users refitted under [evaluate_attack()]'s
#'       stopping rule; `NA` for other attacks.}
#'     \item{`seconds`}{Seconds the attack's call took (as
#'       [evaluate_attack()]'s `attack_seconds`); `NA` for attacks that do
#'       not record them.}
#'     \item{`seed`}{The attack's seed (integer); `NA` when none was given.}
#'   }
#'   The `utility_*` columns are `NA` for attacks without a trace.
#' @examples
#' r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
#' attack <- poison_pga(r, learner_als(rank = 2, lambda_u = 1), utility_availability(),
#'   attack_budget(alpha = 0.05, items_per_user = 5), max_iter = 3, seed = 1
#' )
#' tidy(attack)
#' glance(attack)
#' @export
tidy.cf_attack <- function(x, ...) {
  tibble::as_tibble(as.data.frame(x))
}

#' @rdname tidy.cf_attack
#' @export
glance.cf_attack <- function(x, ...) {
  overview <- tibble::as_tibble(summary(x))
  trace <- x$trace
  overview <- tibble::add_column(overview,
    utility_kind = if (is.null(x$utility)) NA_character_ else utility_kind(x$utility),
    .after = "max_rating"
  )
  overview <- tibble::add_column(overview,
    utility_best = if (is.null(trace) || nrow(trace) == 0L) NA_real_ else max(trace$utility),
    .after = "utility_end"
  )
  overview$seed <- as.integer(x[["seed"]] %||% NA_integer_)
  overview
}

#' Tidy a paired t-test
#'
#' [detect_ttest()]'s test in one row, as `as.data.frame()` gives it; `tidy()`
#' and `glance()` agree, as broom's do for a test.
#'
#' @param x A `cf_ttest` from [detect_ttest()].
#' @param ... Unused; for compatibility with the generics.
#' @return A one-row tibble.
#'   \describe{
#'     \item{`statistic`}{The t statistic.}
#'     \item{`p_value`}{Its two-sided p-value.}
#'     \item{`estimate`}{The mean paired difference, normal minus fake: a
#'       share of users (`"frequency"`) or a rating (`"mean"`).}
#'     \item{`n_pairs`}{The number of pairs (items).}
#'     \item{`reading`}{`"frequency"` or `"mean"`.}
#'   }
#' @examples
#' r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)
#' tidy(detect_ttest(r, attack))
#' @export
tidy.cf_ttest <- function(x, ...) {
  tibble::as_tibble(as.data.frame(x))
}

#' @rdname tidy.cf_ttest
#' @export
glance.cf_ttest <- function(x, ...) {
  tidy.cf_ttest(x)
}
