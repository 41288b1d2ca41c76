# Detection features, PCA variable selection and the AUC: formulas against
# hand-computed values, C++ against brute-force dense R, and bad input.

expect_detect_error <- function(object, what) {
  err <- expect_error(object, class = paste0("cfpoison_error_", what))
  expect_s3_class(err, "cfpoison_error")
  invisible(err)
}

# Three users, three items, scale [-2, 2] (r_max = 2):
#   a: item1 = 2, item2 = 0
#   b: item1 = 0, item2 = 2, item3 = -2
#   c: item1 = 1,            item3 = 2
# Items: NR = (3, 2, 2); means rbar = (1, 1, 0).
tiny_df <- function() {
  data.frame(
    user = c("a", "a", "b", "b", "b", "c", "c"),
    item = c(1L, 2L, 1L, 2L, 3L, 1L, 3L),
    rating = c(2, 0, 0, 2, -2, 1, 2)
  )
}
tiny_ratings <- function() as_ratings(tiny_df(), scale = c(-2, 2))

test_that("each feature matches its formula on a hand-computed example", {
  f <- detect_features(tiny_ratings(), k = 1)
  expect_equal(f$user, c("a", "b", "c"))
  expect_false("is_fake" %in% names(f))
  expect_identical(f$length, c(2L, 3L, 2L))
  # |r_ui - rbar_i|: a (1, 1); b (1, 1, 2); c (0, 2).
  # WDA = sum |r - rbar| / NR_i:
  #   a: 1/3 + 1/2 = 5/6;  b: 1/3 + 1/2 + 2/2 = 11/6;  c: 0/3 + 2/2 = 1.
  expect_equal(f$wda, c(5 / 6, 11 / 6, 1))
  # RDMA = WDA / N_u: a: (5/6)/2 = 5/12;  b: (11/6)/3 = 11/18;  c: 1/2.
  expect_equal(f$rdma, c(5 / 12, 11 / 18, 1 / 2))
  # WDMA = (1/N_u) sum |r - rbar| / NR_i^2:
  #   a: (1/9 + 1/4)/2 = 13/72;  b: (1/9 + 1/4 + 2/4)/3 = 31/108;  c: (0 + 2/4)/2 = 1/4.
  expect_equal(f$wdma, c(13 / 72, 31 / 108, 1 / 4))
  # N = (2, 3, 2), mean 7/3, sum of squared deviations 1/9 + 4/9 + 1/9 = 2/3:
  # LengthVar = |N_u - 7/3| / (2/3) = (1/3, 2/3, 1/3) / (2/3) = (1/2, 1, 1/2).
  expect_equal(f$length_var, c(1 / 2, 1, 1 / 2))
  # P_F leaves out ratings equal to r_max = 2:
  #   a: {item2}: (0 - 1)^2 = 1;  b: {item1, item3}: ((0 - 1)^2 + (-2 - 0)^2)/2 = 5/2;
  #   c: {item1}: (1 - 1)^2 = 0.
  expect_equal(f$mean_var, c(1, 5 / 2, 0))
  # Without a scale, r_max is the largest rating (2 here): same P_F.
  expect_equal(detect_features(as_ratings(tiny_df()), k = 1)$mean_var, c(1, 5 / 2, 0))
})

test_that("an empty filler set gives MeanVar 0 and a user without ratings gets zeros", {
  df <- data.frame(user = c("a", "a", "b", "b"), item = c(1L, 2L, 1L, 2L), rating = c(2, 2, 0, 1))
  f <- detect_features(as_ratings(df, users = c("a", "b", "z"), scale = c(-2, 2)))
  # a rated only r_max: P_F is empty.
  expect_equal(f$mean_var[1], 0)
  # b: items' means are (1, 1.5): ((0 - 1)^2 + (1 - 1.5)^2)/2 = 0.625.
  expect_equal(f$mean_var[2], 0.625)
  z <- f[f$user == "z", ]
  expect_identical(z$length, 0L)
  expect_equal(unlist(z[c("rdma", "wdma", "wda", "mean_var", "degsim", "popularity")], use.names = FALSE), rep(0, 6))
  # N = (2, 2, 0): mean 4/3, squared deviations 4/9 + 4/9 + 16/9 = 24/9;
  # z: (4/3) / (24/9) = 1/2; a, b: (2/3) / (24/9) = 1/4.
  expect_equal(f$length_var, c(1 / 4, 1 / 4, 1 / 2))
})

