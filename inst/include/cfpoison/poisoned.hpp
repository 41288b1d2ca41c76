// The poisoned learner as a function of the fake block (PoisonedLearner):
// refit the learner on the real users' ratings and the fake block, take the
// attacker's utility (Eq. 7-9, less any stealth penalty) and its gradient in
// the fake ratings (Eq. 11-13, or the exact adjoint). Every attack loop
// (attacks.hpp, search.hpp) evaluates its fake blocks through it.
//
// The joint index (normal users, then fake users) is rebuilt only when the
// fake block to refit has another support than the one laid out last; the
// fake block is the tail of the by-row values, rewritten in place otherwise.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "als.hpp"
#include "gradients.hpp"
#include "joint.hpp"
#include "linalg.hpp"
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

// A refit cut short: after sweep `at` it stops when the utility is below
// `floor` (see SupportSearch::settled()).
struct RefitCut {
  int at = 0;
  double floor = 0.0;
};

// The poisoned learner as a function of the fake block: refit, utility,
// gradient. The joint index (normal users, then fake users) is rebuilt only
// when the block's support differs from the one laid out last.
//
// Copies share the joint data, the real users' ratings and their index (0.64
// GB at the MovieLens-20M shape): each evaluation lays out its own block
// first, and the layout depends on the block alone (see JointData), so the
// searches that take turns (run_searches()) hold one copy of the ratings, not
// one each. Switching blocks costs one layout, a pass over the ratings, where
// a search's step refits them dozens of times.
//
// A bagged learner (bag()) refits each bag on its copies of the users and
// takes the utility of the bagged prediction, the mean over the bags that
// hold a user: with S_b = diag(share_i [i in bag b]) (share_i one over the
// number of bags holding user i) its factors are the stacked
// [S_1 U_1 | ... | S_B U_B] and [V_1 | ... | V_B], so the utility's gradient
// in bag b's factors is S_b times its gradient in the stacked ones (spread
// evenly over a user's copies, which are identical rows) and in V_b its block.
// Each bag then solves its own adjoint on its joint data, and the gradient in
// a fake rating is the sum over the bags of the bag's gradient at each copy
// of that rating (copies share the rating); a fake user in no bag has none.
// The bags are independent given the fake block: each keeps its index (rebuilt
// only when the support changes) and its last adjoint (the next solve's start).
class PoisonedLearner {
 public:
  PoisonedLearner(std::vector<int> normal_rows, std::vector<int> normal_cols, std::vector<double> normal_values,
                  const int n_normal, const int n_items, const int n_fake, const LearnerSpec& learner,
                  CleanModel clean, UtilitySpec utility, const RefitSettings& settings, StealthSpec stealth = {})
      : joint_(std::make_shared<JointData>(std::move(normal_rows), std::move(normal_cols), std::move(normal_values),
                                           n_normal, n_items, n_fake)),
        n_normal_(n_normal),
        n_items_(n_items),
        n_fake_(n_fake),
        learner_(learner),
        clean_(std::move(clean)),
        utility_(std::move(utility)),
        settings_(settings),
        stealth_(std::move(stealth)) {}

  int n_normal() const { return n_normal_; }
  int n_items() const { return n_items_; }
  int n_fake() const { return n_fake_; }
  int n_bags() const { return static_cast<int>(bags_.size()); }

  // Makes this a bagged learner over the bags of `counts` ((m + m') x B, each
  // user's copies in each bag, real users first): warm starts and the
  // Evaluation's V then stack the bags' item factors (bag b in rows
  // b k .. (b + 1) k - 1), and the real users' ratings `rows`, `cols`,
  // `values` (by user, then item) are the ones given at construction.
  void bag(const std::vector<int>& rows, const std::vector<int>& cols, const std::vector<double>& values,
           const arma::imat& counts) {
    bags_ = make_bags(rows, cols, values, n_normal_, n_items_, n_fake_, counts);
    real_idx_ = build_index(n_normal_, n_items_, rows.data(), cols.data(), rows.size());
    share_.assign(n_normal_, 0.0);
    for (int i = 0; i < n_normal_; ++i) {
      int holders = 0;
      for (const Bag& b : bags_) holders += b.real_count[i] > 0;
      share_[i] = holders > 0 ? 1.0 / holders : 0.0;
    }
  }

  // The gradient is taken only when the utility exceeds `gradient_floor`
  // (kAlwaysDifferentiate, kNeverDifferentiate or a utility): a search uses a
  // proposal's gradient only if it accepts the proposal, and each adjoint
  // solve costs a dozen sweeps or more.
  Evaluation evaluate(const Triplets& fake, const arma::mat& V_warm, const double gradient_floor) {
    return evaluate(fake, V_warm, settings_.sweeps, settings_.tol, nullptr, gradient_floor);
  }

