# The rating data every stage consumes: `cf_ratings`, observed entries stored as
# explicit (user, item, rating) triplets over a fixed universe of user and item ids.

# `is_fake` (one flag per user id) marks the fake users of poisoned_ratings();
# plain ratings have no such field. `sorted = TRUE`: the caller's entries are
# sorted by user, then item, already (simulate_ratings(): the sort and its
# copies cost 1.2 s at the MovieLens-20M shape).
new_cf_ratings <- function(user, item, rating, user_ids, item_ids, scale = NULL, is_fake = NULL, sorted = FALSE) {
  if (!sorted) {
    ord <- order(user, item, method = "radix")
    user <- user[ord]
    item <- item[ord]
    rating <- rating[ord]
  }
  x <- structure(
    list(
      user = user,
      item = item,
      rating = as.double(rating),
      user_ids = user_ids,
      item_ids = item_ids,
      scale = scale
    ),
    class = "cf_ratings"
  )
  x$is_fake <- is_fake
  x
}

#' Rating data for cfpoison
#'
#' `as_ratings()` converts ratings into a `cf_ratings` object: the observed
#' entries as explicit (user, item, rating) triplets, plus the user and item ids
#' so that every result maps back to your own ids.
#'
#' Observed entries are exactly the rows of a data frame, the non-`NA` cells of
#' a matrix, or the *stored* entries of a sparse matrix. Observed zeros stay
#' observed: after the paper's shift of 1..5 stars to \[-2, 2\] a 3-star rating is
#' 0, and a `dgCMatrix` built from a dense matrix has already dropped those
#' zeros (on dslabs' movielens, 20,064 of 100,004 ratings), so prefer a data
#' frame or a matrix with `NA` for missing entries.
#'
#' @param x A data frame with user, item and rating columns; a numeric matrix
#'   (users in rows, items in columns, `NA` where unobserved); a `dgCMatrix` or
#'   `dgTMatrix` (stored entries are observed); or a `cf_ratings` object.
#' @param user,item,rating Column names in a data frame.
#' @param users,items Optional universes of user and item ids. Ids in the data
#'   must belong to them; users or items without ratings are kept, so that, for
#'   example, fake users can be added over the same items as the real data
#'   (`items = ratings$item_ids`).
#' @param scale Optional rating bounds `c(min, max)`; ratings outside are an error.
#' @param ... Passed on to methods.
#' @return A `cf_ratings` object: a list with integer `user` and `item` indices
#'   (1-based, sorted by user then item), numeric `rating`, the `user_ids` and
#'   `item_ids` they index, and the rating `scale` (or `NULL`).
#' @examples
#' df <- data.frame(user = c("ann", "ann", "bob"), item = c(10, 20, 10), rating = c(2, 0, -1))
#' r <- as_ratings(df)
#' r
#' as.data.frame(r)
#'
#' m <- matrix(c(1, NA, 0, 2), 2, dimnames = list(c("u1", "u2"), c("i1", "i2")))
#' as_ratings(m) # the observed 0 is kept
#' @export
as_ratings <- function(x, ...) {
  UseMethod("as_ratings")
}

#' @rdname as_ratings
#' @export
as_ratings.data.frame <- function(x, user = "user", item = "item", rating = "rating",
                                  users = NULL, items = NULL, scale = NULL, ...) {
  for (arg in c("user", "item", "rating")) {
    col <- get(arg)
    if (!is.character(col) || length(col) != 1L) {
      cfp_abort("{.arg {arg}} must be a single column name.", "type")
    }
    if (!col %in% names(x)) {
      cfp_abort(
        c("Column {.val {col}} (the {arg} column) is not in {.arg x}.",
          i = "{.arg x} has columns {.val {names(x)}}.",
          i = "Name the right one with {.code as_ratings(x, {arg} = \"...\")}."
        ),
        "column"
      )
    }
    # A list or matrix column would fail in sort() or lose all but its first
    # column.
    if (!is.atomic(x[[col]]) || !is.null(dim(x[[col]]))) {
      cfp_abort(
        c("Column {.val {col}} (the {arg} column) must be a vector, not {.obj_type_friendly {x[[col]]}}.",
          i = "Unlist it, or keep one of its columns."
        ),
        "type"
      )
    }
  }
  ratings_from_triplets(x[[user]], x[[item]], x[[rating]], users = users, items = items, scale = scale)
}

