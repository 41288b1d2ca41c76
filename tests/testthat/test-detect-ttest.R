# The paper's paired t-test (Section 5) in its two readings.

# Fake users over r's items from a data frame of (user, item, rating).
fake_block_of <- function(r, df) {
  as_ratings(df, items = r$item_ids)
}

# n_fake fake users, each rating `size` items drawn uniformly at random at +Lambda.
extreme_fakes <- function(r, n_fake, size, lambda = 2, seed = 1) {
  set.seed(seed)
  items <- unlist(lapply(seq_len(n_fake), function(u) sample(r$item_ids, size)))
  fake_block_of(r, data.frame(user = rep(paste0("f", seq_len(n_fake)), each = size), item = items, rating = lambda))
}

# Copies of n_fake randomly chosen real users' profiles, as fake users.
copied_fakes <- function(r, n_fake, seed = 1) {
  set.seed(seed)
  chosen <- sample(length(r$user_ids), n_fake)
  rows <- r$user %in% chosen
  fake_block_of(r, data.frame(user = paste0("copy_", r$user[rows]), item = r$item_ids[r$item[rows]], rating = r$rating[rows]))
}

test_that("both readings are paired t-tests on the documented per-item pairs", {
  r <- small_ratings()
  fake <- extreme_fakes(r, n_fake = 10, size = 8)
  m <- length(r$user_ids)
  n <- length(r$item_ids)
  normal_count <- tabulate(r$item, n)
  fake_count <- tabulate(fake$item, n)

  frequency <- detect_ttest(r, fake, "frequency")
  by_hand <- t.test(normal_count / m, fake_count / 10, paired = TRUE)
  expect_s3_class(frequency, "htest")
  expect_equal(frequency$statistic, by_hand$statistic)
  expect_equal(frequency$p.value, by_hand$p.value)
  expect_match(frequency$data.name, "share of normal users vs share of fake users", fixed = TRUE)
  expect_match(frequency$data.name, paste("paired over", n, "items"), fixed = TRUE)

  both <- which(normal_count > 0 & fake_count > 0)
  normal_mean <- vapply(both, function(j) mean(r$rating[r$item == j]), numeric(1))
  mean_test <- detect_ttest(r, fake, "mean")
  by_hand <- t.test(normal_mean, rep(2, length(both)), paired = TRUE)
  expect_equal(mean_test$statistic, by_hand$statistic)
  expect_equal(mean_test$p.value, by_hand$p.value)
  expect_match(mean_test$data.name, paste("paired over the", length(both), "items both rated"), fixed = TRUE)

  row <- as.data.frame(mean_test)
  expect_identical(names(row), c("statistic", "p_value", "estimate", "n_pairs", "reading"))
  expect_identical(nrow(row), 1L)
  expect_identical(row$reading, "mean")
  expect_identical(row$n_pairs, length(both))
  expect_equal(row$estimate, mean(normal_mean - 2))
  expect_output(print(mean_test), "Paired t-test")
})

test_that("a cf_attack and its fake block give the same test", {
  r <- small_ratings()
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 10), seed = 3)
  expect_identical(detect_ttest(r, attack, "mean"), detect_ttest(r, attack$fake, "mean"))
})

test_that("+Lambda ratings on uniformly random items are detected", {
  r <- small_ratings()
  # Normal users rate about 24 items each, mostly popular ones; the fakes rate
  # 10 random items each, all at +Lambda.
  fake <- extreme_fakes(r, n_fake = 12, size = 10)
  expect_lt(detect_ttest(r, fake, "frequency")$p.value, 1e-3)
  expect_lt(detect_ttest(r, fake, "mean")$p.value, 1e-6)
})

test_that("copies of normal users' own profiles pass", {
  r <- small_ratings()
  fake <- copied_fakes(r, n_fake = 30)
  expect_gt(detect_ttest(r, fake, "frequency")$p.value, 0.05)
  expect_gt(detect_ttest(r, fake, "mean")$p.value, 0.05)
})

test_that("the frequency reading tests profile length", {
  r <- small_ratings()
  mean_length <- round(length(r$rating) / length(r$user_ids))
  # Uniformly random items at the normal users' mean profile length pass it.
  expect_gt(detect_ttest(r, extreme_fakes(r, n_fake = 12, size = mean_length), "frequency")$p.value, 0.05)
})

test_that("bad input to detect_ttest() is a classed error", {
  r <- small_ratings()
  other_items <- as_ratings(data.frame(user = "f1", item = 1:3, rating = 2), items = 1:3)
  expect_error(detect_ttest(r, other_items), class = "cfpoison_error_shape")
  expect_error(detect_ttest(r, as.matrix(data.frame(user = 1, item = 1, rating = 2))), class = "cfpoison_error_type")
  expect_error(detect_ttest(r, data.frame(user = 1, item = 0, rating = 2)), class = "cfpoison_error_value")
  expect_error(detect_ttest(list(), other_items), class = "cfpoison_error_type")

  # A single fake user who rated one item: one pair, so the mean reading is undefined.
  single <- fake_block_of(r, data.frame(user = "f1", item = 1, rating = 2))
  err <- expect_error(detect_ttest(r, single, "mean"), class = "cfpoison_error_value")
  expect_match(conditionMessage(err), "at least 2 items rated by both", fixed = TRUE)
  expect_match(conditionMessage(err), 'reading = "frequency"', fixed = TRUE)
  expect_cfp_error(detect_ttest(r, single, reading = "median"), "value", "`reading`")
  expect_s3_class(detect_ttest(r, single, "frequency"), "cf_ttest")

  # Identical groups: every paired difference is 0.
  copies <- fake_block_of(r, data.frame(user = paste0("c", r$user), item = r$item_ids[r$item], rating = r$rating))
  expect_error(detect_ttest(r, copies, "mean"), class = "cfpoison_error_value")
  expect_error(detect_ttest(r, copies, "frequency"), class = "cfpoison_error_value")
})
