// Alternating minimization for Eq. 2 (Eq. 4 when fake users are appended as
// extra rows): exact ridge solves per user and per item.
//
// Eq. 2 is ||R_Omega(M - U V')||_F^2 + 2 lambda_U ||U||_F^2 + 2 lambda_V ||V||_F^2.
// Setting its gradient in u_i to zero gives
//   (sum_{j in Omega_i} v_j v_j' + 2 lambda_U I) u_i = sum_{j in Omega_i} M_ij v_j,
// so the ridge added to each k x k Gram matrix is 2 lambda_U (the KKT
// conditions printed in Section 4.1 drop this factor 2; we keep Eq. 2 as the
// definition of the learner).
//
// With the Huber loss (a robust learner, Wong and Lee 2017) the squared
// residual e^2 of Eq. 2 becomes 2 rho_delta(e), rho_delta(e) = e^2/2 for
// |e| <= delta and delta |e| - delta^2/2 beyond, fitted by iteratively
// reweighted least squares: each ridge solve weighs entry (i, j) by
// w_ij = rho'(e_ij) / e_ij = min(1, delta / |e_ij|) at the current residual.
// Since 2 rho(e) <= 2 rho(e0) + w0 (e^2 - e0^2), each weighted solve minimizes a
// majorizer of the Huber objective, which therefore never increases.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "linalg.hpp"
#include "observed.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cfpoison {

class SingularSolve : public std::runtime_error {
 public:
  SingularSolve(const std::string& side, const int index)
      : std::runtime_error("the ridge system of " + side + " " + std::to_string(index + 1) +
                           " (in the fit's order, fake users after real ones) is singular: without "
                           "regularization its ratings must determine every latent factor; use a positive lambda"),
        index_(index) {}
  int index() const { return index_; }

 private:
  int index_;
};

// One half-sweep: each target's factor (a column of `out`, k x count) is the
// weighted ridge solution x = (F W F' + ridge I)^{-1} F W r against the factors
// F of the n_t entries it has, taken from `other` (k x n_other), Eq. 2, with W
// the entries' weights (the identity for the squared loss).
// When n_t < k and ridge > 0 the push-through identity
// x = F W^{1/2} (W^{1/2} F' F W^{1/2} + ridge I)^{-1} W^{1/2} r gives the same x
// from an n_t x n_t system: on MovieLens most items have fewer ratings than the rank.
// Targets are independent, so the result does not depend on `threads`.
template <class Entries, class Weights>
void ridge_update(const Entries& entries, const Weights& weight, const arma::mat& other, const double ridge,
                  arma::mat& out, const int threads, const char* side) {
  const int k = static_cast<int>(other.n_rows);
  const int n = entries.count();
  const int n_other = static_cast<int>(other.n_cols);
  // Targets with an entry for every column of `other` (SGLD's fake users,
  // who rate every item, Algorithm 2) have the same Gram matrix: it is formed
  // once. gram_matrix() visits a full target's entries in the same order for
  // every such target, so the result is bitwise the one formed per target.
  std::vector<double> full_gram;
  if constexpr (std::is_same_v<Weights, UnitWeights>) {
    for (int t = 0; t < n && n_other >= k; ++t) {
      if (entries.size(t) == n_other) {
        full_gram.resize(static_cast<std::size_t>(k) * k);
        gram_matrix(entries, t, other, ridge, full_gram.data(), weight);
        break;
      }
    }
  }
  std::atomic<int> failed(-1);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> gram(static_cast<std::size_t>(k) * k);
    std::vector<double> rhs(k);
    std::vector<const double*> factors(k);
    std::vector<std::size_t> positions(k);
#pragma omp for schedule(dynamic, 64)
    for (int t = 0; t < n; ++t) {
      double* target = out.colptr(t);
      const int n_t = entries.size(t);
      bool solved = false;
      if (n_t < k && ridge > 0) {
        int a = 0;
        entries.with_positions(t, [&](const int o, const double value, const std::size_t p) {
          factors[a] = other.colptr(o);
          positions[a] = p;
          rhs[a] = std::sqrt(weight(p)) * value;
          ++a;
        });
        const auto root_weight = [&](const int e) { return std::sqrt(weight(positions[e])); };
        for (int c = 0; c < n_t; ++c)
          for (int r = c; r < n_t; ++r)
            gram[r + c * n_t] =
                root_weight(r) * root_weight(c) * dot(factors[r], factors[c], k) + (r == c ? ridge : 0.0);
        solved = cholesky_solve(gram.data(), rhs.data(), n_t);
        std::fill(target, target + k, 0.0);
        for (int c = 0; c < n_t; ++c) {
          const double* f = factors[c];
          const double coefficient = root_weight(c) * rhs[c];
#pragma omp simd
          for (int r = 0; r < k; ++r) target[r] += coefficient * f[r];
        }
      } else {
        std::fill(rhs.begin(), rhs.end(), 0.0);
        entries.with_positions(t, [&](const int o, const double value, const std::size_t p) {
          const double* v = other.colptr(o);
          const double weighted = weight(p) * value;
          for (int c = 0; c < k; ++c) rhs[c] += weighted * v[c];
        });
        if (n_t == n_other && !full_gram.empty()) {
          std::copy(full_gram.begin(), full_gram.end(), gram.begin());
        } else {
          gram_matrix(entries, t, other, ridge, gram.data(), weight);
        }
        solved = cholesky_solve(gram.data(), rhs.data(), k);
        if (solved) std::copy(rhs.begin(), rhs.end(), target);
      }
      if (!solved) {
        std::fill(target, target + k, 0.0);
        failed.store(t);
      }
    }
  }
  if (failed.load() >= 0) throw SingularSolve(side, failed.load());
}