  // The same with a stopping rule of its own (`sweeps`, `tol`) for the refit,
  // and a `cut` (null: none; an unbagged ALS fit's, ignored otherwise). The
  // utility is the attacker's, less the stealth penalty when there is one.
  Evaluation evaluate(const Triplets& fake, const arma::mat& V_warm, const int sweeps, const double tol,
                      const RefitCut* cut, const double gradient_floor) {
    // The penalty depends on the block alone: the floors on the utility
    // before it are the floors plus the penalty.
    const StealthTerms terms = stealth_.weight > 0 ? stealth_terms(fake, n_fake_, stealth_) : StealthTerms{};
    RefitCut raw_cut;
    if (cut != nullptr) raw_cut = {cut->at, cut->floor + terms.value};
    const double raw_floor = gradient_floor + terms.value;
    Evaluation out = bags_.empty() ? refit_and_differentiate(fake, V_warm, raw_floor, sweeps, tol, cut ? &raw_cut : nullptr)
                                   : refit_bags(fake, V_warm, raw_floor, sweeps, tol);
    if (stealth_.weight > 0) {
      out.stealth = terms;
      out.stealth_penalty = out.stealth.value;
      out.utility -= out.stealth.value;
      if (out.differentiated())
        for (std::size_t e = 0; e < out.gradient.values.size(); ++e) out.gradient.values[e] -= out.stealth.gradient[e];
    }
    return out;
  }

 private:
  // Whether an evaluation of `utility` takes its gradient: always at
  // kAlwaysDifferentiate (whatever the utility), else above the floor.
  static bool takes_gradient(const double utility, const double gradient_floor) {
    return gradient_floor == kAlwaysDifferentiate || utility > gradient_floor;
  }

  AlsSettings refit_settings(const int sweeps, const double tol) const {
    AlsSettings als = als_settings(learner_, sweeps, tol, settings_.threads);
    als.factor_tol = settings_.factor_tol;
    return als;
  }

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

  // The prediction factors of any learner's `fit` of `values` on `idx`.
  FitFactors prediction_factors(const ObservedIndex& idx, const std::vector<double>& values, AlsResult fit) const {
    if (learner_.nuclear) return nuclear_factors(idx, values, fit);
    if (learner_.biased) return biased_factors(fit);
    FitFactors f;
    f.P = std::move(fit.U);
    f.Q = std::move(fit.V);
    return f;
  }

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

  // The refit, its utility and, when the utility exceeds `gradient_floor`,
  // its gradient.
  Evaluation refit_and_differentiate(const Triplets& fake, const arma::mat& V_warm, const double gradient_floor,
                                     const int sweeps, const double tol, const RefitCut* cut) {
    if (static_cast<int>(V_warm.n_cols) != n_items_) throw std::invalid_argument("warm start: one column per item");
    joint_->set_block(fake);
    const ObservedIndex& idx = joint_->idx();
    const std::vector<double>& values = joint_->values();
    double cut_utility = 0.0;
    SweepCheck check;
    if (cut != nullptr && !learner_.nuclear) {
      // The utility of the ALS fit so far (a nuclear fit's would need its thresholding).
      check = [&](const AlsResult& fit) {
        if (static_cast<int>(fit.trace.size()) != cut->at) return true;
        const FitFactors f = prediction_factors(idx, values, fit);
        cut_utility = utility_gradient(idx, n_normal_, f.P, f.Q, clean_, utility_, settings_.threads).value;
        return cut_utility >= cut->floor;
      };
    }
    AlsResult fit = fit_als(idx, values, V_warm, refit_settings(sweeps, tol), nullptr, check, &joint_->by_column());
    Evaluation out;
    out.V = fit.V;
    out.converged = fit.converged;
    if (fit.cut) {
      out.utility = cut_utility;
      out.cut = true;
      return out;
    }
    const FitFactors f = prediction_factors(idx, values, std::move(fit));
    const UtilityGradient ug = utility_gradient(idx, n_normal_, f.P, f.Q, clean_, utility_, settings_.threads);
    out.utility = ug.value;
    if (!takes_gradient(out.utility, gradient_floor)) return out;
    out.gradient = learner_gradient(idx, values, n_normal_, f, ug.dP, ug.dQ, last_zV_);
    out.fake_factors = f.P.cols(static_cast<arma::uword>(n_normal_), f.P.n_cols - 1);
    out.item_factors = f.Q;
    out.huber_delta = loss_delta();
    out.mean = f.mean;
    return out;
  }

