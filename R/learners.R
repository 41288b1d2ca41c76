# Learner specifications: what to fit, not the fit itself (see fit_cf()).

#' Alternating minimization learner (Eq. 2 and Eq. 4)
#'
#' Specifies the paper's first learner: a rank-`rank` factorization minimizing
#' Eq. 2,
#' \deqn{\|R_\Omega(M - U V^\top)\|_F^2 + 2\lambda_U \|U\|_F^2 + 2\lambda_V \|V\|_F^2,}
#' with fake users appended as extra rows of `U` (Eq. 4). `fit_cf()` solves it
#' by alternating minimization: every sweep solves the exact ridge problem
#' \eqn{(\sum_{j \in \Omega_i} v_j v_j^\top + 2\lambda_U I) u_i = \sum_{j \in \Omega_i} M_{ij} v_j}
#' for each user, then the same for each item, so the objective never increases.
#' The penalty is not scaled by the number of ratings per row. softImpute's
#' `type = "als"` minimizes the same objective (up to a factor 2) with
#' `lambda = 2 * lambda_u` when `lambda_u == lambda_v`.
#'
#' The paper fixes no values for the rank or the penalties; the defaults
#' (rank 10, `lambda_u = lambda_v = 5`) are the settings this package uses on
#' MovieLens.
#'
#' **Huber loss** (a defence, `loss = "huber"`): robust alternating
#' minimization (Wong and Lee, JMLR 2017) replaces each squared residual
#' \eqn{e^2} of Eq. 2 by \eqn{2\rho_\delta(e)}, with
#' \eqn{\rho_\delta(e) = e^2/2} for \eqn{|e| \le \delta} and
#' \eqn{\delta|e| - \delta^2/2} beyond, so that ratings far from the model
#' (as fake users' extreme ratings tend to be) pull on the factors with a
#' bounded force. `fit_cf()` fits it by iteratively reweighted least squares:
#' each ridge solve weighs an observed entry by \eqn{w = \min(1, \delta/|e|)}
#' at its current residual, recomputed after every half-sweep; each weighted
#' solve minimizes a majorizer of the Huber objective, so the objective never
#' increases. The first user half-sweep (no residuals yet) is the least-squares
#' one. The fit's `objective` is the Huber objective. For \eqn{\delta} larger
#' than every residual the learner is the squared-loss one. `huber_delta` is in
#' rating units (on the paper's \[-2, 2\] scale, 1 is one star). An attack
#' given a Huber learner (`poison_pga()`, `poison_sgld()`, `attack_gradient()`)
#' is computed through it, as an attacker who knows the defence would: its
#' refits use the Huber loss and its exact gradient differentiates the IRLS
#' fixed point, where a fake rating beyond \eqn{\delta} of the fit has
#' gradient 0 (its pull no longer depends on its value). Give the squared-loss
#' learner to compute the non-adaptive attack, and measure either on the Huber
#' learner with `evaluate_attack()` or `evaluate_defence()`.
#'
#' **Biases** (`biases = TRUE`): the biased matrix factorization of the
#' Netflix-prize models predicts
#' \eqn{\mu + b_i + c_j + u_i^\top v_j} and minimizes
#' \deqn{\sum_{(i,j) \in \Omega} (M_{ij} - \mu - b_i - c_j - u_i^\top v_j)^2 + 2\lambda_U \|U\|_F^2 + 2\lambda_V \|V\|_F^2 + 2\lambda_b (\|b\|^2 + \|c\|^2),}
#' with user biases b, item biases c and \eqn{\mu} the mean of the ratings
#' it is fitted on, fake ones included (a defender cannot tell them apart,
#' so an attack moves \eqn{\mu} too, and its gradient carries that
#' \eqn{1/N} term). The penalties follow Eq. 2's convention (a factor 2).
#' `fit_cf()` fits it by exact alternating minimization on
#' \eqn{(u_i, b_i)} and \eqn{(v_j, c_j)}: each user step is a
#' \eqn{(k+1)}-dimensional ridge solve against \eqn{[v_j, 1]} with target
#' \eqn{M_{ij} - \mu - c_j}, each item step likewise, so the objective never
#' increases. The fit's factors hold the biases as columns whose products
#' are the predictions: `u` is \eqn{[U, b, 1, \mu]} and `v` is
#' \eqn{[V, 1, c, 1]} (k + 3 columns), so `u %*% t(v)`, `predict()` and
#' every measure work unchanged. It combines with the Huber loss, and every
#' attack, measure, detector and defence takes it.
#'
#' @param rank Number of latent factors k (>= 1, at most min(users, items)).
#' @param lambda_u,lambda_v Regularization weights of Eq. 2 (>= 0).
#' @param max_iter Maximum number of sweeps.
#' @param tol Stop when a sweep lowers the objective by less than `tol` times its value.
#' @param init_sd Standard deviation of the random item factors a cold start uses.
#' @param loss `"squared"` (Eq. 2) or `"huber"` (robust; see Details).
#' @param huber_delta The Huber loss's threshold \eqn{\delta} (> 0), used when
#'   `loss = "huber"`.
#' @param biases Fit user and item biases and the mean (see Details).
#' @param lambda_bias The biases' penalty weight \eqn{\lambda_b} (>= 0),
#'   used when `biases = TRUE`; by default `lambda_u`.
#' @return A `cf_learner` specification to pass to `fit_cf()`.
#' @examples
#' learner_als(rank = 10, lambda_u = 5)
#' learner_als(rank = 10, lambda_u = 5, loss = "huber", huber_delta = 1)
#' learner_als(rank = 10, lambda_u = 5, biases = TRUE)
#' @export
learner_als <- function(rank = 10, lambda_u = 5, lambda_v = lambda_u, max_iter = 200, tol = 1e-6,
                        init_sd = 0.1, loss = c("squared", "huber"), huber_delta = 1, biases = FALSE,
                        lambda_bias = lambda_u) {
  loss <- cfp_arg_match(loss)
  learner <- list(
    rank = check_count(rank, min = 1),
    lambda_u = check_number(lambda_u, min = 0),
    lambda_v = check_number(lambda_v, min = 0),
    max_iter = check_count(max_iter, min = 1),
    tol = check_number(tol, min = 0),
    init_sd = check_number(init_sd, min = 0, min_inclusive = FALSE),
    loss = loss,
    huber_delta = check_number(huber_delta, min = 0, min_inclusive = FALSE),
    biases = check_flag(biases)
  )
  lambda_bias <- check_number(lambda_bias, min = 0)
  if (biases) learner$lambda_bias <- lambda_bias
  structure(learner, class = c("cf_learner_als", "cf_learner"))
}

