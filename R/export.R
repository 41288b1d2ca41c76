# Data out: the poisoned data as one cf_ratings, and any cf_ratings as a data
# frame or a dense matrix for other software.

#' Real and fake users as one data set
#'
#' `poisoned_ratings()` appends an attack's fake users to the real users'
#' ratings: the data a poisoned learner is fitted on (Eq. 4 and 5), as one
#' `cf_ratings` to save, to fit with other software (see [as_sparse()]) or to
#' pass to any function that takes ratings. `fit_cf(learner,
#' poisoned_ratings(ratings, attack))` fits the same model as `fit_cf(learner,
#' ratings, fake = attack)` from the same `seed` or `init`, with the fake
#' users' factors as the last rows of `u` instead of in `fake_u`.
#'
#' **Fake user ids.** Real users keep their ids and come first. The fake users
#' follow in the attack's order, under new ids that no real user has:
#'
#' * numeric real ids: fake user i gets `max(ratings$user_ids) + i`, so that
#'   the ids stay numeric (and integer if they were);
#' * other ids: fake user i gets `paste0(fake_prefix, i)`; a real user with
#'   such an id is an error (choose another `fake_prefix`).
#'
#' The attack's own names for its fake users are not kept: `is_fake` says who
#' is fake.
#'
#' @param ratings The real users' ratings (`cf_ratings`) the attack was
#'   computed on.
#' @param attack A `cf_attack` computed on `ratings`, or fake users you built:
#'   a `cf_ratings` over the same items (`as_ratings(df, items =
#'   ratings$item_ids)`), or a data frame with columns `user`, `item` (ids
#'   from `ratings$item_ids`) and `rating`, as [evaluate_attack()] takes. A
#'   `cf_attack` computed on other ratings is an error.
#' @param fake_prefix The start of the fake users' ids when the real ids are
#'   not numeric.
#' @return A `cf_ratings` (see [as_ratings()]) over `ratings`' items and the
#'   real then the fake users: `user`, `item` (1-based indices, sorted by user
#'   then item), `rating`, `user_ids` (the real ids, then the fake ones),
#'   `item_ids`, `scale`, and `is_fake`, one `TRUE` or `FALSE` per user id
#'   (`FALSE` for the real users). `scale` is `ratings$scale`, or `NULL`, with
#'   a warning of class `cfpoison_warning_scale`, when a fake rating lies
#'   outside it (fake ratings are bounded by the budget's `max_rating`, not by
#'   the data's scale).
#' @seealso [as.data.frame.cf_ratings()] and [as_sparse()] to write the result
#'   out.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, n_items = 10), seed = 1)
#' p <- poisoned_ratings(r, attack)
#' p
#' tail(as.data.frame(p))
#' # Fake users built by hand, as a data frame.
#' poisoned_ratings(r, data.frame(user = "f1", item = c(5, 6), rating = 2))
#' @export
poisoned_ratings <- function(ratings, attack, fake_prefix = "fake_") {
  check_ratings(ratings)
  check_required(attack)
  attack <- as_cf_attack(attack, ratings)
  if (!is.character(fake_prefix) || length(fake_prefix) != 1L || is.na(fake_prefix)) {
    cfp_abort("{.arg fake_prefix} must be a single string, not {.obj_type_friendly {fake_prefix}}.", "type")
  }
  joint <- joint_ratings(ratings, attack)
  user_ids <- joined_user_ids(ratings$user_ids, sum(joint$is_fake), fake_prefix)
  scale <- ratings$scale
  fake_rating <- joint$rating[joint$is_fake[joint$user]]
  outside <- if (is.null(scale)) 0L else sum(fake_rating < scale[1] | fake_rating > scale[2])
  if (outside > 0L) {
    cli::cli_warn(
      c("{outside} fake rating{?s} {?lies/lie} outside the scale [{scale[1]}, {scale[2]}] of {.arg ratings}: the poisoned ratings have no {.field scale}.",
        i = "Fake ratings are bounded by the budget's {.arg max_rating}; give it the scale's bounds to keep them inside."
      ),
      class = "cfpoison_warning_scale"
    )
    scale <- NULL
  }
  new_cf_ratings(joint$user, joint$item, joint$rating, user_ids, ratings$item_ids, scale, joint$is_fake)
}

