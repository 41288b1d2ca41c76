# Structured fake blocks: hand-built attacks from the clean model, with no
# optimization. They are the support search's starts (poison_pga()) and the
# heuristics any optimized attack must beat.

#' Structured fake-user blocks
#'
#' Builds fake users by hand from the clean model, without optimization. Such
#' blocks are strong: which items fake users rate matters more than the
#' values, and fake users who act together move the items they share. They
#' are the starts of [poison_pga()]'s support search and the heuristics an
#' optimized attack must beat (`inst/bench/strength.R`).
#'
#' * `"rare_items"` (availability): fake users in groups of `group_size`; each
#'   group rates its own B - 1 of the least-rated items (ties broken at
#'   random), and each fake user one anchor (below); every rating is
#'   \eqn{\Lambda} times the sign of the clean model's average predicted
#'   rating of the item. An item rated by few real users has almost every real
#'   user's entry unseen, and its factor is set mostly by the fake ratings, so
#'   it moves the paper's RMSE (Eq. 7, footnote 2) most. A shared item's
#'   factor moves the predictions by \eqn{\Delta v_j^\top U^\top U \Delta
#'   v_j}, most along the top eigenvector \eqn{e_1} of the real users'
#'   \eqn{U^\top U}; so the anchor is drawn among the items whose clean factor
#'   lies closest to \eqn{e_1} (largest \eqn{|v_j^\top e_1|\cos^4}, five
#'   ratings or more) and rated \eqn{\Lambda\,\mathrm{sign}(v_j^\top
#'   e_1)}: it turns the fake users' factor, and with it the factors of the
#'   items they share, along \eqn{e_1}. (On MovieLens this is 3% stronger
#'   than anchors among the items the real users agree on.)
#'
#'   The learner's shrinkage bounds this design. A group of g fake users
#'   sharing S items at \eqn{\pm\Lambda} is a rank-one block with singular
#'   value \eqn{\sigma = \Lambda\sqrt{gS}}, of which the fit keeps
#'   \eqn{\sigma - \tau} (nothing when \eqn{\sigma \le \tau}: fake users
#'   alone are invisible), \eqn{\tau = 2\sqrt{\lambda_U\lambda_V}} for
#'   Eq. 4 and \eqn{\tau = \lambda} for Eq. 5. Over the groups this peaks at
#'   \eqn{g = (2\tau/\Lambda)^2/S} (the default `group_size`), at
#'   \eqn{m'\Lambda^2 S/(4\tau)} in the shared items' squared factors, which
#'   bounds the RMSE shift by about \eqn{\sqrt{\sigma_1(U^\top U)\,
#'   m'\Lambda^2 S/(4\tau)/|\Omega^C|}}: 0.069 on `movielens_small()` with
#'   `learner_als(rank = 10, lambda_u = 5)` at \eqn{\alpha = 3\%}, where
#'   this block reaches 0.060.
#'
#'   On the nuclear norm the block joins the clean fit's top component, of
#'   singular value \eqn{d_1}: the rank-one matrix that holds both has the
#'   nuclear norm of the two apart (the real users' entries of the shared
#'   items are unobserved), and the anchors tip the tie its way. Its
#'   cross block, the real users' predictions of the shared items, then has
#'   squared norm about \eqn{d_1(\sigma - \tau)}: on `movielens_small()`
#'   with `learner_nuclear(lambda = 28.5)` at \eqn{\alpha = 3\%} (one group of
#'   20) 5,470 against the 5,080 measured, and 1,940 against 1,970 for a
#'   group of 12. No block of m' fake users keeps more than
#'   \eqn{\Lambda\sqrt{m'B} - \tau}, so by this account none moves that
#'   RMSE more than 7% beyond this block (0.031 against 0.029), and the
#'   support search ([poison_pga()]) adds nothing measurable to it.
#' * `"popular_items"` (availability): groups who share B of the most-rated
#'   items, rated \eqn{\Lambda} against the sign of their clean average
#'   prediction.
#' * `"anchored"` (integrity): each fake user rates the targets at
#'   \eqn{\Lambda\,\mathrm{sign}(\mu_2 w_j)} and fills its budget with
#'   anchors, each rated \eqn{\Lambda} times the sign of its clean average
#'   prediction. Anchors are drawn, for each fake user, among the
#'   \eqn{10(B - |J_0|)} items with the largest clean average prediction in
#'   size that at least five real users rated: items the real users agree on,
#'   whose factors the fake users barely move, since each is drawn by few of
#'   them (on MovieLens this pool nukes a target by -0.80, the 48 most-rated
#'   items by -0.52). The anchors tie the fake user's latent factor to the
#'   real users' average taste,
#'   so that the target's rating pulls the target's factor toward it (push) or
#'   away from it (nuke). Without them, a fake user's factor takes whatever
#'   sign its ratings give it: flipping all of a user's ratings flips its
#'   factor, so a lone \eqn{-\Lambda} on the target raises the target as
#'   surely as \eqn{+\Lambda} does.
#'
#' @inheritParams poison_pga
#' @param learner The attacked learner: `learner_als()`, `learner_nuclear()`
#'   or [learner_bagged()] (whose clean model the blocks are read from); a
#'   [learner_filtered()] is refused (only [poison_pga()] attacks through it).
#' @param design `"rare_items"`, `"popular_items"` or `"anchored"` (see Details).
#' @param group_size Fake users who share the same items (`"rare_items"`,
#'   `"popular_items"`; refused for `"anchored"`). `NULL` (the default)
#'   takes, for `"rare_items"`, the size at which the learner keeps the most
#'   of the shared items' factors,
#'   \eqn{(2\tau/\Lambda)^2/(B - 1)} rounded and at most the number of fake
#'   users (4 for `learner_als(lambda_u = 5)` with B = 25; every fake user
#'   for `learner_nuclear(lambda = 28.5)`), and 5 for `"popular_items"`.
#' @return A `cf_attack` object (see [poison_pga()]) with method
#'   `"structured"`, the design in `settings$design`, and no trace.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' rare <- poison_structured(r, learner, utility_availability(), budget, "rare_items", seed = 1)
#' evaluate_attack(r, rare)
#' nuke <- poison_structured(r, learner, utility_integrity(targets = 7, weights = -2), budget,
#'   "anchored", seed = 1
#' )
#' evaluate_attack(r, nuke)[c("target_rating_clean", "target_rating_poisoned")]
#' @export
poison_structured <- function(ratings, learner, utility, budget, design = c("rare_items", "popular_items", "anchored"),
                              group_size = NULL, clean = NULL, seed = NULL,
                              threads = getOption("cfpoison.threads", 1L)) {
  check_differentiable(learner)
  check_not_filtered(learner)
  design <- cfp_arg_match(design)
  spec <- attack_spec(ratings, learner, utility, budget, threads)
  refuse_unused(c(group_size = if (!is.null(group_size) && design == "anchored") {
    "the {.val anchored} design draws each fake user's fillers alone"
  }))
  group_size <- if (is.null(group_size) && design == "rare_items") {
    # The search's middle start (structured_starts()).
    group_sizes(learner, budget, spec$n_fake)
  } else {
    check_count(group_size %||% 5L, arg = "group_size", min = 1)
  }
  if (design == "anchored" && length(spec$targets) == 0L) {
    cfp_abort(
      c("The {.val anchored} design needs target items: {.arg utility} has none.",
        i = "Use {.fn utility_integrity} or {.fn utility_hybrid}, or a {.val rare_items} block for availability."
      ),
      "value"
    )
  }
  if (length(spec$targets) >= budget$items_per_user && design == "anchored") {
    cfp_abort("The {.val anchored} design needs room for fillers: raise {.code attack_budget(items_per_user = )}.", "value")
  }
  fake <- with_seed(seed, {
    clean <- clean_fit(clean, learner, ratings, spec$threads)
    structured_block(design, ratings, utility, budget, clean, spec$n_fake, group_size)
  })
  new_cf_attack("structured", fake, ratings, utility, budget, learner, clean, NULL, seed,
    settings = list(design = design, group_size = group_size)
  )
}

