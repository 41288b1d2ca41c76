// The stealth penalty of poison_pga(stealth = s): how far the fake users'
// profile statistics stray from the normal users', in the utility's units, so
// that an attack trades its utility against the shilling detectors.
//
// Per fake user f with profile I_f of length B_f, over the poisoned data's
// item statistics (count c_j and mean r_j over real and fake ratings, as the
// detectors see them):
//   rdma_f       = 1/B_f sum |r_fj - r_j| / c_j      (Chirita et al. 2005)
//   wdma_f       = 1/B_f sum |r_fj - r_j| / c_j^2    (Burke et al. 2006)
//   deviation_f  = 1/B_f sum (r_fj - r_j)^2          (the filler mean variance of
//                                                     Mobasher et al. 2007, over
//                                                     the whole profile)
//   popularity_f = |z_f|, z_f = (1/B_f sum log(1 + c_j) - E) / (S / sqrt(B_f)),
// E and S the mean and standard deviation of log(1 + c_j) over all ratings:
// the profile's mean log-popularity against a profile of the same length
// whose items are drawn as ratings are (the popularity detector of
// detect_features()). Each costs ((x_f - threshold) / spread)^2 beyond its
// threshold (the normal users' median; spread: their interquartile range),
// nothing below it. The block adds (|t| - 1)^2 beyond |t| = 1 for the paired t-test under the mean
// reading (detect_ttest()): t of the differences between the normal and the
// fake users' mean rating of each item both rate. The penalty is
//   P = weight (1/m' sum_f sum_stat cost + cost_t).
// Its gradient in the fake ratings is exact where the statistics are
// differentiable (away from r_fj = r_j and the hinges); the support search
// prices a new entry by first-order costs (stealth_price()), and every step is
// accepted on the exact penalized utility.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "observed.hpp"

namespace cfpoison {

enum StealthStat { stat_rdma = 0, stat_wdma, stat_deviation, stat_popularity, n_stealth_stats };

// What the attacker knows of the normal users: each item's number and sum of
// ratings, and for each statistic where its cost starts (the normal users'
// median; for a filter's statistic its cut-off, the others at infinity) and
// its unit (R/stealth.R).
struct StealthSpec {
  double weight = 0.0;  // s times the utility's scale; 0: no penalty
  std::vector<double> normal_count;
  std::vector<double> normal_sum;
  std::array<double, n_stealth_stats> threshold{};
  std::array<double, n_stealth_stats> spread{};
  bool ttest = true;  // the block's t-test term
};

// The penalty at one fake block, with what pricing a new entry needs.
struct StealthTerms {
  double value = 0.0;
  std::vector<double> gradient;  // dP/dM~, per fake entry (by-row order)
  // slope(a, f): dP / d stat a of fake user f (for popularity, of z_f)
  arma::mat slope;
  std::vector<double> count;  // c_j over real and fake ratings
  std::vector<double> mean;   // r_j over real and fake ratings
  std::vector<double> length;  // B_f
  double pop_mean = 0.0;      // E
  double pop_sd = 1.0;        // S
};

namespace detail {

inline double excess(const double x, const double threshold, const double spread) {
  return std::max(0.0, (x - threshold) / spread);
}

}  // namespace detail

inline StealthTerms stealth_terms(const Triplets& fake, const int n_fake, const StealthSpec& spec) {
  const std::size_t n = spec.normal_count.size();
  StealthTerms out;
  out.count = spec.normal_count;
  std::vector<double> sum(spec.normal_sum);
  std::vector<double> fake_count(n, 0.0), fake_sum(n, 0.0);
  out.length.assign(n_fake, 0.0);
  for (std::size_t e = 0; e < fake.value.size(); ++e) {
    const int j = fake.item[e], f = fake.user[e];
    if (j < 0 || static_cast<std::size_t>(j) >= n || f < 0 || f >= n_fake)
      throw std::invalid_argument("stealth: fake entry out of range");
    fake_count[j] += 1.0;
    fake_sum[j] += fake.value[e];
    out.length[f] += 1.0;
  }
  out.mean.assign(n, 0.0);
  double total = 0.0, moment1 = 0.0, moment2 = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    out.count[j] += fake_count[j];
    sum[j] += fake_sum[j];
    if (out.count[j] > 0) out.mean[j] = sum[j] / out.count[j];
    const double log_pop = std::log1p(out.count[j]);
    total += out.count[j];
    moment1 += out.count[j] * log_pop;
    moment2 += out.count[j] * log_pop * log_pop;
  }
  out.pop_mean = total > 0 ? moment1 / total : 0.0;
  out.pop_sd = std::sqrt(std::max(total > 0 ? moment2 / total - out.pop_mean * out.pop_mean : 0.0, 1e-12));

