# Implicit gradients of a utility in the fake ratings, and their check
# against finite differences.

#' Gradient of an attacker's utility in the fake ratings
#'
#' Refits `learner` on the real ratings plus the fake users (to a tight
#' tolerance, warm-started from the clean model) and returns
#' \eqn{\partial R / \partial \tilde M_{ij}} at each fake rating.
#'
#' * `method = "kkt"`: the paper's approximation. For alternating minimization,
#'   Eq. 11-12: each factor's response is taken alone, the normal users' factors
#'   do not move, so \eqn{\partial R/\partial \tilde M_{ij} =
#'   \tilde u_i^\top (\Sigma_V^{(j)} + 2\lambda_V I)^{-1} \partial R/\partial v_j}
#'   (the ridge is Eq. 2's \eqn{2\lambda_V}; Section 4.1 prints \eqn{\lambda_V}).
#'   For an integrity utility it only moves fake ratings of target items. For
#'   nuclear-norm minimization, Appendix B with the smoothing parameter `tau`;
#'   Appendix B's \eqn{\partial\sigma_k/\partial\tilde M_{ij} = 1/(\tilde u_{ik} v_{jk})}
#'   term is left out (it is unbounded, dividing by near-zero products).
#' * `method = "exact"`: the derivative of the utility at the learner's optimum,
#'   from the full KKT system: the adjoint \eqn{H z = \nabla_\Theta R} is solved
#'   by conjugate gradients with Hessian-vector products of Eq. 4's objective
#'   (block-Jacobi preconditioned), and
#'   \eqn{\partial R/\partial \tilde M_{ij} = 2(v_j^\top z_{\tilde u_i} + \tilde u_i^\top z_{v_j})}.
#'   For nuclear-norm fits the same adjoint runs on the balanced factors
#'   \eqn{U\sqrt{d}, V\sqrt{d}} of the optimum (Eq. 2 at its rank with
#'   \eqn{\lambda_U = \lambda_V = \lambda/2} has the same optimum).
#'
#' For `learner_als(biases = TRUE)` both run on the free parameters
#' \eqn{(u_i, b_i)} and \eqn{(v_j, c_j)} against the design factors
#' \eqn{[v_j, 1]} and \eqn{[u_i, 1]}, and both add the share of
#' \eqn{\mu}, the mean of all N ratings fitted, which every fake rating
#' moves by \eqn{1/N}: \eqn{(\partial R/\partial\mu - \sum_{(p,q)}
#' g_{pq}) / N}, g the derivatives at fixed \eqn{\mu} at every rating.
#'
#' Given a [learner_bagged()], both methods differentiate the utility of
#' the bagged prediction: each bag is refitted and differentiated on its
#' copies of the users, and a fake rating's gradient is the sum over the
#' bags of the gradients at its copies (see [learner_bagged()]); `clean`
#' must then be a fit of the bagged learner. [learner_filtered()] is
#' refused: only [poison_pga()] attacks through a filter.
#'
#' @inheritParams poison_pga
#' @param learner The learner: `learner_als()`, `learner_nuclear()` or
#'   [learner_bagged()] (see Details).
#' @param method Gradient: `"kkt"` (the paper's Eq. 12, Appendix B for the
#'   nuclear norm) or `"exact"` (see Details).
#' @param attack The fake users: a `cf_attack` computed on `ratings`, or a
#'   `cf_ratings` block of fake users over `ratings`' items (for example
#'   `attack$fake`).
#' @param refit_sweeps,refit_tol The tight refit: at most `refit_sweeps`
#'   sweeps, stopping when no item factor entry moves by more than `refit_tol`.
#' @return A tibble with one row per fake rating, in the order of
#'   `as.data.frame(attack$fake)`; attributes `utility` (at the refit) and
#'   `cg_iterations` (exact method).
#'   \describe{
#'     \item{`user`, `item`}{The fake user's and the item's ids.}
#'     \item{`rating`}{The fake rating.}
#'     \item{`gradient`}{\eqn{\partial R / \partial \tilde M_{ij}}: the
#'       utility's change per unit increase of this rating.}
#'   }
#' @examples
#' r <- simulate_ratings(100, 40, rank = 2, density = 0.3, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
#' g <- attack_gradient(r, attack, learner_als(rank = 2, lambda_u = 1), utility_availability())
#' head(g)
#' @export
attack_gradient <- function(ratings, attack, learner, utility, method = c("kkt", "exact"), tau = 1, clean = NULL,
                            refit_sweeps = 5000, refit_tol = 1e-12, threads = getOption("cfpoison.threads", 1L)) {
  method <- cfp_arg_match(method)
  problem <- gradient_problem(ratings, attack, learner, utility, method, tau, !missing(tau), clean, refit_sweeps,
    refit_tol, threads
  )
  res <- call_core(.attack_evaluate(problem, TRUE))
  out <- tibble::as_tibble(as.data.frame(fake_users(attack, ratings)))
  out$gradient <- res$gradient
  attr(out, "utility") <- res$utility
  attr(out, "cg_iterations") <- res$cg_iterations
  out
}

