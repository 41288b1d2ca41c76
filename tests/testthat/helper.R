# Shared by the tests: small data sets and an expectation for classed errors.

# Small simulated ratings shared by the tests: 120 users x 80 items, rank 4
# plus noise, continuous values (no clipping), about 2,900 ratings.
small_ratings <- function(seed = 5) {
  simulate_ratings(120, 80, rank = 4, density = 0.3, noise_sd = 0.3, scale = NULL, seed = seed)
}

# expect_error() on class, also checking that it is a cfpoison error and that
# its message matches each of `patterns` (fixed strings).
expect_cfp_error <- function(object, what, patterns = character()) {
  err <- expect_error(object, class = paste0("cfpoison_error_", what))
  expect_s3_class(err, "cfpoison_error")
  message <- conditionMessage(err)
  for (pattern in patterns) {
    expect_match(message, pattern, fixed = TRUE)
  }
  invisible(err)
}
