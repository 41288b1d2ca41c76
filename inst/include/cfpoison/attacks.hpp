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

struct Evaluation {
  arma::mat V;          // item factors of the factored fit: the next warm start
  double utility = 0.0;
  FakeGradient gradient;
};

// The poisoned learner as a function of the fake ratings: refit, utility, gradient.
class PoisonedLearner {
 public:
  PoisonedLearner(ObservedIndex idx, std::vector<double> values, const int n_normal, const LearnerSpec& learner,
                  CleanModel clean, UtilitySpec utility, const RefitSettings& settings)
      : idx_(std::move(idx)),
        values_(std::move(values)),
        n_normal_(n_normal),
        first_fake_(idx_.row_start[n_normal]),
        learner_(learner),
        clean_(std::move(clean)),
        utility_(std::move(utility)),
        settings_(settings) {}

  std::size_t n_fake_entries() const { return values_.size() - first_fake_; }
  const ObservedIndex& index() const { return idx_; }
  int n_normal() const { return n_normal_; }

  Evaluation evaluate(const std::vector<double>& fake_values, const arma::mat& V_warm, const bool with_gradient) {
    std::copy(fake_values.begin(), fake_values.end(), values_.begin() + static_cast<std::ptrdiff_t>(first_fake_));
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
        out.gradient = implicit_gradient(model, ug.dP, ug.dQ, settings_.method, settings_.adjoint);
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
        out.gradient = implicit_gradient(model, ug.dP, ug.dQ, GradientMethod::exact, settings_.adjoint);
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
  ObservedIndex idx_;
  std::vector<double> values_;
  int n_normal_;
  std::size_t first_fake_;
  LearnerSpec learner_;
  CleanModel clean_;
  UtilitySpec utility_;
  RefitSettings settings_;
};

struct AttackTraceRow {
  int iteration;
  double utility;
  double step;
  bool accepted;
  int cg_iterations;
  double seconds;
};

struct AttackResult {
  std::vector<double> fake_values;
  std::vector<AttackTraceRow> trace;
  arma::mat V;
};

using IterationCallback = std::function<void(const AttackTraceRow&)>;

inline void clip(std::vector<double>& x, const double bound) {
  for (double& v : x) v = std::min(bound, std::max(-bound, v));
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
inline AttackResult run_pga(PoisonedLearner& learner, std::vector<double> fake, const arma::mat& V0,
                            const PgaSettings& s, const IterationCallback& on_iteration) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  clip(fake, s.max_rating);
  Evaluation current = learner.evaluate(fake, V0, true);
  AttackResult res;
  res.trace.push_back({0, current.utility, 0.0, true, current.gradient.cg_iterations, elapsed()});
  if (on_iteration) on_iteration(res.trace.back());
  double step = s.step;
  int stalls = 0;
  for (int it = 1; it <= s.max_iter && step >= s.min_step && stalls < s.patience; ++it) {
    const std::vector<double>& grad = current.gradient.values;
    double largest = 0.0;
    for (const double g : grad) largest = std::max(largest, std::abs(g));
    if (!(largest > 0.0) || !std::isfinite(largest)) break;
    std::vector<double> candidate(fake);
    for (std::size_t e = 0; e < candidate.size(); ++e) candidate[e] += step * grad[e] / largest;
    clip(candidate, s.max_rating);
    Evaluation next = learner.evaluate(candidate, current.V, true);
    const int cg_iterations = next.gradient.cg_iterations;
    const bool accepted = next.utility > current.utility;
    if (accepted) {
      const double gain = (next.utility - current.utility) / std::max(std::abs(current.utility), 1e-300);
      stalls = gain < s.tol ? stalls + 1 : 0;
      fake.swap(candidate);
      current = std::move(next);
    } else {
      step /= 2.0;
    }
    res.trace.push_back({it, current.utility, step, accepted, cg_iterations, elapsed()});
    if (on_iteration) on_iteration(res.trace.back());
  }
  res.fake_values = std::move(fake);
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
inline AttackResult run_sgld(PoisonedLearner& learner, std::vector<double> fake, const arma::mat& V0,
                             const std::vector<double>& prior_mean, const std::vector<double>& prior_var,
                             const SgldSettings& s, const std::function<void(std::vector<double>&)>& normals,
                             const IterationCallback& on_iteration) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  AttackResult res;
  arma::mat V = V0;
  std::vector<double> noise(fake.size());
  const double noise_sd = std::sqrt(s.step);
  clip(fake, s.max_rating);
  for (int it = 0; it <= s.max_iter; ++it) {
    const bool last = it == s.max_iter;
    Evaluation current = learner.evaluate(fake, V, !last);
    V = current.V;
    res.trace.push_back({it, current.utility, s.step, true, current.gradient.cg_iterations,
                         std::chrono::duration<double>(clock::now() - start).count()});
    if (on_iteration) on_iteration(res.trace.back());
    if (last) break;
    normals(noise);
    const std::vector<double>& grad = current.gradient.values;
    for (std::size_t e = 0; e < fake.size(); ++e) {
      const double drift = -(fake[e] - prior_mean[e]) / prior_var[e] + s.beta * grad[e];
      fake[e] += 0.5 * s.step * drift + noise_sd * noise[e];
    }
    clip(fake, s.max_rating);
  }
  res.fake_values = std::move(fake);
  res.V = V;
  return res;
}

}  // namespace cfpoison