#' Check an attack gradient against finite differences
#'
#' Compares [attack_gradient()] with central finite differences
#' \eqn{(R(\tilde M + h e_{ij}) - R(\tilde M - h e_{ij})) / 2h}, each side refitted
#' to a tight tolerance from the same warm start.
#'
#' @inheritParams attack_gradient
#' @param entries Which fake ratings to check (row numbers of
#'   [attack_gradient()]'s result); default: `n_entries` drawn at random.
#' @param n_entries Number of entries drawn when `entries` is `NULL`.
#' @param h Finite-difference step.
#' @param seed Optional seed for drawing entries.
#' @return A tibble with one row per checked entry; attribute `cosine`
#'   (cosine similarity of the two gradients over the checked entries).
#'   \describe{
#'     \item{`entry`}{The row number in `as.data.frame(fake)` (integer).}
#'     \item{`user`, `item`}{The fake user's and the item's ids.}
#'     \item{`analytic`}{[attack_gradient()]'s derivative.}
#'     \item{`numeric`}{The central finite difference.}
#'     \item{`relative_error`}{\eqn{|analytic - numeric|} divided by the
#'       larger of the two in absolute value (0 to 2).}
#'   }
#' @examples
#' r <- simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
#' check_gradient(r, attack, learner_als(rank = 2, lambda_u = 1), utility_availability(),
#'   method = "exact", n_entries = 3, seed = 1)
#' @export
check_gradient <- function(ratings, attack, learner, utility, method = c("kkt", "exact"), tau = 1, clean = NULL,
                           entries = NULL, n_entries = 10, h = 1e-4, seed = NULL, refit_sweeps = 20000,
                           refit_tol = 1e-13, threads = getOption("cfpoison.threads", 1L)) {
  method <- cfp_arg_match(method)
  check_number(h, min = 0, min_inclusive = FALSE)
  problem <- gradient_problem(ratings, attack, learner, utility, method, tau, !missing(tau), clean, refit_sweeps,
    refit_tol, threads
  )
  # The block, whether given bare or inside a cf_attack.
  fake <- fake_users(attack, ratings)
  n_fake_ratings <- length(fake$rating)
  if (is.null(entries)) {
    n_entries <- check_count(n_entries, min = 1)
    entries <- with_seed(seed, sort(sample.int(n_fake_ratings, min(n_entries, n_fake_ratings))))
  }
  if (!is.numeric(entries) || length(entries) == 0L || anyNA(entries) || any(entries < 1 | entries > n_fake_ratings) ||
    any(entries != round(entries))) {
    cfp_abort("{.arg entries} must be row numbers between 1 and {n_fake_ratings}.", "value")
  }
  # The analytic gradient at the tightly converged poisoned model, whose item
  # factors then warm-start every finite-difference refit.
  base <- call_core(.attack_evaluate(problem, TRUE))
  analytic <- base$gradient[entries]
  problem$item_init <- base$item_factors
  numeric <- vapply(entries, function(e) {
    utility_at_shift <- function(delta) {
      shifted <- problem
      shifted$fake$rating[e] <- shifted$fake$rating[e] + delta
      call_core(.attack_evaluate(shifted, FALSE))$utility
    }
    (utility_at_shift(h) - utility_at_shift(-h)) / (2 * h)
  }, numeric(1))
  out <- tibble::tibble(
    entry = as.integer(entries),
    user = fake$user_ids[fake$user[entries]],
    item = fake$item_ids[fake$item[entries]],
    analytic = analytic,
    numeric = numeric,
    relative_error = abs(analytic - numeric) / pmax(abs(analytic), abs(numeric), .Machine$double.eps)
  )
  attr(out, "cosine") <- sum(analytic * numeric) / sqrt(sum(analytic^2) * sum(numeric^2))
  out
}

# The problem both attack_gradient() and check_gradient() differentiate, from
# their arguments (`tau_given`: whether the caller's `tau` was set).
gradient_problem <- function(ratings, attack, learner, utility, method, tau, tau_given, clean, refit_sweeps, refit_tol,
                             threads, call = rlang::caller_env()) {
  check_differentiable(learner, call = call)
  check_not_filtered(learner, call = call)
  refuse_unused_tau(tau_given, learner, method, call = call)
  check_ratings(ratings, call = call)
  check_learner(learner, call = call)
  check_utility(utility, call = call)
  threads <- check_threads(threads, call = call)
  fake <- fake_users(attack, ratings, arg = "attack", call = call)
  clean <- check_bagged_clean(clean_fit(clean, learner, ratings, threads, call = call), learner, ratings, call = call)
  refit <- refit_settings(refit_sweeps, method, tau, threads, call = call)
  refit$tol <- 0
  refit$factor_tol <- check_number(refit_tol, min = 0, call = call)
  refit$cg_max_iter <- 1000L
  refit$cg_tol <- 1e-10 # rounding stalls CG near 1e-11 on MovieLens
  attack_problem(ratings, learner, clean, fake, utility, refit)
}
