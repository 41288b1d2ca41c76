# The baseline attacks against their definitions: the classic shilling
# profiles (Mobasher, Burke, Bhaumik and Williams 2005, 2007; ?poison_random) and the
# paper's uniform attack (Section 5).

# Ratings on [-2, 2] with a popularity gradient, so that bandwagon attacks have
# clear most- and least-rated items.
shilling_data <- function() simulate_ratings(150, 60, rank = 3, density = 0.15, seed = 2)

# The fake block as a data frame of integer user, item index and rating, with
# a `target` flag.
fake_cells <- function(attack, targets) {
  fake <- attack$fake
  data.frame(
    user = fake$user,
    item = fake$item,
    rating = fake$rating,
    target = fake$item_ids[fake$item] %in% targets
  )
}

# Each fake user rates each target exactly once, and no item twice: fillers are
# drawn without replacement and never include a target.
expect_profiles <- function(attack, targets) {
  cells <- fake_cells(attack, targets)
  n_fake <- length(attack$fake$user_ids)
  expect_identical(anyDuplicated(cells[c("user", "item")]), 0L)
  expect_identical(tabulate(cells$user[cells$target], n_fake), rep(length(targets), n_fake))
  per_user <- tabulate(cells$user, n_fake)
  expect_true(all(per_user == attack$budget$items_per_user))
  invisible(cells)
}

expect_whole_within <- function(ratings, bound) {
  expect_true(all(ratings == round(ratings)))
  expect_true(all(ratings >= -bound & ratings <= bound))
}

test_that("random attack: targets at r_max (push) or r_min (nuke), whole filler ratings in range", {
  r <- shilling_data()
  for (bound in c(2, 3)) {
    budget <- attack_budget(alpha = 0.2, items_per_user = 12, max_rating = bound)
    push <- poison_random(r, budget, targets = 9, seed = 1)
    expect_identical(push$method, "random")
    cells <- expect_profiles(push, 9)
    expect_true(all(cells$rating[cells$target] == bound))
    expect_whole_within(cells$rating[!cells$target], bound)

    nuke <- poison_random(r, budget, targets = c(9, 30), direction = "nuke", seed = 1)
    cells <- expect_profiles(nuke, c(9, 30))
    expect_true(all(cells$rating[cells$target] == -bound))
    expect_whole_within(cells$rating[!cells$target], bound)
  }
  expect_identical(poison_random(r, budget, targets = 9, seed = 1)$settings$direction, "push")
  expect_error(poison_random(r, budget, targets = 9, direction = "sideways"), "direction")
})

test_that("random and bandwagon fillers follow the global rating distribution", {
  # Every real rating is near 1: N(global mean, global sd) fillers are mostly 1.
  df <- expand.grid(user = 1:60, item = 1:20)
  df$rating <- 1 + ((7 * df$user + 13 * df$item) %% 9 - 4) / 20
  r <- as_ratings(df)
  budget <- attack_budget(alpha = 1, items_per_user = 8)
  for (attack in list(
    poison_random(r, budget, targets = 1, seed = 1),
    poison_bandwagon(r, budget, targets = 1, n_selected = 2, seed = 1)
  )) {
    cells <- fake_cells(attack, 1)
    filler <- cells$rating[!cells$target & cells$rating != 2]
    expect_gt(mean(filler == 1), 0.9)
  }
})

test_that("average attack: filler ratings follow each item's mean", {
  # Items whose means differ strongly (from -1.6 to 1.6), with a spread of
  # +-0.5 around them; half the entries observed.
  n_items <- 30
  means <- seq(-1.6, 1.6, length.out = n_items)
  df <- expand.grid(user = 1:100, item = seq_len(n_items))
  df <- df[(df$user + 3 * df$item) %% 2 == 0, ]
  spread <- ((7 * df$user + 13 * df$item) %% 11 - 5) / 10
  df$rating <- pmin(pmax(means[df$item] + spread, -2), 2)
  r <- as_ratings(df)
  budget <- attack_budget(alpha = 1, items_per_user = 10)
  attack <- poison_average(r, budget, targets = 15, seed = 1)
  expect_identical(attack$method, "average")
  cells <- expect_profiles(attack, 15)
  expect_true(all(cells$rating[cells$target] == 2))
  filler <- cells[!cells$target, ]
  expect_whole_within(filler$rating, 2)
  fake_mean <- tapply(filler$rating, filler$item, mean)
  real_mean <- tapply(r$rating, r$item, mean)[as.integer(names(fake_mean))]
  expect_gt(stats::cor(fake_mean, real_mean), 0.9)
  expect_lt(max(abs(fake_mean - real_mean)), 0.6)

  nuke <- poison_average(r, budget, targets = 15, direction = "nuke", seed = 1)
  cells <- expect_profiles(nuke, 15)
  expect_true(all(cells$rating[cells$target] == -2))
})

