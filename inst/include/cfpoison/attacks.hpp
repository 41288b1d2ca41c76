// Attack loops: projected gradient ascent (Algorithm 1) and stochastic
// gradient Langevin dynamics (Algorithm 2) over the fake users' ratings.
//
// The joint index (normal users, then fake users) is built once; the fake
// block is the tail of the by-row values, rewritten in place each iteration
// while its support stays fixed. Every refit is warm-started from the
// previous item factors.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "als.hpp"
#include "gradients.hpp"
#include "linalg.hpp"
#include "nuclear.hpp"
#include "observed.hpp"
#include "utilities.hpp"

namespace cfpoison {

struct LearnerSpec {
  bool nuclear = false;
  double lambda_u = 0.0;  // Eq. 2 weights (nuclear: lambda / 2 each)
  double lambda_v = 0.0;
  double lambda = 0.0;    // Eq. 3 weight (nuclear only)
};

struct RefitSettings {
  int sweeps = 5;       // warm-started ALS sweeps per evaluation
  double tol = 1e-6;    // or fewer, when the objective stalls
  double factor_tol = 0;  // if > 0: stop when item factors move less than this (tight refits)
  GradientMethod method = GradientMethod::kkt;
  double tau = 1.0;     // Appendix B's smoothing (nuclear, method kkt)
  AdjointSettings adjoint;
  int threads = 1;
};

// The fake users' ratings in by-row order: entry e is fake user user[e]
// (0-based among the fake users) rating item[e] with value[e], sorted by user
// and then item, as a cf_ratings block is.
struct FakeBlock {
  std::vector<int> user;
  std::vector<int> item;
  std::vector<double> value;

  bool same_support(const FakeBlock& other) const { return user == other.user && item == other.item; }
};

struct Evaluation {
  arma::mat V;           // item factors of the factored fit: the next warm start
  double utility = 0.0;
  FakeGradient gradient;
  // The factors the gradient was taken at (balanced ones for a nuclear fit),
  // whose products are the predictions: fake users' (k x m') and items' (k x n).
  arma::mat fake_factors;
  arma::mat item_factors;
};

// The poisoned learner as a function of the fake block: refit, utility,
// gradient. The joint index (normal users, then fake users) is rebuilt only
// when the block's support changes.
class PoisonedLearner {
 public:
  PoisonedLearner(std::vector<int> normal_rows, std::vector<int> normal_cols, std::vector<double> normal_values,
                  const int n_normal, const int n_items, const int n_fake, const LearnerSpec& learner,
                  CleanModel clean, UtilitySpec utility, const RefitSettings& settings)
      : normal_rows_(std::move(normal_rows)),
        normal_cols_(std::move(normal_cols)),
        normal_values_(std::move(normal_values)),
        n_normal_(n_normal),
        n_items_(n_items),
        n_fake_(n_fake),
        learner_(learner),
        clean_(std::move(clean)),
        utility_(std::move(utility)),
        settings_(settings) {}

  int n_normal() const { return n_normal_; }
  int n_items() const { return n_items_; }
  int n_fake() const { return n_fake_; }

  Evaluation evaluate(const FakeBlock& fake, const arma::mat& V_warm, const bool with_gradient) {
    set_block(fake);
    AlsSettings als;
    als.lambda_u = learner_.lambda_u;
    als.lambda_v = learner_.lambda_v;
    als.max_iter = settings_.sweeps;
    als.tol = settings_.tol;
    als.factor_tol = settings_.factor_tol;
    als.threads = settings_.threads;
    const AlsResult fit = fit_als(idx_, values_, V_warm, als, nullptr);
    Evaluation out;
    out.V = fit.V;
    if (!learner_.nuclear) {
      const UtilityGradient ug = utility_gradient(idx_, n_normal_, fit.U, fit.V, clean_, utility_, settings_.threads);
      out.utility = ug.value;
      if (with_gradient) {
        const JointModel model{idx_, values_, fit.U, fit.V, learner_.lambda_u, learner_.lambda_v, n_normal_};
        out.gradient = gradient(model, ug, settings_.method);
        keep_factors(fit.U, fit.V, out);
      }
      return out;
    }
    // Nuclear norm: X = U diag(d) V' after thresholding; its balanced factors
    // sqrt(d) U, sqrt(d) V on the positive singular values carry the gradient.
    const NuclearFactors svd = nuclear_threshold(idx_, values_, fit.U, fit.V, learner_.lambda, settings_.threads);
    const arma::uvec active = arma::find(svd.d > 0.0);
    const arma::vec d = svd.d.elem(active);
    const arma::mat U = svd.U.rows(active);
    const arma::mat V = svd.V.rows(active);
    const arma::mat A = arma::diagmat(arma::sqrt(d)) * U;
    const arma::mat B = arma::diagmat(arma::sqrt(d)) * V;
    const UtilityGradient ug = utility_gradient(idx_, n_normal_, A, B, clean_, utility_, settings_.threads);
    out.utility = ug.value;
    if (with_gradient) {
      if (settings_.method == GradientMethod::exact) {
        const JointModel model{idx_, values_, A, B, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal_};
        out.gradient = gradient(model, ug, GradientMethod::exact);
        keep_factors(A, B, out);
      } else {
        // dR/dv_j = sqrt(d) dR/db_j for B = diag(sqrt(d)) V.
        const arma::mat dV = arma::diagmat(arma::sqrt(d)) * ug.dQ;
        const JointModel model{idx_, values_, U, V, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal_};
        out.gradient = appendix_b_gradient(model, d, learner_.lambda, settings_.tau, dV, settings_.threads);
      }
    }
    return out;
  }

