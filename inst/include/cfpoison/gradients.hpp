// Implicit gradients of a utility with respect to the fake ratings M~ (Eq. 11, 13).
//
// The learner's optimum theta = (U, U~, V) of Eq. 4,
//   L = sum_{Omega u Omega~} (r_ij - u_i'v_j)^2 + 2 lambda_U ||[U; U~]||^2 + 2 lambda_V ||V||^2,
// satisfies grad_theta L = 0. Differentiating that in M~_ij gives
//   H dtheta/dM~_ij = -d(grad_theta L)/dM~_ij,  d(grad L)/dM~_ij = (-2 v_j at u~_i, -2 u~_i at v_j),
// so with the adjoint z solving H z = grad_theta R,
//   dR/dM~_ij = 2 (v_j' z_{u~_i} + u~_i' z_{v_j}).                       (exact)
// H = [A C; C' B] has block-diagonal A (one k x k block per user) and B (per
// item), so z is found from the Schur complement S = B - C' A^{-1} C on the
// items: S z_V = b_V - C' A^{-1} b_U, then z_U = A^{-1} (b_U - C z_V), with S
// solved by conjugate gradients preconditioned by B. H is singular along
// rotations (U R, V R) that leave U V' and the penalties unchanged, S along
// (Omega V); grad_theta R is orthogonal to them (R depends on U V' only), so
// CG runs on their complement and the result does not depend on them.
//
// The paper's Eq. 12 keeps only the diagonal blocks of H and drops the
// normal users' response (du_i/dM~ = 0): z_{v_j} = B_j^{-1} g_j, z_{u~} = 0,
//   dR/dM~_ij = u~_i' (Sigma_V^(j) + 2 lambda_V I)^{-1} g_j,                (kkt)
// with the ridge 2 lambda_V of Eq. 2 (Section 4.1 prints lambda_V, dropping
// Eq. 2's factor 2): one application of the preconditioner the exact solve uses.
//
// The Huber loss (learner_als(loss = "huber"), a defence) replaces each
// (r - u'v)^2 by 2 rho(e), rho(e) = e^2 / 2 within delta and delta |e| -
// delta^2 / 2 beyond; its IRLS fixed point is a stationary point of that L.
// Every e above becomes the slope psi(e) = rho'(e) = clamp(e, -delta, delta)
// and every product v_j v_j' (u_i u_i') is weighted by the curvature
// rho''(e), 1 within delta and 0 beyond. So dR/dM~_ij is 0 for a fake rating
// the fit treats as an outlier (its pull no longer depends on its value), and
// an attack through the Huber learner keeps its ratings within delta of the fit.
//
// The biased model (als.hpp) is the same on its free parameters [u_i; b_i] and
// [v_j; c_j], with the design factors [u_i; 1], [v_j; 1] in place of u_i, v_j
// (a user's gradient is -2 sum psi_ij [v_j; 1] + its ridge, and so on):
// its blocks are Gram matrices of the design factors with the ridge
// diag(2 lambda, ..., 2 lambda_bias), its coupling drops the slope term on
// the bias coordinate (d[v_j; 1]/d[v_j; c_j] is zero there), and
// dR/dc_ij at fixed mu is 2 (v_j' z_{u~_i} + u~_i' z_{v_j}) on them. The
// ratings are centred on mu, the mean of all N ratings fitted, so a fake
// rating also moves mu by 1/N:
//   dR/dM~_ij = g_ij + (dR/dmu - sum over all observed (p, q) of g_pq) / N,
// g the fixed-mu derivatives and dR/dmu the utility's own (its predictions
// contain mu). Its rotations act on the latent coordinates only.
//
// Nuclear-norm fits reuse both: at an optimum of rank rho, X = U diag(d) V' is
// the optimum of Eq. 2 at rank rho with lambda_U = lambda_V = lambda / 2 and
// balanced factors sqrt(d) U, sqrt(d) V, so the exact gradient is the same
// adjoint on those factors. Appendix B's approximation has its own function.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "als.hpp"
#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

// A biased model's biases (see the top of this file).
struct Biases {
  arma::rowvec user;  // b (m + m')
  arma::rowvec item;  // c (n)
  double lambda = 0.0;  // penalty 2 lambda (||b||^2 + ||c||^2)
};

