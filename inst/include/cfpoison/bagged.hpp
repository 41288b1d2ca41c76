// The refit of a bagged learner (learner_bagged(), R/defend.R) as a function
// of the fake block: its bootstrap bags (Bag, each the joint data of its
// copies of the users, real then fake, a user drawn c times entering as c
// identical rows) and the refit of every bag (BaggedRefit), with the utility
// of the bagged prediction and its gradient in the fake ratings.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include "joint.hpp"
#include "observed.hpp"
#include "refit.hpp"

namespace cfpoison {

// One bootstrap bag: its copies of the real users (rows 0 .. n_normal - 1,
// a user's copies adjacent, in user order), then its copies of the fake
// users, as R's fit_bagged() lays out a bag, so that a refit here is the
// bag's fit there.
struct Bag {
  JointData data;
  std::vector<int> real_first;  // per real user: its first copy's row, -1 outside the bag
  std::vector<int> real_count;  // its copies
  std::vector<int> fake_first;  // per fake user: its first copy among the fake rows, -1 outside the bag
  std::vector<int> fake_count;
  // Per entry of the bag's fake block (by-row order): the entry of the
  // attack's fake block it copies. Set by set_block().
  std::vector<std::size_t> source;
  arma::mat last_zV;  // the bag's last adjoint at the items: the next solve's start

  // The bag's copies of `fake` (the attack's block, by user then item).
  void set_block(const Triplets& fake) {
    Triplets copies;
    source.clear();
    std::size_t e = 0;
    while (e < fake.user.size()) {
      const int f = fake.user[e];
      std::size_t end = e;
      while (end < fake.user.size() && fake.user[end] == f) ++end;
      for (int q = 0; q < fake_count[f]; ++q)
        for (std::size_t p = e; p < end; ++p) {
          copies.user.push_back(fake_first[f] + q);
          copies.item.push_back(fake.item[p]);
          copies.value.push_back(fake.value[p]);
          source.push_back(p);
        }
      e = end;
    }
    data.set_block(copies);
  }
};

// The bags of `counts` ((m + m') x B: each user's copies in each bag, real
// users first) over the real users' ratings (by user, then item).
inline std::vector<Bag> make_bags(const std::vector<int>& rows, const std::vector<int>& cols,
                                  const std::vector<double>& values, const int n_normal, const int n_items,
                                  const int n_fake, const arma::imat& counts) {
  if (static_cast<int>(counts.n_rows) != n_normal + n_fake || counts.n_cols == 0)
    throw std::invalid_argument("the bags need one row of counts per user, real then fake");
  if (arma::any(arma::vectorise(counts) < 0)) throw std::invalid_argument("bag counts must not be negative");
  std::vector<std::size_t> start(static_cast<std::size_t>(n_normal) + 1, 0);
  for (const int i : rows) {
    if (i < 0 || i >= n_normal) throw std::invalid_argument("a real user's index is out of range");
    ++start[static_cast<std::size_t>(i) + 1];
  }
  for (int i = 0; i < n_normal; ++i) start[i + 1] += start[i];
  std::vector<Bag> bags(counts.n_cols);
  for (arma::uword b = 0; b < counts.n_cols; ++b) {
    Bag& bag = bags[b];
    std::vector<int> bag_rows, bag_cols;
    std::vector<double> bag_values;
    bag.real_first.assign(n_normal, -1);
    bag.real_count.assign(n_normal, 0);
    int row = 0;
    for (int i = 0; i < n_normal; ++i) {
      const int c = counts(i, b);
      bag.real_count[i] = c;
      if (c == 0) continue;
      bag.real_first[i] = row;
      for (int q = 0; q < c; ++q, ++row)
        for (std::size_t p = start[i]; p < start[i + 1]; ++p) {
          bag_rows.push_back(row);
          bag_cols.push_back(cols[p]);
          bag_values.push_back(values[p]);
        }
    }
    if (row == 0) throw std::invalid_argument("a bag holds no real user");
    bag.fake_first.assign(n_fake, -1);
    bag.fake_count.assign(n_fake, 0);
    int fake_rows = 0;
    for (int f = 0; f < n_fake; ++f) {
      const int c = counts(n_normal + f, b);
      bag.fake_count[f] = c;
      if (c == 0) continue;
      bag.fake_first[f] = fake_rows;
      fake_rows += c;
    }
    bag.data = JointData(std::move(bag_rows), std::move(bag_cols), std::move(bag_values), row, n_items, fake_rows);
  }
  return bags;
}

// A bagged learner refits each bag on its copies of the users and takes the
// utility of the bagged prediction, the mean over the bags that hold a user:
// with S_b = diag(share_i [i in bag b]) (share_i one over the number of bags
// holding user i) its factors are the stacked [S_1 U_1 | ... | S_B U_B] and
// [V_1 | ... | V_B], so the utility's gradient in bag b's factors is S_b times
// its gradient in the stacked ones (spread evenly over a user's copies, which
// are identical rows) and in V_b its block. Each bag then solves its own
// adjoint on its joint data, and the gradient in a fake rating is the sum over
// the bags of the bag's gradient at each copy of that rating (copies share the
// rating); a fake user in no bag has none. The bags are independent given the
// fake block: each keeps its index (rebuilt only when the support changes) and
// its last adjoint (the next solve's start).
class BaggedRefit {
 public:
  BaggedRefit() = default;