 private:
  // Lays out the joint data for `fake`: the index is rebuilt when the support
  // changed, the fake values (the tail of the by-row values) are rewritten.
  void set_block(const FakeBlock& fake) {
    if (idx_.n_rows == 0 || !fake.same_support(support_)) {
      std::vector<int> rows(normal_rows_), cols(normal_cols_);
      for (std::size_t e = 0; e < fake.user.size(); ++e) {
        rows.push_back(n_normal_ + fake.user[e]);
        cols.push_back(fake.item[e]);
      }
      std::vector<std::size_t> order;
      idx_ = build_index(n_normal_ + n_fake_, n_items_, rows.data(), cols.data(), rows.size(), order);
      for (std::size_t p = 0; p < order.size(); ++p)
        if (order[p] != p) throw std::invalid_argument("ratings must be sorted by user, then item");
      values_ = normal_values_;
      values_.resize(rows.size());
      support_.user = fake.user;
      support_.item = fake.item;
    }
    std::copy(fake.value.begin(), fake.value.end(), values_.begin() + static_cast<std::ptrdiff_t>(normal_values_.size()));
  }

  // The gradient, its exact adjoint warm-started from the last one computed
  // (attacks move the fit a little per step).
  FakeGradient gradient(const JointModel& model, const UtilityGradient& ug, const GradientMethod method) {
    const bool fits = last_zV_.n_rows == model.V.n_rows && last_zV_.n_cols == model.V.n_cols;
    FakeGradient g = implicit_gradient(model, ug.dP, ug.dQ, method, fits ? last_zV_ : arma::mat(), settings_.adjoint);
    last_zV_ = g.zV;
    return g;
  }

  void keep_factors(const arma::mat& U, const arma::mat& V, Evaluation& out) const {
    out.fake_factors = U.cols(static_cast<arma::uword>(n_normal_), U.n_cols - 1);
    out.item_factors = V;
  }

