# Data out: poisoned_ratings(), as.data.frame(), as.matrix(), as_sparse() and
# fit_cf(seed = ).

# Whole stars shifted to [-2, 2], as in the paper: about 40% of the ratings
# are observed zeros. 150 users x 60 items, integer ids.
star_ratings <- function() {
  stars <- as.data.frame(simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1))
  stars$rating <- round(stars$rating)
  as_ratings(stars, scale = c(-2, 2))
}

star_attack <- function(r) {
  poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
}

test_that("poisoned_ratings() holds every real and fake rating exactly, observed zeros included", {
  r <- star_ratings()
  attack <- star_attack(r)
  expect_gt(sum(r$rating == 0), 100)
  p <- poisoned_ratings(r, attack)
  expect_s3_class(p, "cf_ratings")
  n_fake <- length(attack$fake$user_ids)
  expect_identical(p$is_fake, rep(c(FALSE, TRUE), c(150L, n_fake)))
  # Numeric ids stay numeric: fake user i is 150 + i.
  expect_identical(p$user_ids, c(r$user_ids, 150L + seq_len(n_fake)))
  expect_identical(p$item_ids, r$item_ids)
  expect_identical(p$scale, r$scale)

  df <- as.data.frame(p)
  expect_named(df, c("user", "item", "rating", "is_fake"))
  expect_identical(nrow(df), length(r$rating) + length(attack$fake$rating))
  real <- df[!df$is_fake, c("user", "item", "rating")]
  rownames(real) <- NULL
  expect_identical(real, as.data.frame(r))
  expect_identical(sum(real$rating == 0), sum(r$rating == 0))
  fake <- df[df$is_fake, c("user", "item", "rating")]
  rownames(fake) <- NULL
  expected <- as.data.frame(attack$fake)
  expected$user <- 150L + match(expected$user, attack$fake$user_ids)
  expect_identical(fake, expected)
})

test_that("poisoned_ratings() takes a cf_attack, its fake block or a data frame alike", {
  r <- star_ratings()
  attack <- star_attack(r)
  p <- poisoned_ratings(r, attack)
  expect_identical(poisoned_ratings(r, attack$fake), p)
  expect_identical(poisoned_ratings(r, as.data.frame(attack)), p)
  # A fake user's observed 0 stays observed.
  hand <- poisoned_ratings(r, data.frame(user = "f1", item = c(5, 9), rating = c(0, 2)))
  expect_identical(hand$user_ids, c(r$user_ids, 151L))
  expect_identical(hand$rating[hand$user == 151L], c(0, 2))
  expect_identical(hand$item[hand$user == 151L], c(5L, 9L))
})

test_that("poisoned_ratings() names fake users after character ids with fake_prefix", {
  r <- as_ratings(data.frame(user = c("ann", "bob", "bob"), item = c(1, 1, 2), rating = c(0, 1, -1)))
  fake <- data.frame(user = c("x", "y"), item = c(1, 2), rating = 2)
  p <- poisoned_ratings(r, fake)
  expect_identical(p$user_ids, c("ann", "bob", "fake_1", "fake_2"))
  expect_identical(poisoned_ratings(r, fake, fake_prefix = "attacker ")$user_ids[3:4], c("attacker 1", "attacker 2"))
  clash <- as_ratings(data.frame(user = c("fake_2", "bob"), item = c(1, 2), rating = 1))
  expect_cfp_error(poisoned_ratings(clash, fake), "duplicate", c("fake_2", "fake_prefix"))
  expect_identical(poisoned_ratings(clash, fake, fake_prefix = "f")$user_ids, c("bob", "fake_2", "f1", "f2"))
  expect_cfp_error(poisoned_ratings(r, fake, fake_prefix = NA_character_), "type", "fake_prefix")
})

test_that("poisoned_ratings() refuses what the measuring functions refuse", {
  r <- star_ratings()
  attack <- star_attack(r)
  other <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 2)
  expect_cfp_error(poisoned_ratings(other, attack), "mismatch", "attack")
  expect_cfp_error(poisoned_ratings(r), "missing", "attack")
  expect_cfp_error(poisoned_ratings(r, 1:3), "type", "attack")
  expect_cfp_error(poisoned_ratings(data.frame(user = 1, item = 1, rating = 1), attack), "type", "ratings")
  expect_cfp_error(poisoned_ratings(r, data.frame(user = 1, item = 999, rating = 1)), "value", "999")
  expect_cfp_error(poisoned_ratings(r, data.frame(user = 1, item = 1)), "column", "rating")
})