// The learner's optimum on the joint data: rows 0..n_normal-1 of U are normal
// users, the rest fake users.
struct JointModel {
  const ObservedIndex& idx;
  const std::vector<double>& values;  // biased: centred on mu
  const arma::mat& U;  // k x (m + m'); biased: the design factors [U; 1]
  const arma::mat& V;  // k x n; biased: [V; 1]
  double lambda_u;
  double lambda_v;
  int n_normal;
  double huber_delta = 0.0;  // > 0: the Huber loss (ALS only); else Eq. 2's squared loss
  const Biases* biases = nullptr;  // the biased model's biases; null: Eq. 2's model

  // The coordinates a rotation (U R, V R) acts on: all but a bias.
  int latent() const { return static_cast<int>(U.n_rows) - (biases ? 1 : 0); }

  // The prediction at an observed entry (less mu for a biased model).
  double prediction(const int i, const int j) const {
    if (!biases) return dot(U.colptr(i), V.colptr(j), static_cast<int>(U.n_rows));
    return dot(U.colptr(i), V.colptr(j), latent()) + biases->user[i] + biases->item[j];
  }
};

// The loss's slope psi(e) at a residual e: e itself for the
// squared loss, clamped to [-delta, delta] for the Huber loss.
inline double loss_slope(const double e, const double huber_delta) {
  return huber_delta > 0.0 ? std::min(huber_delta, std::max(-huber_delta, e)) : e;
}

// Per observed entry (by-row order): the slope psi(e) (empty for the
// Gauss-Newton model and the KKT gradient, which do not use it) and the
// curvature rho''(e) (empty for the squared loss, where it is 1).
struct EntryLoss {
  std::vector<double> slope;
  std::vector<double> curvature;
};

inline EntryLoss entry_loss(const JointModel& model, const bool with_slope, const int threads) {
  const ObservedIndex& idx = model.idx;
  const bool huber = model.huber_delta > 0.0;
  EntryLoss out;
  if (!with_slope && !huber) return out;
  if (with_slope) out.slope.assign(idx.n_observed(), 0.0);
  if (huber) out.curvature.assign(idx.n_observed(), 0.0);
  const int k = static_cast<int>(model.U.n_rows);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
  for (int i = 0; i < idx.n_rows; ++i)
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const double e = model.values[p] - model.prediction(i, idx.col_of[p]);
      if (with_slope) out.slope[p] = loss_slope(e, model.huber_delta);
      if (huber) out.curvature[p] = std::abs(e) <= model.huber_delta ? 1.0 : 0.0;
    }
  return out;
}

// Block-diagonal part of H: 2 (Gram + 2 lambda I) per user and per item, as
// Cholesky factors, the Gram matrices weighted by the loss's curvature. Also
// the paper's Sigma_U^(i), Sigma_V^(j) of Eq. 12.
class BlockJacobi {
 public:
  // The paper's KKT gradient needs the item blocks only (`with_users = false`).
  BlockJacobi(const JointModel& model, const EntryLoss& loss, const bool with_users, const int threads)
      : k_(static_cast<int>(model.U.n_rows)) {
    if (loss.curvature.empty()) {
      build(model, UnitWeights{}, with_users, threads);
    } else {
      build(model, EntryWeights{loss.curvature}, with_users, threads);
    }
  }

  // x <- A^{-1} x (users) or B^{-1} x (items), column by column.
  void apply_users(arma::mat& x, const int threads) const { apply(users_, x, threads); }
  void apply_items(arma::mat& x, const int threads) const { apply(items_, x, threads); }
  // x <- A_i^{-1} x for user i alone (k values).
  void apply_user(const int i, double* x) const { cholesky_substitute(users_.colptr(i), x, k_); }