#' @rdname as_ratings
#' @export
as_ratings.matrix <- function(x, users = NULL, items = NULL, scale = NULL, ...) {
  if (!is.numeric(x) && !is.logical(x)) {
    cfp_abort("A rating matrix must be numeric, not {.obj_type_friendly {x[[1]]}}.", "type")
  }
  if (any(is.nan(x) | is.infinite(x))) {
    cfp_abort(
      c("{.arg x} contains NaN or infinite ratings.",
        i = "Use {.code NA} for unobserved entries; fix or drop the others."
      ),
      "missing"
    )
  }
  observed <- which(!is.na(x), arr.ind = TRUE)
  user_ids <- dim_ids(rownames(x), nrow(x), "row")
  item_ids <- dim_ids(colnames(x), ncol(x), "column")
  ratings_from_triplets(user_ids[observed[, 1]], item_ids[observed[, 2]], x[observed],
    users = users %||% user_ids, items = items %||% item_ids, scale = scale
  )
}

#' @rdname as_ratings
#' @export
as_ratings.sparseMatrix <- function(x, users = NULL, items = NULL, scale = NULL, ...) {
  # Only general matrices store every observed entry: a triangular or symmetric
  # one leaves out its unit diagonal or its mirrored half.
  if (!methods::is(x, "dsparseMatrix") || !methods::is(x, "generalMatrix")) {
    cfp_abort(
      "A sparse rating matrix must be a general numeric one (dgCMatrix or dgTMatrix), not {.cls {class(x)}}.",
      "type"
    )
  }
  triplets <- methods::as(x, "TsparseMatrix")
  user_ids <- dim_ids(rownames(x), nrow(x), "row")
  item_ids <- dim_ids(colnames(x), ncol(x), "column")
  ratings_from_triplets(user_ids[triplets@i + 1L], item_ids[triplets@j + 1L], triplets@x,
    users = users %||% user_ids, items = items %||% item_ids, scale = scale
  )
}

#' @rdname as_ratings
#' @export
as_ratings.cf_ratings <- function(x, ...) {
  x
}

#' @rdname as_ratings
#' @export
as_ratings.default <- function(x, ...) {
  cfp_abort(
    c("Can't make ratings from {.obj_type_friendly {x}}.",
      i = "Give a data frame, a matrix with NA for missing entries, or a dgCMatrix/dgTMatrix."
    ),
    "type"
  )
}

# The ids a matrix's row or column names give (1..size without names).
dim_ids <- function(names, size, what, call = rlang::caller_env()) {
  if (is.null(names)) {
    return(seq_len(size))
  }
  if (anyNA(names) || anyDuplicated(names)) {
    cfp_abort(
      c("The {what} names of {.arg x} must be unique, non-missing ids.",
        i = "They are the {if (what == 'row') 'user' else 'item'} ids; fix them or drop them."
      ),
      "value",
      call = call
    )
  }
  names
}

# Validates triplets of ids and ratings and builds a cf_ratings object.
ratings_from_triplets <- function(user, item, rating, users = NULL, items = NULL, scale = NULL,
                                  call = rlang::caller_env()) {
  if (length(rating) == 0L) {
    cfp_abort(c("There are no ratings.", i = "Give at least one observed rating."), "empty", call = call)
  }
  if (is.logical(rating) && all(is.na(rating))) rating <- as.double(rating)
  if (!is.numeric(rating)) {
    cfp_abort(
      c("Ratings must be numeric, not {.obj_type_friendly {rating}}.",
        i = "Convert the rating column, e.g. with {.fn as.numeric}, after checking its values."
      ),
      "type",
      call = call
    )
  }
  bad <- which(!is.finite(rating))
  if (length(bad) > 0L) {
    cfp_abort(
      c("{length(bad)} rating{?s} {?is/are} NA, NaN or infinite (first at entry {bad[1]}).",
        i = "Drop unobserved entries instead of storing them as NA."
      ),
      "missing",
      call = call
    )
  }
  check_rating_magnitude(rating, call = call)
  if (anyNA(user) || anyNA(item)) {
    cfp_abort("User and item ids must not be NA.", "missing", call = call)
  }
  if (is.factor(user)) user <- as.character(user)
  if (is.factor(item)) item <- as.character(item)
  if (!is.null(scale)) scale <- check_scale(scale, call = call)
  if (!is.null(scale) && any(rating < scale[1] | rating > scale[2])) {
    out <- which(rating < scale[1] | rating > scale[2])
    cfp_abort(
      c("{length(out)} rating{?s} {?lies/lie} outside {.arg scale} = [{scale[1]}, {scale[2]}] (first: {rating[out[1]]}).",
        i = "Rescale them with {.fn rescale_ratings} or widen {.arg scale}."
      ),
      "range",
      call = call
    )
  }
  user_ids <- id_universe(user, users, "users", call)
  item_ids <- id_universe(item, items, "items", call)
  out <- new_cf_ratings(id_index(user, user_ids), id_index(item, item_ids), rating, user_ids, item_ids, scale)
  # Sorted by user, then item, a pair rated twice is two adjacent entries
  # (cheaper than hashing 20M pair keys).
  n <- length(out$user)
  after <- seq.int(2L, length.out = n - 1L)
  before <- seq_len(n - 1L)
  dup <- which(out$user[after] == out$user[before] & out$item[after] == out$item[before])
  if (length(dup) > 0L) {
    cfp_abort(
      c("User {.val {out$user_ids[out$user[dup[1]]]}} rated item {.val {out$item_ids[out$item[dup[1]]]}} more than once.",
        i = "Keep one rating per (user, item) pair, e.g. the latest or the mean, before calling {.fn as_ratings}."
      ),
      "duplicate",
      call = call
    )
  }
  out
}