  // The bags of `counts` ((m + m') x B, each user's copies in each bag, real
  // users first) over the real users' ratings `rows`, `cols`, `values` (by
  // user, then item) of `n_normal` users, `n_items` items and `n_fake` fake
  // users. A refit's warm starts and its Evaluation's V stack the bags' item
  // factors (bag b in rows b k .. (b + 1) k - 1).
  BaggedRefit(const std::vector<int>& rows, const std::vector<int>& cols, const std::vector<double>& values,
              const int n_normal, const int n_items, const int n_fake, const arma::imat& counts)
      : n_normal_(n_normal),
        n_items_(n_items),
        n_fake_(n_fake),
        bags_(make_bags(rows, cols, values, n_normal, n_items, n_fake, counts)),
        real_idx_(build_index(n_normal, n_items, rows.data(), cols.data(), rows.size())),
        share_(n_normal, 0.0) {
    for (int i = 0; i < n_normal_; ++i) {
      int holders = 0;
      for (const Bag& b : bags_) holders += b.real_count[i] > 0;
      share_[i] = holders > 0 ? 1.0 / holders : 0.0;
    }
  }

  bool empty() const { return bags_.empty(); }

  // The refit of `model` on the bags (see the class comment): every bag from
  // its rows of V_warm, the utility of the bagged prediction, and, when it
  // exceeds `gradient_floor`, its gradient through each bag's adjoint.
  Evaluation refit(const RefitModel& model, const Triplets& fake, const arma::mat& V_warm, const double gradient_floor,
                   const int sweeps, const double tol) {
    const arma::uword n_bags = bags_.size();
    if (static_cast<int>(V_warm.n_cols) != n_items_ || V_warm.n_rows == 0 || V_warm.n_rows % n_bags != 0)
      throw std::invalid_argument(
          "warm start of a bagged learner: the bags' item factors stacked, one column per item");
    const arma::uword k = V_warm.n_rows / n_bags;
    const AlsSettings als = model.refit_settings(sweeps, tol);
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
      fits[b] = model.prediction_factors(bag.data.idx(), bag.data.values(), std::move(fit));
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
    const UtilityGradient ug = model.attacker_utility(real_idx_, n_normal_, P, Q);
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
    out.huber_delta = model.loss_delta();
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
      const FakeGradient g = model.gradient(bag.data.idx(), bag.data.values(), n_copies, f, dP, dQ, bag.last_zV);
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

 private:
  int n_normal_ = 0;
  int n_items_ = 0;
  int n_fake_ = 0;
  // The bags, the real users' ratings alone (the utility's observed entries)
  // and each real user's share of its prediction.
  std::vector<Bag> bags_;
  ObservedIndex real_idx_;
  std::vector<double> share_;
};

}  // namespace cfpoison
