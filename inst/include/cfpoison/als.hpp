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
//
// The biased model (learner_als(biases = TRUE)) predicts mu + b_i + c_j +
// u_i'v_j, mu the mean of the ratings it is fitted on (fake ones included),
// and adds 2 lambda_bias (||b||^2 + ||c||^2) to Eq. 2. It is alternating
// minimization on the free parameters [u_i; b_i] and [v_j; c_j]: the user step
// is the ridge solve above with the item side's design factors [v_j; 1], the
// target r_ij - mu - c_j and the ridge diag(2 lambda_U, ..., 2 lambda_bias),
// the item step likewise (see biased_sweep()). Each step is exact, so the
// objective never increases.
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
// the entries' weights (the identity for the squared loss). `ridge` is one
// value, or one per coordinate (diag(ridge) in place of ridge I).
// When n_t < k and the ridge is one positive value the push-through identity
// x = F W^{1/2} (W^{1/2} F' F W^{1/2} + ridge I)^{-1} W^{1/2} r gives the same x
// from an n_t x n_t system: on MovieLens most items have fewer ratings than the rank.
// Targets are independent, so the result does not depend on `threads`.
//
// With `squares` (the squared loss and one ridge value only) each target's sum
// of squared residuals at its new factor, sum (r - f'x)^2, is stored in
// squares->residuals, from what the solve has at hand instead of a pass over
// the ratings: at the solution of (F F' + rho I) x = b = F r it is
// r'r - x'b - rho x'x (r'r from squares->ratings), and in the push-through
// form, whose solution a of (F'F + rho I) a = r gives x = F a and residuals
// r - F'x = rho a, it is rho^2 a'a.
struct ResidualSquares {
  std::vector<double> ratings;    // per target: r'r, fixed during a fit (rating_squares())
  std::vector<double> residuals;  // per target: sum (r - f'x)^2 after the update
};

// Per target of `entries`: r'r, its ratings' sum of squares, added in the
// order ridge_update() visits them.
template <class Entries>
std::vector<double> rating_squares(const Entries& entries) {
  std::vector<double> out(static_cast<std::size_t>(entries.count()), 0.0);
  for (int t = 0; t < entries.count(); ++t) entries(t, [&](int, const double value) { out[t] += value * value; });
  return out;
}