test_that("average attack: item means stay on their items when an item has no ratings", {
  # Item "c" has no ratings; every other item has one constant rating (sd 0),
  # so each filler rating must equal its item's rating exactly.
  constant <- c(a = -2, b = 1, d = 2, e = -1, f = 0, g = 2, h = -2)
  df <- expand.grid(user = 1:20, item = names(constant), stringsAsFactors = FALSE)
  df$rating <- unname(constant[df$item])
  r <- as_ratings(df, items = c("a", "b", "c", "d", "e", "f", "g", "h"))
  expect_identical(tabulate(r$item, 8)[3], 0L)
  attack <- poison_average(r, attack_budget(alpha = 1, items_per_user = 8), targets = "a", direction = "nuke", seed = 1)
  cells <- expect_profiles(attack, "a")
  filler <- cells[!cells$target, ]
  item <- r$item_ids[filler$item]
  rated <- item != "c"
  expect_identical(filler$rating[rated], unname(constant[item[rated]]))
  # The unrated item gets N(global mean, global sd), rounded and clipped.
  expect_whole_within(filler$rating[!rated], 2)
})

test_that("bandwagon push rates the most-rated items r_max", {
  r <- shilling_data()
  count <- tabulate(r$item, length(r$item_ids))
  budget <- attack_budget(alpha = 0.2, items_per_user = 12)
  target <- r$item_ids[which.min(count)]
  attack <- poison_bandwagon(r, budget, targets = target, n_selected = 4, seed = 1)
  expect_identical(attack$method, "bandwagon")
  cells <- expect_profiles(attack, target)
  n_fake <- length(attack$fake$user_ids)
  in_all <- as.integer(names(which(table(cells$item[!cells$target]) == n_fake)))
  expect_length(in_all, 4)
  # The selected items are the most rated ones (ties broken either way).
  others <- setdiff(seq_along(count), c(in_all, match(target, r$item_ids)))
  expect_gte(min(count[in_all]), max(count[others]))
  selected <- cells$item %in% in_all
  expect_true(all(cells$rating[selected | cells$target] == 2))
  expect_whole_within(cells$rating[!selected & !cells$target], 2)
})

test_that("reverse bandwagon (nuke) rates the least-rated items r_min", {
  r <- shilling_data()
  count <- tabulate(r$item, length(r$item_ids))
  budget <- attack_budget(alpha = 0.2, items_per_user = 12)
  # The target is among the least rated: it is skipped, not selected twice.
  target <- r$item_ids[which.min(count)]
  attack <- poison_bandwagon(r, budget, targets = target, direction = "nuke", n_selected = 4, seed = 1)
  cells <- expect_profiles(attack, target)
  n_fake <- length(attack$fake$user_ids)
  in_all <- as.integer(names(which(table(cells$item[!cells$target]) == n_fake)))
  expect_length(in_all, 4)
  others <- setdiff(seq_along(count), c(in_all, match(target, r$item_ids)))
  expect_lte(max(count[in_all]), min(count[others]))
  selected <- cells$item %in% in_all
  expect_true(all(cells$rating[selected | cells$target] == -2))
  expect_whole_within(cells$rating[!selected & !cells$target], 2)
})

test_that("bandwagon checks n_selected against the budget", {
  r <- shilling_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 5)
  expect_error(poison_bandwagon(r, budget, targets = 1, n_selected = 5), class = "cfpoison_error_value")
  expect_error(poison_bandwagon(r, budget, targets = 1, n_selected = -1), class = "cfpoison_error_value")
  expect_error(poison_bandwagon(r, budget, targets = 1, n_selected = 1.5), class = "cfpoison_error_type")
  none <- poison_bandwagon(r, budget, targets = 1, n_selected = 0, seed = 1)
  expect_profiles(none, 1)
})

test_that("segment attack: segment items and target r_max, filler r_min", {
  r <- shilling_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 10)
  segment <- c(4, 17, 33)
  attack <- poison_segment(r, budget, targets = 50, segment = segment, seed = 1)
  expect_identical(attack$method, "segment")
  cells <- expect_profiles(attack, 50)
  n_fake <- length(attack$fake$user_ids)
  item <- r$item_ids[cells$item]
  in_segment <- item %in% segment
  expect_identical(sum(in_segment), 3L * n_fake)
  expect_true(all(cells$rating[in_segment | cells$target] == 2))
  expect_true(all(cells$rating[!in_segment & !cells$target] == -2))
  # A target inside its own segment is rated once.
  inside <- poison_segment(r, budget, targets = 4, segment = segment, seed = 1)
  cells <- expect_profiles(inside, 4)
  expect_true(all(cells$rating[r$item_ids[cells$item] %in% segment] == 2))
  expect_error(
    poison_segment(r, attack_budget(alpha = 0.2, items_per_user = 3), targets = 50, segment = segment),
    class = "cfpoison_error_value"
  )
})