#' Nuclear-norm minimization learner (Eq. 3 and Eq. 5)
#'
#' Specifies the paper's second learner,
#' \deqn{\min_X \|R_\Omega(M - X)\|_F^2 + 2\lambda \|X\|_*,}
#' a convex problem with a unique optimal prediction. `fit_cf()` reaches its
#' global optimum the soft-impute way (Hastie, Mazumder, Lee and Zadeh, 2015):
#' alternating ridge solves on rank-`rank_max` factors with penalty
#' \eqn{\lambda/2} on each (since \eqn{\|X\|_* = \min_{X = AB^\top} (\|A\|_F^2 + \|B\|_F^2)/2}),
#' then one exact singular value thresholding step, which returns the SVD
#' \eqn{X = U \mathrm{diag}(d) V^\top} that Appendix B's attack gradient uses.
#' The optimum is reached when its rank is below `rank_max`; `fit_cf()` warns
#' when every one of the `rank_max` singular values stays positive. softImpute
#' with the same `lambda` solves the same problem (its objective is half of ours).
#'
#' For a path of penalties, fit the largest `lambda` first and pass each fit as
#' `init` to the next (warm starts), as softImpute recommends.
#'
#' @param lambda Regularization weight of Eq. 3 (>= 0).
#' @param rank_max Largest rank the solution may have.
#' @inheritParams learner_als
#' @return A `cf_learner` specification to pass to `fit_cf()`.
#' @examples
#' learner_nuclear(lambda = 20, rank_max = 30)
#' @export
learner_nuclear <- function(lambda, rank_max = 20, max_iter = 500, tol = 1e-7, init_sd = 0.1) {
  if (missing(lambda)) {
    cfp_abort(
      c("{.arg lambda} is required: the nuclear-norm weight of Eq. 3 has no default.",
        i = "softImpute's {.fn lambda0} gives the smallest lambda with a zero solution; try a fraction of it."
      ),
      "missing"
    )
  }
  structure(
    list(
      lambda = check_number(lambda, min = 0),
      rank = check_count(rank_max, arg = "rank_max", min = 1),
      max_iter = check_count(max_iter, min = 1),
      tol = check_number(tol, min = 0),
      init_sd = check_number(init_sd, min = 0, min_inclusive = FALSE)
    ),
    class = c("cf_learner_nuclear", "cf_learner")
  )
}

