// The boundary between R and the core: how ratings, learners and factor
// matrices cross it. The R side lays out ratings and learners in R/boundary.R
// (core_ratings(), core_learner()); these are the one reader of each, and the
// one conversion of factors each way, shared by every glue file.
#pragma once

#include <RcppArmadillo.h>

#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cfpoison/als.hpp"
#include "cfpoison/observed.hpp"

namespace boundary {

template <class T>
T field(const Rcpp::List& list, const char* name) {
  return Rcpp::as<T>(list[name]);
}

// Triplets as core_ratings() lays them out: 0-based `user` and `item`, in
// cf_ratings order (by user, then item), with `rating`.
inline cfpoison::Triplets read_triplets(const Rcpp::List& x) {
  cfpoison::Triplets out{field<std::vector<int>>(x, "user"), field<std::vector<int>>(x, "item"),
                         field<std::vector<double>>(x, "rating")};
  if (out.item.size() != out.user.size() || out.value.size() != out.user.size())
    throw std::invalid_argument("the ratings' user, item and rating vectors differ in length");
  return out;
}

// The observed-entry index of a core_ratings() list over its n_users x
// n_items, with the values in its by-row order. build_index() checks every
// index against the bounds, and that the ratings arrive sorted (the by-row
// order is then the input order).
struct IndexedRatings {
  cfpoison::ObservedIndex idx;
  std::vector<double> values;
};

inline IndexedRatings read_ratings(const Rcpp::List& x) {
  cfpoison::Triplets t = read_triplets(x);
  IndexedRatings out;
  out.idx = cfpoison::build_index(field<int>(x, "n_users"), field<int>(x, "n_items"), t.user.data(), t.item.data(),
                                  t.user.size());
  out.values = std::move(t.value);
  return out;
}

// A core_learner() list.
inline cfpoison::LearnerSpec read_learner(const Rcpp::List& x) {
  cfpoison::LearnerSpec spec;
  spec.nuclear = field<bool>(x, "nuclear");
  spec.lambda_u = field<double>(x, "lambda_u");
  spec.lambda_v = field<double>(x, "lambda_v");
  spec.lambda = field<double>(x, "lambda");
  spec.huber_delta = field<double>(x, "huber_delta");
  spec.biased = field<bool>(x, "biases");
  spec.lambda_bias = field<double>(x, "lambda_bias");
  spec.max_iter = field<int>(x, "max_iter");
  spec.tol = field<double>(x, "tol");
  spec.anderson = field<int>(x, "anderson");
  if (spec.anderson < 0) throw std::invalid_argument("the Anderson memory must not be negative");
  if (spec.nuclear && spec.huber_delta > 0) throw std::invalid_argument("the nuclear-norm learner has no Huber loss");
  if (spec.nuclear && spec.biased) throw std::invalid_argument("the nuclear-norm learner has no biases");
  return spec;
}

// Factor matrices cross in R's layout, a row per user or item (m x k and
// n x k: cf_fit's u and v, as softImpute's), and the core holds a column per
// user or item (k x m and k x n: each one's factor contiguous, as the sweeps,
// the adjoint and the predictions read it). These two are the only places
// the layout changes: one transposed copy per crossing (13 MB for both
// factors at the MovieLens-20M shape, rank 10, against minutes of fitting).
// A kernel that wants items in rows (hit_ratio()) takes R's layout as it is.
inline arma::mat core_factors(const arma::mat& r_layout) { return r_layout.t(); }

inline Rcpp::NumericMatrix r_factors(const arma::mat& core_layout) {
  Rcpp::NumericMatrix out(core_layout.n_cols, core_layout.n_rows);
  if (out.size() > 0) {
    arma::mat r_layout(out.begin(), out.nrow(), out.ncol(), false, true);
    r_layout = core_layout.t();
  }
  return out;
}

// The callback a core loop (an ALS fit's sweeps, an attack's iterations) runs
// after each step: it checks for user interrupts and, when R gave a function,
// reports the step's number to it (R/progress.R). The core runs it on the
// calling thread between steps, outside any OpenMP region, where calling R is
// safe.
template <class Step>
std::function<void(const Step&)> step_callback(const Rcpp::Nullable<Rcpp::Function>& on_step) {
  if (on_step.isNull()) return [](const Step&) { Rcpp::checkUserInterrupt(); };
  const Rcpp::Function report(on_step.get());
  return [report](const Step& step) {
    Rcpp::checkUserInterrupt();
    report(step.iteration);
  };
}

}  // namespace boundary
