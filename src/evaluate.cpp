// Rcpp glue for measuring a fitted model against the clean one: utilities in
// factored form and hit ratios, from the normal users' observed entries.
#include <RcppArmadillo.h>

#include <vector>

#include "cfpoison/metrics.hpp"
#include "cfpoison/observed.hpp"
#include "cfpoison/utilities.hpp"

namespace {

cfpoison::ObservedIndex normal_index(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols,
                                     const int n_users, const int n_items) {
  std::vector<std::size_t> order;
  return cfpoison::build_index(n_users, n_items, rows.begin(), cols.begin(), static_cast<std::size_t>(rows.size()),
                               order);
}

}  // namespace

// Eq. 7-9 at predictions P Q' (m x k, n x k) against the clean P_bar Q_bar';
// rows, cols: the normal users' observed entries (0-based).
// [[Rcpp::export(.utility_at)]]
Rcpp::List utility_at(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols, const arma::mat& P,
                      const arma::mat& Q, const arma::mat& clean_p, const arma::mat& clean_q,
                      const double mu_availability, const double mu_integrity, const std::vector<int>& targets,
                      const std::vector<double>& weights, const int threads) {
  const cfpoison::ObservedIndex idx = normal_index(rows, cols, P.n_rows, Q.n_rows);
  cfpoison::CleanModel clean{clean_p.t(), clean_q.t()};
  cfpoison::UtilitySpec spec;
  spec.mu_availability = mu_availability;
  spec.mu_integrity = mu_integrity;
  spec.target_items = targets;
  spec.target_weights = weights;
  const cfpoison::UtilityGradient u =
      cfpoison::utility_gradient(idx, static_cast<int>(P.n_rows), P.t(), Q.t(), clean, spec, threads);
  return Rcpp::List::create(Rcpp::Named("value") = u.value, Rcpp::Named("d_user") = Rcpp::wrap(arma::mat(u.dP.t())),
                            Rcpp::Named("d_item") = Rcpp::wrap(arma::mat(u.dQ.t())));
}

// [[Rcpp::export(.hit_ratio)]]
Rcpp::NumericVector hit_ratio(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols, const arma::mat& P,
                              const arma::mat& Q, const std::vector<int>& targets, const int top_n, const int threads) {
  const cfpoison::ObservedIndex idx = normal_index(rows, cols, P.n_rows, Q.n_rows);
  const std::vector<double> out = cfpoison::hit_ratio(idx, P.t(), Q.t(), targets, top_n, threads);
  return Rcpp::NumericVector(out.begin(), out.end());
}
