// Rcpp glue for measuring a fitted model against the clean one: utilities in
// factored form and hit ratios, from the normal users' observed entries.
#include <RcppArmadillo.h>

#include <vector>

#include "boundary.h"
#include "cfpoison/metrics.hpp"
#include "cfpoison/utilities.hpp"

namespace {

// The normal users' ratings (core_ratings()), checked against factors P (m x k) and Q (n x k).
cfpoison::ObservedIndex normal_index(const Rcpp::List& ratings, const arma::mat& P, const arma::mat& Q) {
  boundary::IndexedRatings data = boundary::read_ratings(ratings);
  if (data.idx.n_rows != static_cast<int>(P.n_rows) || data.idx.n_cols != static_cast<int>(Q.n_rows))
    Rcpp::stop("the factors do not match the ratings' users and items");
  return std::move(data.idx);
}

}  // namespace

// Eq. 7-9 at predictions P Q' (m x k, n x k) against the clean P_bar Q_bar',
// with the normal users' observed entries (core_ratings()).
// [[Rcpp::export(.utility_at)]]
Rcpp::List utility_at(const Rcpp::List& ratings, const arma::mat& P, const arma::mat& Q, const arma::mat& clean_p,
                      const arma::mat& clean_q, const double mu_availability, const double mu_integrity,
                      const std::vector<int>& targets, const std::vector<double>& weights, const int threads) {
  const cfpoison::ObservedIndex idx = normal_index(ratings, P, Q);
  for (const int j : targets)
    if (j < 0 || j >= idx.n_cols) Rcpp::stop("target index out of range");
  if (targets.size() != weights.size()) Rcpp::stop("one weight per target is needed");
  if (clean_p.n_rows != P.n_rows || clean_q.n_rows != Q.n_rows || clean_p.n_cols != clean_q.n_cols)
    Rcpp::stop("the clean factors do not match the ratings' users and items");
  cfpoison::CleanModel clean{boundary::core_factors(clean_p), boundary::core_factors(clean_q)};
  cfpoison::UtilitySpec spec;
  spec.mu_availability = mu_availability;
  spec.mu_integrity = mu_integrity;
  spec.target_items = targets;
  spec.target_weights = weights;
  const cfpoison::UtilityGradient u =
      cfpoison::utility_gradient(idx, static_cast<int>(P.n_rows), boundary::core_factors(P), boundary::core_factors(Q),
                                 clean, spec, threads);
  return Rcpp::List::create(Rcpp::Named("value") = u.value, Rcpp::Named("d_user") = boundary::r_factors(u.dP),
                            Rcpp::Named("d_item") = boundary::r_factors(u.dQ));
}

// Hit ratio at top_n of each target (0-based), from factors P (m x k) and Q
// (n x k): see cfpoison::hit_ratio().
// [[Rcpp::export(.hit_ratio)]]
Rcpp::NumericVector hit_ratio(const Rcpp::List& ratings, const arma::mat& P, const arma::mat& Q,
                              const std::vector<int>& targets, const int top_n, const int threads) {
  const cfpoison::ObservedIndex idx = normal_index(ratings, P, Q);
  const std::vector<double> out = cfpoison::hit_ratio(idx, boundary::core_factors(P), Q, targets, top_n, threads,
                                                      [] { Rcpp::checkUserInterrupt(); });
  return Rcpp::NumericVector(out.begin(), out.end());
}
