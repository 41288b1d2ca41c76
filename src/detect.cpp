// Rcpp glue for the detection features and PCA variable selection: argument
// conversion, interrupts, results as R objects.
// The algorithms live in inst/include/cfpoison/detect.hpp.
#include <RcppArmadillo.h>

#include <vector>

#include "cfpoison/detect.hpp"
#include "cfpoison/observed.hpp"

namespace {

struct IndexedRatings {
  cfpoison::ObservedIndex idx;
  std::vector<double> values;  // in the index's by-row order
};

IndexedRatings index_ratings(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols,
                             const Rcpp::NumericVector& values, const int n_rows, const int n_cols) {
  std::vector<std::size_t> order;
  IndexedRatings out;
  out.idx = cfpoison::build_index(n_rows, n_cols, rows.begin(), cols.begin(), static_cast<std::size_t>(rows.size()),
                                  order);
  out.values = cfpoison::values_in_row_order(values.begin(), order);
  return out;
}

}  // namespace

// Profile features of every user and DegSim of `users` (0-based rows), on
// 0-based (row, col, value) triplets of all users, normal and fake.
// [[Rcpp::export(.detect_features)]]
Rcpp::List detect_features(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols,
                           const Rcpp::NumericVector& values, const int n_rows, const int n_cols,
                           const std::vector<int>& users, const int k, const double r_max,
                           const double r_max_tolerance, const int threads) {
  const IndexedRatings data = index_ratings(rows, cols, values, n_rows, n_cols);
  const cfpoison::ProfileFeatures f = cfpoison::profile_features(data.idx, data.values, r_max, r_max_tolerance);
  const std::vector<double> degsim = cfpoison::degsim(data.idx, data.values, users, k, threads,
                                                      [](std::size_t) { Rcpp::checkUserInterrupt(); });
  return Rcpp::List::create(Rcpp::Named("length") = f.length, Rcpp::Named("rdma") = f.rdma,
                            Rcpp::Named("wdma") = f.wdma, Rcpp::Named("wda") = f.wda,
                            Rcpp::Named("length_var") = f.length_var, Rcpp::Named("mean_var") = f.mean_var,
                            Rcpp::Named("degsim") = degsim);
}

// PCA variable selection on the same triplets, from the start block `start`
// (n_cols x b).
// [[Rcpp::export(.pca_select_users)]]
Rcpp::List pca_select_users(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols,
                            const Rcpp::NumericVector& values, const int n_rows, const int n_cols,
                            const arma::mat& start, const int n_components, const int max_iter, const double tol,
                            const int threads) {
  const IndexedRatings data = index_ratings(rows, cols, values, n_rows, n_cols);
  const cfpoison::StandardizedRatings Xz(data.idx, data.values, threads);
  const cfpoison::PcaSelection res = cfpoison::pca_select_users(Xz, start, n_components, max_iter, tol,
                                                                [] { Rcpp::checkUserInterrupt(); });
  return Rcpp::List::create(Rcpp::Named("score") = Rcpp::NumericVector(res.score.begin(), res.score.end()),
                            Rcpp::Named("singular_values") =
                                Rcpp::NumericVector(res.singular_values.begin(), res.singular_values.end()),
                            Rcpp::Named("iterations") = res.iterations, Rcpp::Named("converged") = res.converged);
}
