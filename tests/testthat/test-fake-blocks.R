# Fake users given to the measuring functions: hand-built blocks are measured
# like the equivalent cf_attack, and an attack computed on other ratings is refused.

block_case <- function() {
  r <- small_ratings()
  # 6 fake users: their ids sort the same as text and as numbers.
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  list(
    ratings = r, attack = attack, learner = learner_als(rank = 4, lambda_u = 1),
    blocks = list(cf_ratings = as_ratings(as.data.frame(attack$fake), items = r$item_ids), frame = as.data.frame(attack$fake))
  )
}

# What evaluate_attack() measured, without the columns that name the attack or time it.
measured <- function(result) {
  result[setdiff(names(result), c("method", "alpha", "attack_seconds", "evaluation_seconds"))]
}

test_that("a hand-built block is measured like the equivalent cf_attack", {
  case <- block_case()
  r <- case$ratings
  test <- split_ratings(r, seed = 2)$test
  defences <- list(huber = learner_als(rank = 4, lambda_u = 1, loss = "huber", huber_delta = 0.5))
  on_attack <- evaluate_attack(r, case$attack, case$learner, targets = 3)
  defended <- evaluate_defence(r, case$attack, test, defences, learner = case$learner)
  for (block in case$blocks) {
    on_block <- evaluate_attack(r, block, case$learner, targets = 3)
    expect_identical(on_block$method, "custom")
    expect_identical(on_block$alpha, NA_real_)
    expect_equal(measured(on_block), measured(on_attack), tolerance = 1e-10)
    expect_equal(
      measured(evaluate_defence(r, block, test, defences, learner = case$learner)), measured(defended),
      tolerance = 1e-10
    )
    expect_identical(detect_ttest(r, block, "mean"), detect_ttest(r, case$attack, "mean"))
    expect_identical(detect_features(r, block, k = 5), detect_features(r, case$attack, k = 5))
    expect_identical(detect_pca(r, block), detect_pca(r, case$attack))
    expect_identical(evaluate_detection(r, block, k = 5), evaluate_detection(r, case$attack, k = 5))
  }
})

test_that("a hand-built block needs a learner and valid ratings, named in the error", {
  case <- block_case()
  r <- case$ratings
  frame <- case$blocks$frame
  expect_cfp_error(evaluate_attack(r, frame), "value", c("built by hand", "`learner`"))
  expect_cfp_error(evaluate_defence(r, frame, r, list(a = case$learner)), "value", "`learner`")
  expect_cfp_error(
    evaluate_attack(r, frame[c("user", "item")], case$learner), "column", c("`attack`", "rating")
  )
  expect_cfp_error(
    detect_ttest(r, replace(frame, "rating", list(replace(frame$rating, 2, NA)))), "missing", c("`attack`", "row 2")
  )
  expect_cfp_error(detect_features(r, replace(frame, "rating", list(Inf))), "missing", "`attack`")
  expect_cfp_error(detect_pca(r, replace(frame, "rating", list("2"))), "type", c("`attack`", "numeric"))
  expect_cfp_error(
    evaluate_detection(r, replace(frame, "item", list("no such item"))), "value", c("`attack`", "ratings$item_ids")
  )
  expect_cfp_error(evaluate_attack(r, list(fake = frame), case$learner), "type", c("`attack`", "data frame"))
})

test_that("an attack computed on other ratings with the same ids is refused everywhere", {
  case <- block_case()
  r <- case$ratings
  other <- r
  other$rating[10] <- other$rating[10] + 0.5
  pga <- poison_pga(r, case$learner, utility_availability(), attack_budget(alpha = 0.05, items_per_user = 10),
    max_iter = 1, progress = FALSE, seed = 1
  )
  for (attack in list(case$attack, pga)) {
    expect_cfp_error(evaluate_attack(other, attack, case$learner), "mismatch", c("`attack`", "other ratings"))
    expect_cfp_error(evaluate_defence(other, attack, other, list(a = case$learner), learner = case$learner), "mismatch")
    expect_cfp_error(evaluate_detection(other, attack), "mismatch", "`attack`")
    expect_cfp_error(detect_ttest(other, attack), "mismatch", "`attack`")
    expect_cfp_error(detect_features(other, attack), "mismatch", "`attack`")
    expect_cfp_error(detect_pca(other, attack), "mismatch", "`attack`")
  }
  # Two ratings swapped between users keep the counts and the sum of ratings.
  swapped <- r
  swapped$rating[c(1, length(r$rating))] <- r$rating[c(length(r$rating), 1)]
  expect_cfp_error(detect_ttest(swapped, case$attack), "mismatch")
  # The same ratings rebuilt from a data frame are the same ratings; the bare block is never checked.
  rebuilt <- as_ratings(as.data.frame(r), users = r$user_ids, items = r$item_ids)
  expect_s3_class(detect_ttest(rebuilt, case$attack), "cf_ttest")
  expect_s3_class(detect_ttest(other, case$attack$fake), "cf_ttest")
})