test_that("LengthVar is 0 when every profile has the same length", {
  df <- data.frame(user = rep(1:3, each = 2), item = c(1L, 2L, 2L, 3L, 1L, 3L), rating = c(1, 0, 2, 1, 0, 1))
  expect_equal(detect_features(as_ratings(df))$length_var, c(0, 0, 0))
})

# DegSim on five users (no scale):
#   u1: items 1-3 = (1, 2, 3)     u2: items 1-3 = (1, 3, 2)    u3: items 1-3 = (2, 2, 2)
#   u4: item 1 = 1                u5: items 1-4 = (1, 2, 3, 10)
degsim_ratings <- function() {
  as_ratings(data.frame(
    user = paste0("u", c(1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 5, 5)),
    item = c(1:3, 1:3, 1:3, 1L, 1:4),
    rating = c(1, 2, 3, 1, 3, 2, 2, 2, 2, 1, 1, 2, 3, 10)
  ))
}

test_that("DegSim averages the k largest Pearson similarities over co-rated items", {
  # Deviations from each user's whole-profile mean:
  #   u1: mean 2, (-1, 0, 1)   u2: mean 2, (-1, 1, 0)   u3: mean 2, (0, 0, 0)
  #   u4: mean 1, (0)          u5: mean 4, (-3, -2, -1, 6)
  # W_uv = sum xy / sqrt(sum x^2 sum y^2) over co-rated items:
  #   u1-u2 (items 1-3): 1 / sqrt(2 * 2) = 0.5.
  #   u1-u5 (items 1-3): (3 + 0 - 1) / sqrt(2 * 14) = 2 / sqrt(28) (cor() on the
  #     co-rated vectors (1, 2, 3) and (1, 2, 3) would give 1).
  #   u2-u5 (items 1-3): (3 - 2 + 0) / sqrt(2 * 14) = 1 / sqrt(28).
  #   u3 sits on its mean: similarity 0 with u1, u2, u5.
  #   u4 shares one item with each user: never a neighbour.
  w15 <- 2 / sqrt(28)
  w25 <- 1 / sqrt(28)
  # k = 2: u1: (0.5 + w15)/2; u2: (0.5 + w25)/2; u3: (0 + 0)/2; u4: none, 0;
  #        u5: (w15 + w25)/2.
  expect_equal(
    detect_features(degsim_ratings(), k = 2)$degsim,
    c((0.5 + w15) / 2, (0.5 + w25) / 2, 0, 0, (w15 + w25) / 2)
  )
  # k = 1: the nearest neighbour.
  expect_equal(detect_features(degsim_ratings(), k = 1)$degsim, c(0.5, 0.5, 0, 0, w15))
  # k beyond the number of neighbours (3 each for u1, u2, u3, u5): their mean.
  expect_equal(
    detect_features(degsim_ratings(), k = 10)$degsim,
    c((0.5 + 0 + w15) / 3, (0.5 + 0 + w25) / 3, 0, 0, (w15 + w25 + 0) / 3)
  )
})

# Brute force: a dense users x items matrix, every pair's similarity from its
# co-rated items and the users' whole-profile means.
brute_degsim <- function(M, k, min_corated = 2) {
  observed <- !is.na(M)
  user_mean <- rowMeans(M, na.rm = TRUE)
  vapply(seq_len(nrow(M)), function(u) {
    sims <- vapply(seq_len(nrow(M))[-u], function(v) {
      co <- observed[u, ] & observed[v, ]
      if (sum(co) < min_corated) {
        return(NA_real_)
      }
      x <- M[u, co] - user_mean[u]
      y <- M[v, co] - user_mean[v]
      if (sum(x^2) == 0 || sum(y^2) == 0) 0 else sum(x * y) / sqrt(sum(x^2) * sum(y^2))
    }, numeric(1))
    sims <- sort(sims[!is.na(sims)], decreasing = TRUE)
    if (length(sims) == 0L) 0 else mean(utils::head(sims, k))
  }, numeric(1))
}

dense_matrix <- function(ratings, fake = NULL) {
  df <- as.data.frame(ratings)
  ids <- ratings$user_ids
  if (!is.null(fake)) {
    df <- rbind(df, as.data.frame(fake))
    ids <- c(ids, fake$user_ids)
  }
  M <- matrix(NA_real_, length(ids), length(ratings$item_ids))
  M[cbind(match(df$user, ids), match(df$item, ratings$item_ids))] <- df$rating
  M
}

