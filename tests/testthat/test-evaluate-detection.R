test_that("evaluate_detection() gathers every detector into one table", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  table <- evaluate_detection(r, attack)
  expect_identical(table$detector, c(
    "length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity", "pca",
    "ttest_frequency", "ttest_mean"
  ))
  features <- detect_features(r, attack)
  expect_equal(table$auc[table$detector == "rdma"], detection_auc(features$rdma, features$is_fake))
  expect_equal(
    table$p_value[table$detector == "ttest_mean"],
    as.data.frame(detect_ttest(r, attack, reading = "mean"))$p_value
  )
  expect_true(all(table$auc[table$kind != "t-test"] >= 0 & table$auc[table$kind != "t-test"] <= 1))
  expect_error(evaluate_detection(r, unclass(attack)), class = "cfpoison_error_type")
})
