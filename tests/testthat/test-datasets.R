# simulate_ratings() and read_movielens() at scale: the fast paths give what
# the straightforward computations give.

test_that("simulate_ratings() observes the first distinct pairs of R's stream of draws", {
  # The straightforward sampler (unique() over keys in draw order), as
  # simulate_ratings() did it before pairs were deduplicated in C++.
  reference_pairs <- function(n_users, n_items, density, zipf_exponent, seed) {
    set.seed(seed)
    rank <- 3
    stats::rnorm((n_users + n_items) * rank) # the factors come first
    popularity <- seq_len(n_items)^(-zipf_exponent)
    n_ratings <- round(density * n_users * n_items)
    keys <- numeric(0)
    while (length(keys) < n_ratings) {
      draw <- ceiling(1.1 * (n_ratings - length(keys))) + 10
      user <- sample.int(n_users, draw, replace = TRUE)
      item <- sample.int(n_items, draw, replace = TRUE, prob = popularity)
      keys <- unique(c(keys, (user - 1) * n_items + item))
    }
    keys <- sort(keys[seq_len(n_ratings)])
    list(user = as.integer((keys - 1) %/% n_items) + 1L, item = as.integer((keys - 1) %% n_items) + 1L)
  }
  # Zipf over 300 items: R samples them with Walker's alias method; over 40,
  # by inversion. Both draw several batches (popular items saturate).
  for (shape in list(c(400, 300, 0.05, 1), c(60, 40, 0.3, 1.5))) {
    r <- simulate_ratings(shape[1], shape[2], rank = 3, density = shape[3], zipf_exponent = shape[4], seed = 11)
    expected <- reference_pairs(shape[1], shape[2], shape[3], shape[4], seed = 11)
    expect_identical(r$user, expected$user)
    expect_identical(r$item, expected$item)
  }
})