test_that("love/hate: nuke rates fillers r_max and the target r_min, push the reverse", {
  r <- shilling_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 10, max_rating = 1.5)
  nuke <- poison_love_hate(r, budget, targets = c(5, 6), seed = 1)
  expect_identical(nuke$method, "love_hate")
  expect_identical(nuke$settings$direction, "nuke")
  cells <- expect_profiles(nuke, c(5, 6))
  expect_true(all(cells$rating[cells$target] == -1.5))
  expect_true(all(cells$rating[!cells$target] == 1.5))
  push <- poison_love_hate(r, budget, targets = 5, direction = "push", seed = 1)
  cells <- expect_profiles(push, 5)
  expect_true(all(cells$rating[cells$target] == 1.5))
  expect_true(all(cells$rating[!cells$target] == -1.5))
})

test_that("filler items are drawn without replacement even when they use up the items", {
  r <- shilling_data()
  n <- length(r$item_ids)
  budget <- attack_budget(alpha = 0.1, items_per_user = n)
  for (attack in list(
    poison_random(r, budget, targets = 1, seed = 1),
    poison_average(r, budget, targets = 1, seed = 1),
    poison_bandwagon(r, budget, targets = 1, seed = 1),
    poison_segment(r, budget, targets = 1, segment = 2:4, seed = 1),
    poison_love_hate(r, budget, targets = 1, seed = 1)
  )) {
    cells <- expect_profiles(attack, 1)
    # Every fake user rates every item exactly once.
    expect_true(all(table(cells$item) == length(attack$fake$user_ids)))
  }
})

test_that("shilling targets must be distinct, existing items", {
  r <- shilling_data()
  budget <- attack_budget(alpha = 0.2, items_per_user = 10)
  for (attack in list(poison_random, poison_average, poison_bandwagon, poison_love_hate)) {
    expect_error(attack(r, budget, targets = c(3, 3)), class = "cfpoison_error_value")
    expect_error(attack(r, budget, targets = integer(0)), class = "cfpoison_error_value")
    expect_error(attack(r, budget, targets = NULL), class = "cfpoison_error_value")
  }
  expect_error(poison_segment(r, budget, targets = c(3, 3), segment = 4), class = "cfpoison_error_value")
  # Targets filling the whole budget leave no room for fillers: still a valid profile.
  all_targets <- poison_random(r, attack_budget(alpha = 0.2, items_per_user = 3), targets = 1:3, seed = 1)
  expect_profiles(all_targets, 1:3)
  expect_error(
    poison_random(r, attack_budget(alpha = 0.2, items_per_user = 2), targets = 1:3),
    class = "cfpoison_error_value"
  )
})

test_that("uniform attack: B items per user, ratings in [-Lambda, Lambda], uniform items", {
  r <- simulate_ratings(200, 50, rank = 2, density = 0.1, seed = 4)
  budget <- attack_budget(alpha = 5, items_per_user = 10, max_rating = 2)
  attack <- poison_uniform(r, budget, seed = 1)
  expect_identical(attack$method, "uniform")
  expect_null(attack$trace)
  fake <- attack$fake
  n_fake <- length(fake$user_ids)
  expect_identical(n_fake, 1000L)
  expect_true(all(tabulate(fake$user, n_fake) == 10L))
  expect_identical(anyDuplicated(data.frame(fake$user, fake$item)), 0L)
  expect_true(all(fake$rating >= -2 & fake$rating <= 2))
  # Continuous ratings (not rounded) spread over the whole range.
  expect_gt(mean(fake$rating != round(fake$rating)), 0.99)
  expect_lt(min(fake$rating), -1.9)
  expect_gt(max(fake$rating), 1.9)
  expect_gt(suppressWarnings(stats::ks.test(fake$rating, "punif", -2, 2))$p.value, 0.001)
  # Items drawn uniformly, not by popularity (simulate_ratings() is Zipf).
  frequency <- tabulate(fake$item, length(fake$item_ids))
  expect_gt(stats::chisq.test(frequency)$p.value, 0.001)
  expect_lt(abs(stats::cor(frequency, tabulate(r$item, length(r$item_ids)))), 0.3)

  other <- poison_uniform(r, attack_budget(alpha = 0.5, items_per_user = 4, max_rating = 0.25), seed = 2)
  expect_true(all(abs(other$fake$rating) <= 0.25))
  expect_true(all(tabulate(other$fake$user, 100) == 4L))
})