test_that("DegSim from C++ equals a brute-force dense computation", {
  r <- simulate_ratings(60, 25, rank = 2, density = 0.25, seed = 3)
  fake <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 6), seed = 2)$fake
  # Whole units, so that ties and ratings equal to a user's mean occur.
  r$rating <- round(r$rating)
  fake$rating <- round(fake$rating)
  f <- detect_features(r, fake, k = 7)
  expect_equal(f$degsim, brute_degsim(dense_matrix(r, fake), k = 7), tolerance = 1e-10)
  # Fewer or more co-rated items asked of neighbours change who they are.
  for (min_corated in c(1, 4)) {
    g <- detect_features(r, fake, k = 7, min_corated = min_corated)
    expect_equal(g$degsim, brute_degsim(dense_matrix(r, fake), k = 7, min_corated = min_corated), tolerance = 1e-10)
    expect_false(isTRUE(all.equal(g$degsim, f$degsim)))
  }
  # Users with fewer ratings than min_corated have no neighbour.
  expect_true(all(detect_features(r, fake, k = 7, min_corated = 30)$degsim[f$length < 30] == 0))
  expect_cfp_error(detect_features(r, fake, min_corated = 0), "value", "min_corated")
})

test_that("features are computed on the poisoned data, fake users last", {
  df <- tiny_df()
  real <- as_ratings(df[df$user != "c", ], items = 1:3)
  fake <- as_ratings(df[df$user == "c", ], items = 1:3)
  f <- detect_features(real, fake, k = 1)
  all <- detect_features(as_ratings(df), k = 1)
  expect_equal(f$is_fake, c(FALSE, FALSE, TRUE))
  expect_equal(f[, -2], all)
  # The item statistics include the fake user. On the clean data alone
  # (NR = (2, 2, 1), means (1, 1, -2)) WDA would be a: 1/2 + 1/2 = 1 and
  # b: 1/2 + 1/2 + 0/1 = 1, not the poisoned 5/6 and 11/6.
  expect_equal(detect_features(real, k = 1)$wda, c(1, 1))
  expect_equal(f$wda[1:2], c(5 / 6, 11 / 6))
  # A cf_attack works as well as its fake block.
  r <- simulate_ratings(50, 20, rank = 2, density = 0.3, seed = 1)
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)
  expect_identical(detect_features(r, attack, k = 3), detect_features(r, attack$fake, k = 3))
  expect_identical(detect_pca(r, attack), detect_pca(r, attack$fake))
})

test_that("`users` restricts the rows, not the data the features are computed on", {
  r <- simulate_ratings(80, 30, rank = 2, density = 0.3, seed = 4)
  fake <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 8), seed = 1)$fake
  all <- detect_features(r, fake, k = 5)
  some <- detect_features(r, fake, k = 5, users = c("fake_3", 7, 2))
  expected <- all[all$user %in% c("2", "7", "fake_3"), ]
  rownames(expected) <- NULL
  expect_equal(some, expected)
})

test_that("results are identical for 1 and 2 threads", {
  r <- simulate_ratings(600, 120, rank = 3, density = 0.1, seed = 8)
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 20), seed = 1)$fake
  expect_identical(detect_features(r, fake, k = 10, threads = 1), detect_features(r, fake, k = 10, threads = 2))
  expect_identical(detect_pca(r, fake, threads = 1), detect_pca(r, fake, threads = 2))
})

# Dense PCA variable selection: z-score the zero-filled matrix's columns (the
# population sd; the scale does not change the singular vectors), zero the
# constant columns, sum the squared top left singular vectors.
dense_pca_scores <- function(M, n_components) {
  X <- M
  X[is.na(X)] <- 0
  centred <- sweep(X, 2, colMeans(X))
  sds <- sqrt(colMeans(centred^2))
  Xz <- sweep(centred, 2, ifelse(sds > 1e-12, sds, Inf), `/`)
  s <- svd(Xz, nu = n_components, nv = 0)
  list(score = rowSums(s$u^2), d = s$d[seq_len(n_components)])
}