  // out <- B x, from B's Cholesky factors: L (L' x).
  void multiply_items(const arma::mat& x, arma::mat& out, const int threads) const {
    out.set_size(arma::size(x));
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> lt(k_);
#pragma omp for schedule(static)
      for (int t = 0; t < static_cast<int>(x.n_cols); ++t) {
        const double* L = items_.colptr(t);
        const double* in = x.colptr(t);
        double* o = out.colptr(t);
        for (int c = 0; c < k_; ++c) {
          double sum = 0.0;
          for (int r = c; r < k_; ++r) sum += L[r + c * k_] * in[r];
          lt[c] = sum;
        }
        for (int r = 0; r < k_; ++r) {
          double sum = 0.0;
          for (int c = 0; c <= r; ++c) sum += L[r + c * k_] * lt[c];
          o[r] = sum;
        }
      }
    }
  }

 private:
  template <class Weights>
  void build(const JointModel& model, const Weights& weight, const bool with_users, const int threads) {
    if (model.biases) {
      const int latent = model.latent();
      if (with_users)
        users_ = factor_blocks(RowEntries{model.idx, model.values}, model.V,
                               bias_ridge(latent, model.lambda_u, model.biases->lambda), weight, threads);
      items_ = factor_blocks(ColEntries{model.idx, model.values}, model.U,
                             bias_ridge(latent, model.lambda_v, model.biases->lambda), weight, threads);
      return;
    }
    if (with_users)
      users_ = factor_blocks(RowEntries{model.idx, model.values}, model.V, 2.0 * model.lambda_u, weight, threads);
    items_ = factor_blocks(ColEntries{model.idx, model.values}, model.U, 2.0 * model.lambda_v, weight, threads);
  }

  // The blocks 2 (Gram + ridge), `ridge` Eq. 2's 2 lambda (one per coordinate
  // for a biased model).
  template <class Entries, class Weights, class Ridge>
  arma::mat factor_blocks(const Entries& entries, const arma::mat& other, const Ridge& ridge, const Weights& weight,
                          const int threads) {
    const int n = entries.count();
    arma::mat blocks(static_cast<arma::uword>(k_) * k_, n);
    std::atomic<int> failed(-1);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (int t = 0; t < n; ++t) {
      double* block = blocks.colptr(t);
      gram_matrix(entries, t, other, ridge, block, weight);
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

// The coupling block C of H (d^2 L / dU dV) and its transpose:
//   (C x)_i  = 2 sum_{j in Omega_i} [w_ij (u_i'x_j) v_j - psi_ij x_j]   (items -> users)
//   (C'y)_j  = 2 sum_{i in Omega'_j} [w_ij (y_i'v_j) u_i - psi_ij y_i]  (users -> items)
// with the slope psi_ij = psi(r_ij - u_i'v_j) and curvature w_ij of the loss
// (e_ij and 1 for the squared loss), fixed during a solve. In each product one
// thread writes each output column, adding its terms in a fixed order
// (deterministic for any thread count). The Gauss-Newton model
// drops the slope terms (`loss.slope` empty): H then is 2 J'WJ plus the ridge,
// positive definite wherever the fit is, minimum or not.
//
// Products write into matrices the caller keeps across CG steps: a fresh
// k x n (or k x m) temporary per product came in freshly mapped pages that
// the kernel zeroes, 12% of an exact gradient's time on movielens_small().
class Coupling {
 public:
  Coupling(const JointModel& model, const EntryLoss& loss, const int threads)
      : model_(model), loss_(loss), threads_(threads), first_item_(item_shares(model.idx, threads)) {}

  // out <- C x.
  void apply(const arma::mat& x, arma::mat& out) const {
    const ObservedIndex& idx = model_.idx;
    out.zeros(model_.U.n_rows, idx.n_rows);
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 64)
    for (int i = 0; i < idx.n_rows; ++i) add_user_term(i, x, out.colptr(i));
  }

  // out <- C' A^{-1} C x, the coupling's part of the Schur complement
  // (`users`: a k x (m + m') workspace). On one thread in one pass over the
  // users: each user's (C x)_i, A_i^{-1} of it, and its terms of C'y, read
  // while its ratings and factors are at hand; the same sums in the same
  // order as apply(), apply_users() and apply_transpose().
  void through_users(const arma::mat& x, const BlockJacobi& blocks, arma::mat& out, arma::mat& users) const {
    if (threads_ > 1) {
      apply(x, users);
      blocks.apply_users(users, threads_);
      apply_transpose(users, out);
      return;
    }
    const ObservedIndex& idx = model_.idx;
    out.zeros(model_.U.n_rows, idx.n_cols);
    std::vector<double> y(model_.U.n_rows);
    for (int i = 0; i < idx.n_rows; ++i) {
      std::fill(y.begin(), y.end(), 0.0);
      add_user_term(i, x, y.data());
      blocks.apply_user(i, y.data());
      add_item_terms(i, y.data(), 0, idx.n_cols, out);
    }
  }

  // Visited by column, C'y would gather a user's u_i and y_i for every entry,
  // one cache miss each once the users outgrow the cache (two thirds of a CG
  // step at MovieLens-20M's size). So each of `threads` parts owns the items
  // of an equal share of the entries and scans the entries by user, reading
  // u_i and y_i in sequence and adding to its own items' columns: every item's
  // terms are added in increasing user order, as a by-column pass adds them,
  // so the result is the same for any thread count. out <- C'y.
  void apply_transpose(const arma::mat& y, arma::mat& out) const {
    const ObservedIndex& idx = model_.idx;
    out.zeros(model_.U.n_rows, idx.n_cols);
    const int parts = static_cast<int>(first_item_.size()) - 1;
#pragma omp parallel for num_threads(threads_) schedule(static, 1)
    for (int part = 0; part < parts; ++part)
      for (int i = 0; i < idx.n_rows; ++i) add_item_terms(i, y.colptr(i), first_item_[part], first_item_[part + 1], out);
  }

 private:
  // (C x)_i += user i's terms, in its ratings' order.
  void add_user_term(const int i, const arma::mat& x, double* o) const {
    const ObservedIndex& idx = model_.idx;
    const double* u = model_.U.colptr(i);
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const int j = idx.col_of[p];
      add_term(o, u, x.colptr(j), model_.V.colptr(j), p);
    }
  }

  // (C'y)_j += user i's terms (y_i = `yi`) for its items j in lo .. hi - 1.
  void add_item_terms(const int i, const double* yi, const int lo, const int hi, arma::mat& out) const {
    const ObservedIndex& idx = model_.idx;
    const double* u = model_.U.colptr(i);
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const int j = idx.col_of[p];
      if (j < lo || j >= hi) continue;
      add_term(out.colptr(j), model_.V.colptr(j), yi, u, p);
    }
  }

  // One rating p's term, o += 2 (w_p (a'b) c - psi_p b), with no slope term
  // on a bias coordinate: of (C x)_i with a = u_i, b = x_j, c = v_j, and of
  // (C'y)_j with a = v_j, b = y_i, c = u_i.
  void add_term(double* o, const double* a, const double* b, const double* c, const std::size_t p) const {
    const int k = static_cast<int>(model_.U.n_rows);
    const int latent = model_.latent();
    const double along = curvature(p) * dot(a, b, k);
    const double e = slope(p);
    // (`simd`: the output column never overlaps b or c, which the compiler cannot see.)
#pragma omp simd
    for (int r = 0; r < latent; ++r) o[r] += 2.0 * (along * c[r] - e * b[r]);
    for (int r = latent; r < k; ++r) o[r] += 2.0 * along * c[r];
  }

  double slope(const std::size_t p) const { return loss_.slope.empty() ? 0.0 : loss_.slope[p]; }
  double curvature(const std::size_t p) const { return loss_.curvature.empty() ? 1.0 : loss_.curvature[p]; }

  // apply_transpose()'s parts: part t owns items first[t] .. first[t + 1] - 1,
  // the items of the t-th equal share of the entries.
  static std::vector<int> item_shares(const ObservedIndex& idx, const int threads) {
    const int parts = std::max(1, threads);
    std::vector<int> first(static_cast<std::size_t>(parts) + 1, idx.n_cols);
    for (int part = 0; part < parts; ++part) {
      const std::size_t share = idx.n_observed() * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts);
      first[part] = static_cast<int>(std::lower_bound(idx.col_start.begin(), idx.col_start.end() - 1, share) -
                                     idx.col_start.begin());
    }
    return first;
  }

  const JointModel& model_;
  const EntryLoss& loss_;
  int threads_;
  const std::vector<int> first_item_;
};