# The sorted distinct ids, or `universe` checked to hold them all. Positive
# integer ids (MovieLens's) are counted rather than hashed: at 20M ratings
# that is a tenth of the time of unique().
id_universe <- function(ids, universe, arg, call) {
  if (is.null(universe)) {
    if (is_small_positive_integer(ids)) {
      return(which(tabulate(ids, max(ids)) > 0L))
    }
    return(sort(unique(ids)))
  }
  if (!is.atomic(universe) || anyNA(universe) || anyDuplicated(universe)) {
    cfp_abort("{.arg {arg}} must be a vector of unique, non-missing ids.", "value", call = call)
  }
  missing <- setdiff(unique(ids), universe)
  if (length(missing) > 0L) {
    cfp_abort(
      c("{length(missing)} id{?s} in the data {?is/are} not in {.arg {arg}}: {.val {utils::head(missing, 5)}}.",
        i = "Add them to {.arg {arg}} or drop their ratings."
      ),
      "value",
      call = call
    )
  }
  universe
}

# The position of each id in `universe` (which holds them all), as match()
# gives it; for positive integer ids by a lookup table.
id_index <- function(ids, universe) {
  if (is_small_positive_integer(ids) && is_small_positive_integer(universe, length(ids))) {
    lookup <- integer(max(ids, universe))
    lookup[universe] <- seq_along(universe)
    return(lookup[ids])
  }
  match(ids, universe)
}

# Integer ids from 1 to at most about `n` (their count), so that a table
# indexed by id is no larger than the ids themselves.
is_small_positive_integer <- function(ids, n = length(ids)) {
  is.integer(ids) && length(ids) > 0L && min(ids) >= 1L && max(ids) <= n + 1e6
}

check_scale <- function(scale, arg = "scale", call = rlang::caller_env()) {
  if (!is.numeric(scale) || length(scale) != 2L || anyNA(scale) || any(!is.finite(scale)) ||
    scale[1] >= scale[2]) {
    cfp_abort("{.arg {arg}} must be two finite numbers {.code c(min, max)} with min < max.", "value", call = call)
  }
  as.double(scale)
}

#' @export
dim.cf_ratings <- function(x) {
  c(length(x$user_ids), length(x$item_ids))
}

#' @export
print.cf_ratings <- function(x, ...) {
  s <- summary(x)
  fake <- if (is.null(x[["is_fake"]])) "" else cli::format_inline(" ({s$n_fake_users} fake)")
  cli::cli_text("{.cls cf_ratings}: {s$n_ratings} rating{?s} by {s$n_users} user{?s}{fake} of {s$n_items} item{?s}")
  cli::cli_bullets(c(
    " " = "density {format(signif(100 * s$density, 3))}%; {ratings_span(s)}",
    " " = "scale: {if (is.null(x$scale)) 'not set' else paste0('[', x$scale[1], ', ', x$scale[2], ']')}"
  ))
  invisible(x)
}