#' @export
print.cf_learner_als <- function(x, ...) {
  cat_line(
    "{.cls cf_learner_als}: {learner_kind(x)}, rank {x$rank}, ",
    "lambda_u = {x$lambda_u}, lambda_v = {x$lambda_v}",
    if (is_biased(x)) ", lambda_bias = {x$lambda_bias}" else "",
    ", at most {x$max_iter} sweeps, tol {x$tol}"
  )
  invisible(x)
}

#' @export
print.cf_learner_nuclear <- function(x, ...) {
  cat_line(
    "{.cls cf_learner_nuclear}: nuclear-norm minimization (Eq. 3), lambda = {x$lambda}, ",
    "rank_max {x$rank}, at most {x$max_iter} sweeps, tol {x$tol}"
  )
  invisible(x)
}

# What a learner fits, for print methods.
learner_kind <- function(learner) {
  if (inherits(learner, "cf_learner_nuclear")) {
    return("nuclear-norm (Eq. 3)")
  }
  kind <- if (is_biased(learner)) "alternating minimization (Eq. 2) with biases" else "alternating minimization (Eq. 2)"
  if (identical(learner$loss, "huber")) {
    return(paste0(kind, ", Huber loss (delta = ", learner$huber_delta, ")"))
  }
  kind
}

# Whether a learner (or the base of a bagged or filtered one) fits biases.
is_biased <- function(learner) {
  isTRUE(learner[["biases"]])
}

# The weights of Eq. 2 that a learner's factored fit uses.
factor_penalties <- function(learner) {
  if (inherits(learner, "cf_learner_nuclear")) {
    c(lambda_u = learner$lambda / 2, lambda_v = learner$lambda / 2)
  } else {
    c(lambda_u = learner$lambda_u, lambda_v = learner$lambda_v)
  }
}

check_learner <- function(learner, call = rlang::caller_env()) {
  check_required(learner, call = call)
  if (!inherits(learner, "cf_learner")) {
    cfp_abort(
      c("{.arg learner} must be a learner specification, not {.obj_type_friendly {learner}}.",
        i = "Make one with {.fn learner_als} or {.fn learner_nuclear}."
      ),
      "type",
      call = call
    )
  }
  # A learner edited by hand (a negative rank, an NA penalty).
  check_not_damaged(
    function() rebuild_learner(learner), "learner", class(learner)[1],
    "Make learners with their constructors, not by editing their fields.",
    call = call
  )
  invisible(learner)
}

# The package's own learners (bagged or filtered ones too, which keep their
# base's fields) through their constructors, which check every field.
rebuild_learner <- function(learner) {
  if (inherits(learner, "cf_learner_als")) {
    learner_als(learner$rank, learner$lambda_u, learner$lambda_v, learner$max_iter, learner$tol, learner$init_sd,
      learner$loss, learner$huber_delta, learner$biases, learner$lambda_bias %||% learner$lambda_u
    )
  } else if (inherits(learner, "cf_learner_nuclear")) {
    learner_nuclear(learner$lambda, learner$rank, learner$max_iter, learner$tol, learner$init_sd)
  }
}