// The Schur complement's null space: (Omega V), Omega skew-symmetric.
// Projecting Y off it subtracts Omega V with skew(Y V' - Omega G) = 0 for
// G = V V', i.e. the Sylvester equation Omega G + G Omega = S - S' with
// S = Y V', solved in G's eigenbasis at O(n k^2). A biased model's rotations
// act on its first `latent` coordinates only, so Y's other rows stay.
class RotationNullSpace {
 public:
  RotationNullSpace(const arma::mat& V, const int latent)
      : latent_rows_(static_cast<arma::uword>(latent) < V.n_rows ? V.head_rows(latent) : arma::mat()),
        V_(latent_rows_.is_empty() ? V : latent_rows_) {
    arma::eig_sym(eigenvalues_, eigenvectors_, arma::mat(V_ * V_.t()));
  }

  void project(arma::mat& Y) const {
    if (!latent_rows_.is_empty()) {
      arma::mat head = Y.head_rows(V_.n_rows);
      project_latent(head);
      Y.head_rows(V_.n_rows) = head;
      return;
    }
    project_latent(Y);
  }

 private:
  void project_latent(arma::mat& Y) const {
    const arma::mat S = Y * V_.t();
    arma::mat omega = eigenvectors_.t() * (S - S.t()) * eigenvectors_;
    for (arma::uword b = 0; b < omega.n_cols; ++b)
      for (arma::uword a = 0; a < omega.n_rows; ++a) {
        const double sum = eigenvalues_[a] + eigenvalues_[b];
        omega(a, b) = sum > 0 ? omega(a, b) / sum : 0.0;
      }
    Y -= eigenvectors_ * omega * eigenvectors_.t() * V_;
  }