test_that("poisoned_ratings() drops a scale that fake ratings break, with a warning", {
  r <- star_ratings()
  expect_warning(p <- poisoned_ratings(r, data.frame(user = 1, item = 1, rating = 3)), class = "cfpoison_warning_scale")
  expect_null(p$scale)
  expect_identical(max(p$rating), 3)
})

test_that("print(), summary(), split_ratings() and fit_cf() work on poisoned ratings", {
  r <- star_ratings()
  attack <- star_attack(r)
  p <- poisoned_ratings(r, attack)
  n_fake <- length(attack$fake$user_ids)
  expect_match(paste(cli::cli_fmt(print(p)), collapse = "\n"), paste0("157 users (", n_fake, " fake)"), fixed = TRUE)
  s <- summary(p)
  expect_identical(s$n_fake_users, n_fake)
  expect_identical(summary(r)$n_fake_users, 0L)
  expect_match(paste(cli::cli_fmt(print(s)), collapse = "\n"), "(7 fake)", fixed = TRUE)

  halves <- split_ratings(p, seed = 1)
  expect_identical(halves$train$is_fake, p$is_fake)
  expect_identical(halves$test$is_fake, p$is_fake)
  expect_identical(length(halves$train$rating) + length(halves$test$rating), length(p$rating))

  # The poisoned data are the joint layout fit_cf(attack = ) fits: the same
  # seed gives the same model, the fake users' factors last in `u`.
  learner <- learner_als(rank = 3, lambda_u = 1)
  joint <- fit_cf(p, learner, seed = 3)
  apart <- fit_cf(r, learner, attack = attack, seed = 3)
  expect_identical(joint$u, rbind(apart$u, apart$fake_u))
  expect_identical(joint$v, apart$v)
})

test_that("a cf_ratings with a damaged is_fake is refused", {
  p <- poisoned_ratings(star_ratings(), data.frame(user = 1, item = 1, rating = 1))
  short <- p
  short$is_fake <- short$is_fake[-1]
  expect_cfp_error(fit_cf(short, learner_als(rank = 2)), "value", "is_fake")
  missing <- p
  missing$is_fake[1] <- NA
  expect_cfp_error(as.data.frame(missing), "value", "is_fake")
})

test_that("as.matrix() gives the observed entries and NA elsewhere", {
  r <- as_ratings(
    data.frame(user = c("ann", "ann", "bob"), item = c(10, 20, 10), rating = c(2, 0, -1)),
    items = c(10, 20, 30)
  )
  m <- as.matrix(r)
  expect_identical(m, matrix(c(2, -1, 0, NA, NA, NA), 2, dimnames = list(c("ann", "bob"), c("10", "20", "30"))))

  p <- poisoned_ratings(star_ratings(), star_attack(star_ratings()))
  m <- as.matrix(p)
  expect_identical(dim(m), dim(p))
  expect_identical(dimnames(m), list(as.character(p$user_ids), as.character(p$item_ids)))
  expect_identical(m[cbind(p$user, p$item)], p$rating)
  expect_identical(sum(!is.na(m)), length(p$rating))
  # Back through as_ratings(): the same entries, observed zeros included.
  back <- as_ratings(m, users = as.character(p$user_ids))
  expect_identical(back$rating, p$rating)
  expect_identical(back$user, p$user)
  expect_identical(back$item, p$item)
})

test_that("as.matrix() refuses a matrix over max_cells", {
  r <- simulate_ratings(50, 40, rank = 2, density = 0.2, seed = 1)
  expect_cfp_error(as.matrix(r, max_cells = 1999), "size", c("50 users x 40 items", "max_cells", "as_sparse"))
  expect_identical(dim(as.matrix(r, max_cells = 2000)), c(50L, 40L))
  expect_cfp_error(as.matrix(r, max_cells = "a lot"), "type", "max_cells")
})

test_that("as_sparse() refuses observed zeros by default and exports ratings without them as they are", {
  skip_if_not_installed("Matrix")
  r <- star_ratings()
  expect_cfp_error(as_sparse(r), "zeros", c("observed zero", "zeros = \"explicit\"", "zeros = \"shift\""))
  plain <- small_ratings()
  expect_false(any(plain$rating == 0))
  x <- as_sparse(plain)
  expect_s4_class(x, "dgCMatrix")
  expect_identical(attr(x, "shift"), 0)
  expect_identical(dim(x), dim(plain))
  expect_identical(unname(as.matrix(x)), unname(ifelse(is.na(as.matrix(plain)), 0, as.matrix(plain))))
  expect_identical(as_ratings(x)$rating, plain$rating)
})