# The starts of the support search: every structured design that serves the
# utility (availability designs only when mu_1 > 0, the anchored one only
# with targets and mu_2 != 0), named by design and group size.
structured_starts <- function(ratings, learner, utility, budget, clean, n_fake, seed) {
  # Each block is drawn under `seed` alone, so that a start is exactly the
  # block poison_structured() draws with that seed and settings.
  block <- function(...) {
    with_seed(seed, structured_block(..., ratings = ratings, utility = utility, budget = budget, clean = clean,
      n_fake = n_fake
    ))
  }
  starts <- list()
  if (utility$mu[1] > 0) {
    # Group sizes around the learner's best one, and one or two anchors per
    # fake user: which one wins varies with alpha (for ALS with lambda = 5 on
    # MovieLens the sizes are 3, 4, 5 and 8; for the nuclear norm with lambda
    # = 28.5, every fake user in one group).
    for (size in group_sizes(learner, budget, n_fake, c(0.75, 1, 1.25, 2))) {
      for (anchors in 1:2) {
        starts[[rare_start_name(size, anchors)]] <- block("rare_items", group_size = size, anchors = anchors)
      }
    }
    starts$popular_items_5 <- block("popular_items", group_size = min(5L, n_fake))
  }
  if (utility$mu[2] != 0 && length(utility$targets) > 0L && length(utility$targets) < budget$items_per_user) {
    starts$anchored <- block("anchored", group_size = 1L)
    # Anchors among the most-rated items instead: weaker for a nuke, stronger
    # for a push on MovieLens (a fake factor along the real users' average
    # taste also shrinks the target's factor along it, against a push).
    starts$anchored_popular <- block("anchored", group_size = 1L, anchor_pool = "popular")
  }
  starts
}

