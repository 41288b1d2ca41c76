// Rcpp glue for the learners: argument conversion, interrupts, results as R lists.
// The algorithms live in inst/include/cfpoison/ (als.hpp, nuclear.hpp).
#include <RcppArmadillo.h>

#include "boundary.h"
#include "cfpoison/als.hpp"
#include "cfpoison/nuclear.hpp"

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

// Fits a learner (core_learner()) on ratings (core_ratings()), starting from
// item factors `item_init` (n_items x k; a biased learner's [V, c], n_items x
// (k+1)); `on_sweep`, when given, is called with the number of each sweep
// done. A biased fit returns its free parameters ([U, b] and [V, c]) and `mean`.
// [[Rcpp::export(.fit_factors)]]
Rcpp::List fit_factors(const Rcpp::List& ratings, const Rcpp::List& learner, const arma::mat& item_init,
                       const int threads, const Rcpp::Nullable<Rcpp::Function>& on_sweep = R_NilValue) {
  const boundary::IndexedRatings data = boundary::read_ratings(ratings);
  const cfpoison::LearnerSpec spec = boundary::read_learner(learner);
  if (static_cast<int>(item_init.n_rows) != data.idx.n_cols) Rcpp::stop("item_init needs one row per item");
  const cfpoison::AlsSettings settings = cfpoison::als_settings(spec, spec.max_iter, spec.tol, threads);
  const cfpoison::AlsResult fit = cfpoison::fit_als(data.idx, data.values, boundary::core_factors(item_init), settings,
                                                    boundary::step_callback<cfpoison::SweepRecord>(on_sweep));

  Rcpp::List out = Rcpp::List::create(Rcpp::Named("trace") = trace_frame(fit.trace),
                                      Rcpp::Named("converged") = fit.converged);
  if (!spec.nuclear) {
    out["user_factors"] = boundary::r_factors(fit.U);
    out["item_factors"] = boundary::r_factors(fit.V);
    out["objective"] = fit.trace.empty() ? NA_REAL : fit.trace.back().objective;
    if (spec.biased) out["mean"] = fit.mean;
  } else {
    const cfpoison::NuclearFactors svd =
        cfpoison::nuclear_threshold(data.idx, data.values, fit.U, fit.V, spec.lambda, threads);
    out["user_factors"] = boundary::r_factors(svd.U);
    out["item_factors"] = boundary::r_factors(svd.V);
    out["d"] = Rcpp::NumericVector(svd.d.begin(), svd.d.end());
    out["objective"] = cfpoison::nuclear_objective(data.idx, data.values, svd, spec.lambda, threads);
  }
  return out;
}
