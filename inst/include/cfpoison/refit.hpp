// One refit of the poisoned learner, for any learner: its settings
// (RefitSettings), what it gives (Evaluation), and the model that turns a fit
// into the attacker's utility and its gradient in the fake ratings
// (RefitModel: Eq. 7-9, Eq. 11-13 or the exact adjoint). The plain refit
// (PoisonedLearner, poisoned.hpp) and the bagged one (BaggedRefit,
// bagged.hpp) share them.
#pragma once

#include <limits>
#include <utility>
#include <vector>

#include "als.hpp"
#include "gradients.hpp"
#include "nuclear.hpp"
#include "observed.hpp"
#include "stealth.hpp"
#include "utilities.hpp"

namespace cfpoison {

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
  arma::mat V;           // item factors of the factored fit: the next warm start
  double utility = 0.0;
  bool cut = false;      // the refit was cut short (RefitCut): utility is its last sweep's, no gradient
  bool converged = false;  // the refit (every bag's) stopped at its tolerance, before its sweep cap
  FakeGradient gradient;  // empty values: not differentiated (see differentiated())
  // The fit's prediction factors (balanced ones for a nuclear fit), at which
  // the exact gradient is taken: fake users' (k x m') and items' (k x n).
  // Set with the gradient.
  arma::mat fake_factors;
  arma::mat item_factors;
  double huber_delta = 0.0;  // the loss the fit minimizes (0: squared), which prices new ratings
  double mean = 0.0;         // a biased fit's mu, which a new rating moves by (r - mu) / N
  // The stealth penalty (already subtracted from `utility`, its gradient from
  // the gradient's values) and what prices new entries; empty without one.
  double stealth_penalty = 0.0;
  StealthTerms stealth;
  // A bagged learner's: the bags' factors and adjoints stacked, bag b in rows
  // bag_rows[b] .. bag_rows[b + 1] - 1 of fake_factors (a fake user's factor
  // in the bag, 0 outside it), item_factors, gradient.zV and gradient.zU_fake
  // (summed over the fake user's copies), and fake_copies(f, b) the copies of
  // fake user f in bag b. Empty for an unbagged learner.
  std::vector<arma::uword> bag_rows;
  arma::mat fake_copies;
  // A bagged biased learner's: each bag's mean term (add_mean_term()) and mu.
  arma::vec bag_mean_term;
  arma::vec bag_mean;

  // Whether the gradient was taken (every fake block has entries).
  bool differentiated() const { return !gradient.values.empty(); }
};

// Gradient floors of PoisonedLearner::evaluate(), which takes the gradient
// only when the utility exceeds its floor: always, or never.
constexpr double kAlwaysDifferentiate = -std::numeric_limits<double>::infinity();
constexpr double kNeverDifferentiate = std::numeric_limits<double>::infinity();

// Whether an evaluation of `utility` takes its gradient: always at
// kAlwaysDifferentiate (whatever the utility), else above the floor.
inline bool takes_gradient(const double utility, const double gradient_floor) {
  return gradient_floor == kAlwaysDifferentiate || utility > gradient_floor;
}

// A refit cut short: after sweep `at` it stops when the utility is below
// `floor` (see SupportSearch::settled()).
struct RefitCut {
  int at = 0;
  double floor = 0.0;
};

// A fit's factors whose products are its predictions, P (k x rows) and Q
// (k x n), and for a nuclear fit its thresholded factors U, d, V.
struct FitFactors {
  arma::mat P;
  arma::mat Q;
  arma::mat U;  // nuclear: thresholded; biased: the free parameters [U; b]
  arma::mat V;  // nuclear: thresholded; biased: [V; c]
  arma::vec d;
  double mean = 0.0;  // biased: mu
};

// What every refit of the poisoned learner shares: the learner, the clean
// model and the utility the attacker scores a fit by, and the refit's
// settings; and, for any learner, a fit's prediction factors, its utility and
// the gradient in the fake ratings through them.
class RefitModel {
 public:
  RefitModel(const LearnerSpec& learner, CleanModel clean, UtilitySpec utility, const RefitSettings& settings)
      : learner_(learner), clean_(std::move(clean)), utility_(std::move(utility)), settings_(settings) {}

  const LearnerSpec& learner() const { return learner_; }
  const RefitSettings& settings() const { return settings_; }

  AlsSettings refit_settings(const int sweeps, const double tol) const {
    AlsSettings als = als_settings(learner_, sweeps, tol, settings_.threads);
    als.factor_tol = settings_.factor_tol;
    return als;
  }

  // The prediction factors of any learner's `fit` of `values` on `idx`.
  FitFactors prediction_factors(const ObservedIndex& idx, const std::vector<double>& values, AlsResult fit) const {
    if (learner_.nuclear) return nuclear_factors(idx, values, fit);
    if (learner_.biased) return biased_factors(fit);
    FitFactors f;
    f.P = std::move(fit.U);
    f.Q = std::move(fit.V);
    return f;
  }

  // The attacker's utility of the predictions P'Q, whose first `n_normal`
  // users on `idx` it counts, and its gradients in P and Q.
  UtilityGradient attacker_utility(const ObservedIndex& idx, const int n_normal, const arma::mat& P,
                                   const arma::mat& Q) const {
    return utility_gradient(idx, n_normal, P, Q, clean_, utility_, settings_.threads);
  }

