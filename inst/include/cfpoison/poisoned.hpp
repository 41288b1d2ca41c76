// The poisoned learner as a function of the fake block (PoisonedLearner):
// refit the learner on the real users' ratings and the fake block, take the
// attacker's utility (Eq. 7-9, less any stealth penalty) and its gradient in
// the fake ratings (Eq. 11-13, or the exact adjoint). Every attack loop
// (attacks.hpp, search.hpp) evaluates its fake blocks through it.
//
// The joint index (normal users, then fake users) is rebuilt only when the
// fake block to refit has another support than the one laid out last; the
// fake block is the tail of the by-row values, rewritten in place otherwise.
// What a refit gives and the learner's part in it are in refit.hpp; a bagged
// learner's refit is in bagged.hpp.
#pragma once

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bagged.hpp"
#include "joint.hpp"
#include "observed.hpp"
#include "refit.hpp"
#include "stealth.hpp"

namespace cfpoison {

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
// A bagged learner (bag()) refits its bags instead (BaggedRefit, bagged.hpp).
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
        model_(learner, std::move(clean), std::move(utility), settings),
        stealth_(std::move(stealth)) {}

  int n_normal() const { return n_normal_; }
  int n_items() const { return n_items_; }
  int n_fake() const { return n_fake_; }

  // Makes this a bagged learner over the bags of `counts` ((m + m') x B, each
  // user's copies in each bag, real users first): warm starts and the
  // Evaluation's V then stack the bags' item factors, and the real users'
  // ratings `rows`, `cols`, `values` (by user, then item) are the ones given
  // at construction.
  void bag(const std::vector<int>& rows, const std::vector<int>& cols, const std::vector<double>& values,
           const arma::imat& counts) {
    bags_ = BaggedRefit(rows, cols, values, n_normal_, n_items_, n_fake_, counts);
  }

  // The gradient is taken only when the utility exceeds `gradient_floor`
  // (kAlwaysDifferentiate, kNeverDifferentiate or a utility): a search uses a
  // proposal's gradient only if it accepts the proposal, and each adjoint
  // solve costs a dozen sweeps or more.
  Evaluation evaluate(const Triplets& fake, const arma::mat& V_warm, const double gradient_floor) {
    return evaluate(fake, V_warm, model_.settings().sweeps, model_.settings().tol, nullptr, gradient_floor);
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
    Evaluation out = bags_.empty()
                         ? refit_and_differentiate(fake, V_warm, raw_floor, sweeps, tol, cut ? &raw_cut : nullptr)
                         : bags_.refit(model_, fake, V_warm, raw_floor, sweeps, tol);
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
    if (cut != nullptr && !model_.learner().nuclear) {
      // The utility of the ALS fit so far (a nuclear fit's would need its thresholding).
      check = [&](const AlsResult& fit) {
        if (static_cast<int>(fit.trace.size()) != cut->at) return true;
        const FitFactors f = model_.prediction_factors(idx, values, fit);
        cut_utility = model_.attacker_utility(idx, n_normal_, f.P, f.Q).value;
        return cut_utility >= cut->floor;
      };
    }
    AlsResult fit =
        fit_als(idx, values, V_warm, model_.refit_settings(sweeps, tol), nullptr, check, &joint_->by_column());
    Evaluation out;
    out.V = fit.V;
    out.converged = fit.converged;
    if (fit.cut) {
      out.utility = cut_utility;
      out.cut = true;
      return out;
    }
    const FitFactors f = model_.prediction_factors(idx, values, std::move(fit));
    const UtilityGradient ug = model_.attacker_utility(idx, n_normal_, f.P, f.Q);
    out.utility = ug.value;
    if (!takes_gradient(out.utility, gradient_floor)) return out;
    out.gradient = model_.gradient(idx, values, n_normal_, f, ug.dP, ug.dQ, last_zV_);
    out.fake_factors = f.P.cols(static_cast<arma::uword>(n_normal_), f.P.n_cols - 1);
    out.item_factors = f.Q;
    out.huber_delta = model_.loss_delta();
    out.mean = f.mean;
    return out;
  }

  std::shared_ptr<JointData> joint_;  // shared by copies (see the class comment)
  int n_normal_;
  int n_items_;
  int n_fake_;
  RefitModel model_;
  StealthSpec stealth_;
  arma::mat last_zV_;
  BaggedRefit bags_;  // empty for an unbagged learner
};

}  // namespace cfpoison
