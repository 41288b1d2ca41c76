#' cfpoison: data poisoning attacks on factorization-based collaborative filtering
#'
#' cfpoison implements Li, Wang, Vorobeychik and Singh (2016), "Data Poisoning
#' Attacks on Factorization-Based Collaborative Filtering" (NIPS). The flow is
#' `as_ratings()` -> a learner spec (`learner_als()`, `learner_nuclear()`) ->
#' `fit_cf()` -> `predict()`.
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
