// Rcpp glue for simulate_ratings(): which pairs a stream of draws observes.
#include <Rcpp.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "cfpoison/sampling.hpp"

// The first n_ratings distinct (user, item) pairs of the stream that
// `draw(size)` extends (a list of 1-based `user` and `item`, drawn by R so
// that the stream is R's), drawing ceiling(1.1 missing) + 10 at a time. Stops
// early, returning what it has, once more than half of the pairs not yet
// drawn are still missing, or once it has drawn 100 n_ratings + 10,000 pairs
// (a steep popularity makes the draws repeat the popular pairs for hours):
// the caller finishes those without replacement.
// Returns 1-based `user` and `item`, sorted by user, then item.
// [[Rcpp::export(.sample_pairs)]]
Rcpp::List sample_pairs(const Rcpp::Function& draw, const int n_users, const int n_items, const double n_ratings) {
  if (n_users < 1 || n_items < 1 || !(n_ratings >= 1)) Rcpp::stop("the matrix and the number of ratings must be positive");
  const double n_pairs = static_cast<double>(n_users) * static_cast<double>(n_items);
  cfpoison::FirstDraws seen;
  cfpoison::DrawScratch scratch;
  // Room for every round: one adds at most its 1.1 missing + 11 pairs.
  seen.reserve(static_cast<std::size_t>(std::ceil(1.1 * n_ratings)) + 11);
  const double max_drawn = 100.0 * n_ratings + 10000.0;
  double n_drawn = 0.0;
  while (static_cast<double>(seen.size()) < n_ratings) {
    const double have = static_cast<double>(seen.size());
    const double missing = n_ratings - have;
    if (missing > (n_pairs - have) / 2 || n_drawn > max_drawn) break;
    const double size = std::ceil(1.1 * missing) + 10;
    const Rcpp::List drawn = draw(size);
    const Rcpp::IntegerVector drawn_user = drawn["user"], drawn_item = drawn["item"];
    if (drawn_user.size() != static_cast<R_xlen_t>(size) || drawn_item.size() != drawn_user.size())
      Rcpp::stop("draw() returned the wrong number of pairs");
    cfpoison::merge_draws(seen, drawn_user.begin(), drawn_item.begin(), static_cast<std::size_t>(drawn_user.size()),
                          n_drawn, n_users, n_items, 1, scratch);
    n_drawn += size;
    Rcpp::checkUserInterrupt();
  }
  cfpoison::keep_earliest_draws(seen, static_cast<std::size_t>(n_ratings));
  Rcpp::IntegerVector user(seen.size()), item(seen.size());
  for (std::size_t p = 0; p < seen.size(); ++p) {
    user[p] = seen.user[p] + 1;
    item[p] = seen.item[p] + 1;
  }
  return Rcpp::List::create(Rcpp::Named("user") = user, Rcpp::Named("item") = item);
}