  // The gradient, from the utility's gradients dP, dQ in the prediction
  // factors of the learner's fit `f` of `values` on `idx` (its first
  // `n_normal` rows the users the utility counts), with the adjoint
  // warm-started from `last_zV` (adjoint_gradient()).
  FakeGradient gradient(const ObservedIndex& idx, const std::vector<double>& values, const int n_normal,
                        const FitFactors& f, const arma::mat& dP, const arma::mat& dQ, arma::mat& last_zV) const {
    if (learner_.biased) return biased_gradient(idx, values, n_normal, f, dP, dQ, last_zV);
    if (!learner_.nuclear) {
      const JointModel model{idx,      values, f.P, f.Q, learner_.lambda_u, learner_.lambda_v,
                             n_normal, learner_.huber_delta};
      return adjoint_gradient(model, dP, dQ, settings_.method, last_zV);
    }
    if (settings_.method == GradientMethod::exact) {
      const JointModel model{idx, values, f.P, f.Q, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal};
      return adjoint_gradient(model, dP, dQ, GradientMethod::exact, last_zV);
    }
    // Appendix B, on the thresholded factors: dR/dv_j = sqrt(d) dR/db_j for B = diag(sqrt(d)) V.
    const arma::mat dV = arma::diagmat(arma::sqrt(f.d)) * dQ;
    const JointModel model{idx, values, f.U, f.V, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal};
    return appendix_b_gradient(model, f.d, learner_.lambda, settings_.tau, dV, settings_.threads);
  }

  // The loss the fit minimizes, which prices new ratings: the Huber loss's
  // delta (ALS only), 0 for the squared loss.
  double loss_delta() const { return learner_.nuclear ? 0.0 : learner_.huber_delta; }

 private:
  // Nuclear norm: X = U diag(d) V' after thresholding; its balanced factors
  // sqrt(d) U, sqrt(d) V on the positive singular values carry the gradient.
  FitFactors nuclear_factors(const ObservedIndex& idx, const std::vector<double>& values, const AlsResult& fit) const {
    const NuclearFactors svd = nuclear_threshold(idx, values, fit.U, fit.V, learner_.lambda, settings_.threads);
    const arma::uvec active = arma::find(svd.d > 0.0);
    FitFactors f;
    f.d = svd.d.elem(active);
    f.U = svd.U.rows(active);
    f.V = svd.V.rows(active);
    f.P = arma::diagmat(arma::sqrt(f.d)) * f.U;
    f.Q = arma::diagmat(arma::sqrt(f.d)) * f.V;
    return f;
  }

  // A biased fit's prediction factors P = [U; b; 1; mu], Q = [V; 1; c; 1],
  // with its free parameters U = [U; b], V = [V; c] and its mean.
  static FitFactors biased_factors(const AlsResult& fit) {
    const arma::uword k = fit.V.n_rows - 1;
    FitFactors f;
    f.P = arma::join_cols(bias_augmented(fit.U, true), arma::ones<arma::rowvec>(fit.U.n_cols));
    f.P.row(k + 2).fill(fit.mean);
    f.Q = arma::join_cols(bias_augmented(fit.V, false), arma::ones<arma::rowvec>(fit.V.n_cols));
    f.U = fit.U;
    f.V = fit.V;
    f.mean = fit.mean;
    return f;
  }

  // The gradient of a biased fit `f` of `values` on `idx` (its first
  // `n_normal` rows the users the utility counts) from the utility's
  // gradients dP, dQ in its prediction factors: on the free parameters, with
  // mu's term, its adjoint then laid out on the prediction factors for the
  // support search's scores (entry_scores(): zero on the coordinates that
  // are no parameter).
  FakeGradient biased_gradient(const ObservedIndex& idx, const std::vector<double>& values, const int n_normal,
                               const FitFactors& f, const arma::mat& dP, const arma::mat& dQ,
                               arma::mat& last_zV) const {
    const arma::uword k = f.V.n_rows - 1;
    const std::vector<double> centred_values = centred(values, f.mean);
    const arma::mat U = bias_design(f.U);
    const arma::mat V = bias_design(f.V);
    const Biases biases{f.U.row(k), f.V.row(k), learner_.lambda_bias};
    const JointModel model{idx,      centred_values, U, V, learner_.lambda_u, learner_.lambda_v,
                           n_normal, learner_.huber_delta, &biases};
    // dR/d[u_i; b_i] and dR/d[v_j; c_j] from the gradients in P and Q; mu is
    // P's last coordinate (Q's is 1).
    FakeGradient g = adjoint_gradient(model, dP.head_rows(k + 1), arma::join_cols(dQ.head_rows(k), dQ.row(k + 1)),
                                      settings_.method, last_zV, arma::accu(dP.row(k + 2)));
    arma::mat zU(k + 3, g.zU_fake.n_cols, arma::fill::zeros);
    zU.head_rows(k + 1) = g.zU_fake;
    arma::mat zV(k + 3, g.zV.n_cols, arma::fill::zeros);
    zV.head_rows(k) = g.zV.head_rows(k);
    zV.row(k + 1) = g.zV.row(k);
    g.zU_fake = zU;
    g.zV = zV;
    return g;
  }

  // The gradient, its exact adjoint warm-started from `last_zV`, the last one
  // computed on the same data (attacks move the fit a little per step), which
  // it then replaces. `dR_dmean`: a biased model's utility derivative in mu.
  FakeGradient adjoint_gradient(const JointModel& model, const arma::mat& dP, const arma::mat& dQ,
                                const GradientMethod method, arma::mat& last_zV, const double dR_dmean = 0.0) const {
    const bool fits = last_zV.n_rows == model.V.n_rows && last_zV.n_cols == model.V.n_cols;
    FakeGradient g =
        implicit_gradient(model, dP, dQ, method, fits ? last_zV : arma::mat(), settings_.adjoint, dR_dmean);
    last_zV = g.zV;
    return g;
  }

  LearnerSpec learner_;
  CleanModel clean_;
  UtilitySpec utility_;
  RefitSettings settings_;
};

}  // namespace cfpoison
