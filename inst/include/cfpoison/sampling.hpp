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
  void reserve(const std::size_t n) {
    user.reserve(n);
    item.reserve(n);
    first.reserve(n);
  }
  void resize(const std::size_t n) {
    user.resize(n);
    item.resize(n);
    first.resize(n);
  }
  void push_back(const int u, const int j, const double position) {
    user.push_back(u);
    item.push_back(j);
    first.push_back(position);
  }
};

// merge_draws()'s working space, kept from one call to the next.
struct DrawScratch {
  std::vector<std::size_t> start;
  std::vector<std::uint64_t> by_user;
  FirstDraws fresh;
};

// Adds to `seen` the draws (user[d], item[d]) at stream positions offset + d,
// which all come after those of `seen`: the pairs not seen before, each with
// the position of its first draw. `seen` is distinct and sorted, and stays
// so; every drawn index is checked. The draws count from `base` (R's 1-based
// ones, read where they lie), the pairs from 0.
// The new pairs are found in one pass that reads `seen` without copying it,
// then merged into it in place from its end. So a call allocates nothing once
// `seen` (reserve it) and `scratch` have the room: at the MovieLens-20M shape
// simulate_ratings() takes a dozen rounds, each adding few pairs to 16-20
// million, and copying them all into a fresh vector each round was a third
// of its time.
inline void merge_draws(FirstDraws& seen, const int* drawn_user, const int* drawn_item, const std::size_t n_draws,
                        const double offset, const int n_users, const int n_items, const int base,
                        DrawScratch& scratch) {
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
  std::vector<std::size_t>& start = scratch.start;
  start.assign(m + 1, 0);
  for (std::size_t d = 0; d < n_draws; ++d) ++start[user(d) + 1];
  for (std::size_t u = 0; u < m; ++u) start[u + 1] += start[u];
  std::vector<std::uint64_t>& by_user = scratch.by_user;
  by_user.resize(n_draws);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t d = 0; d < n_draws; ++d) by_user[next[user(d)]++] = (item(d) << 32) | d;
  }
  const auto item_of = [](const std::uint64_t word) { return static_cast<int>(word >> 32); };
  const auto draw_of = [](const std::uint64_t word) { return static_cast<double>(word & 0xffffffffu); };

  // The pairs not seen, by user, then item (on the first call, straight into `seen`).
  const std::size_t n_seen = seen.size();
  FirstDraws& fresh = n_seen == 0 ? seen : scratch.fresh;
  if (n_seen > 0) fresh.resize(0);
  std::size_t s = 0;  // next pair of `seen`
  for (std::size_t u = 0; u < m; ++u) {
    const int current_user = static_cast<int>(u);
    while (s < n_seen && seen.user[s] < current_user) ++s;
    const auto begin = by_user.begin() + static_cast<std::ptrdiff_t>(start[u]);
    const auto end = by_user.begin() + static_cast<std::ptrdiff_t>(start[u + 1]);
    std::sort(begin, end);
    for (auto d = begin; d != end;) {
      const int current = item_of(*d);
      while (s < n_seen && seen.user[s] == current_user && seen.item[s] < current) ++s;
      const bool known = s < n_seen && seen.user[s] == current_user && seen.item[s] == current;
      if (!known) fresh.push_back(current_user, current, offset + draw_of(*d));
      while (d != end && item_of(*d) == current) ++d;  // drawn again
    }
  }
  if (n_seen == 0 || fresh.size() == 0) return;
  // Merge from the end: each slot is written after the pair it held has moved.
  std::size_t i = n_seen, j = fresh.size(), k = n_seen + fresh.size();
  seen.resize(k);
  const auto after = [&](const std::size_t a, const std::size_t b) {
    return seen.user[a] != fresh.user[b] ? seen.user[a] > fresh.user[b] : seen.item[a] > fresh.item[b];
  };
  while (j > 0) {
    --k;
    if (i > 0 && after(i - 1, j - 1)) {
      --i;
      seen.user[k] = seen.user[i];
      seen.item[k] = seen.item[i];
      seen.first[k] = seen.first[i];
    } else {
      --j;
      seen.user[k] = fresh.user[j];
      seen.item[k] = fresh.item[j];
      seen.first[k] = fresh.first[j];
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
