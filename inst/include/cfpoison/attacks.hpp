// The paper's attack loops over the fake users' ratings: projected gradient
// ascent on a fixed support (Algorithm 1) and stochastic gradient Langevin
// dynamics (Algorithm 2), with the trace rows every attack loop records (the
// support search, search.hpp, records them too). Both loops warm-start each
// refit from the previous item factors.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "poisoned.hpp"

namespace cfpoison {

struct AttackTraceRow {
  int iteration;
  double utility;
  double step;
  bool accepted;
  int swaps;  // support changes the step proposed (0 for a fixed support)
  bool differentiated;  // whether the step's adjoint was solved (cg_iterations, hessian)
  int cg_iterations;
  HessianModel hessian;
  double seconds;
};

struct AttackResult {
  Triplets fake;
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
                                const int swaps, const Evaluation& evaluated, const double seconds) {
  return {iteration,
          at.utility,
          step,
          accepted,
          swaps,
          evaluated.differentiated(),
          evaluated.gradient.cg_iterations,
          evaluated.gradient.hessian,
          seconds};
}

// Stalls in a row after a step accepted from utility `from` to `to`: a gain
// below `tol` (relative) counts one more, a larger one resets the count.
inline int stalls_after(const double from, const double to, const double tol, const int stalls) {
  const double gain = (to - from) / std::max(std::abs(from), 1e-300);
  return gain < tol ? stalls + 1 : 0;
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
inline AttackResult run_pga(PoisonedLearner& learner, Triplets fake, const arma::mat& V0, const PgaSettings& s,
                            const IterationCallback& on_iteration) {
  const Stopwatch clock;
  clip(fake.value, s.max_rating);
  Evaluation current = learner.evaluate(fake, V0, kAlwaysDifferentiate);
  AttackResult res;
  res.trace.push_back(trace_row(0, current, 0.0, true, 0, current, clock.seconds()));
  if (on_iteration) on_iteration(res.trace.back());
  double step = s.step;
  int stalls = 0;
  for (int it = 1; it <= s.max_iter && step >= s.min_step && stalls < s.patience; ++it) {
    const std::vector<double>& grad = current.gradient.values;
    double largest = 0.0;
    for (const double g : grad) largest = std::max(largest, std::abs(g));
    if (!(largest > 0.0) || !std::isfinite(largest)) break;
    Triplets candidate(fake);
    for (std::size_t e = 0; e < candidate.value.size(); ++e) candidate.value[e] += step * grad[e] / largest;
    clip(candidate.value, s.max_rating);
    Evaluation next = learner.evaluate(candidate, current.V, kAlwaysDifferentiate);
    const bool accepted = next.utility > current.utility;
    if (accepted) {
      stalls = stalls_after(current.utility, next.utility, s.tol, stalls);
      fake = std::move(candidate);
      std::swap(current, next);
    } else {
      step /= 2.0;
    }
    res.trace.push_back(trace_row(it, current, step, accepted, 0, accepted ? current : next, clock.seconds()));
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
inline AttackResult run_sgld(PoisonedLearner& learner, Triplets fake, const arma::mat& V0,
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
    const Evaluation current = learner.evaluate(fake, V, last ? kNeverDifferentiate : kAlwaysDifferentiate);
    V = current.V;
    res.trace.push_back(trace_row(it, current, s.step, true, 0, current, clock.seconds()));
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
