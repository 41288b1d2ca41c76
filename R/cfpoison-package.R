#' cfpoison: data poisoning attacks on factorization-based collaborative filtering
#'
#' cfpoison implements Li, Wang, Vorobeychik and Singh (2016), "Data Poisoning
#' Attacks on Factorization-Based Collaborative Filtering" (NIPS). The flow is
#' `as_ratings()` -> a learner spec (`learner_als()`, `learner_nuclear()`) ->
#' `fit_cf()` -> `predict()`.
#'
#' @section Argument names:
#' Every function takes its arguments in one order and calls one concept by
#' one name:
#'
#' * **Order.** The data first, then the attack, then the learner:
#'   `fit_cf(ratings, learner, attack)`, `evaluate_attack(ratings, attack,
#'   learner)`, `detect_features(ratings, attack)`, `poison_pga(ratings,
#'   learner, utility, budget)`.
#' * `ratings`: the real users' ratings, a `cf_ratings`.
#' * `attack`: fake users: a `cf_attack` from a `poison_*()` function or a
#'   `cf_ratings` block of fake users over the same items (such as the
#'   attack's component `attack$fake`); the functions that measure an attack
#'   (`evaluate_*()`, `detect_*()`, [poisoned_ratings()]) also take a data
#'   frame with columns `user`, `item` and `rating`.
#' * `targets`: target item ids (J0), as in `ratings$item_ids`.
#' * `n_items`: the data's number of items ([simulate_ratings()]);
#'   `items_per_user`: B, the most items a fake user rates
#'   ([attack_budget()], [attack_grid()]).
#' * `max_iter`, `tol`: the function's own iterations and stopping tolerance:
#'   a learner's sweeps ([learner_als()], [learner_nuclear()]), an attack's
#'   steps ([poison_pga()], [poison_sgld()]), [detect_pca()]'s subspace
#'   iterations.
#' * `refit_sweeps`, `refit_tol`: the sweeps and tolerance of the refits of a
#'   learner that another function runs: [evaluate_attack()] and
#'   [evaluate_defence()] (the protocol), [attack_gradient()] and
#'   [check_gradient()] (the tight refit), and the refits inside
#'   [poison_pga()] and [poison_sgld()] (`refit_sweeps` only).
#' * `threads`: OpenMP threads, by default the option `cfpoison.threads`.
#'
#' @section Options:
#' * `cfpoison.threads`: default number of OpenMP threads (1).
#'
#' @keywords internal
#' @useDynLib cfpoison, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @importFrom rlang %||%
#' @importFrom stats predict
"_PACKAGE"
