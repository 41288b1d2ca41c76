// Rcpp glue for predictions at (user, item) pairs.
#include <RcppArmadillo.h>

#include <algorithm>

#include "boundary.h"
#include "cfpoison/predict.hpp"

namespace {

// The predictions of the factors (n_users x k and n_items x k; scaled by d
// for nuclear fits) at R's 1-based pairs, read where they lie. Every index is
// checked here: the core reads factor columns at them unchecked.
Rcpp::NumericVector predictions(const arma::mat& user_factors, const arma::mat& item_factors,
                                const Rcpp::IntegerVector& users, const Rcpp::IntegerVector& items, const int threads) {
  const int base = 1;
  if (user_factors.n_cols != item_factors.n_cols) Rcpp::stop("the user and item factors differ in rank");
  if (users.size() != items.size()) Rcpp::stop("one item index per user index is needed");
  const int n_users = static_cast<int>(user_factors.n_rows);
  const int n_items = static_cast<int>(item_factors.n_rows);
  for (R_xlen_t e = 0; e < users.size(); ++e) {
    // Compared before subtracting: NA_INTEGER (INT_MIN) lies below any base.
    if (users[e] < base || users[e] - base >= n_users) Rcpp::stop("user index out of range at pair %d", e + 1);
    if (items[e] < base || items[e] - base >= n_items) Rcpp::stop("item index out of range at pair %d", e + 1);
  }
  const arma::mat U = boundary::core_factors(user_factors);
  const arma::mat V = boundary::core_factors(item_factors);
  Rcpp::NumericVector out(users.size());
  cfpoison::predict_pairs(U, V, users.begin(), items.begin(), static_cast<std::size_t>(users.size()), out.begin(),
                          threads, base);
  return out;
}

}  // namespace

// The predictions at 1-based (user, item) pairs (predict.cf_fit()).
// [[Rcpp::export(.predict_pairs)]]
Rcpp::NumericVector predict_pairs(const arma::mat& user_factors, const arma::mat& item_factors,
                                  const Rcpp::IntegerVector& users, const Rcpp::IntegerVector& items,
                                  const int threads) {
  return predictions(user_factors, item_factors, users, items, threads);
}

// simulate_ratings()'s values at its 1-based pairs: the predictions plus
// `noise` (one draw per pair, or none), clamped to [lower, upper] (+-Inf: not
// clamped). The same doubles as R's `pmin(pmax(prediction + noise, lower),
// upper)`, without its three temporary vectors (at the MovieLens-20M shape,
// 160 MB each and most of a second apiece to fault in).
// [[Rcpp::export(.simulated_values)]]
Rcpp::NumericVector simulated_values(const arma::mat& user_factors, const arma::mat& item_factors,
                                     const Rcpp::IntegerVector& users, const Rcpp::IntegerVector& items,
                                     const Rcpp::NumericVector& noise, const double lower, const double upper,
                                     const int threads) {
  if (noise.size() != 0 && noise.size() != users.size()) Rcpp::stop("one noise draw per pair is needed");
  Rcpp::NumericVector out = predictions(user_factors, item_factors, users, items, threads);
  for (R_xlen_t e = 0; e < out.size(); ++e) {
    const double value = noise.size() != 0 ? out[e] + noise[e] : out[e];
    out[e] = std::min(std::max(value, lower), upper);
  }
  return out;
}