  // The gradient, from the utility's gradients dP, dQ in the prediction
  // factors of the learner's fit `f` of `values` on `idx` (its first
  // `n_normal` rows the users the utility counts), with the adjoint
  // warm-started from `last_zV` (gradient()).
  FakeGradient learner_gradient(const ObservedIndex& idx, const std::vector<double>& values, const int n_normal,
                                const FitFactors& f, const arma::mat& dP, const arma::mat& dQ,
                                arma::mat& last_zV) const {
    if (learner_.biased) return biased_gradient(idx, values, n_normal, f, dP, dQ, last_zV);
    if (!learner_.nuclear) {
      const JointModel model{idx,      values, f.P, f.Q, learner_.lambda_u, learner_.lambda_v,
                             n_normal, learner_.huber_delta};
      return gradient(model, dP, dQ, settings_.method, last_zV);
    }
    if (settings_.method == GradientMethod::exact) {
      const JointModel model{idx, values, f.P, f.Q, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal};
      return gradient(model, dP, dQ, GradientMethod::exact, last_zV);
    }
    // Appendix B, on the thresholded factors: dR/dv_j = sqrt(d) dR/db_j for B = diag(sqrt(d)) V.
    const arma::mat dV = arma::diagmat(arma::sqrt(f.d)) * dQ;
    const JointModel model{idx, values, f.U, f.V, learner_.lambda / 2.0, learner_.lambda / 2.0, n_normal};
    return appendix_b_gradient(model, f.d, learner_.lambda, settings_.tau, dV, settings_.threads);
  }