  std::vector<int> normal_rows_;
  std::vector<int> normal_cols_;
  std::vector<double> normal_values_;
  int n_normal_;
  int n_items_;
  int n_fake_;
  LearnerSpec learner_;
  CleanModel clean_;
  UtilitySpec utility_;
  RefitSettings settings_;
  ObservedIndex idx_;
  std::vector<double> values_;
  FakeBlock support_;
  arma::mat last_zV_;
};

struct AttackTraceRow {
  int iteration;
  double utility;
  double step;
  bool accepted;
  int swaps;  // support changes the step proposed (0 for a fixed support)
  int cg_iterations;
  HessianModel hessian;
  double seconds;
};

struct AttackResult {
  FakeBlock fake;
  std::vector<AttackTraceRow> trace;
  arma::mat V;
};

using IterationCallback = std::function<void(const AttackTraceRow&)>;

inline void clip(std::vector<double>& x, const double bound) {
  for (double& v : x) v = std::min(bound, std::max(-bound, v));
}

// Seconds since construction, for the traces.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

inline AttackTraceRow trace_row(const int iteration, const Evaluation& at, const double step, const bool accepted,
                                const int swaps, const Evaluation& evaluated, const Stopwatch& clock) {
  return {iteration,  at.utility, step, accepted, swaps, evaluated.gradient.cg_iterations, evaluated.gradient.hessian,
          clock.seconds()};
}

struct PgaSettings {
  int max_iter = 50;
  double step = 2.0;        // largest change of one rating in the first step
  double min_step = 1e-3;   // stop when backtracking shrinks the step below this
  double tol = 1e-4;        // an accepted step gaining less than tol (relative) is a stall
  int patience = 3;         // stop after this many stalls in a row
  double max_rating = 2.0;  // Lambda
};

// Algorithm 1 with a fixed support (drawn by the caller) and a step rule that
// converges in practice: the gradient is scaled so its largest entry moves by
// `step`, the result clipped to [-Lambda, Lambda] (Eq. 10's projection); a step
// that does not raise the utility is undone and the step halved, so the
// iterate kept is always the best seen.
inline AttackResult run_pga(PoisonedLearner& learner, FakeBlock fake, const arma::mat& V0, const PgaSettings& s,
                            const IterationCallback& on_iteration) {
  const Stopwatch clock;
  clip(fake.value, s.max_rating);
  Evaluation current = learner.evaluate(fake, V0, true);
  AttackResult res;
  res.trace.push_back(trace_row(0, current, 0.0, true, 0, current, clock));
  if (on_iteration) on_iteration(res.trace.back());
  double step = s.step;
  int stalls = 0;
  for (int it = 1; it <= s.max_iter && step >= s.min_step && stalls < s.patience; ++it) {
    const std::vector<double>& grad = current.gradient.values;
    double largest = 0.0;
    for (const double g : grad) largest = std::max(largest, std::abs(g));
    if (!(largest > 0.0) || !std::isfinite(largest)) break;
    FakeBlock candidate(fake);
    for (std::size_t e = 0; e < candidate.value.size(); ++e) candidate.value[e] += step * grad[e] / largest;
    clip(candidate.value, s.max_rating);
    Evaluation next = learner.evaluate(candidate, current.V, true);
    const bool accepted = next.utility > current.utility;
    if (accepted) {
      const double gain = (next.utility - current.utility) / std::max(std::abs(current.utility), 1e-300);
      stalls = gain < s.tol ? stalls + 1 : 0;
      fake = std::move(candidate);
      std::swap(current, next);
    } else {
      step /= 2.0;
    }
    res.trace.push_back(trace_row(it, current, step, accepted, 0, accepted ? current : next, clock));
    if (on_iteration) on_iteration(res.trace.back());
  }
  res.fake = std::move(fake);
  res.V = current.V;
  return res;
}

struct SearchSettings {
  int max_iter = 40;
  double step = 2.0;             // largest change of one fake user's ratings in a step
  int max_swaps = 4;             // exchanges in one step (over all fake users)
  double min_step = 1e-2;        // stop when backtracking leaves less than this and no swap
  double tol = 1e-4;             // an accepted step gaining less than tol (relative) is a stall
  int patience = 3;              // stop after this many stalls in a row
  double max_rating = 2.0;       // Lambda
  std::vector<int> kept_items;   // never exchanged (the targets of an integrity utility)
};

// First-order scores of fake user `f`'s possible ratings, from the adjoint z
// of the current fit: G_j = dR/dM~_fj = 2 (v_j' z_{u~_f} + u~_f' z_{v_j}) for
// every item j. For an entry not in the support it is the same derivative
// taken at a new rating of weight c = 0: adding (f, j) at rating r changes R by
// about dR/dc = (r - u~_f'v_j) G_j, best at r = Lambda sign(G_j).
struct EntryScores {
  arma::rowvec gradient;    // G_j
  arma::rowvec prediction;  // u~_f'v_j
};

inline EntryScores entry_scores(const Evaluation& at, const int f) {
  const arma::vec u = at.fake_factors.col(static_cast<arma::uword>(f));
  const arma::vec zu = at.gradient.zU_fake.col(static_cast<arma::uword>(f));
  return {2.0 * (zu.t() * at.item_factors + u.t() * at.gradient.zV), u.t() * at.item_factors};
}

// The support search's two moves, from the adjoint of the current fit.
//  * Values (`swaps` = 0): each fake user moves its ratings along its own
//    gradient, its largest entry by `step` (so that every fake user moves, not
//    only the one with the largest gradient), clipped to [-Lambda, Lambda].
//  * Exchanges (`swaps` > 0): the `swaps` exchanges, over all fake users,
//    whose first-order gain is largest: a fake user drops the entry worth
//    least, e G_j with e its residual (the derivative in the entry's weight),
//    for the unrated item that would gain most, rated Lambda sign(G_j). At
//    most one exchange per fake user, so that the estimates stay first order.
// `n_swapped` receives the exchanges made.
inline FakeBlock propose(const FakeBlock& block, const Evaluation& at, const double step, const int swaps,
                         const SearchSettings& s, const int n_fake, int& n_swapped) {
  const int n = static_cast<int>(at.item_factors.n_cols);
  std::vector<char> kept(n, 0);
  for (const int j : s.kept_items) kept[j] = 1;
  const std::vector<double>& grad = at.gradient.values;
  std::vector<std::size_t> user_start(static_cast<std::size_t>(n_fake) + 1, 0);
  for (const int f : block.user) ++user_start[static_cast<std::size_t>(f) + 1];
  for (int f = 0; f < n_fake; ++f) user_start[f + 1] += user_start[f];

  FakeBlock out(block);
  n_swapped = 0;
  if (swaps == 0) {
    for (int f = 0; f < n_fake; ++f) {
      double largest = 0.0;
      for (std::size_t p = user_start[f]; p < user_start[f + 1]; ++p) largest = std::max(largest, std::abs(grad[p]));
      if (!(largest > 0.0) || !std::isfinite(largest)) continue;
      for (std::size_t p = user_start[f]; p < user_start[f + 1]; ++p) {
        const double moved = block.value[p] + step * grad[p] / largest;
        out.value[p] = std::min(s.max_rating, std::max(-s.max_rating, moved));
      }
    }
    return out;
  }
  // Each fake user's best exchange: (gain, user, position dropped, item added).
  struct Exchange {
    double gain;
    int user;
    std::size_t position;
    int item;
    double rating;
  };
  std::vector<Exchange> best;
  std::vector<char> rated(n, 0);
  for (int f = 0; f < n_fake; ++f) {
    if (user_start[f] == user_start[f + 1]) continue;
    const EntryScores score = entry_scores(at, f);
    double least = std::numeric_limits<double>::infinity();
    std::size_t drop = 0;
    for (std::size_t p = user_start[f]; p < user_start[f + 1]; ++p) {
      const int j = block.item[p];
      rated[j] = 1;
      const double worth = (block.value[p] - score.prediction[j]) * score.gradient[j];
      if (!kept[j] && worth < least) {
        least = worth;
        drop = p;
      }
    }
    double most = -std::numeric_limits<double>::infinity();
    int add = -1;
    for (int j = 0; j < n; ++j) {
      if (rated[j]) continue;
      const double gain = s.max_rating * std::abs(score.gradient[j]) - score.prediction[j] * score.gradient[j];
      if (gain > most) {
        most = gain;
        add = j;
      }
    }
    for (std::size_t p = user_start[f]; p < user_start[f + 1]; ++p) rated[block.item[p]] = 0;
    if (add >= 0 && std::isfinite(least) && most > least)
      best.push_back({most - least, f, drop, add, score.gradient[add] >= 0.0 ? s.max_rating : -s.max_rating});
  }
  const std::size_t n_taken = std::min(static_cast<std::size_t>(swaps), best.size());
  std::partial_sort(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(n_taken), best.end(),
                    [](const Exchange& a, const Exchange& b) { return a.gain > b.gain; });
  for (std::size_t q = 0; q < n_taken; ++q) {
    out.item[best[q].position] = best[q].item;
    out.value[best[q].position] = best[q].rating;
  }
  n_swapped = static_cast<int>(n_taken);
  // Back to the block's order: by user, then item.
  std::vector<std::size_t> order(out.user.size());
  for (std::size_t e = 0; e < order.size(); ++e) order[e] = e;
  std::sort(order.begin(), order.end(), [&](const std::size_t a, const std::size_t b) {
    return out.user[a] != out.user[b] ? out.user[a] < out.user[b] : out.item[a] < out.item[b];
  });
  FakeBlock sorted;
  for (const std::size_t e : order) {
    sorted.user.push_back(out.user[e]);
    sorted.item.push_back(out.item[e]);
    sorted.value.push_back(out.value[e]);
  }
  return sorted;
}

// The support search: projected gradient ascent on the values, as in
// Algorithm 1, alternating with exchanges of items that optimize the support
// itself, both scored from the same adjoint solve (propose()). Each move keeps
// its own size: a proposal that does not raise the utility is undone and its
// move's size halved (the step, or the number of exchanges), an accepted one
// lets it grow back, so the iterate kept is always the best seen. The search
// ends when neither move can still gain: the step below `min_step` and a
// single exchange per fake user rejected.
// Every proposal is refitted from V0, the clean model's item factors, as
// evaluate_attack() refits: the poisoned problem has several optima, and a
// chain of refits each warm-started from the last drifts to one a refit from
// the clean model does not reach (on simulated data its utility overstated the
// converged one by 30%), so the search would climb a utility nobody measures.
inline AttackResult run_search(PoisonedLearner& learner, FakeBlock fake, const arma::mat& V0,
                               const SearchSettings& s, const IterationCallback& on_iteration) {
  const Stopwatch clock;
  clip(fake.value, s.max_rating);
  Evaluation current = learner.evaluate(fake, V0, true);
  AttackResult res;
  res.trace.push_back(trace_row(0, current, 0.0, true, 0, current, clock));
  if (on_iteration) on_iteration(res.trace.back());
  double step = s.step;
  int swaps = s.max_swaps;
  bool values_done = false;
  bool swaps_done = s.max_swaps == 0;
  int stalls = 0;
  for (int it = 1; it <= s.max_iter && !(values_done && swaps_done) && stalls < s.patience; ++it) {
    bool exchange = !swaps_done && (values_done || it % 2 == 1);
    int n_swapped = 0;
    FakeBlock candidate = propose(fake, current, step, exchange ? swaps : 0, s, learner.n_fake(), n_swapped);
    if (exchange && n_swapped == 0) {
      // No exchange promises a gain: only the values can still move.
      swaps_done = true;
      exchange = false;
      if (values_done) break;
      candidate = propose(fake, current, step, 0, s, learner.n_fake(), n_swapped);
    }
    Evaluation next = learner.evaluate(candidate, V0, true);
    const bool accepted = next.utility > current.utility;
    if (accepted) {
      const double gain = (next.utility - current.utility) / std::max(std::abs(current.utility), 1e-300);
      stalls = gain < s.tol ? stalls + 1 : 0;
      fake = std::move(candidate);
      std::swap(current, next);
      if (exchange) {
        swaps = std::min(s.max_swaps, 2 * swaps);
      } else {
        step = std::min(s.step, 2.0 * step);
      }
    } else if (exchange) {
      swaps_done = swaps == 1;
      swaps = std::max(1, swaps / 2);
    } else {
      step /= 2.0;
      values_done = step < s.min_step;
    }
    res.trace.push_back(trace_row(it, current, exchange ? 0.0 : step, accepted, n_swapped,
                                  accepted ? current : next, clock));
    if (on_iteration) on_iteration(res.trace.back());
  }
  res.fake = std::move(fake);
  res.V = current.V;
  return res;
}

struct SgldSettings {
  int max_iter = 50;
  double step = 0.01;       // s_t of Eq. 17 (constant)
  double beta = 0.6;        // Eq. 15's trade-off
  double max_rating = 2.0;  // Lambda: the dynamics stay in [-Lambda, Lambda]
};

// Algorithm 2: Eq. 17's Langevin update on the posterior of Eq. 16,
//   M~ <- M~ + s/2 (-(M~ - xi) / sigma^2 + beta grad R) + N(0, s),
// per fake entry with its item's prior mean and variance. The values are kept
// in [-Lambda, Lambda] during the dynamics (a projected Langevin step; the
// paper projects only at the end and leaves this open). The final projection
// to each fake user's B largest |ratings| is the caller's. `normals` fills a
// vector with standard normal draws (R's RNG, on the calling thread).
inline AttackResult run_sgld(PoisonedLearner& learner, FakeBlock fake, const arma::mat& V0,
                             const std::vector<double>& prior_mean, const std::vector<double>& prior_var,
                             const SgldSettings& s, const std::function<void(std::vector<double>&)>& normals,
                             const IterationCallback& on_iteration) {
  const Stopwatch clock;
  AttackResult res;
  arma::mat V = V0;
  std::vector<double>& values = fake.value;
  std::vector<double> noise(values.size());
  const double noise_sd = std::sqrt(s.step);
  clip(values, s.max_rating);
  for (int it = 0; it <= s.max_iter; ++it) {
    const bool last = it == s.max_iter;
    const Evaluation current = learner.evaluate(fake, V, !last);
    V = current.V;
    res.trace.push_back(trace_row(it, current, s.step, true, 0, current, clock));
    if (on_iteration) on_iteration(res.trace.back());
    if (last) break;
    normals(noise);
    const std::vector<double>& grad = current.gradient.values;
    for (std::size_t e = 0; e < values.size(); ++e) {
      const double drift = -(values[e] - prior_mean[e]) / prior_var[e] + s.beta * grad[e];
      values[e] += 0.5 * s.step * drift + noise_sd * noise[e];
    }
    clip(values, s.max_rating);
  }
  res.fake = std::move(fake);
  res.V = V;
  return res;
}

}  // namespace cfpoison
