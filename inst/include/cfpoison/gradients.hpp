// Implicit gradients of a utility with respect to the fake ratings M~ (Eq. 11, 13).
//
// The learner's optimum theta = (U, U~, V) of Eq. 4,
//   L = sum_{Omega u Omega~} (r_ij - u_i'v_j)^2 + 2 lambda_U ||[U; U~]||^2 + 2 lambda_V ||V||^2,
// satisfies grad_theta L = 0. Differentiating that in M~_ij gives
//   H dtheta/dM~_ij = -d(grad_theta L)/dM~_ij,  d(grad L)/dM~_ij = (-2 v_j at u~_i, -2 u~_i at v_j),
// so with the adjoint z solving H z = grad_theta R,
//   dR/dM~_ij = 2 (v_j' z_{u~_i} + u~_i' z_{v_j}).                       (exact)
// H is singular along rotations (U R, V R) that leave U V' and the penalties
// unchanged; grad_theta R is orthogonal to them (R depends on U V' only), so
// conjugate gradients converge in H's range and the result does not depend on
// the null-space component.
//
// The paper's Eq. 12 keeps only the diagonal blocks of H and drops the
// normal users' response (du_i/dM~ = 0): z_{v_j} = H_{v_j}^{-1} g_j, z_{u~} = 0,
//   dR/dM~_ij = u~_i' (Sigma_V^(j) + 2 lambda_V I)^{-1} g_j,                (kkt)
// with the ridge 2 lambda_V of Eq. 2 (Section 4.1 prints lambda_V, dropping
// Eq. 2's factor 2). That is exactly one application of the block-Jacobi
// preconditioner that the exact solve uses, so both share the code below.
//
// Nuclear-norm fits reuse both: at an optimum of rank rho, X = U diag(d) V' is
// the optimum of Eq. 2 at rank rho with lambda_U = lambda_V = lambda / 2 and
// balanced factors sqrt(d) U, sqrt(d) V, so the exact gradient is the same
// adjoint on those factors. Appendix B's approximation has its own function.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "als.hpp"
#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

// The learner's optimum on the joint data: rows 0..n_normal-1 of U are normal
// users, the rest fake users.
struct JointModel {
  const ObservedIndex& idx;
  const std::vector<double>& values;
  const arma::mat& U;  // k x (m + m')
  const arma::mat& V;  // k x n
  double lambda_u;
  double lambda_v;
  int n_normal;
};

// Block-diagonal part of H: 2 (Gram + 2 lambda I) per user and per item, as
// Cholesky factors. Also the paper's Sigma_U^(i), Sigma_V^(j) of Eq. 12.
class BlockJacobi {
 public:
  BlockJacobi(const JointModel& model, const int threads) : k_(static_cast<int>(model.U.n_rows)) {
    users_ = factor_blocks(RowEntries{model.idx, model.values}, model.V, model.lambda_u, threads);
    items_ = factor_blocks(ColEntries{model.idx, model.values}, model.U, model.lambda_v, threads);
  }

  // x <- H_block^{-1} x, column by column.
  void apply_users(arma::mat& x, const int threads) const { apply(users_, x, threads); }
  void apply_items(arma::mat& x, const int threads) const { apply(items_, x, threads); }

 private:
  template <class Entries>
  arma::mat factor_blocks(const Entries& entries, const arma::mat& other, const double lambda, const int threads) {
    const int n = entries.count();
    arma::mat blocks(static_cast<arma::uword>(k_) * k_, n);
    std::atomic<int> failed(-1);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (int t = 0; t < n; ++t) {
      double* block = blocks.colptr(t);
      gram_matrix(entries, t, other, 2.0 * lambda, block);
      for (int c = 0; c < k_ * k_; ++c) block[c] *= 2.0;
      if (!cholesky_factor(block, k_)) failed.store(t);
    }
    if (failed.load() >= 0)
      throw std::runtime_error("the Hessian block of row or column " + std::to_string(failed.load() + 1) +
                               " is singular: use a positive regularization");
    return blocks;
  }

