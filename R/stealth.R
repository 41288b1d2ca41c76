# The stealth penalty of poison_pga(stealth = ): the profile statistics a
# shilling detector reads, computed for the normal users as the attacker sees
# them, and laid out for the core (src/attacks.cpp, stealth_spec(); the
# penalty itself is inst/include/cfpoison/stealth.hpp).

# Each user's mean log-popularity of the items it rated, as a z-score against
# a profile of the same length whose items are drawn as ratings are: log(1 +
# c_j), for c_j the item's number of ratings, has mean E and standard
# deviation S over all ratings, so such a profile of N items has mean E and
# standard deviation S / sqrt(N). Users without ratings get 0. `data` is a
# joint layout (joint_ratings()).
popularity_z <- function(data) {
  n_users <- length(data$user_ids)
  log_pop <- log1p(tabulate(data$item, data$n_items))[data$item]
  centre <- mean(log_pop)
  spread <- sqrt(max(mean((log_pop - centre)^2), 1e-12))
  length <- tabulate(data$user, n_users)
  mean_pop <- sums_by(data$user, log_pop, n_users) / pmax(length, 1L)
  ifelse(length > 0L, (mean_pop - centre) / (spread / sqrt(pmax(length, 1L))), 0)
}

# The four statistics the stealth penalty holds fake users to, for every user
# of `data`: RDMA, WDMA, the mean squared deviation from the item means over
# the whole profile, and |popularity_z()|.
profile_statistics <- function(data) {
  n_users <- length(data$user_ids)
  count <- tabulate(data$item, data$n_items)
  item_mean <- sums_by(data$item, data$rating, data$n_items) / pmax(count, 1L)
  deviation <- data$rating - item_mean[data$item]
  length <- pmax(tabulate(data$user, n_users), 1L)
  per_user <- function(x) sums_by(data$user, x, n_users) / length
  list(
    rdma = per_user(abs(deviation) / count[data$item]),
    wdma = per_user(abs(deviation) / count[data$item]^2),
    deviation = per_user(deviation^2),
    popularity = abs(popularity_z(data))
  )
}

# The penalty as the core reads it, at weight `weight` (the stealth level
# times the utility's scale): the normal users' rating count and sum per item
# and, for each statistic, where its cost starts (`threshold`) and its unit
# (`spread`, the normal users' interquartile range). The stealth penalty
# starts at the normal users' medians and adds the mean reading's t-test; a
# filter's (`threshold`, one named statistic: see filter_route()) only holds
# that statistic below its cut-off.
stealth_spec <- function(ratings, weight, threshold = NULL) {
  data <- joint_ratings(ratings)
  statistics <- profile_statistics(data)
  spread <- vapply(statistics, function(x) {
    iqr <- stats::IQR(x)
    if (iqr > 0) iqr else max(stats::sd(x), 1e-12)
  }, numeric(1))
  thresholds <- vapply(statistics, stats::median, numeric(1))
  if (!is.null(threshold)) {
    thresholds[] <- Inf
    thresholds[names(threshold)] <- threshold
  }
  list(
    weight = weight,
    item_count = as.numeric(tabulate(data$item, data$n_items)),
    item_sum = sums_by(data$item, data$rating, data$n_items),
    threshold = thresholds,
    spread = spread,
    ttest = is.null(threshold)
  )
}

# The stealth penalty of an attack from `starts` (named fake blocks), with the
# starts' utilities less it, from one refit of each (`evaluate(blocks, spec)`
# returns .attack_screen()'s list, one element per block). Its weight is
# `stealth` times the utility's scale, the largest |utility| of the starts,
# so that the level is unitless: at 1, every fake user one spread beyond the
# normal users' median on one statistic costs as much as the best start's
# whole utility. The penalty is linear in its weight, so one refit at weight
# 1 gives both parts. Without stealth: no spec (NULL), the plain utilities
# and whether each start's refit `converged` (stopped at its tolerance; with
# a penalty the utilities are rescaled, and none counts as converged).
# Through a filter (`filter`, from filter_route()) the penalty holds the
# filter's statistic below its cut-off (weight 100) unless the stealth
# penalty, whose thresholds are lower, is asked for.
stealth_penalty <- function(stealth, ratings, starts, evaluate, filter = NULL) {
  if (stealth == 0 && is.null(filter)) {
    at <- evaluate(starts, NULL)
    return(list(
      spec = NULL, utility = vapply(at, `[[`, numeric(1), "utility"),
      converged = vapply(at, `[[`, logical(1), "converged")
    ))
  }
  # A filter alone: its cut-off, at a weight that makes crossing it a loss.
  level <- if (stealth > 0) stealth else 100
  unit <- stealth_spec(ratings, weight = 1, threshold = if (stealth == 0) filter$threshold)
  at <- evaluate(starts, unit)
  cost <- vapply(at, `[[`, numeric(1), "stealth_penalty")
  plain <- vapply(at, `[[`, numeric(1), "utility") + cost
  scale <- max(abs(plain))
  list(
    spec = utils::modifyList(unit, list(weight = level * scale)), utility = plain - level * scale * cost,
    converged = rep(FALSE, length(starts)), scale = scale
  )
}
