// Attacker utilities (Section 3) and their gradients in the model's
// predictions (Appendix A), in factored form: no m x n matrix is ever formed.
//
// A fitted model predicts normal user i's rating of item j as p_i' q_j, with
// P (k x m) and Q (k x n): P = U, Q = V for alternating minimization and
// P = diag(d) U, Q = V for nuclear-norm minimization. Utilities count the m
// normal users only; fake users' predictions are not part of the attacker's gain.
#pragma once

#include <vector>

#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

struct UtilitySpec {
  double mu_availability = 1.0;       // mu_1 of Eq. 9 (Eq. 7 alone: 1)
  double mu_integrity = 0.0;          // mu_2 of Eq. 9 (Eq. 8 alone: 1, mu_1 = 0)
  std::vector<int> target_items;      // J_0, 0-based
  std::vector<double> target_weights; // w(j) for j in J_0
};

// The clean model's predictions pbar_i' qbar_j (its rank may differ from the
// poisoned model's), the reference of the availability utility (Eq. 7).
struct CleanModel {
  arma::mat P;  // kbar x m
  arma::mat Q;  // kbar x n
};

struct UtilityGradient {
  double value = 0.0;
  arma::mat dP;  // k x m: dR / dp_i
  arma::mat dQ;  // k x n: dR / dq_j
};

// Eq. 7: R_av = sum over unseen (i, j) of normal users of (p_i'q_j - pbar_i'qbar_j)^2,
// computed as the sum over all (i, j) (traces of k x k products) minus the sum
// over the observed entries of the m normal users (rows 0..m-1 of `idx`).
// Eq. 8: R_in = sum_i sum_{j in J0} w(j) p_i'q_j = sum_{j in J0} w(j) (sum_i p_i)' q_j.
// Eq. 9: mu_1 R_av + mu_2 R_in, gradients as in Appendix A.
inline UtilityGradient utility_gradient(const ObservedIndex& idx, const int n_normal, const arma::mat& P,
                                        const arma::mat& Q, const CleanModel& clean, const UtilitySpec& spec,
                                        const int threads) {
  const int k = static_cast<int>(P.n_rows);
  const int kbar = static_cast<int>(clean.P.n_rows);
  UtilityGradient out;
  out.dP.zeros(k, n_normal);
  out.dQ.zeros(k, Q.n_cols);
  const arma::mat P_normal = P.cols(0, n_normal - 1);

  if (spec.mu_availability != 0.0) {
    const double mu = spec.mu_availability;
    const arma::mat gram_p = P_normal * P_normal.t();   // sum_i p_i p_i'
    const arma::mat gram_q = Q * Q.t();                 // sum_j q_j q_j'
    const arma::mat cross_p = P_normal * clean.P.t();   // sum_i p_i pbar_i'  (k x kbar)
    const arma::mat cross_q = Q * clean.Q.t();          // sum_j q_j qbar_j'  (k x kbar)
    const arma::mat clean_gram_p = clean.P * clean.P.t();
    const arma::mat clean_gram_q = clean.Q * clean.Q.t();
    double total = arma::accu(gram_p % gram_q) - 2.0 * arma::accu(cross_p % cross_q) +
                   arma::accu(clean_gram_p % clean_gram_q);
    // Observed entries: subtract their squared differences and their share of
    // the gradient. One pass by user and one by item, so that no two threads
    // add into the same column and the result is the same for any thread
    // count. The item pass computes each entry's difference again rather
    // than read it from a vector the user pass filled: that costs two short
    // dot products where the lookup cost a cache miss anyway, and saves a
    // vector of one double per rating, which at the MovieLens-20M shape took
    // over half a second per call to fault in (see JointData).
    const auto difference = [&](const int i, const int j) {
      return dot(P.colptr(i), Q.colptr(j), k) - dot(clean.P.colptr(i), clean.Q.colptr(j), kbar);
    };
    std::vector<double> observed_per_row(n_normal, 0.0);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (int i = 0; i < n_normal; ++i) {
      double* dp = out.dP.colptr(i);
      double sum_sq = 0.0;
      for (std::size_t e = idx.row_start[i]; e < idx.row_start[i + 1]; ++e) {
        const int j = idx.col_of[e];
        const double diff = difference(i, j);
        sum_sq += diff * diff;
        const double* q = Q.colptr(j);
        for (int c = 0; c < k; ++c) dp[c] -= diff * q[c];
      }
      observed_per_row[i] = sum_sq;
    }
    arma::mat dq_observed(k, Q.n_cols, arma::fill::zeros);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (int j = 0; j < static_cast<int>(Q.n_cols); ++j) {
      double* dq = dq_observed.colptr(j);
      // Rows ascend within a column: normal users come before fake ones.
      for (std::size_t e = idx.col_start[j]; e < idx.col_start[j + 1] && idx.row_of_col_entry[e] < n_normal; ++e) {
        const int i = idx.row_of_col_entry[e];
        const double diff = difference(i, j);
        const double* p = P.colptr(i);
        for (int c = 0; c < k; ++c) dq[c] -= diff * p[c];
      }
    }
    for (const double s : observed_per_row) total -= s;
    // dR_av/dp_i = 2 [(sum_j q_j q_j') p_i - (sum_j q_j qbar_j') pbar_i - sum_{j in Omega_i} diff_ij q_j]
    out.dP = 2.0 * mu * (gram_q * P_normal - cross_q * clean.P + out.dP);
    out.dQ = 2.0 * mu * (gram_p * Q - cross_p * clean.Q + dq_observed);
    out.value = mu * total;
  }

  if (spec.mu_integrity != 0.0) {
    const double mu = spec.mu_integrity;
    const arma::vec sum_p = arma::sum(P_normal, 1);
    arma::vec weighted_q(k, arma::fill::zeros);
    for (std::size_t t = 0; t < spec.target_items.size(); ++t) {
      const int j = spec.target_items[t];
      const double w = spec.target_weights[t];
      out.value += mu * w * arma::dot(sum_p, Q.col(j));
      weighted_q += w * Q.col(j);
      out.dQ.col(j) += mu * w * sum_p;
    }
    out.dP.each_col() += mu * weighted_q;
  }
  return out;
}

}  // namespace cfpoison