# A rare_items start's name, and its group size and anchors back from it
# (split_sgld_start() fills its other fake users in that design).
rare_start_name <- function(group_size, anchors) sprintf("rare_items_%d_%d", group_size, anchors)
rare_start_design <- function(name) {
  design <- as.integer(strsplit(sub("^rare_items_", "", name), "_")[[1]])
  list(group_size = design[1], anchors = design[2])
}

# The group size g at which fake users sharing S items rated +-Lambda move
# the shared items' factors most. Such a group is a rank-one block with
# singular value Lambda sqrt(g S); the fit keeps sigma - tau of it, tau =
# 2 sqrt(lambda_u lambda_v) for Eq. 4 (the ridge on both factors) and lambda
# for Eq. 5 (soft-thresholded singular values), so m' fake users in groups of
# g keep m' / g (Lambda sqrt(g S) - tau) in all, largest at g = (2 tau /
# Lambda)^2 / S.
best_group_size <- function(learner, shared, bound) {
  tau <- if (inherits(learner, "cf_learner_nuclear")) learner$lambda else 2 * sqrt(learner$lambda_u * learner$lambda_v)
  (2 * tau / bound)^2 / shared
}

# Whole group sizes of `scale` times the best one for B - 1 shared items (one
# anchor), between 1 and the number of fake users.
group_sizes <- function(learner, budget, n_fake, scale = 1) {
  best <- best_group_size(learner, budget$items_per_user - 1L, budget$max_rating)
  unique(pmin(pmax(round(best * scale), 1L), n_fake))
}

