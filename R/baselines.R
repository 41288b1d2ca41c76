# Baseline attacks: the paper's uniform attack and the classic shilling attacks
# (Mobasher, Burke, Bhaumik and Williams 2005, 2007; "Robust Collaborative
# Recommendation" in the Recommender Systems Handbook).

#' Uniform attack (the paper's baseline)
#'
#' Each fake user rates B items drawn uniformly at random, with ratings drawn
#' uniformly from \[-Lambda, Lambda\] (Section 5: "both ratings and rated items
#' are sampled uniformly at random").
#'
#' @inheritParams poison_pga
#' @return A `cf_attack` object (see [poison_pga()]) with no trace.
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.2, seed = 1)
#' poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#' @export
poison_uniform <- function(ratings, budget, seed = NULL) {
  check_ratings(ratings)
  check_budget(budget, ratings)
  n_fake <- n_fake_users(budget, length(ratings$user_ids))
  fake <- with_seed(seed, {
    support <- draw_support(n_fake, length(ratings$item_ids), budget$items_per_user, integer(0))
    fake_block(support, stats::runif(length(support$item), -budget$max_rating, budget$max_rating), ratings)
  })
  new_cf_attack("uniform", fake, ratings, budget = budget, seed = seed)
}

#' Classic shilling attacks
#'
#' Profiles of the shilling-attack literature. Each fake user rates the target
#' items, a set of selected items I_S and filler items I_F (drawn without
#' replacement), B items in all; r_max = Lambda and r_min = -Lambda are the
#' budget's bounds. Filler ratings drawn from a normal distribution are rounded
#' to whole rating units and clipped to \[r_min, r_max\].
#'
#' | attack | selected items (rating) | filler rating | target |
#' |---|---|---|---|
#' | random | none | N(global mean, global sd) | r_max (push) / r_min (nuke) |
#' | average | none | N(item mean, item sd) | r_max / r_min |
#' | bandwagon (push) | `n_selected` most-rated items (r_max) | N(global mean, global sd) | r_max |
#' | reverse bandwagon (nuke) | `n_selected` least-rated items (r_min) | N(global mean, global sd) | r_min |
#' | segment (push) | `segment` items (r_max) | r_min | r_max |
#' | love/hate | none | r_max (nuke) / r_min (push) | r_min (nuke) / r_max (push) |
#'
#' @inheritParams poison_pga
#' @param targets Target item ids.
#' @param direction `"push"` (promote the targets) or `"nuke"` (demote them).
#' @param n_selected Number of selected items of the bandwagon attack.
#' @param segment Item ids of the target's segment (segment attack).
#' @return A `cf_attack` object (see [poison_pga()]) with no trace.
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.2, seed = 1)
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' poison_average(r, budget, targets = 7, seed = 1)
#' poison_bandwagon(r, budget, targets = 7, direction = "nuke", seed = 1)
#' @name shilling
NULL

#' @rdname shilling
#' @export
poison_random <- function(ratings, budget, targets, direction = c("push", "nuke"), seed = NULL) {
  direction <- cfp_arg_match(direction)
  shilling_attack(ratings, budget, targets, direction, "random", seed, filler = global_filler(ratings))
}

#' @rdname shilling
#' @export
poison_average <- function(ratings, budget, targets, direction = c("push", "nuke"), seed = NULL) {
  direction <- cfp_arg_match(direction)
  check_ratings(ratings)
  n <- length(ratings$item_ids)
  count <- tabulate(ratings$item, n)
  # Items nobody rated (or rated once) take the global mean (and sd).
  item_mean <- ifelse(count > 0, item_sums(ratings, ratings$rating) / pmax(count, 1), mean(ratings$rating))
  item_sd <- sqrt(pmax(item_sums(ratings, ratings$rating^2) / pmax(count, 1) - item_mean^2, 0))
  item_sd[count < 2] <- stats::sd(ratings$rating)
  filler <- function(items) stats::rnorm(length(items), item_mean[items], item_sd[items])
  shilling_attack(ratings, budget, targets, direction, "average", seed, filler = filler)
}