// Sum of loss(position, residual) over the observed entries. Per-row partial
// sums are added in row order so that the value is identical for any thread
// count. `loss` runs inside the parallel region (no R API there).
template <class Loss>
double sum_over_residuals(const ObservedIndex& idx, const std::vector<double>& values, const arma::mat& U,
                          const arma::mat& V, const int threads, const Loss& loss) {
  const int k = static_cast<int>(U.n_rows);
  std::vector<double> per_row(idx.n_rows, 0.0);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 256)
  for (int i = 0; i < idx.n_rows; ++i) {
    const double* u = U.colptr(i);
    double s = 0.0;
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      s += loss(p, values[p] - dot(u, V.colptr(idx.col_of[p]), k));
    }
    per_row[i] = s;
  }
  double total = 0.0;
  for (const double s : per_row) total += s;
  return total;
}

// Sum of squared residuals over the observed entries.
inline double residual_sum_of_squares(const ObservedIndex& idx, const std::vector<double>& values,
                                      const arma::mat& U, const arma::mat& V, const int threads) {
  return sum_over_residuals(idx, values, U, V, threads, [](std::size_t, const double r) { return r * r; });
}

// The Huber data term sum of 2 rho_delta(e) (equal to e^2 for |e| <= delta,
// so a huge delta gives Eq. 2's sum of squares), storing each entry's IRLS
// weight min(1, delta / |e|) at its by-row position in `weights`.
inline double huber_reweight(const ObservedIndex& idx, const std::vector<double>& values, const arma::mat& U,
                             const arma::mat& V, const double delta, const int threads, std::vector<double>& weights) {
  return sum_over_residuals(idx, values, U, V, threads, [&](const std::size_t p, const double r) {
    const double size = std::abs(r);
    if (size <= delta) {
      weights[p] = 1.0;
      return r * r;
    }
    weights[p] = delta / size;
    return 2.0 * delta * size - delta * delta;
  });
}

struct AlsSettings {
  double lambda_u = 0.0;   // Eq. 2: penalty 2 lambda_U ||U||_F^2
  double lambda_v = 0.0;   // Eq. 2: penalty 2 lambda_V ||V||_F^2
  int max_iter = 100;
  double tol = 1e-6;       // stop when the objective's relative decrease falls below tol
  double factor_tol = 0;   // if > 0: stop instead when no item factor entry moves by more than this
  double huber_delta = 0;  // if > 0: the Huber loss with this delta (IRLS); else Eq. 2's squared loss
  int threads = 1;
};

// What R's learner specification fixes (learner_als(), learner_nuclear()).
// The nuclear norm's factored fit is Eq. 2 with lambda_U = lambda_V = lambda / 2
// (see nuclear.hpp), followed by one thresholding step.
struct LearnerSpec {
  bool nuclear = false;
  double lambda_u = 0.0;     // Eq. 2 weights (nuclear: lambda / 2 each)
  double lambda_v = 0.0;
  double lambda = 0.0;       // Eq. 3 weight (nuclear only)
  double huber_delta = 0.0;  // > 0: the Huber loss (ALS only)
  int max_iter = 100;
  double tol = 1e-6;
};

