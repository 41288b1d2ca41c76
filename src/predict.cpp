// Rcpp glue for predictions at (user, item) pairs.
#include <RcppArmadillo.h>

#include "cfpoison/predict.hpp"

// user_factors: n_users x k (scaled by d for nuclear fits); users, items 0-based.
// [[Rcpp::export(.predict_pairs)]]
Rcpp::NumericVector predict_pairs(const arma::mat& user_factors, const arma::mat& item_factors,
                                  const Rcpp::IntegerVector& users, const Rcpp::IntegerVector& items,
                                  const int threads) {
  const arma::mat U = user_factors.t();
  const arma::mat V = item_factors.t();
  Rcpp::NumericVector out(users.size());
  cfpoison::predict_pairs(U, V, users.begin(), items.begin(), static_cast<std::size_t>(users.size()),
                          out.begin(), threads);
  return out;
}