template <class Entries, class Weights, class Ridge>
void ridge_update_visiting(const Entries& entries, const Weights& weight, const arma::mat& other, const Ridge& ridge,
                           arma::mat& out, const int threads, const char* side, ResidualSquares* squares) {
  const int k = static_cast<int>(other.n_rows);
  const double uniform = uniform_ridge(ridge);
  if (squares != nullptr && !(std::is_same_v<Weights, UnitWeights> && uniform > 0))
    throw std::logic_error("residual sums come from unweighted solves with one positive ridge");
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
    std::vector<double> projection(squares != nullptr ? k : 0);  // b = F r, kept for `squares`
    std::vector<const double*> factors(k);
    std::vector<std::size_t> positions(k);
#pragma omp for schedule(dynamic, 64)
    for (int t = 0; t < n; ++t) {
      double* target = out.colptr(t);
      const int n_t = entries.size(t);
      bool solved = false;
      if (n_t < k && uniform > 0) {
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
                root_weight(r) * root_weight(c) * dot(factors[r], factors[c], k) + (r == c ? uniform : 0.0);
        solved = cholesky_solve(gram.data(), rhs.data(), n_t);
        if (squares != nullptr) squares->residuals[t] = uniform * uniform * dot(rhs.data(), rhs.data(), n_t);
        std::fill(target, target + k, 0.0);
        for (int c = 0; c < n_t; ++c) {
          const double* f = factors[c];
          const double coefficient = root_weight(c) * rhs[c];
#pragma omp simd
          for (int r = 0; r < k; ++r) target[r] += coefficient * f[r];
        }
      } else {
        if (n_t == n_other && !full_gram.empty()) {
          std::fill(rhs.begin(), rhs.end(), 0.0);
          entries.with_positions(t, [&](const int o, const double value, const std::size_t p) {
            add_rhs_term(rhs.data(), weight(p) * value, other.colptr(o), k);
          });
          std::copy(full_gram.begin(), full_gram.end(), gram.begin());
        } else {
          gram_matrix(entries, t, other, ridge, gram.data(), weight, rhs.data());
        }
        if (squares != nullptr) {
          std::copy(rhs.begin(), rhs.end(), projection.begin());
          solved = cholesky_solve(gram.data(), rhs.data(), k);
          squares->residuals[t] = squares->ratings[t] - dot(rhs.data(), projection.data(), k) -
                                  uniform * dot(rhs.data(), rhs.data(), k);
        } else {
          solved = cholesky_solve(gram.data(), rhs.data(), k);
        }
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

// ridge_update_visiting() over `entries`, prefetching the factors of
// `other` where they outgrow a core's cache (see RowVisitor).
template <class Entries, class Weights, class Ridge>
void ridge_update(const Entries& entries, const Weights& weight, const arma::mat& other, const Ridge& ridge,
                  arma::mat& out, const int threads, const char* side, ResidualSquares* squares = nullptr) {
  if (other.n_elem * sizeof(double) > kPrefetchBytes) {
    ridge_update_visiting(prefetching(entries, other), weight, other, ridge, out, threads, side, squares);
  } else {
    ridge_update_visiting(entries, weight, other, ridge, out, threads, side, squares);
  }
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
  bool biased = false;     // mu + b_i + c_j + u_i'v_j (see the top of this file)
  double lambda_bias = 0;  // its penalty 2 lambda_bias (||b||^2 + ||c||^2)
  int anderson = 0;        // if > 0: Anderson acceleration with this memory (see fit_als()); not with Huber
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
  bool biased = false;       // the biased model (ALS only)
  double lambda_bias = 0.0;
  int max_iter = 100;
  double tol = 1e-6;
  int anderson = 0;  // its fits' Anderson memory (AlsSettings::anderson)
};

inline AlsSettings als_settings(const LearnerSpec& learner, const int max_iter, const double tol, const int threads) {
  AlsSettings s;
  s.lambda_u = learner.lambda_u;
  s.lambda_v = learner.lambda_v;
  s.max_iter = max_iter;
  s.tol = tol;
  s.huber_delta = learner.huber_delta;
  s.biased = learner.biased;
  s.lambda_bias = learner.lambda_bias;
  s.anderson = learner.anderson;
  s.threads = threads;
  return s;
}

// A biased model's free parameters F = [X; bias] ((k+1) x count, X the k
// latent rows) in the layouts its steps use:
//   design [X; 1]: the other side's factors in a ridge solve, whose last
//     coordinate multiplies this side's bias;
//   augmented [X; b; 1] (users) or [X; 1; c] (items): their products
//     u_i'v_j + b_i + c_j are the predictions less mu.
inline arma::mat bias_design(const arma::mat& F) {
  arma::mat out(F);
  out.row(out.n_rows - 1).ones();
  return out;
}

inline arma::mat bias_augmented(const arma::mat& F, const bool users) {
  const arma::uword k = F.n_rows - 1;
  arma::mat out(k + 2, F.n_cols);
  out.head_rows(k) = F.head_rows(k);
  out.row(users ? k : k + 1) = F.row(k);
  out.row(users ? k + 1 : k).ones();
  return out;
}

// The ridge of a biased model's solves: 2 lambda on the latent coordinates,
// 2 lambda_bias on the bias.
inline std::vector<double> bias_ridge(const int k, const double lambda, const double lambda_bias) {
  std::vector<double> ridge(static_cast<std::size_t>(k) + 1, 2.0 * lambda);
  ridge.back() = 2.0 * lambda_bias;
  return ridge;
}

// The mean mu of a biased model: of every rating it is fitted on.
inline double rating_mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (const double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

inline std::vector<double> centred(const std::vector<double>& values, const double mean) {
  std::vector<double> out(values);
  for (double& v : out) v -= mean;
  return out;
}

// Eq. 2's objective from its data term (the sum of squares, or the Huber
// term), plus the biases' penalty for a biased model (U = [U; b], V = [V; c]).
inline double als_objective(const double data_term, const arma::mat& U, const arma::mat& V, const AlsSettings& s) {
  if (s.biased) {
    const arma::uword k = U.n_rows - 1;
    return data_term + 2.0 * s.lambda_u * arma::accu(arma::square(U.head_rows(k))) +
           2.0 * s.lambda_v * arma::accu(arma::square(V.head_rows(k))) +
           2.0 * s.lambda_bias * (arma::accu(arma::square(U.row(k))) + arma::accu(arma::square(V.row(k))));
  }
  return data_term + 2.0 * s.lambda_u * arma::accu(arma::square(U)) + 2.0 * s.lambda_v * arma::accu(arma::square(V));
}

// One sweep of the biased model on `ratings` centred on mu: the user step
// solves [u_i; b_i] against the design factors [v_j; 1] and the targets
// ratings_ij - c_j, the item step [v_j; c_j] against [u_i; 1] and
// ratings_ij - b_i (U = [U; b], V = [V; c]). With the Huber loss the weights
// are recomputed after each step, as in fit_als(). Returns the data term.
inline double biased_sweep(const ObservedIndex& idx, const std::vector<double>& ratings, arma::mat& U, arma::mat& V,
                           const AlsSettings& s, std::vector<double>& weights) {
  const int k = static_cast<int>(V.n_rows) - 1;
  const bool huber = s.huber_delta > 0;
  std::vector<double> target(ratings.size());
  const auto data_term = [&]() {
    const arma::mat users = bias_augmented(U, true);
    const arma::mat items = bias_augmented(V, false);
    return huber ? huber_reweight(idx, ratings, users, items, s.huber_delta, s.threads, weights)
                 : residual_sum_of_squares(idx, ratings, users, items, s.threads);
  };
  const auto step = [&](const auto& weight) {
    for (int i = 0; i < idx.n_rows; ++i)
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p)
        target[p] = ratings[p] - V(k, idx.col_of[p]);
    ridge_update(RowEntries{idx, target}, weight, bias_design(V), bias_ridge(k, s.lambda_u, s.lambda_bias), U,
                 s.threads, "user");
    if (huber) data_term();
    for (int i = 0; i < idx.n_rows; ++i)
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) target[p] = ratings[p] - U(k, i);
    ridge_update(ColEntries{idx, target}, weight, bias_design(U), bias_ridge(k, s.lambda_v, s.lambda_bias), V,
                 s.threads, "item");
  };
  if (huber) {
    step(EntryWeights{weights});
  } else {
    step(UnitWeights{});
  }
  return data_term();
}

struct SweepRecord {
  int iteration;
  double objective;
  double seconds;  // elapsed since the start of the fit
};

using SweepCallback = std::function<void(const SweepRecord&)>;

struct AlsResult {
  arma::mat U;  // k x n_rows: column i is user i's factor (biased: [u_i; b_i])
  arma::mat V;  // k x n_cols (biased: [v_j; c_j])
  double mean = 0.0;  // mu of a biased model
  std::vector<SweepRecord> trace;
  bool converged = false;
  bool cut = false;  // a SweepCheck stopped it
};

// Runs after each sweep on the calling thread with the fit so far; false
// stops the fit there (AlsResult::cut).
using SweepCheck = std::function<bool(const AlsResult&)>;

// Alternating minimization from item factors V0 (k x n_cols; for a biased
// model [V; c], (k+1) x n_cols). A sweep solves
// every user given V, then every item given U, so each sweep cannot increase
// Eq. 2's objective. With the Huber loss the weights are recomputed from the
// residuals after each half-sweep. `on_sweep` runs after each sweep on the
// calling thread (the R glue checks for user interrupts there), then `check`.
//
// With `anderson` > 0 (the package's refits to a tolerance: R's
// accelerated()) the sweep is a fixed-point map V -> V' on the item
// factors, and the next sweep starts from its Anderson extrapolation
// (AndersonAcceleration, linalg.hpp). Near an optimum alternating
// minimization converges linearly and slowly where fake users and the items
// they share form a weakly determined block: on MovieLens at the default
// availability attack of alpha = 3% plain sweeps stop at a relative 1e-8
// after 501 sweeps with the utility still 0.37% from its limit; accelerated
// ones stop after 290 within 0.05%.
// A sweep from an extrapolated start that ends above the last objective is
// undone and the extrapolation restarted from the last sweep's own output, so
// the objectives recorded still never increase.
// `by_column`: the values in the index's by-column order, when the caller
// keeps them (JointData::by_column()); made here otherwise.
inline AlsResult fit_als(const ObservedIndex& idx, const std::vector<double>& values, const arma::mat& V0,
                         const AlsSettings& s, const SweepCallback& on_sweep, const SweepCheck& check = nullptr,
                         const std::vector<double>* by_column = nullptr) {
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
  if (s.biased) res.mean = rating_mean(values);
  const std::vector<double> centred_values = s.biased ? centred(values, res.mean) : std::vector<double>();
  // (A biased fit's item step reads its own centred targets, in biased_sweep().)
  const bool own = !s.biased && by_column == nullptr;
  const std::vector<double> made = own ? in_column_order(idx, values) : std::vector<double>();
  // Eq. 2's data term from the item step's solves (see ridge_update()).
  const ColEntries items{idx, values, own ? &made : by_column};
  const bool item_sums = !s.biased && !huber && s.lambda_v > 0;
  ResidualSquares item_squares;
  if (item_sums) {
    item_squares.ratings = rating_squares(items);
    item_squares.residuals.resize(static_cast<std::size_t>(idx.n_cols));
  }
  double previous = 0.0;
  const bool accelerated = s.anderson > 0 && !huber;
  AndersonAcceleration anderson(s.anderson);
  arma::mat kept_U, kept_V;  // the last sweep kept: where an undone sweep resumes
  arma::mat next_V;          // the extrapolated start of the next sweep
  for (int it = 1; it <= s.max_iter; ++it) {
    const bool extrapolated = !next_V.empty();
    if (extrapolated) {
      res.V = next_V;
      next_V.reset();
    }
    const arma::mat V_before = s.factor_tol > 0 || accelerated ? res.V : arma::mat();
    double data_term = 0.0;
    if (s.biased) {
      data_term = biased_sweep(idx, centred_values, res.U, res.V, s, weights);
    } else if (huber) {
      ridge_update(RowEntries{idx, values}, EntryWeights{weights}, res.V, 2.0 * s.lambda_u, res.U, s.threads, "user");
      huber_reweight(idx, values, res.U, res.V, s.huber_delta, s.threads, weights);
      ridge_update(items, EntryWeights{weights}, res.U, 2.0 * s.lambda_v, res.V, s.threads, "item");
      data_term = huber_reweight(idx, values, res.U, res.V, s.huber_delta, s.threads, weights);
    } else {
      // The item step leaves each item's sum of squared residuals, which
      // add up to the data term (in item order, for any thread count).
      ridge_update(RowEntries{idx, values}, UnitWeights{}, res.V, 2.0 * s.lambda_u, res.U, s.threads, "user");
      ridge_update(items, UnitWeights{}, res.U, 2.0 * s.lambda_v, res.V, s.threads, "item",
                   item_sums ? &item_squares : nullptr);
      if (item_sums) {
        for (const double sum : item_squares.residuals) data_term += sum;
      } else {
        data_term = residual_sum_of_squares(idx, values, res.U, res.V, s.threads);
      }
    }
    double objective = als_objective(data_term, res.U, res.V, s);
    const bool undone = accelerated && it > 1 && objective > previous;
    if (undone) {
      res.U = kept_U;
      res.V = kept_V;
      objective = previous;
      anderson.reset();
    }
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    res.trace.push_back({it, objective, seconds});
    if (on_sweep) on_sweep(res.trace.back());
    if (check && !check(res)) {
      res.cut = true;
      break;
    }
    // An undone sweep changed nothing: no convergence to judge.
    if (undone) continue;
    // Near a minimum the objective is flat (it changes with the square of the
    // factors' change), so a tight fit judges convergence by the factors alone.
    const bool settled = s.factor_tol > 0
                             ? arma::abs(res.V - V_before).max() <= s.factor_tol
                             : std::abs(previous - objective) <= s.tol * std::max(objective, floor);
    // After an extrapolated start a small decrease says nothing: the
    // extrapolation can land on a plateau's far side, where the sweep gains
    // little though plain sweeps still gain 1e-6 each (on MovieLens a default
    // availability block at alpha = 3% stopped so after 24 sweeps, its RMSE
    // shift 0.045 against 0.073 at the limit). So only a plain sweep, from
    // the last sweep's own output, may stop the fit.
    if (it > 1 && settled && !extrapolated) {
      res.converged = true;
      break;
    }
    previous = objective;
    if (accelerated && it < s.max_iter) {
      kept_U = res.U;
      kept_V = res.V;
      if (!settled) next_V = anderson.next(V_before, res.V);
    }
  }
  return res;
}

}  // namespace cfpoison