inline AlsSettings als_settings(const LearnerSpec& learner, const int max_iter, const double tol, const int threads) {
  AlsSettings s;
  s.lambda_u = learner.lambda_u;
  s.lambda_v = learner.lambda_v;
  s.max_iter = max_iter;
  s.tol = tol;
  s.huber_delta = learner.huber_delta;
  s.threads = threads;
  return s;
}

// Eq. 2's objective from its data term (the sum of squares, or the Huber term).
inline double als_objective(const double data_term, const arma::mat& U, const arma::mat& V, const AlsSettings& s) {
  return data_term + 2.0 * s.lambda_u * arma::accu(arma::square(U)) + 2.0 * s.lambda_v * arma::accu(arma::square(V));
}

struct SweepRecord {
  int iteration;
  double objective;
  double seconds;  // elapsed since the start of the fit
};

using SweepCallback = std::function<void(const SweepRecord&)>;

struct AlsResult {
  arma::mat U;  // k x n_rows: column i is user i's factor
  arma::mat V;  // k x n_cols
  std::vector<SweepRecord> trace;
  bool converged = false;
};

// Alternating minimization from item factors V0 (k x n_cols). A sweep solves
// every user given V, then every item given U, so each sweep cannot increase
// Eq. 2's objective. With the Huber loss the weights are recomputed from the
// residuals after each half-sweep. `on_sweep` runs after each sweep on the
// calling thread (the R glue checks for user interrupts there).
inline AlsResult fit_als(const ObservedIndex& idx, const std::vector<double>& values, const arma::mat& V0,
                         const AlsSettings& s, const SweepCallback& on_sweep) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  AlsResult res;
  res.V = V0;
  res.U.zeros(V0.n_rows, idx.n_rows);
  // The stopping rule is relative to the objective, floored by a tiny share of
  // the data's sum of squares so that an exactly fitted model (objective -> 0)
  // still stops.
  double data_scale = 0.0;
  for (const double v : values) data_scale += v * v;
  const double floor = 1e-14 * std::max(data_scale, 1.0);
  const bool huber = s.huber_delta > 0;
  // IRLS weights start at 1: before the first user half-sweep there are no
  // user factors to take residuals from, so IRLS starts from the least-squares
  // user solve.
  std::vector<double> weights(huber ? values.size() : 0, 1.0);
  double previous = 0.0;
  for (int it = 1; it <= s.max_iter; ++it) {
    const arma::mat V_before = s.factor_tol > 0 ? res.V : arma::mat();
    double data_term = 0.0;
    if (huber) {
      ridge_update(RowEntries{idx, values}, EntryWeights{weights}, res.V, 2.0 * s.lambda_u, res.U, s.threads, "user");
      huber_reweight(idx, values, res.U, res.V, s.huber_delta, s.threads, weights);
      ridge_update(ColEntries{idx, values}, EntryWeights{weights}, res.U, 2.0 * s.lambda_v, res.V, s.threads, "item");
      data_term = huber_reweight(idx, values, res.U, res.V, s.huber_delta, s.threads, weights);
    } else {
      ridge_update(RowEntries{idx, values}, UnitWeights{}, res.V, 2.0 * s.lambda_u, res.U, s.threads, "user");
      ridge_update(ColEntries{idx, values}, UnitWeights{}, res.U, 2.0 * s.lambda_v, res.V, s.threads, "item");
      data_term = residual_sum_of_squares(idx, values, res.U, res.V, s.threads);
    }
    const double objective = als_objective(data_term, res.U, res.V, s);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    res.trace.push_back({it, objective, seconds});
    if (on_sweep) on_sweep(res.trace.back());
    // Near a minimum the objective is flat (it changes with the square of the
    // factors' change), so a tight fit judges convergence by the factors alone.
    const bool settled = s.factor_tol > 0
                             ? arma::abs(res.V - V_before).max() <= s.factor_tol
                             : std::abs(previous - objective) <= s.tol * std::max(objective, floor);
    if (it > 1 && settled) {
      res.converged = true;
      break;
    }
    previous = objective;
  }
  return res;
}

}  // namespace cfpoison