test_that("as_sparse(zeros = \"explicit\") stores every observed zero and warns for a dgCMatrix", {
  skip_if_not_installed("Matrix")
  p <- poisoned_ratings(star_ratings(), star_attack(star_ratings()))
  expect_warning(x <- as_sparse(p, zeros = "explicit"), class = "cfpoison_warning_zeros")
  expect_identical(length(x@x), length(p$rating))
  expect_identical(sum(x@x == 0), sum(p$rating == 0))
  back <- as_ratings(x, users = as.character(p$user_ids))
  expect_identical(back$user, p$user)
  expect_identical(back$item, p$item)
  expect_identical(back$rating, p$rating)
  expect_identical(rownames(x)[p$is_fake], as.character(p$user_ids[p$is_fake]))
})

test_that("as_sparse(zeros = \"shift\") adds the documented constant and leaves no zero", {
  skip_if_not_installed("Matrix")
  r <- star_ratings()
  x <- as_sparse(r, zeros = "shift")
  expect_identical(attr(x, "shift"), 3) # 1 - scale[1]: [-2, 2] back to 1..5 stars
  expect_identical(range(x@x), c(1, 5))
  back <- as_ratings(x)
  expect_identical(back$rating - 3, r$rating)
  expect_identical(attr(as_sparse(r, zeros = "shift", shift = 10), "shift"), 10)
  # Without a scale, the smallest rating becomes 1.
  unscaled <- as_ratings(data.frame(user = 1:3, item = 1, rating = c(-0.5, 0, 2)))
  expect_identical(as_sparse(unscaled, zeros = "shift")@x, c(1, 1.5, 3.5))
  expect_cfp_error(as_sparse(r, zeros = "shift", shift = 1), "zeros", c("shift", "to 0"))
  expect_cfp_error(as_sparse(r, shift = 3), "value", "zeros = \"shift\"")
  expect_cfp_error(as_sparse(r, zeros = "shift", shift = NA), "type", "shift")
  expect_cfp_error(as_sparse(r, zeros = "drop"), "value", "zeros")
  expect_cfp_error(as_sparse(r, class = "dgTMatrix"), "value", "class")
  expect_cfp_error(as_sparse(as.data.frame(r)), "type", "ratings")
})

test_that("as_sparse(\"Incomplete\") is softImpute's own Incomplete, and softImpute fits it alike", {
  skip_if_not_installed("softImpute")
  p <- poisoned_ratings(star_ratings(), star_attack(star_ratings()))
  x <- expect_silent(as_sparse(p, "Incomplete", zeros = "explicit"))
  expect_s4_class(x, "Incomplete")
  hand <- softImpute::Incomplete(p$user, p$item, p$rating)
  expect_identical(x@i, hand@i)
  expect_identical(x@p, hand@p)
  expect_identical(x@x, hand@x)
  expect_identical(x@Dim, hand@Dim)
  set.seed(1)
  fit <- softImpute::softImpute(x, rank.max = 3, lambda = 2, type = "als")
  set.seed(1)
  fit_hand <- softImpute::softImpute(hand, rank.max = 3, lambda = 2, type = "als")
  expect_identical(fit$u, fit_hand$u)
  expect_identical(fit$d, fit_hand$d)
  expect_identical(fit$v, fit_hand$v)
  # Items nobody rated keep their columns, which Incomplete(i, j, x) cannot know of.
  wide <- as_ratings(data.frame(user = 1:2, item = 1, rating = c(0, 1)), items = 1:4)
  expect_identical(dim(as_sparse(wide, "Incomplete", zeros = "explicit")), c(2L, 4L))
})

test_that("fit_cf(seed = ) gives the same fit for the same seed and leaves the RNG alone", {
  r <- small_ratings()
  learner <- learner_als(rank = 3, lambda_u = 1)
  set.seed(42)
  before <- .Random.seed
  a <- fit_cf(r, learner, seed = 1)
  expect_identical(.Random.seed, before)
  b <- fit_cf(r, learner, seed = 1)
  expect_identical(a$u, b$u)
  expect_identical(a$v, b$v)
  expect_identical(a$objective, b$objective)
  expect_false(isTRUE(all.equal(a$v, fit_cf(r, learner, seed = 2)$v)))
  # Unseeded fits draw from the caller's stream.
  expect_false(identical(fit_cf(r, learner)$v, fit_cf(r, learner)$v))

  bagged <- learner_bagged(learner, n_bags = 10, seed = 1)
  expect_identical(fit_cf(r, bagged, seed = 1)$v, fit_cf(r, bagged, seed = 1)$v)
  expect_false(isTRUE(all.equal(fit_cf(r, bagged, seed = 1)$v, fit_cf(r, bagged, seed = 2)$v)))
  expect_cfp_error(fit_cf(r, learner, seed = -1), "value", "seed")
  expect_cfp_error(fit_cf(r, learner, seed = "a"), "type", "seed")
})