  arma::mat latent_rows_;  // a biased model's latent rows of V; empty: all of V
  const arma::mat& V_;
  arma::vec eigenvalues_;
  arma::mat eigenvectors_;
};

struct AdjointSettings {
  int max_iter = 200;
  double tol = 1e-10;  // stop at ||S z_V - rhs|| <= tol ||rhs||
  int threads = 1;
};

// Which Hessian an adjoint solve used: the exact one, or its Gauss-Newton
// part where the exact one has a direction of non-positive curvature (a fit
// away from a minimum, as attacks' warm-started refits often are).
enum class HessianModel { exact, gauss_newton };

struct Adjoint {
  arma::mat zU;  // k x (m + m')
  arma::mat zV;  // k x n
  int iterations = 0;
  double relative_residual = 0.0;
  HessianModel hessian = HessianModel::exact;
};

// Conjugate gradients on the Schur complement S z_V = rhs (see the top of
// this file) from the guess zV (zeros, or the previous solve's: attacks move
// the fit a little per step, so the last adjoint is a good start). Returns
// false, leaving `out` partial, when S shows a direction of non-positive
// curvature before the residual is small.
//
// B^{-1} S has its spectrum in (0, 1] as a spread, not a few outliers: on
// movielens_small at the rare-items block of alpha = 3% its smallest Ritz
// values are 0.0069, 0.019, 0.034, 0.038, 0.043, ... (condition number near
// 150). Taking the last solve's four slowest Ritz directions out of the
// preconditioner (deflation, W (W'S W)^{-1} W' added to B^{-1}) cut a cold
// solve on the same system from 19 to 8 steps, but not the warm-started
// solves inside an attack (a median of 14-18 steps against 17 without, in
// three variants, one of them four products with S dearer per solve): the
// last adjoint already carries the slow components.
inline bool schur_cg(const JointModel& model, const BlockJacobi& blocks, const Coupling& coupling,
                     const RotationNullSpace& null_space, const arma::mat& bU, const arma::mat& bV,
                     const arma::mat& guess, const AdjointSettings& s, Adjoint& out) {
  // Every step's products go into these (see Coupling).
  arma::mat coupled, users;
  const auto schur = [&](const arma::mat& x, arma::mat& out) {
    blocks.multiply_items(x, out, s.threads);
    coupling.through_users(x, blocks, coupled, users);
    out -= coupled;
  };
  const auto precondition = [&](const arma::mat& r, arma::mat& y) {
    y = r;
    blocks.apply_items(y, s.threads);
    null_space.project(y);
  };
  users = bU;
  blocks.apply_users(users, s.threads);
  coupling.apply_transpose(users, coupled);
  arma::mat rhs = bV - coupled;
  null_space.project(rhs);
  const double rhs_norm = arma::norm(rhs, "fro");
  out.iterations = 0;
  out.relative_residual = 0.0;
  out.zV.zeros(arma::size(bV));
  if (rhs_norm > 0.0) {
    arma::mat r = rhs;
    arma::mat Sp;
    if (!guess.empty()) {
      out.zV = guess;
      null_space.project(out.zV);
      schur(out.zV, Sp);
      r -= Sp;
      // A guess worse than zero is dropped.
      if (arma::norm(r, "fro") >= rhs_norm) {
        out.zV.zeros();
        r = rhs;
      }
    }
    out.relative_residual = arma::norm(r, "fro") / rhs_norm;
    arma::mat y;
    precondition(r, y);
    arma::mat p = y;
    double ry = arma::accu(r % y);
    // Away from a stationary point (a warm-started refit) the system need not
    // be consistent: the residual then stalls above `tol` while the solution
    // has long settled. Stop when ten steps gained less than 10%.
    std::vector<double> history{out.relative_residual};
    for (int it = 1; it <= s.max_iter && out.relative_residual > s.tol; ++it) {
      if (history.size() > 10 && out.relative_residual > 0.9 * history[history.size() - 11]) break;
      schur(p, Sp);
      const double curvature = arma::accu(p % Sp);
      if (!(curvature > 0.0)) {
        // Rounding can end the solve a little before `tol` once the residual
        // is tiny; a non-positive curvature before that means no minimum.
        if (out.relative_residual < 1e-6) break;
        return false;
      }
      const double step = ry / curvature;
      out.zV += step * p;
      r -= step * Sp;
      out.iterations = it;
      out.relative_residual = arma::norm(r, "fro") / rhs_norm;
      history.push_back(out.relative_residual);
      precondition(r, y);
      const double ry_next = arma::accu(r % y);
      p *= ry_next / ry;  // p = y + (ry_next / ry) p
      p += y;
      ry = ry_next;
    }
  }
  coupling.apply(out.zV, users);
  out.zU = bU - users;
  blocks.apply_users(out.zU, s.threads);
  return true;
}

