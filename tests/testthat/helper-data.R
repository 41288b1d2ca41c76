# Small simulated ratings shared by the tests: 120 users x 80 items, rank 4
# plus noise, continuous values (no clipping), about 2,900 ratings.
small_ratings <- function(seed = 5) {
  simulate_ratings(120, 80, rank = 4, density = 0.3, noise_sd = 0.3, scale = NULL, seed = seed)
}