  void apply(const arma::mat& blocks, arma::mat& x, const int threads) const {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < static_cast<int>(x.n_cols); ++t) cholesky_substitute(blocks.colptr(t), x.colptr(t), k_);
  }

  int k_;
  arma::mat users_;  // (k*k) x (m + m'): one factor per column
  arma::mat items_;  // (k*k) x n
};

// Hessian-vector product of L at the model: (hU, hV) = H (dU, dV).
//   hU_i = 2 sum_j [(du_i'v_j + u_i'dv_j) v_j - e_ij dv_j] + 4 lambda_U du_i
//   hV_j = 2 sum_i [(du_i'v_j + u_i'dv_j) u_i - e_ij du_i] + 4 lambda_V dv_j
// with e_ij = r_ij - u_i'v_j (fixed during a solve, so computed once). The
// change du_i'v_j + u_i'dv_j is computed in the pass by user and reused in the
// pass by item; each pass writes its own columns (deterministic).
class HessianOperator {
 public:
  HessianOperator(const JointModel& model, const int threads)
      : model_(model), residual_(model.idx.n_observed()), change_(model.idx.n_observed()), threads_(threads) {
    const ObservedIndex& idx = model.idx;
    const int k = static_cast<int>(model.U.n_rows);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (int i = 0; i < idx.n_rows; ++i)
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p)
        residual_[p] = model.values[p] - dot(model.U.colptr(i), model.V.colptr(idx.col_of[p]), k);
  }

  void apply(const arma::mat& dU, const arma::mat& dV, arma::mat& hU, arma::mat& hV) {
    const ObservedIndex& idx = model_.idx;
    const arma::mat& U = model_.U;
    const arma::mat& V = model_.V;
    const int k = static_cast<int>(U.n_rows);
    hU = 4.0 * model_.lambda_u * dU;
    hV = 4.0 * model_.lambda_v * dV;
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 64)
    for (int i = 0; i < idx.n_rows; ++i) {
      double* h = hU.colptr(i);
      const double* du = dU.colptr(i);
      const double* u = U.colptr(i);
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
        const int j = idx.col_of[p];
        const double* v = V.colptr(j);
        const double* dv = dV.colptr(j);
        const double change = dot(du, v, k) + dot(u, dv, k);
        change_[p] = change;
        const double e = residual_[p];
        for (int c = 0; c < k; ++c) h[c] += 2.0 * (change * v[c] - e * dv[c]);
      }
    }
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 64)
    for (int j = 0; j < idx.n_cols; ++j) {
      double* h = hV.colptr(j);
      for (std::size_t q = idx.col_start[j]; q < idx.col_start[j + 1]; ++q) {
        const int i = idx.row_of_col_entry[q];
        const std::size_t p = idx.pos_of_col_entry[q];
        const double* u = U.colptr(i);
        const double* du = dU.colptr(i);
        const double change = change_[p];
        const double e = residual_[p];
        for (int c = 0; c < k; ++c) h[c] += 2.0 * (change * u[c] - e * du[c]);
      }
    }
  }

 private:
  const JointModel& model_;
  std::vector<double> residual_;
  std::vector<double> change_;
  int threads_;
};

// H's null space: the rotations (Omega U, Omega V), Omega skew-symmetric,
// which leave U V' and both penalties unchanged. Projecting (X, Y) off it
// means subtracting (Omega U, Omega V) with skew(S - Omega G) = 0 for
// S = X U' + Y V' and G = U U' + V V', i.e. the Sylvester equation
// Omega G + G Omega = S - S', solved in G's eigenbasis at O((m + n) k^2).
class RotationNullSpace {
 public:
  explicit RotationNullSpace(const JointModel& model) : U_(model.U), V_(model.V) {
    arma::eig_sym(eigenvalues_, eigenvectors_, arma::mat(U_ * U_.t() + V_ * V_.t()));
  }

  // (X, Y) <- (X, Y) minus its component in the null space.
  void project(arma::mat& X, arma::mat& Y) const {
    const arma::mat S = X * U_.t() + Y * V_.t();
    arma::mat omega = eigenvectors_.t() * (S - S.t()) * eigenvectors_;
    for (arma::uword b = 0; b < omega.n_cols; ++b)
      for (arma::uword a = 0; a < omega.n_rows; ++a) {
        const double sum = eigenvalues_[a] + eigenvalues_[b];
        omega(a, b) = sum > 0 ? omega(a, b) / sum : 0.0;
      }
    omega = eigenvectors_ * omega * eigenvectors_.t();
    X -= omega * U_;
    Y -= omega * V_;
  }

