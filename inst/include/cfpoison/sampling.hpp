// Which (user, item) pairs a simulation observes: the distinct pairs of a
// stream of random draws, each remembered with the position of its first
// draw, so that "the first n distinct pairs of the stream" is a selection by
// position. Linear in the draws (a counting sort by user, then small sorts of
// each user's items): unique() on 20M keys in R takes most of a minute.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace cfpoison {

// Distinct pairs sorted by user, then item (0-based), with the stream
// position of each pair's first draw.
struct FirstDraws {
  std::vector<int> user;
  std::vector<int> item;
  std::vector<double> first;
  std::size_t size() const { return user.size(); }
};

// `seen` plus the draws (user[d], item[d]) at stream positions offset + d,
// which all come after those of `seen`, into `out` (whose memory is reused):
// the pairs not seen before are added with their first position. `seen` is
// distinct and sorted, as this leaves `out`; every drawn index is checked.
// The draws count from `base` (R's 1-based ones, read where they lie), the
// pairs from 0.
inline void merge_draws(const FirstDraws& seen, const int* drawn_user, const int* drawn_item,
                        const std::size_t n_draws, const double offset, const int n_users, const int n_items,
                        const int base, FirstDraws& out) {
  const std::size_t m = static_cast<std::size_t>(n_users);
  for (std::size_t d = 0; d < n_draws; ++d) {
    // Compared before subtracting: R's NA (the minimum int) lies below any base.
    if (drawn_user[d] < base || drawn_user[d] - base >= n_users)
      throw std::out_of_range("a drawn user index is out of range");
    if (drawn_item[d] < base || drawn_item[d] - base >= n_items)
      throw std::out_of_range("a drawn item index is out of range");
  }
  const auto user = [&](const std::size_t d) { return static_cast<std::size_t>(drawn_user[d] - base); };
  const auto item = [&](const std::size_t d) { return static_cast<std::uint64_t>(drawn_item[d] - base); };

  // Counting sort of the draws by user, each packed as (item << 32 | draw):
  // sorting a user's words sorts by item, then by draw, so each pair's first
  // draw comes first.
  if (n_draws >= (std::size_t{1} << 32)) throw std::length_error("too many draws at once");
  std::vector<std::size_t> start(m + 1, 0);
  for (std::size_t d = 0; d < n_draws; ++d) ++start[user(d) + 1];
  for (std::size_t u = 0; u < m; ++u) start[u + 1] += start[u];
  std::vector<std::uint64_t> by_user(n_draws);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t d = 0; d < n_draws; ++d) by_user[next[user(d)]++] = (item(d) << 32) | d;
  }
  const auto item_of = [](const std::uint64_t word) { return static_cast<int>(word >> 32); };
  const auto draw_of = [](const std::uint64_t word) { return static_cast<double>(word & 0xffffffffu); };

  out.user.clear();
  out.item.clear();
  out.first.clear();
  const std::size_t capacity = seen.size() + n_draws;
  out.user.reserve(capacity);
  out.item.reserve(capacity);
  out.first.reserve(capacity);
  std::size_t s = 0;  // next pair of `seen`
  for (std::size_t u = 0; u < m; ++u) {
    const auto begin = by_user.begin() + static_cast<std::ptrdiff_t>(start[u]);
    const auto end = by_user.begin() + static_cast<std::ptrdiff_t>(start[u + 1]);
    std::sort(begin, end);
    // Merge this user's pairs seen with its new draws, both sorted by item.
    auto d = begin;
    while (true) {
      const bool has_seen = s < seen.size() && seen.user[s] == static_cast<int>(u);
      const bool has_draw = d != end;
      if (!has_seen && !has_draw) break;
      const bool from_seen = has_seen && (!has_draw || seen.item[s] <= item_of(*d));
      const int current = from_seen ? seen.item[s] : item_of(*d);
      out.user.push_back(static_cast<int>(u));
      out.item.push_back(current);
      out.first.push_back(from_seen ? seen.first[s] : offset + draw_of(*d));
      if (from_seen) ++s;
      while (d != end && item_of(*d) == current) ++d;  // drawn again
    }
  }
}

// Keeps the pairs whose first draws are the n_keep earliest (all when there
// are fewer), still sorted by user, then item.
inline void keep_earliest_draws(FirstDraws& pairs, const std::size_t n_keep) {
  if (pairs.size() <= n_keep) return;
  if (n_keep == 0) {
    pairs = FirstDraws();
    return;
  }
  std::vector<double> positions = pairs.first;
  std::nth_element(positions.begin(), positions.begin() + static_cast<std::ptrdiff_t>(n_keep - 1), positions.end());
  const double last = positions[n_keep - 1];  // positions are distinct
  std::size_t kept = 0;
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    if (pairs.first[p] > last) continue;
    pairs.user[kept] = pairs.user[p];
    pairs.item[kept] = pairs.item[p];
    pairs.first[kept] = pairs.first[p];
    ++kept;
  }
  pairs.user.resize(kept);
  pairs.item.resize(kept);
  pairs.first.resize(kept);
}

}  // namespace cfpoison