# The real ids followed by `n_fake` new ones (see poisoned_ratings(), "Fake
# user ids").
joined_user_ids <- function(real, n_fake, fake_prefix, call = rlang::caller_env()) {
  if (is.numeric(real)) {
    # In doubles: an integer max + i past .Machine$integer.max would be NA.
    fake <- max(real) + as.double(seq_len(n_fake))
    if (is.integer(real) && max(fake) <= .Machine$integer.max) fake <- as.integer(fake)
  } else {
    real <- as.character(real)
    fake <- paste0(fake_prefix, seq_len(n_fake))
  }
  ids <- c(real, fake)
  # Numeric ids beyond 2^53 have no distinct successors, and a real id may
  # already be "fake_1".
  clash <- ids[duplicated(ids)]
  if (length(clash) > 0L) {
    cfp_abort(
      c("The fake users' ids would repeat {length(clash)} id{?s}: {.val {utils::head(clash, 5)}}.",
        i = if (is.numeric(real)) {
          "The real user ids are too large to number fake users after them exactly: give {.arg ratings} character user ids."
        } else {
          "Real users already have such ids: choose another {.arg fake_prefix}."
        }
      ),
      "duplicate",
      call = call
    )
  }
  ids
}

#' Ratings as a data frame or a dense matrix
#'
#' `as.data.frame()` gives one row per observed rating, observed zeros
#' included. `as.matrix()` gives the users x items matrix with `NA` where
#' nothing is observed, so that an observed 0 and a missing entry stay
#' distinct; `as_ratings()` reads either back (ids then come from the
#' columns, or as character from the dimnames).
#'
#' @param x A `cf_ratings` object.
#' @param max_cells The largest number of cells (users x items) `as.matrix()`
#'   builds; a larger matrix is an error of class `cfpoison_error_size`
#'   (MovieLens-20M would take 28 GB). Use [as_sparse()] or `as.data.frame()`
#'   for large data.
#' @param ... Unused.
#' @return `as.data.frame()`: a data frame with columns `user` and `item`
#'   (your ids), `rating`, and for [poisoned_ratings()] `is_fake`, sorted by
#'   user then item. `as.matrix()`: a numeric matrix, one row per user id and
#'   one column per item id in the order of `x$user_ids` and `x$item_ids`
#'   (dimnames the ids, as character), `NA` where unobserved.
#' @examples
#' r <- as_ratings(data.frame(user = c("ann", "ann", "bob"), item = c(10, 20, 10), rating = c(2, 0, -1)))
#' as.data.frame(r)
#' as.matrix(r) # the observed 0 stays 0; bob's missing rating is NA
#' @export
as.data.frame.cf_ratings <- function(x, ...) {
  check_ratings(x)
  out <- data.frame(user = x$user_ids[x$user], item = x$item_ids[x$item], rating = x$rating)
  if (!is.null(x[["is_fake"]])) out$is_fake <- x[["is_fake"]][x$user]
  out
}

#' @rdname as.data.frame.cf_ratings
#' @export
as.matrix.cf_ratings <- function(x, max_cells = 1e8, ...) {
  check_ratings(x)
  check_number(max_cells, min = 0)
  cells <- prod(as.double(dim(x)))
  if (cells > max_cells) {
    cfp_abort(
      c("{.arg x} has {nrow(x)} users x {ncol(x)} items: a dense matrix of {format(cells, big.mark = ',')} cells, over {.arg max_cells} = {format(max_cells, big.mark = ',')}.",
        i = "Export it as a sparse matrix with {.fn as_sparse} or as triplets with {.fn as.data.frame}.",
        i = "Raise {.arg max_cells} if you have the memory: {format(signif(8 * cells / 2^30, 3))} GiB."
      ),
      "size"
    )
  }
  out <- matrix(NA_real_, nrow(x), ncol(x), dimnames = list(as.character(x$user_ids), as.character(x$item_ids)))
  out[cbind(x$user, x$item)] <- x$rating
  out
}