 private:
  const arma::mat& U_;
  const arma::mat& V_;
  arma::vec eigenvalues_;
  arma::mat eigenvectors_;
};

struct AdjointSettings {
  int max_iter = 200;
  double tol = 1e-10;  // stop at ||H z - b|| <= tol ||b||
  int threads = 1;
};

struct Adjoint {
  arma::mat zU;  // k x (m + m')
  arma::mat zV;  // k x n
  int iterations = 0;
  double relative_residual = 0.0;
};

// Solves H z = b by conjugate gradients preconditioned with the block-Jacobi
// part of H, restricted to the complement of H's rotation null space (there
// H is positive definite at a strict minimum up to rotations; without the
// projection rounding feeds the near-zero directions until the curvature
// turns negative). b = (bU, bV) is grad_theta R (zero for fake users).
inline Adjoint solve_adjoint(const JointModel& model, const BlockJacobi& blocks, const arma::mat& bU,
                             const arma::mat& bV, const AdjointSettings& s) {
  Adjoint out;
  out.zU.zeros(bU.n_rows, bU.n_cols);
  out.zV.zeros(bV.n_rows, bV.n_cols);
  const RotationNullSpace null_space(model);
  HessianOperator hessian(model, s.threads);
  arma::mat rU = bU, rV = bV;
  null_space.project(rU, rV);
  const auto precondition = [&](arma::mat& yU, arma::mat& yV) {
    blocks.apply_users(yU, s.threads);
    blocks.apply_items(yV, s.threads);
    null_space.project(yU, yV);
  };
  arma::mat yU = rU, yV = rV;
  precondition(yU, yV);
  arma::mat pU = yU, pV = yV;
  arma::mat hU, hV;
  double ry = arma::accu(rU % yU) + arma::accu(rV % yV);
  const double b_norm = std::sqrt(arma::accu(arma::square(bU)) + arma::accu(arma::square(bV)));
  if (b_norm == 0.0) return out;
  for (int it = 1; it <= s.max_iter; ++it) {
    hessian.apply(pU, pV, hU, hV);
    const double curvature = arma::accu(pU % hU) + arma::accu(pV % hV);
    if (!(curvature > 0.0)) {
      // Rounding can end the solve a little before `tol` once the residual is
      // tiny; a non-positive curvature before that means the fit is no minimum.
      if (out.relative_residual < 1e-6 && it > 1) break;
      throw std::runtime_error("the learner's Hessian is not positive definite at the fit (conjugate gradient step " +
                               std::to_string(it) + ", relative residual " + std::to_string(out.relative_residual) +
                               "): refit to a tighter tolerance");
    }
    const double step = ry / curvature;
    out.zU += step * pU;
    out.zV += step * pV;
    rU -= step * hU;
    rV -= step * hV;
    out.iterations = it;
    out.relative_residual = std::sqrt(arma::accu(arma::square(rU)) + arma::accu(arma::square(rV))) / b_norm;
    if (out.relative_residual <= s.tol) break;
    yU = rU;
    yV = rV;
    precondition(yU, yV);
    const double ry_next = arma::accu(rU % yU) + arma::accu(rV % yV);
    pU = yU + (ry_next / ry) * pU;
    pV = yV + (ry_next / ry) * pV;
    ry = ry_next;
  }
  return out;
}

// dR/dM~ at the fake entries (positions first_fake_pos.. of the by-row layout)
// from an adjoint z: 2 (v_j' z_{u~_i} + u~_i' z_{v_j}).
inline std::vector<double> fake_entry_gradient(const JointModel& model, const arma::mat& zU, const arma::mat& zV,
                                               const int threads) {
  const ObservedIndex& idx = model.idx;
  const int k = static_cast<int>(model.U.n_rows);
  const std::size_t first = idx.row_start[model.n_normal];
  std::vector<double> grad(idx.n_observed() - first);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (int i = model.n_normal; i < idx.n_rows; ++i) {
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const int j = idx.col_of[p];
      grad[p - first] =
          2.0 * (dot(model.V.colptr(j), zU.colptr(i), k) + dot(model.U.colptr(i), zV.colptr(j), k));
    }
  }
  return grad;
}