// Solves H z = b through the Schur complement on the items (see the top of
// this file). b = (bU, bV) is grad_theta R (zero for fake users). Where the
// exact H is not positive definite the solve is redone on its Gauss-Newton
// model, and `hessian` says so: an attack never stops on an indefinite fit.
inline Adjoint solve_adjoint(const JointModel& model, const EntryLoss& loss, const BlockJacobi& blocks,
                             const arma::mat& bU, const arma::mat& bV, const arma::mat& guess,
                             const AdjointSettings& s) {
  const RotationNullSpace null_space(model.V, model.latent());
  Adjoint out;
  if (schur_cg(model, blocks, Coupling(model, loss, s.threads), null_space, bU, bV, guess, s, out)) return out;
  out.hessian = HessianModel::gauss_newton;
  const EntryLoss gauss_newton{{}, loss.curvature};
  schur_cg(model, blocks, Coupling(model, gauss_newton, s.threads), null_space, bU, bV, guess, s, out);
  return out;
}

// dR/dM~ at the entries of rows first_row.. (by-row order) from an adjoint z:
// 2 w_ij (v_j' z_{u~_i} + u~_i' z_{v_j}), w_ij the loss's curvature (1 for the
// squared loss); for a biased model at fixed mu. fake_entry_gradient(): the
// fake users' rows.
inline std::vector<double> entry_gradient(const JointModel& model, const EntryLoss& loss, const arma::mat& zU,
                                          const arma::mat& zV, const int first_row, const int threads) {
  const ObservedIndex& idx = model.idx;
  const int k = static_cast<int>(model.U.n_rows);
  const std::size_t first = idx.row_start[first_row];
  std::vector<double> grad(idx.n_observed() - first);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (int i = first_row; i < idx.n_rows; ++i) {
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const int j = idx.col_of[p];
      const double w = loss.curvature.empty() ? 1.0 : loss.curvature[p];
      grad[p - first] =
          w * 2.0 * (dot(model.V.colptr(j), zU.colptr(i), k) + dot(model.U.colptr(i), zV.colptr(j), k));
    }
  }
  return grad;
}