test_that("detect_pca's scores equal a dense PCA", {
  r <- small_ratings()
  # Constant columns (z-scored to 0) among the real users: an item nobody
  # rated, one every user rated 1, one half the users rated 0 (the others'
  # missing entries are 0 too).
  df <- as.data.frame(r)
  df <- rbind(
    df,
    data.frame(user = r$user_ids, item = 999L, rating = 1),
    data.frame(user = r$user_ids[1:60], item = 998L, rating = 0)
  )
  r <- as_ratings(df, items = c(r$item_ids, 998L, 999L, 1000L))
  fake <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 3)$fake
  for (n_components in c(1L, 3L)) {
    for (poisoned in c(FALSE, TRUE)) {
      block <- if (poisoned) fake
      pca <- detect_pca(r, block, n_components = n_components, tol = 1e-12, max_iter = 2000)
      dense <- dense_pca_scores(dense_matrix(r, block), n_components)
      expect_equal(pca$score, dense$score, tolerance = 1e-8)
      expect_equal(pca$suspicion, -pca$score)
      expect_equal(attr(pca, "singular_values"), dense$d, tolerance = 1e-8)
      expect_equal(sum(pca$score), n_components, tolerance = 1e-10)
    }
  }
  expect_equal(names(pca), c("user", "is_fake", "score", "suspicion"))
  expect_equal(sum(pca$is_fake), length(fake$user_ids))
})

test_that("detect_pca warns when the subspace has not settled", {
  expect_warning(detect_pca(small_ratings(), max_iter = 1), class = "cfpoison_warning_convergence")
})

test_that("detection_auc is 1 for a perfect score, 0.5 for a constant one", {
  is_fake <- rep(c(FALSE, TRUE), c(7, 3))
  expect_equal(detection_auc(as.double(is_fake), is_fake), 1)
  expect_equal(detection_auc(-as.double(is_fake), is_fake), 0)
  expect_equal(detection_auc(rep(2, 10), is_fake), 0.5)
})

test_that("detection_auc equals the Mann-Whitney statistic / (n1 n0), ties included", {
  set.seed(11)
  is_fake <- sample(rep(c(TRUE, FALSE), c(23, 61)))
  for (scores in list(stats::rnorm(84) + is_fake, round(stats::rnorm(84) + is_fake))) {
    u <- stats::wilcox.test(scores[is_fake], scores[!is_fake], exact = FALSE)$statistic
    expect_equal(detection_auc(scores, is_fake), unname(u) / (23 * 61))
    # The definition: P(fake > real) + P(tie) / 2 over all pairs.
    pairs <- outer(scores[is_fake], scores[!is_fake], "-")
    expect_equal(detection_auc(scores, is_fake), mean((pairs > 0) + (pairs == 0) / 2))
  }
})

test_that("bad input gives classed errors naming the argument", {
  r <- tiny_ratings()
  expect_detect_error(detect_features(tiny_df()), "type")
  expect_detect_error(detect_pca(as.matrix(tiny_df())), "type")
  other_items <- as_ratings(data.frame(user = "f", item = 1:2, rating = 1))
  err <- expect_detect_error(detect_features(r, other_items), "shape")
  expect_match(conditionMessage(err), "attack", fixed = TRUE)
  expect_detect_error(detect_pca(r, other_items), "shape")
  expect_detect_error(detect_features(r, list(user = "f", item = 1, rating = 1)), "type")
  expect_detect_error(detect_features(r, data.frame(user = "f", item = 4, rating = 1)), "value")
  err <- expect_detect_error(detect_features(r, k = 0), "value")
  expect_match(conditionMessage(err), "k", fixed = TRUE)
  expect_detect_error(detect_features(r, k = 1.5), "type")
  expect_detect_error(detect_features(r, users = c("a", "nobody")), "value")
  expect_detect_error(detect_features(r, threads = 0), "value")
  err <- expect_detect_error(detect_pca(r, n_components = 0), "value")
  expect_match(conditionMessage(err), "n_components", fixed = TRUE)
  # min(users, items) = 3 here.
  expect_detect_error(detect_pca(r, n_components = 4), "value")

  is_fake <- c(TRUE, FALSE, FALSE)
  err <- expect_detect_error(detection_auc(1:2, is_fake), "shape")
  expect_match(conditionMessage(err), "scores", fixed = TRUE)
  expect_detect_error(detection_auc(c(1, NA, 2), is_fake), "missing")
  expect_detect_error(detection_auc(c(1, NaN, 2), is_fake), "missing")
  expect_detect_error(detection_auc(c("1", "2", "3"), is_fake), "type")
  err <- expect_detect_error(detection_auc(1:3, c(1, 0, 0)), "type")
  expect_match(conditionMessage(err), "is_fake", fixed = TRUE)
  expect_detect_error(detection_auc(1:3, c(TRUE, NA, FALSE)), "missing")
  expect_detect_error(detection_auc(1:3, rep(TRUE, 3)), "value")
  expect_detect_error(detection_auc(1:3, rep(FALSE, 3)), "value")
})