enum class GradientMethod { kkt, exact };

struct FakeGradient {
  std::vector<double> values;  // one per fake entry, by-row order
  int cg_iterations = 0;
  double cg_residual = 0.0;
};

// dR/dM~ for a model whose predictions are U_i'V_j (balanced factors for a
// nuclear fit). dP (k x m) and dQ (k x n) are the utility's gradients in the
// normal users' and the items' factors (Appendix A).
inline FakeGradient implicit_gradient(const JointModel& model, const arma::mat& dP, const arma::mat& dQ,
                                      const GradientMethod method, const AdjointSettings& s) {
  const BlockJacobi blocks(model, s.threads);
  FakeGradient out;
  if (method == GradientMethod::kkt) {
    arma::mat zV = dQ;
    blocks.apply_items(zV, s.threads);
    const arma::mat zU(model.U.n_rows, model.U.n_cols, arma::fill::zeros);
    out.values = fake_entry_gradient(model, zU, zV, s.threads);
    return out;
  }
  arma::mat bU(model.U.n_rows, model.U.n_cols, arma::fill::zeros);
  bU.cols(0, model.n_normal - 1) = dP;
  const Adjoint z = solve_adjoint(model, blocks, bU, dQ, s);
  out.values = fake_entry_gradient(model, z.zU, z.zV, s.threads);
  out.cg_iterations = z.iterations;
  out.cg_residual = z.relative_residual;
  return out;
}

// Appendix B's approximation for nuclear-norm fits X = U diag(d) V' (U, V with
// orthonormal columns, here k x rows and k x items): with S = diag(d + lambda),
//   dv_j/dM~_lj ~ (B_j'B_j + tau I)^{-1} S u~_l,  B_j = [u_i' S]_{i rates j},
// so dR/dM~_lj ~ u~_l' S (S G_j S + tau I)^{-1} g_j with G_j = sum_{i rates j} u_i u_i'
// and g_j = dR/dv_j. The u~ terms vanish (fake users' predictions are not part
// of R) and Appendix B's dsigma_k/dM~_ij = 1/(u~_ik v_jk) is left out: it
// divides by products of singular-vector entries that are near zero for most
// entries, so it is unbounded rather than an approximation of anything.
inline FakeGradient appendix_b_gradient(const JointModel& model, const arma::vec& d, const double lambda,
                                        const double tau, const arma::mat& dQ, const int threads) {
  const int k = static_cast<int>(model.U.n_rows);
  const arma::vec s = d + lambda;
  arma::mat W(k, model.V.n_cols, arma::fill::zeros);
  std::atomic<int> failed(-1);
  const ColEntries entries{model.idx, model.values};
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> gram(static_cast<std::size_t>(k) * k);
#pragma omp for schedule(dynamic, 64)
    for (int j = 0; j < entries.count(); ++j) {
      gram_matrix(entries, j, model.U, 0.0, gram.data());
      for (int c = 0; c < k; ++c)
        for (int r = 0; r < k; ++r) gram[r + c * k] *= s[r] * s[c];
      for (int c = 0; c < k; ++c) gram[c + c * k] += tau;
      double* w = W.colptr(j);
      for (int c = 0; c < k; ++c) w[c] = dQ(c, j);
      if (!cholesky_solve(gram.data(), w, k)) failed.store(j);
      for (int c = 0; c < k; ++c) w[c] *= s[c] / 2.0;  // fake_entry_gradient doubles it
    }
  }
  if (failed.load() >= 0) throw std::runtime_error("Appendix B's smoothed system is singular: use tau > 0");
  FakeGradient out;
  const arma::mat zU(model.U.n_rows, model.U.n_cols, arma::fill::zeros);
  out.values = fake_entry_gradient(model, zU, W, threads);
  return out;
}

}  // namespace cfpoison
