// Rcpp glue for the detection features and PCA variable selection: argument
// conversion, interrupts, results as R objects.
// The algorithms live in inst/include/cfpoison/detect.hpp.
#include <RcppArmadillo.h>

#include <vector>

#include "boundary.h"
#include "cfpoison/detect.hpp"

// Profile features of every user and DegSim of `users` (0-based rows), on the
// ratings of all users, normal and fake (core_ratings()).
// [[Rcpp::export(.detect_features)]]
Rcpp::List detect_features(const Rcpp::List& ratings, const std::vector<int>& users, const int k,
                           const int min_corated, const double r_max, const double r_max_tolerance,
                           const int threads) {
  const boundary::IndexedRatings data = boundary::read_ratings(ratings);
  for (const int u : users)
    if (u < 0 || u >= data.idx.n_rows) Rcpp::stop("user index out of range");
  const cfpoison::ProfileFeatures f = cfpoison::profile_features(data.idx, data.values, r_max, r_max_tolerance);
  const std::vector<double> degsim = cfpoison::degsim(data.idx, data.values, users, k, min_corated, threads,
                                                      [](std::size_t) { Rcpp::checkUserInterrupt(); });
  return Rcpp::List::create(Rcpp::Named("length") = f.length, Rcpp::Named("rdma") = f.rdma,
                            Rcpp::Named("wdma") = f.wdma, Rcpp::Named("wda") = f.wda,
                            Rcpp::Named("length_var") = f.length_var, Rcpp::Named("mean_var") = f.mean_var,
                            Rcpp::Named("degsim") = degsim);
}

// PCA variable selection on the same ratings, from the start block `start`
// (n_items x b).
// [[Rcpp::export(.pca_select_users)]]
Rcpp::List pca_select_users(const Rcpp::List& ratings, const arma::mat& start, const int n_components,
                            const int max_iter, const double tol, const int threads) {
  const boundary::IndexedRatings data = boundary::read_ratings(ratings);
  if (static_cast<int>(start.n_rows) != data.idx.n_cols) Rcpp::stop("the start block needs one row per item");
  const cfpoison::StandardizedRatings Xz(data.idx, data.values, threads);
  const cfpoison::PcaSelection res = cfpoison::pca_select_users(Xz, start, n_components, max_iter, tol,
                                                                [] { Rcpp::checkUserInterrupt(); });
  return Rcpp::List::create(Rcpp::Named("score") = Rcpp::NumericVector(res.score.begin(), res.score.end()),
                            Rcpp::Named("singular_values") =
                                Rcpp::NumericVector(res.singular_values.begin(), res.singular_values.end()),
                            Rcpp::Named("iterations") = res.iterations, Rcpp::Named("converged") = res.converged);
}