#' @export
summary.cf_ratings <- function(object, ...) {
  m <- length(object$user_ids)
  n <- length(object$item_ids)
  per_user <- tabulate(object$user, m)
  per_item <- tabulate(object$item, n)
  structure(
    list(
      n_users = m,
      # Users marked fake by poisoned_ratings() (0 for plain ratings).
      n_fake_users = sum(object[["is_fake"]]),
      n_items = n,
      n_ratings = length(object$rating),
      # As doubles: m * n overflows integers at MovieLens-20M's size.
      density = length(object$rating) / (as.double(m) * n),
      # NA for no ratings, where range() gives [Inf, -Inf] with a warning.
      range = if (length(object$rating) > 0L) range(object$rating) else c(NA_real_, NA_real_),
      mean = mean(object$rating),
      ratings_per_user = stats::quantile(per_user, c(0, 0.5, 1), names = FALSE),
      ratings_per_item = stats::quantile(per_item, c(0, 0.5, 1), names = FALSE),
      empty_users = sum(per_user == 0L),
      empty_items = sum(per_item == 0L)
    ),
    class = "summary.cf_ratings"
  )
}

# The range and mean line of a summary.cf_ratings.
ratings_span <- function(s) {
  if (s$n_ratings == 0L) {
    return("no ratings")
  }
  cli::format_inline("ratings in [{s$range[1]}, {s$range[2]}], mean {format(signif(s$mean, 4))}")
}

#' @export
print.summary.cf_ratings <- function(x, ...) {
  fake <- if (x$n_fake_users > 0L) cli::format_inline(" ({x$n_fake_users} fake)") else ""
  cli::cli_text("{x$n_users} users{fake} x {x$n_items} items, {x$n_ratings} ratings (density {format(signif(100 * x$density, 3))}%)")
  cli::cli_bullets(c(
    " " = "{ratings_span(x)}",
    " " = "ratings per user: min {x$ratings_per_user[1]}, median {x$ratings_per_user[2]}, max {x$ratings_per_user[3]}",
    " " = "ratings per item: min {x$ratings_per_item[1]}, median {x$ratings_per_item[2]}, max {x$ratings_per_item[3]}",
    " " = "users without ratings: {x$empty_users}; items without ratings: {x$empty_items}"
  ))
  invisible(x)
}

#' Split ratings into a training and a test set
#'
#' Draws a random share of the observed entries as a test set, then moves test
#' entries back into training until every user and every item that has ratings
#' keeps at least one training rating (a model cannot predict for a user it has
#' never seen). Both sets share the ids of `ratings`, so a model fitted on
#' `train` predicts `test` directly.
#'
#' @param ratings A `cf_ratings` object.
#' @param test_fraction Share of entries drawn for the test set, in (0, 1).
#' @param seed Optional seed; `NULL` uses the current RNG state.
#' @return A list with `train` and `test`, both `cf_ratings`.
#' @examples
#' r <- simulate_ratings(100, 80, rank = 3, density = 0.2, seed = 1)
#' s <- split_ratings(r, test_fraction = 0.2, seed = 1)
#' s$train
#' s$test
#' @export
split_ratings <- function(ratings, test_fraction = 0.2, seed = NULL) {
  check_ratings(ratings)
  check_number(test_fraction, min = 0, max = 1, min_inclusive = FALSE, max_inclusive = FALSE)
  n <- length(ratings$rating)
  is_test <- with_seed(seed, seq_len(n) %in% sample.int(n, round(test_fraction * n)))
  # Give back one test entry to every user, then every item, left without training data.
  for (side in c("user", "item")) {
    index <- ratings[[side]]
    size <- length(ratings[[paste0(side, "_ids")]])
    starved <- tabulate(index[!is_test], size) == 0L
    give_back <- which(is_test & starved[index])
    is_test[give_back[!duplicated(index[give_back])]] <- FALSE
  }
  subset_entries <- function(keep) {
    new_cf_ratings(ratings$user[keep], ratings$item[keep], ratings$rating[keep],
      ratings$user_ids, ratings$item_ids, ratings$scale, ratings[["is_fake"]]
    )
  }
  if (!any(is_test)) {
    cfp_abort(
      c("The test set is empty.", i = "Raise {.arg test_fraction}: every user and item keeps one training rating."),
      "empty"
    )
  }
  list(train = subset_entries(!is_test), test = subset_entries(is_test))
}