#' @rdname shilling
#' @export
poison_bandwagon <- function(ratings, budget, targets, direction = c("push", "nuke"), n_selected = 5, seed = NULL) {
  direction <- cfp_arg_match(direction)
  check_ratings(ratings)
  n_selected <- check_count(n_selected, min = 0)
  count <- tabulate(ratings$item, length(ratings$item_ids))
  # Push: the most-rated items; nuke (reverse bandwagon): the least-rated ones.
  by_popularity <- order(count, decreasing = direction == "push")
  shilling_attack(ratings, budget, targets, direction, "bandwagon", seed,
    filler = global_filler(ratings), selected = by_popularity, n_selected = n_selected
  )
}

#' @rdname shilling
#' @export
poison_segment <- function(ratings, budget, targets, segment, seed = NULL) {
  check_ratings(ratings)
  check_budget(budget, ratings)
  check_required(segment)
  segment_index <- target_indices(segment, ratings)
  if (length(segment_index) == 0L || anyDuplicated(segment_index)) {
    cfp_abort("{.arg segment} must name one or more distinct items.", "value")
  }
  bound <- budget$max_rating
  shilling_attack(ratings, budget, targets, "push", "segment", seed,
    filler = function(items) rep(-bound, length(items)), selected = segment_index,
    n_selected = length(segment_index)
  )
}

#' @rdname shilling
#' @export
poison_love_hate <- function(ratings, budget, targets, direction = c("nuke", "push"), seed = NULL) {
  direction <- cfp_arg_match(direction)
  check_ratings(ratings)
  check_budget(budget, ratings)
  filler_rating <- if (direction == "nuke") budget$max_rating else -budget$max_rating
  shilling_attack(ratings, budget, targets, direction, "love_hate", seed,
    filler = function(items) rep(filler_rating, length(items))
  )
}

global_filler <- function(ratings) {
  mean <- mean(ratings$rating)
  sd <- stats::sd(ratings$rating)
  if (!is.finite(sd)) sd <- 0
  function(items) stats::rnorm(length(items), mean, sd)
}

# One profile per fake user: targets, then `n_selected` of `selected` (in
# order, skipping targets), then filler items without replacement up to B.
shilling_attack <- function(ratings, budget, targets, direction, method, seed, filler,
                            selected = integer(0), n_selected = 0L, call = rlang::caller_env()) {
  check_ratings(ratings, call = call)
  check_budget(budget, ratings, call = call)
  check_required(targets, call = call)
  target_index <- target_indices(targets, ratings, call = call)
  if (length(target_index) == 0L || anyDuplicated(target_index)) {
    cfp_abort("{.arg targets} must name one or more distinct items.", "value", call = call)
  }
  bound <- budget$max_rating
  extreme <- if (direction == "push") bound else -bound
  selected <- utils::head(setdiff(selected, target_index), n_selected)
  n_filler <- budget$items_per_user - length(target_index) - length(selected)
  if (n_filler < 0) {
    cfp_abort(
      c("Targets and selected items ({length(target_index) + length(selected)}) exceed the budget of {budget$items_per_user} items.",
        i = "Raise {.code attack_budget(items_per_user = )} or select fewer items."
      ),
      "value",
      call = call
    )
  }
  n_fake <- n_fake_users(budget, length(ratings$user_ids), call = call)
  pool <- setdiff(seq_len(length(ratings$item_ids)), c(target_index, selected))
  n_filler <- min(n_filler, length(pool))
  fake <- with_seed(seed, {
    profiles <- lapply(seq_len(n_fake), function(u) {
      filler_items <- pool[sample.int(length(pool), n_filler)]
      list(
        item = c(target_index, selected, filler_items),
        rating = c(
          rep(extreme, length(target_index)), rep(extreme, length(selected)),
          pmin(pmax(round(filler(filler_items)), -bound), bound)
        )
      )
    })
    cells <- list(user = rep(seq_len(n_fake), lengths(lapply(profiles, `[[`, "item"))), item = unlist(lapply(profiles, `[[`, "item")))
    fake_block(cells, unlist(lapply(profiles, `[[`, "rating")), ratings)
  })
  new_cf_attack(method, fake, ratings,
    budget = budget, seed = seed, settings = list(direction = direction, targets = targets)
  )
}