# The factors through which fake ratings move predictions: the items' free
# parameters and the users' factors they multiply. For a biased fit (u = [U,
# b, 1, mu], v = [V, 1, c, 1]) these are [V, c] and [U, 1]; for the others
# the prediction factors.
item_side_factors <- function(fit) {
  factors <- prediction_factors(fit)
  if (!is_biased(fit$learner)) {
    return(factors)
  }
  columns <- biased_columns(fit$rank)
  columns <- c(columns$latent, columns$item_bias)
  list(user = factors$user[, columns, drop = FALSE], item = factors$item[, columns, drop = FALSE])
}

structured_block <- function(design, ratings, utility, budget, clean, n_fake, group_size,
                             anchor_pool = c("agreed", "popular"), anchors = 1L) {
  anchor_pool <- match.arg(anchor_pool)
  n <- length(ratings$item_ids)
  b <- budget$items_per_user
  bound <- budget$max_rating
  factors <- prediction_factors(clean)
  clean_mean <- as.vector(factors$item %*% colMeans(factors$user))
  # Lambda with the sign of the real users' average taste for each item.
  along <- ifelse(clean_mean >= 0, bound, -bound)
  popularity <- tabulate(ratings$item, n)
  # Anchors are drawn among items with five ratings or more, whose factors
  # the fake users' ratings barely move: `size` of the first 10 * size of
  # `pool` (best first) outside `exclude`.
  settled <- which(popularity >= min(5, max(popularity)))
  draw_anchors <- function(pool, size, exclude) {
    pool <- utils::head(setdiff(pool, exclude), 10L * size)
    pool[sample.int(length(pool), min(size, length(pool)))]
  }
  if (design == "anchored") {
    # The items the real users agree on most (largest average prediction in
    # size), or the most-rated ones.
    pool <- if (anchor_pool == "agreed") settled[order(-abs(clean_mean[settled]))] else order(-popularity)
    spec <- utility_spec(utility, ratings)
    targets <- spec$targets + 1L
    target_rating <- bound * sign(utility$mu[2] * spec$weights)
    fillers <- lapply(seq_len(n_fake), function(u) draw_anchors(pool, b - length(targets), targets))
    cells <- list(
      user = rep(seq_len(n_fake), lengths(fillers) + length(targets)),
      item = unlist(lapply(fillers, function(filler) c(targets, filler)))
    )
    rating <- unlist(lapply(fillers, function(filler) c(target_rating, along[filler])))
    return(fake_block(cells, rating, ratings))
  }
  # Items by popularity (least or most rated first), ties at random; group g
  # takes the g-th run of them (from the start again when they run out).
  ranked <- order(if (design == "rare_items") popularity else -popularity, stats::runif(n))
  shared <- if (design == "rare_items") b - anchors else b
  group <- (seq_len(n_fake) - 1L) %/% group_size
  items <- lapply(group, function(g) ranked[(g * shared + seq_len(shared) - 1L) %% n + 1L])
  if (design == "rare_items") {
    # Anchors along e_1, the top eigenvector of the real users' U'U, the
    # direction in which a shared item's factor moves the most predictions:
    # the items whose clean factor lies closest to it, rated Lambda along it
    # (for a biased fit, of [U, 1], which an item's [v_j, c_j] multiplies).
    item_side <- item_side_factors(clean)
    e1 <- eigen(crossprod(item_side$user), symmetric = TRUE)$vectors[, 1]
    projection <- as.vector(item_side$item %*% e1)
    cosine <- abs(projection) / pmax(sqrt(rowSums(item_side$item^2)), 1e-300)
    pool <- settled[order(-abs(projection[settled]) * cosine[settled]^4)]
    along_e1 <- ifelse(projection >= 0, bound, -bound)
    anchor <- lapply(items, function(rare) draw_anchors(pool, anchors, rare))
    rating <- unlist(Map(function(a, rare) c(along_e1[a], along[rare]), anchor, items))
    items <- Map(c, anchor, items)
  } else {
    rating <- unlist(lapply(items, function(x) -along[x]))
  }
  cells <- list(user = rep(seq_len(n_fake), lengths(items)), item = unlist(items))
  fake_block(cells, rating, ratings)
}