  // Per fake user: its statistics, their cost beyond the normal median, and
  // the slopes of the cost.
  arma::mat stat(n_stealth_stats, n_fake, arma::fill::zeros);
  for (std::size_t e = 0; e < fake.value.size(); ++e) {
    const int j = fake.item[e], f = fake.user[e];
    const double dev = fake.value[e] - out.mean[j];
    stat(stat_rdma, f) += std::abs(dev) / out.count[j];
    stat(stat_wdma, f) += std::abs(dev) / (out.count[j] * out.count[j]);
    stat(stat_deviation, f) += dev * dev;
    stat(stat_popularity, f) += std::log1p(out.count[j]);
  }
  out.slope.zeros(n_stealth_stats, n_fake);
  const double per_user = spec.weight / std::max(n_fake, 1);
  for (int f = 0; f < n_fake; ++f) {
    if (out.length[f] == 0) continue;
    for (int a = 0; a < n_stealth_stats; ++a) stat(a, f) /= out.length[f];
    const double z = (stat(stat_popularity, f) - out.pop_mean) / (out.pop_sd / std::sqrt(out.length[f]));
    stat(stat_popularity, f) = std::abs(z);
    for (int a = 0; a < n_stealth_stats; ++a) {
      const double x = detail::excess(stat(a, f), spec.threshold[a], spec.spread[a]);
      out.value += per_user * x * x;
      out.slope(a, f) = per_user * 2.0 * x / spec.spread[a];
    }
    if (z < 0) out.slope(stat_popularity, f) = -out.slope(stat_popularity, f);  // the slope in z
  }
  // A fake rating moves its own deviation and, through its item's mean (by
  // 1/c_j), the deviation of every rating of the item: the second part sums
  // over the item's fake ratings.
  out.gradient.assign(fake.value.size(), 0.0);
  std::vector<double> through_mean(n, 0.0);
  for (std::size_t e = 0; e < fake.value.size(); ++e) {
    const int j = fake.item[e], f = fake.user[e];
    const double dev = fake.value[e] - out.mean[j];
    const double sign = dev > 0 ? 1.0 : (dev < 0 ? -1.0 : 0.0);
    out.gradient[e] = (out.slope(stat_rdma, f) * sign / out.count[j] +
                       out.slope(stat_wdma, f) * sign / (out.count[j] * out.count[j]) +
                       out.slope(stat_deviation, f) * 2.0 * dev) /
                      out.length[f];
    through_mean[j] += out.gradient[e];
  }
  for (std::size_t e = 0; e < fake.value.size(); ++e) out.gradient[e] -= through_mean[fake.item[e]] / out.count[fake.item[e]];

  // The mean reading's paired t-test over the items both groups rate.
  std::vector<std::size_t> paired;
  for (std::size_t j = 0; j < n; ++j)
    if (spec.normal_count[j] > 0 && fake_count[j] > 0) paired.push_back(j);
  const double n_pairs = static_cast<double>(paired.size());
  if (spec.ttest && paired.size() >= 2) {
    std::vector<double> diff(paired.size());
    double mean_diff = 0.0;
    for (std::size_t q = 0; q < paired.size(); ++q) {
      const std::size_t j = paired[q];
      diff[q] = spec.normal_sum[j] / spec.normal_count[j] - fake_sum[j] / fake_count[j];
      mean_diff += diff[q] / n_pairs;
    }
    double ss = 0.0;
    for (const double d : diff) ss += (d - mean_diff) * (d - mean_diff);
    const double sd = std::sqrt(ss / (n_pairs - 1.0));
    if (sd > 0) {
      const double t = mean_diff / (sd / std::sqrt(n_pairs));
      const double x = std::max(0.0, std::abs(t) - 1.0);
      out.value += spec.weight * x * x;
      if (x > 0) {
        const double dcost_dt = spec.weight * 2.0 * x * (t > 0 ? 1.0 : -1.0);
        // dt/dd_q for the paired differences d; d_q moves by -1/c_j per fake rating of item j.
        std::vector<double> dt_dd(n, 0.0);
        for (std::size_t q = 0; q < paired.size(); ++q)
          dt_dd[paired[q]] = std::sqrt(n_pairs) * (1.0 / (n_pairs * sd) -
                                                   mean_diff * (diff[q] - mean_diff) / ((n_pairs - 1.0) * sd * sd * sd));
        for (std::size_t e = 0; e < fake.value.size(); ++e) {
          const int j = fake.item[e];
          out.gradient[e] -= dcost_dt * dt_dd[j] / fake_count[j];
        }
      }
    }
  }
  return out;
}

// First-order cost of fake user f rating item j at `rating`: its entry's part
// of the statistics' slopes. `added`: the entry is new (its item gains a
// rating; its mean then includes it).
inline double stealth_price(const StealthTerms& s, const int f, const int j, const double rating, const bool added) {
  const double count = s.count[j] + (added ? 1.0 : 0.0);
  const double mean = added ? (s.mean[j] * s.count[j] + rating) / count : s.mean[j];
  const double length = std::max(s.length[f], 1.0);
  const double dev = rating - mean;
  const double z_part = std::log1p(count) / (s.pop_sd / std::sqrt(length));
  return (s.slope(stat_rdma, f) * std::abs(dev) / count + s.slope(stat_wdma, f) * std::abs(dev) / (count * count) +
          s.slope(stat_deviation, f) * dev * dev + s.slope(stat_popularity, f) * z_part) /
         length;
}

}  // namespace cfpoison