inline std::vector<double> fake_entry_gradient(const JointModel& model, const EntryLoss& loss, const arma::mat& zU,
                                               const arma::mat& zV, const int threads) {
  return entry_gradient(model, loss, zU, zV, model.n_normal, threads);
}

// A biased model's fake-entry gradient from the fixed-mu derivatives: each
// fake rating also moves mu by 1/N (see the top of this file), which adds
// (dR/dmu - sum of the fixed-mu derivatives at every entry) / N, returned.
inline double add_mean_term(const JointModel& model, const EntryLoss& loss, const arma::mat& zU, const arma::mat& zV,
                            const double dR_dmean, std::vector<double>& fake, const int threads) {
  const std::vector<double> all = entry_gradient(model, loss, zU, zV, 0, threads);
  double sum = 0.0;
  for (const double g : all) sum += g;
  const double term = (dR_dmean - sum) / static_cast<double>(all.size());
  for (double& g : fake) g += term;
  return term;
}

enum class GradientMethod { kkt, exact };

struct FakeGradient {
  std::vector<double> values;  // one per fake entry, by-row order
  arma::mat zU_fake;           // k x m': the adjoint at the fake users (0 for the KKT gradient)
  arma::mat zV;                // k x n: the adjoint at the items
  int cg_iterations = 0;
  double cg_residual = 0.0;
  HessianModel hessian = HessianModel::exact;
  double mean_term = 0.0;  // a biased model's share of every rating through mu (add_mean_term()); else 0
};

// dR/dM~ for a model whose predictions are U_i'V_j (balanced factors for a
// nuclear fit). dP (k x m) and dQ (k x n) are the utility's gradients in the
// normal users' and the items' factors (Appendix A); for a biased model in
// its free parameters [u_i; b_i] and [v_j; c_j], with `dR_dmean` the
// utility's derivative in mu. `guess` warm-starts the exact adjoint's item
// part (empty: from zero).
inline FakeGradient implicit_gradient(const JointModel& model, const arma::mat& dP, const arma::mat& dQ,
                                      const GradientMethod method, const arma::mat& guess,
                                      const AdjointSettings& s, const double dR_dmean = 0.0) {
  const bool exact = method == GradientMethod::exact;
  const EntryLoss loss = entry_loss(model, exact, s.threads);
  const BlockJacobi blocks(model, loss, exact, s.threads);
  const arma::uword first_fake = static_cast<arma::uword>(model.n_normal);
  FakeGradient out;
  if (!exact) {
    out.zV = dQ;
    blocks.apply_items(out.zV, s.threads);
    const arma::mat zU(model.U.n_rows, model.U.n_cols, arma::fill::zeros);
    out.values = fake_entry_gradient(model, loss, zU, out.zV, s.threads);
    if (model.biases) out.mean_term = add_mean_term(model, loss, zU, out.zV, dR_dmean, out.values, s.threads);
    out.zU_fake.zeros(model.U.n_rows, model.U.n_cols - first_fake);
    return out;
  }
  arma::mat bU(model.U.n_rows, model.U.n_cols, arma::fill::zeros);
  bU.cols(0, model.n_normal - 1) = dP;
  const Adjoint z = solve_adjoint(model, loss, blocks, bU, dQ, guess, s);
  out.values = fake_entry_gradient(model, loss, z.zU, z.zV, s.threads);
  if (model.biases) out.mean_term = add_mean_term(model, loss, z.zU, z.zV, dR_dmean, out.values, s.threads);
  out.zU_fake = z.zU.cols(first_fake, model.U.n_cols - 1);
  out.zV = z.zV;
  out.cg_iterations = z.iterations;
  out.cg_residual = z.relative_residual;
  out.hessian = z.hessian;
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
  out.values = fake_entry_gradient(model, EntryLoss{}, zU, W, threads);
  return out;
}

}  // namespace cfpoison