  // The loss the fit minimizes, which prices new ratings: the Huber loss's
  // delta (ALS only), 0 for the squared loss.
  double loss_delta() const { return learner_.nuclear ? 0.0 : learner_.huber_delta; }

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
    FakeGradient g = gradient(model, dP.head_rows(k + 1), arma::join_cols(dQ.head_rows(k), dQ.row(k + 1)),
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

  // A bagged learner's refit (see the class comment): every bag from its rows
  // of V_warm, the utility of the bagged prediction, and, when it exceeds
  // `gradient_floor`, its gradient through each bag's adjoint.
  Evaluation refit_bags(const Triplets& fake, const arma::mat& V_warm, const double gradient_floor, const int sweeps,
                        const double tol) {
    const arma::uword n_bags = bags_.size();
    if (static_cast<int>(V_warm.n_cols) != n_items_ || V_warm.n_rows == 0 || V_warm.n_rows % n_bags != 0)
      throw std::invalid_argument("warm start of a bagged learner: the bags' item factors stacked, one column per item");
    const arma::uword k = V_warm.n_rows / n_bags;
    const AlsSettings als = refit_settings(sweeps, tol);
    Evaluation out;
    out.V.set_size(V_warm.n_rows, V_warm.n_cols);
    out.converged = true;
    std::vector<FitFactors> fits(n_bags);
    std::vector<arma::uword> rows(n_bags + 1, 0);
    for (arma::uword b = 0; b < n_bags; ++b) {
      Bag& bag = bags_[b];
      bag.set_block(fake);
      AlsResult fit = fit_als(bag.data.idx(), bag.data.values(), V_warm.rows(b * k, (b + 1) * k - 1), als, nullptr,
                              nullptr, &bag.data.by_column());
      out.V.rows(b * k, (b + 1) * k - 1) = fit.V;
      out.converged = out.converged && fit.converged;
      fits[b] = prediction_factors(bag.data.idx(), bag.data.values(), std::move(fit));
      rows[b + 1] = rows[b] + fits[b].P.n_rows;
    }
    // The bagged prediction's factors: a real user's column holds, in each
    // bag's rows, its share times its factor there (its first copy's).
    const arma::uword K = rows.back();
    arma::mat P(K, n_normal_, arma::fill::zeros), Q(K, n_items_, arma::fill::zeros);
    for (arma::uword b = 0; b < n_bags; ++b) {
      if (rows[b + 1] == rows[b]) continue;
      Q.rows(rows[b], rows[b + 1] - 1) = fits[b].Q;
      for (int i = 0; i < n_normal_; ++i) {
        const int first = bags_[b].real_first[i];
        if (first >= 0) P.submat(rows[b], i, rows[b + 1] - 1, i) = share_[i] * fits[b].P.col(first);
      }
    }
    const UtilityGradient ug = utility_gradient(real_idx_, n_normal_, P, Q, clean_, utility_, settings_.threads);
    out.utility = ug.value;
    if (!takes_gradient(out.utility, gradient_floor)) return out;

    out.gradient.values.assign(fake.value.size(), 0.0);
    out.item_factors = std::move(Q);
    out.fake_factors.zeros(K, n_fake_);
    out.gradient.zU_fake.zeros(K, n_fake_);
    out.gradient.zV.zeros(K, n_items_);
    out.bag_rows = rows;
    out.fake_copies.zeros(n_fake_, n_bags);
    out.bag_mean_term.zeros(n_bags);
    out.bag_mean.zeros(n_bags);
    out.huber_delta = loss_delta();
    for (arma::uword b = 0; b < n_bags; ++b) {
      Bag& bag = bags_[b];
      const FitFactors& f = fits[b];
      const int n_copies = bag.data.n_normal();
      for (int u = 0; u < n_fake_; ++u) out.fake_copies(u, b) = bag.fake_count[u];
      // A bag with no fake user, or nothing left after thresholding, does
      // not depend on the fake ratings.
      if (rows[b + 1] == rows[b] || bag.data.n_fake() == 0) continue;
      const arma::uword r0 = rows[b], r1 = rows[b + 1] - 1;
      arma::mat dP(f.P.n_rows, n_copies);
      for (int i = 0; i < n_normal_; ++i) {
        const int first = bag.real_first[i];
        if (first < 0) continue;
        const arma::vec g = ug.dP.submat(r0, i, r1, i) * (share_[i] / bag.real_count[i]);
        for (int q = 0; q < bag.real_count[i]; ++q) dP.col(first + q) = g;
      }
      const arma::mat dQ = ug.dQ.rows(r0, r1);
      const FakeGradient g = learner_gradient(bag.data.idx(), bag.data.values(), n_copies, f, dP, dQ, bag.last_zV);
      // Each copy of a rating moves a biased bag's mu (see EntryScores; 0 unbiased).
      out.bag_mean_term[b] = g.mean_term;
      out.bag_mean[b] = f.mean;
      for (std::size_t p = 0; p < g.values.size(); ++p) out.gradient.values[bag.source[p]] += g.values[p];
      for (int u = 0; u < n_fake_; ++u) {
        const int first = bag.fake_first[u];
        if (first < 0) continue;
        out.fake_factors.submat(r0, u, r1, u) = f.P.col(static_cast<arma::uword>(n_copies + first));
        if (g.zU_fake.n_cols != static_cast<arma::uword>(bag.data.n_fake())) continue;  // Appendix B: none
        for (int q = 0; q < bag.fake_count[u]; ++q)
          out.gradient.zU_fake.submat(r0, u, r1, u) += g.zU_fake.col(static_cast<arma::uword>(first + q));
      }
      if (!g.zV.empty()) out.gradient.zV.rows(r0, r1) = g.zV;
      out.gradient.cg_iterations += g.cg_iterations;
      out.gradient.cg_residual = std::max(out.gradient.cg_residual, g.cg_residual);
      if (g.hessian == HessianModel::gauss_newton) out.gradient.hessian = HessianModel::gauss_newton;
    }
    return out;
  }

  // The gradient, its exact adjoint warm-started from `last_zV`, the last one
  // computed on the same data (attacks move the fit a little per step), which
  // it then replaces. `dR_dmean`: a biased model's utility derivative in mu.
  FakeGradient gradient(const JointModel& model, const arma::mat& dP, const arma::mat& dQ,
                        const GradientMethod method, arma::mat& last_zV, const double dR_dmean = 0.0) const {
    const bool fits = last_zV.n_rows == model.V.n_rows && last_zV.n_cols == model.V.n_cols;
    FakeGradient g =
        implicit_gradient(model, dP, dQ, method, fits ? last_zV : arma::mat(), settings_.adjoint, dR_dmean);
    last_zV = g.zV;
    return g;
  }

  std::shared_ptr<JointData> joint_;  // shared by copies (see the class comment)
  int n_normal_;
  int n_items_;
  int n_fake_;
  LearnerSpec learner_;
  CleanModel clean_;
  UtilitySpec utility_;
  RefitSettings settings_;
  StealthSpec stealth_;
  arma::mat last_zV_;
  // A bagged learner's bags, the real users' ratings alone (the utility's
  // observed entries) and each real user's share of its prediction.
  std::vector<Bag> bags_;
  ObservedIndex real_idx_;
  std::vector<double> share_;
};

}  // namespace cfpoison
