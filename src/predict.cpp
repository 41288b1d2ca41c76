// Rcpp glue for predictions at (user, item) pairs.
#include <RcppArmadillo.h>

#include "cfpoison/predict.hpp"

// user_factors: n_users x k (scaled by d for nuclear fits); users, items 0-based.
// Every index is checked here: the core reads factor columns at them unchecked.
// [[Rcpp::export(.predict_pairs)]]
Rcpp::NumericVector predict_pairs(const arma::mat& user_factors, const arma::mat& item_factors,
                                  const Rcpp::IntegerVector& users, const Rcpp::IntegerVector& items,
                                  const int threads) {
  if (user_factors.n_cols != item_factors.n_cols) Rcpp::stop("the user and item factors differ in rank");
  if (users.size() != items.size()) Rcpp::stop("one item index per user index is needed");
  const int n_users = static_cast<int>(user_factors.n_rows);
  const int n_items = static_cast<int>(item_factors.n_rows);
  for (R_xlen_t e = 0; e < users.size(); ++e) {
    // NA_INTEGER is INT_MIN, below every bound.
    if (users[e] < 0 || users[e] >= n_users) Rcpp::stop("user index out of range at pair %d", e + 1);
    if (items[e] < 0 || items[e] >= n_items) Rcpp::stop("item index out of range at pair %d", e + 1);
  }
  const arma::mat U = user_factors.t();
  const arma::mat V = item_factors.t();
  Rcpp::NumericVector out(users.size());
  cfpoison::predict_pairs(U, V, users.begin(), items.begin(), static_cast<std::size_t>(users.size()),
                          out.begin(), threads);
  return out;
}