#' Map ratings linearly onto another scale
#'
#' Maps `from[1]` to `to[1]` and `from[2]` to `to[2]` linearly. The paper
#' (Section 5) shifts MovieLens' 1..5 stars to \[-2, 2\], which is
#' `rescale_ratings(r, from = c(1, 5), to = c(-2, 2))`: a 3-star rating becomes 0.
#'
#' @param ratings A `cf_ratings` object.
#' @param to Target bounds `c(min, max)`.
#' @param from Source bounds; defaults to the ratings' `scale`, or their range
#'   when no scale is set.
#' @param clamp Clip mapped ratings that fall outside `to` (for example
#'   MovieLens' half-star 0.5 under the 1..5 mapping). When `FALSE`, such
#'   ratings are an error.
#' @return A `cf_ratings` object with `scale = to`.
#' @examples
#' r <- as_ratings(data.frame(user = 1:3, item = 1, rating = c(1, 3, 5)))
#' rescale_ratings(r, from = c(1, 5), to = c(-2, 2))$rating
#' @export
rescale_ratings <- function(ratings, to = c(-2, 2), from = NULL, clamp = FALSE) {
  check_ratings(ratings)
  to <- check_scale(to, "to")
  if (any(abs(to) > max_abs_rating)) {
    cfp_abort(
      c("{.arg to} must lie within [-{format(max_abs_rating)}, {format(max_abs_rating)}], the largest ratings the package takes.",
        x = "It is [{format(to[1])}, {format(to[2])}]."
      ),
      "range"
    )
  }
  if (is.null(from) && is.null(ratings$scale) && length(unique(ratings$rating)) < 2L) {
    # The default `from` is the ratings' range: blame that, not an argument
    # the caller never gave.
    cfp_abort(
      c("{.arg ratings} has no {.field scale} and its ratings take fewer than two values: there is no range to map from.",
        i = "Give the source bounds: {.code from = c(min, max)}."
      ),
      "value"
    )
  }
  from <- check_scale(from %||% ratings$scale %||% range(ratings$rating), "from")
  check_flag(clamp)
  mapped <- to[1] + (ratings$rating - from[1]) * (to[2] - to[1]) / (from[2] - from[1])
  outside <- mapped < to[1] | mapped > to[2]
  if (any(outside)) {
    if (!clamp) {
      cfp_abort(
        c("{sum(outside)} rating{?s} {?falls/fall} outside {.arg to} after the mapping.",
          i = "Widen {.arg from}, or set {.code clamp = TRUE} to clip them."
        ),
        "range"
      )
    }
    mapped <- pmin(pmax(mapped, to[1]), to[2])
  }
  ratings$rating <- mapped
  ratings$scale <- to
  ratings
}

# Per-item sums of `values` (one per rating), 0 for items nobody rated.
item_sums <- function(ratings, values) {
  sums_by(ratings$item, values, length(ratings$item_ids))
}

# Sums of `values` grouped by `index` (integers in 1..n), 0 for an absent index.
sums_by <- function(index, values, n) {
  out <- numeric(n)
  grouped <- rowsum(values, index)
  out[as.integer(rownames(grouped))] <- grouped
  out
}

# The fake block of a cf_attack or a cf_ratings, checked against `ratings`' items:
# fake users are extra rows over the same item universe (Eq. 4).
fake_users <- function(fake, ratings, arg = rlang::caller_arg(fake), call = rlang::caller_env()) {
  force(arg) # name the caller's argument before `fake` is reassigned
  block_arg <- arg
  if (inherits(fake, "cf_attack")) {
    fake <- fake$fake
    block_arg <- paste0(arg, "$fake")
  }
  if (!inherits(fake, "cf_ratings")) {
    cfp_abort(
      c("{.arg {arg}} must be a {.cls cf_attack} or a {.cls cf_ratings} block of fake users, not {.obj_type_friendly {fake}}.",
        i = "Pass the result of a {.code poison_*()} function, or its {.field fake} element."
      ),
      "type",
      call = call
    )
  }
  check_ratings_fields(fake, arg = block_arg, call = call)
  if (!identical(fake$item_ids, ratings$item_ids)) {
    cfp_abort(
      c("{.arg {arg}} must rate the same items as {.arg ratings}.",
        x = if (length(fake$item_ids) == length(ratings$item_ids)) {
          "It has as many items, but other ids or in another order."
        } else {
          "It has {length(fake$item_ids)} item{?s}; {.arg ratings} has {length(ratings$item_ids)}."
        },
        i = "Build it with {.code as_ratings(df, items = ratings$item_ids)}."
      ),
      "shape",
      call = call
    )
  }
  fake
}

