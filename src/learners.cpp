// Rcpp glue for the learners: argument conversion, interrupts, results as R lists.
// The algorithms live in inst/include/cfpoison/ (als.hpp, nuclear.hpp).
#include <RcppArmadillo.h>

#include "cfpoison/als.hpp"
#include "cfpoison/nuclear.hpp"
#include "cfpoison/observed.hpp"

namespace {

Rcpp::DataFrame trace_frame(const std::vector<cfpoison::SweepRecord>& trace) {
  const std::size_t n = trace.size();
  Rcpp::IntegerVector iteration(n);
  Rcpp::NumericVector objective(n), seconds(n);
  for (std::size_t t = 0; t < n; ++t) {
    iteration[t] = trace[t].iteration;
    objective[t] = trace[t].objective;
    seconds[t] = trace[t].seconds;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("iteration") = iteration, Rcpp::Named("objective") = objective,
                                 Rcpp::Named("seconds") = seconds);
}

}  // namespace

// Fits Eq. 2 (nuclear_lambda < 0) or Eq. 3 (nuclear_lambda >= 0, with
// lambda_u = lambda_v = nuclear_lambda / 2) on 0-based (row, col, value)
// triplets, starting from item factors `item_init` (n_cols x k). Eq. 2 uses
// the Huber loss when huber_delta > 0.
// [[Rcpp::export(.fit_factors)]]
Rcpp::List fit_factors(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& cols,
                       const Rcpp::NumericVector& values, const int n_rows, const int n_cols,
                       const arma::mat& item_init, const double lambda_u, const double lambda_v,
                       const double nuclear_lambda, const int max_iter, const double tol, const double huber_delta,
                       const int threads) {
  if (nuclear_lambda >= 0 && huber_delta > 0) Rcpp::stop("the nuclear-norm learner has no Huber loss");
  std::vector<std::size_t> order;
  const cfpoison::ObservedIndex idx = cfpoison::build_index(n_rows, n_cols, rows.begin(), cols.begin(),
                                                            static_cast<std::size_t>(rows.size()), order);
  const std::vector<double> row_values = cfpoison::values_in_row_order(values.begin(), order);

  cfpoison::AlsSettings settings;
  settings.lambda_u = lambda_u;
  settings.lambda_v = lambda_v;
  settings.max_iter = max_iter;
  settings.tol = tol;
  settings.huber_delta = huber_delta;
  settings.threads = threads;
  const cfpoison::AlsResult fit = cfpoison::fit_als(
      idx, row_values, item_init.t(), settings, [](const cfpoison::SweepRecord&) { Rcpp::checkUserInterrupt(); });

  Rcpp::List out = Rcpp::List::create(Rcpp::Named("trace") = trace_frame(fit.trace),
                                      Rcpp::Named("converged") = fit.converged);
  if (nuclear_lambda < 0) {
    out["user_factors"] = Rcpp::wrap(arma::mat(fit.U.t()));
    out["item_factors"] = Rcpp::wrap(arma::mat(fit.V.t()));
    out["objective"] = fit.trace.empty() ? NA_REAL : fit.trace.back().objective;
  } else {
    const cfpoison::NuclearFactors svd =
        cfpoison::nuclear_threshold(idx, row_values, fit.U, fit.V, nuclear_lambda, threads);
    out["user_factors"] = Rcpp::wrap(arma::mat(svd.U.t()));
    out["item_factors"] = Rcpp::wrap(arma::mat(svd.V.t()));
    out["d"] = Rcpp::NumericVector(svd.d.begin(), svd.d.end());
    out["objective"] = cfpoison::nuclear_objective(idx, row_values, svd, nuclear_lambda, threads);
  }
  return out;
}
