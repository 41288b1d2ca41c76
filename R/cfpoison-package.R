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
#' @section Threads on a shared machine:
#' Give `threads` no more than the cores that are free. Each ALS sweep ends
#' three parallel regions, and a thread that the operating system has set
#' aside holds up the others at each end. On a 2-core machine beside a process
#' that keeps one core busy, 2 threads made a sweep 2.2 times slower than 1
#' thread on `movielens_small()` (9.4 ms against 4.4 ms) and 1.3 times slower
#' on 1M simulated ratings (58 ms against 45 ms); idle, 2 threads were 1.3 to
#' 1.4 times faster (`inst/bench/threads.R`). libgomp's wait policy
#' `OMP_WAIT_POLICY=PASSIVE` (waiting threads sleep at once rather than spin)
#' recovered part of the loss on the small problem only (7.3 ms). It must be
#' in the environment when R starts: R itself loads libgomp, which reads it
#' then, so `Sys.setenv()` and `.Renviron` come too late.
#'
#' @keywords internal
#' @useDynLib cfpoison, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @importFrom rlang %||%
#' @importFrom stats predict
"_PACKAGE"