# Fake users as a cf_attack, whatever form an entry point got them in: a
# cf_attack computed on `ratings` (checked by its fingerprint), or a block built
# by hand (a cf_ratings over the same items, or a data frame with columns user,
# item and rating), which becomes a "custom" attack without utility, learner or
# clean model.
as_cf_attack <- function(x, ratings, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  force(arg) # name the caller's argument before `x` is reassigned
  if (!inherits(x, c("cf_attack", "cf_ratings")) && !is.data.frame(x)) {
    cfp_abort(
      c("{.arg {arg}} must be a {.cls cf_attack} or a block of fake users, not {.obj_type_friendly {x}}.",
        i = paste(
          "Pass the result of a {.code poison_*()} function, a {.cls cf_ratings} over the same items",
          "({.code as_ratings(df, items = ratings$item_ids)}) or a data frame with columns",
          "{.field user}, {.field item} and {.field rating}."
        )
      ),
      "type",
      call = call
    )
  }
  if (is.data.frame(x)) x <- fake_frame(x, ratings, arg, call)
  fake <- fake_users(x, ratings, arg = arg, call = call)
  if (!inherits(x, "cf_attack")) {
    return(new_cf_attack("custom", fake, ratings = NULL))
  }
  recorded <- x[["fingerprint"]]
  if (!is.null(recorded) && !same_fingerprint(recorded, ratings_fingerprint(ratings))) {
    cfp_abort(
      c("{.arg {arg}} was computed on other ratings than {.arg ratings}.",
        x = "Measured on these, it would be compared with the wrong clean model.",
        i = "Pass the ratings it was computed on, or recompute the attack on these ratings.",
        i = "To measure its fake users on these ratings all the same, pass {.code {arg}$fake} (and {.arg learner})."
      ),
      "mismatch",
      call = call
    )
  }
  x
}

# A data frame of fake users' ratings (user, item, rating) as a cf_ratings
# over `ratings`' items; its user ids become the fake users.
fake_frame <- function(df, ratings, arg, call) {
  missing <- setdiff(c("user", "item", "rating"), names(df))
  if (length(missing) > 0L) {
    cfp_abort(
      c("{.arg {arg}} needs columns {.field user}, {.field item} and {.field rating}.",
        x = "It lacks {.val {missing}}.",
        i = "Name the fake users' ratings columns {.field user}, {.field item} and {.field rating}."
      ),
      "column",
      call = call
    )
  }
  rating <- df[["rating"]]
  if (!is.numeric(rating)) {
    cfp_abort(
      c("{.arg {arg}}'s {.field rating} column must be numeric, not {.obj_type_friendly {rating}}.",
        i = "Convert it, e.g. with {.fn as.numeric}, after checking its values."
      ),
      "type",
      call = call
    )
  }
  bad <- which(!is.finite(rating))
  if (length(bad) > 0L) {
    cfp_abort(
      c("{length(bad)} rating{?s} in {.arg {arg}} {?is/are} NA, NaN or infinite (first in row {bad[1]}).",
        i = "Give every fake rating a finite value, or drop its row."
      ),
      "missing",
      call = call
    )
  }
  item <- df[["item"]]
  if (is.factor(item)) item <- as.character(item)
  unknown <- unique(item[!item %in% ratings$item_ids])
  if (length(unknown) > 0L) {
    cfp_abort(
      c("{length(unknown)} item id{?s} in {.arg {arg}} {?is/are} not in {.arg ratings}: {.val {utils::head(unknown, 5)}}.",
        i = "Fake users rate the real users' items: use ids from {.code ratings$item_ids}."
      ),
      "value",
      call = call
    )
  }
  ratings_from_triplets(df[["user"]], item, rating, items = ratings$item_ids, call = call)
}

# A cheap summary of ratings that any edit moves, recorded in every cf_attack:
# the sizes, and the sums of the ratings weighted by 1, by the user index and
# by the item index, and of user x item index (which moves when an entry does),
# each with the sum of its terms' absolute values as its rounding scale.
ratings_fingerprint <- function(ratings) {
  user <- as.double(ratings$user)
  item <- as.double(ratings$item)
  sums <- function(x) c(sum(x), sum(abs(x)))
  list(
    size = c(dim(ratings), length(ratings$rating)),
    sums = rbind(sums(ratings$rating), sums(user * ratings$rating), sums(item * ratings$rating), sums(user * item))
  )
}

# Fingerprints of the same ratings agree up to rounding (a saved attack may be
# read on a machine that sums in another precision).
same_fingerprint <- function(a, b) {
  identical(a$size, b$size) && all(abs(a$sums[, 1] - b$sums[, 1]) <= 1e-10 * pmax(a$sums[, 2], b$sums[, 2]))
}
