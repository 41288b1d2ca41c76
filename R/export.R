# Data out: the poisoned data as one cf_ratings, and any cf_ratings as a data
# frame, a dense matrix or a sparse matrix for other software.

#' Real and fake users as one data set
#'
#' `poisoned_ratings()` appends an attack's fake users to the real users'
#' ratings: the data a poisoned learner is fitted on (Eq. 4 and 5), as one
#' `cf_ratings` to save, to fit with other software (see [as_sparse()]) or to
#' pass to any function that takes ratings. `fit_cf(poisoned_ratings(ratings,
#' attack), learner)` fits the same model as `fit_cf(ratings, learner, attack =
#' attack)` from the same `seed` or `init`, with the fake
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
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
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
#' r <- as_ratings(data.frame(
#'   user = c("ann", "ann", "bob"), item = c(10, 20, 10), rating = c(2, 0, -1)
#' ))
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

#' Ratings as a sparse matrix
#'
#' Exports ratings as a users x items sparse matrix: a `dgCMatrix` of the
#' Matrix package or a `softImpute::Incomplete` (a `dgCMatrix` whose
#' non-stored entries softImpute takes as missing). In both, an entry is
#' observed when it is stored, not when it is non-zero.
#'
#' **Observed zeros.** After the paper's shift of 1..5 stars to \[-2, 2\], a
#' 3-star rating is an observed 0, and sparse matrices are built to forget
#' zeros: Matrix drops stored zeros in `drop0()` and whenever a sparse matrix
#' is rebuilt from a dense one (`as(as.matrix(x), "CsparseMatrix")`,
#' `Matrix(..., sparse = TRUE)`), after which they read as missing entries,
#' and `nnzero()` does not count them. `zeros` says what to do with them:
#'
#' * `"error"` (the default): ratings with an observed 0 are an error of class
#'   `cfpoison_error_zeros`; ratings without one export as they are.
#' * `"shift"`: adds the constant `shift` to every rating, so that none is 0.
#'   Its default, `1 - scale[1]` (or `1 - min(rating)` without a scale),
#'   makes the smallest possible rating 1: the paper's \[-2, 2\] goes back to
#'   1..5 stars. A shift that maps a rating to 0 is an error. The shift changes
#'   the problem a learner with a penalty solves (its factors shrink towards
#'   predictions of 0, i.e. `-shift` in the original units): subtract
#'   `attr(x, "shift")` from its predictions, and prefer `"explicit"` to fit
#'   the paper's model.
#' * `"explicit"`: stores the observed zeros in the matrix's slots, where
#'   code that reads the stored entries (softImpute's fits, `as_ratings()`)
#'   sees them as observed. softImpute fits an `Incomplete` from its slots, so
#'   this is the way to hand it the paper's data; treat the matrix as
#'   read-only. For a `dgCMatrix` it warns (class `cfpoison_warning_zeros`)
#'   that the zeros do not survive the operations above; an `Incomplete` is
#'   made for softImpute, so it does not warn.
#'
#' @param ratings A `cf_ratings` object, e.g. from [poisoned_ratings()].
#' @param class `"dgCMatrix"` (needs Matrix) or `"Incomplete"` (needs
#'   softImpute).
#' @param zeros What to do with observed zeros: `"error"`, `"shift"` or
#'   `"explicit"` (see Details).
#' @param shift The constant added to every rating with `zeros = "shift"`;
#'   `NULL` for the default (see Details).
#' @return A sparse matrix of class `class`, one row per user id and one
#'   column per item id in the order of `ratings$user_ids` and
#'   `ratings$item_ids` (dimnames the ids, as character; for
#'   [poisoned_ratings()] the rows of fake users are `which(ratings$is_fake)`),
#'   with one stored entry per observed rating, and the attribute `shift`: the
#'   constant added to every rating (0 unless `zeros = "shift"`). Matrix
#'   operations drop the attribute.
#' @examples
#' r <- as_ratings(data.frame(user = c(1, 1, 2, 3), item = c(1, 2, 2, 3), rating = c(2, 0, -1, 0)))
#' try(as_sparse(r)) # refused: 2 observed zeros
#' as_sparse(r, zeros = "shift") # every rating + 2, so that the smallest, -1, is 1
#' as_sparse(r, "Incomplete", zeros = "explicit")
#'
#' # softImpute trained on poisoned data in stars shifted to [-2, 2].
#' if (requireNamespace("softImpute", quietly = TRUE)) {
#'   stars <- as.data.frame(simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1))
#'   stars$rating <- round(stars$rating) # many observed zeros
#'   r <- as_ratings(stars, scale = c(-2, 2))
#'   attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#'   p <- poisoned_ratings(r, attack)
#'   x <- as_sparse(p, "Incomplete", zeros = "explicit")
#'   set.seed(1) # softImpute starts from random factors
#'   fit <- softImpute::softImpute(x, rank.max = 3, lambda = 2, type = "als")
#'   # The poisoned model's predictions for the first real users.
#'   softImpute::impute(fit, i = 1:3, j = c(1, 1, 1))
#' }
#' @export
as_sparse <- function(ratings, class = c("dgCMatrix", "Incomplete"), zeros = c("error", "shift", "explicit"),
                      shift = NULL) {
  check_ratings(ratings)
  class <- cfp_arg_match(class)
  zeros <- cfp_arg_match(zeros)
  rlang::check_installed(
    if (class == "Incomplete") "softImpute" else "Matrix",
    reason = cli::format_inline("for {.code as_sparse(class = \"{class}\")}.")
  )
  if (!is.null(shift) && zeros != "shift") {
    cfp_abort(
      c("{.arg shift} is only used with {.code zeros = \"shift\"}.",
        i = "Set {.code zeros = \"shift\"}, or drop {.arg shift}."
      ),
      "value"
    )
  }
  rating <- ratings$rating
  offset <- 0
  if (zeros == "shift") {
    offset <- if (is.null(shift)) 1 - (ratings$scale[1] %||% min(rating)) else check_number(shift)
    rating <- rating + offset
  }
  n_zero <- sum(rating == 0)
  if (n_zero > 0L && zeros == "shift") {
    cfp_abort(
      c("{.arg shift} = {offset} maps {n_zero} rating{?s} to 0, which a sparse matrix would take for unobserved entries.",
        i = "Choose a {.arg shift} above {-min(ratings$rating)}, or leave it {.code NULL}."
      ),
      "zeros"
    )
  }
  if (n_zero > 0L && zeros == "error") {
    cfp_abort(
      c("{.arg ratings} has {n_zero} observed zero rating{?s}, which a sparse matrix would take for unobserved entries.",
        i = "{.code zeros = \"explicit\"} stores them (softImpute reads them as observed); {.code zeros = \"shift\"} adds a constant to every rating.",
        i = "{.fn as.data.frame} and {.fn as.matrix} keep them as they are."
      ),
      "zeros"
    )
  }
  if (n_zero > 0L && class == "dgCMatrix") {
    cli::cli_warn(
      c("{n_zero} observed zero{?s} {?is/are} stored explicitly in the {.cls dgCMatrix}.",
        i = "Matrix drops stored zeros in {.fn Matrix::drop0} and in a round trip through a dense matrix: they then read as unobserved."
      ),
      class = "cfpoison_warning_zeros"
    )
  }
  # Built from its slots: every constructor from values may drop zeros.
  by_column <- order(ratings$item, ratings$user, method = "radix")
  out <- methods::new(
    methods::getClass("dgCMatrix", where = asNamespace("Matrix")),
    i = ratings$user[by_column] - 1L,
    p = c(0L, cumsum(tabulate(ratings$item, ncol(ratings)))),
    x = rating[by_column],
    Dim = dim(ratings),
    Dimnames = list(as.character(ratings$user_ids), as.character(ratings$item_ids))
  )
  if (class == "Incomplete") {
    out <- methods::new(methods::getClass("Incomplete", where = asNamespace("softImpute")), out)
  }
  attr(out, "shift") <- offset
  out
}
