# Rating data sets: MovieLens (bundled small one and GroupLens files) and simulations.

#' MovieLens ratings as used in the paper
#'
#' dslabs' `movielens` (the GroupLens "ml-latest-small" release: 100,004 ratings
#' by 671 users of 9,066 movies), keeping users with at least `min_ratings`
#' ratings (all of them have 20 or more) and shifting stars to \[-2, 2\] as in
#' Section 5 of the paper: a rating r becomes r - 3, so a 3-star rating is an
#' observed 0. The release has half stars down to 0.5; 0.5 maps to -2.5 and is
#' clipped to -2 (1,101 ratings), so every rating lies in \[-2, 2\].
#'
#' @param min_ratings Keep users with at least this many ratings (the paper: 20).
#' @return A `cf_ratings` object with user ids `userId` and item ids `movieId`.
#' @examplesIf requireNamespace("dslabs", quietly = TRUE)
#' ml <- movielens_small()
#' ml
#' @export
movielens_small <- function(min_ratings = 20) {
  rlang::check_installed("dslabs", reason = "for the MovieLens data behind `movielens_small()`.")
  data <- dslabs::movielens
  ratings <- as_ratings(data, user = "userId", item = "movieId", rating = "rating", scale = c(0.5, 5))
  paper_scale(keep_active_users(ratings, min_ratings))
}

# Section 5: 1..5 stars shifted to [-2, 2] (r - 3), half stars below 1 clipped.
paper_scale <- function(ratings) {
  rescale_ratings(ratings, from = c(1, 5), to = c(-2, 2), clamp = TRUE)
}

keep_active_users <- function(ratings, min_ratings, call = rlang::caller_env()) {
  check_count(min_ratings, min = 0, call = call)
  per_user <- tabulate(ratings$user, length(ratings$user_ids))
  active <- which(per_user >= min_ratings)
  if (length(active) == length(ratings$user_ids)) {
    return(ratings)
  }
  if (length(active) == 0L) {
    cfp_abort("No user has {min_ratings} or more ratings.", "empty", call = call)
  }
  keep <- per_user[ratings$user] >= min_ratings
  used_items <- sort(unique(ratings$item[keep]))
  new_cf_ratings(
    match(ratings$user[keep], active), match(ratings$item[keep], used_items), ratings$rating[keep],
    ratings$user_ids[active], ratings$item_ids[used_items], ratings$scale
  )
}

#' Read a GroupLens MovieLens release
#'
#' Reads the ratings file of a MovieLens release from GroupLens: ml-100k's
#' `u.data` (tab separated), ml-1m's and ml-10m's `ratings.dat` (`::`
#' separated) or ml-20m's and ml-latest's `ratings.csv` (with header; a
#' file without one is read whole). The format is told by the file name; each
#' line must hold user, movie, rating and timestamp, and a line with another
#' number of fields (a missing timestamp, another separator) is an error. Like the paper, it keeps users with at least
#' `min_ratings` ratings and, with `paper_scale = TRUE`, shifts stars to \[-2, 2\]
#' (r - 3; half stars below 1 are clipped to -2).
#'
#' With data.table installed, `u.data` and `ratings.csv` are read by
#' [data.table::fread()]: ml-20m's 20 million lines in seconds rather than
#' the minutes of base R's [scan()], which reads them otherwise (and always
#' reads `ratings.dat`). Both give the same ratings and refuse the same
#' malformed lines; `options(cfpoison.fread = FALSE)` forces [scan()].
#'
#' @param path The ratings file, or the release's folder holding one of them.
#' @param min_ratings Keep users with at least this many ratings (the paper: 20).
#' @param paper_scale Shift 1..5 stars to \[-2, 2\] as in Section 5.
#' @return A `cf_ratings` object with the release's user and movie ids.
#' @examples
#' path <- tempfile(fileext = ".data")
#' dir.create(path)
#' writeLines(c("1\t10\t5\t881250949", "1\t20\t3\t881250949", "2\t10\t1\t891717742"),
#'   file.path(path, "u.data"))
#' read_movielens(path, min_ratings = 1)
#' @export
read_movielens <- function(path, min_ratings = 20, paper_scale = TRUE) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    cfp_abort("{.arg path} must be a single file or folder path.", "type")
  }
  check_count(min_ratings, min = 0)
  check_flag(paper_scale)
  if (dir.exists(path)) {
    candidates <- file.path(path, c("u.data", "ratings.dat", "ratings.csv"))
    found <- candidates[file.exists(candidates)]
    if (length(found) == 0L) {
      cfp_abort(
        c("No MovieLens ratings file in {.path {path}}.",
          i = "Expected {.file u.data}, {.file ratings.dat} or {.file ratings.csv}."
        ),
        "file"
      )
    }
    path <- found[1]
  }
  if (!file.exists(path)) {
    cfp_abort("File {.path {path}} does not exist.", "file")
  }
  name <- basename(path)
  fields <- list(user = 0L, item = 0L, rating = 0, time = 0)
  call <- rlang::current_env()
  # One record per line (multi.line = FALSE): otherwise scan() fills a record
  # from the next line, and a file with a field missing or another separator
  # reads as shifted, wrong values.
  read <- function(layout, ...) {
    tryCatch(scan(path, ..., multi.line = FALSE, quiet = TRUE), error = function(e) {
      abort_ratings_file(path, conditionMessage(e), layout, call)
    })
  }
  # data.table's fread() reads ml-20m's 20M lines in seconds, scan() in
  # minutes; both give the same columns. fread() has no multi-character
  # separator, so "::" files always go through scan().
  fast <- isTRUE(getOption("cfpoison.fread", TRUE)) && requireNamespace("data.table", quietly = TRUE)
  read_delimited <- function(layout, sep, skip = 0L) {
    if (fast) read_fread(path, sep, skip, layout, call) else read(layout, what = fields, sep = sep, skip = skip)
  }
  data <- if (grepl("\\.data$", name)) {
    read_delimited("4 fields, user, item, rating and timestamp, separated by tabs", sep = "\t")
  } else if (grepl("\\.dat$", name)) {
    # "::" separated: scanning on ":" leaves an empty field between the values.
    raw <- read("4 fields, user, item, rating and timestamp, separated by \"::\"",
      what = list(user = 0L, NULL, item = 0L, NULL, rating = 0, NULL, time = 0), sep = ":"
    )
    raw[c("user", "item", "rating", "time")]
  } else if (grepl("\\.csv$", name)) {
    # The release has a header line; a file without one keeps its first rating.
    first <- readLines(path, n = 1L, warn = FALSE)
    has_header <- length(first) == 1L && is.na(suppressWarnings(as.numeric(sub(",.*", "", first))))
    read_delimited("4 fields, user, item, rating and timestamp, separated by commas",
      sep = ",", skip = as.integer(has_header)
    )
  } else {
    cfp_abort(
      c("Can't tell the format of {.file {name}}.",
        i = "Expected ml-100k {.file u.data}, ml-1m/10m {.file ratings.dat} or ml-20m/latest {.file ratings.csv}."
      ),
      "file"
    )
  }
  # MovieLens stars lie in [0.5, 5]: check that before the shift clips anything.
  scale <- if (paper_scale) c(0.5, 5)
  ratings <- ratings_from_triplets(data$user, data$item, data$rating, scale = scale)
  ratings <- keep_active_users(ratings, min_ratings)
  if (paper_scale) ratings <- paper_scale(ratings)
  ratings
}

# read_movielens()'s fast reader: the four columns of a MovieLens ratings
# file through data.table::fread(), as scan() reads them (integer user and
# item, numeric rating and time, blank lines skipped). What scan() rejects is
# an error here too: a line with another number of fields or a field that is
# not a number (fread() reads the column as text).
read_fread <- function(path, sep, skip, layout, call) {
  fail <- function(reason) abort_ratings_file(path, reason, layout, call)
  # No line after the header: no ratings, as scan() reads it (fread() fails).
  if (length(readLines(path, n = skip + 1L, warn = FALSE)) <= skip) {
    return(list(user = integer(0), item = integer(0), rating = numeric(0), time = numeric(0)))
  }
  # Warnings are collected, not caught: unwinding out of fread() mid-read
  # leaves its C state behind for the next call.
  warnings <- character()
  data <- tryCatch(
    withCallingHandlers(
      data.table::fread(path,
        sep = sep, header = FALSE, skip = skip, fill = TRUE, blank.lines.skip = TRUE, quote = "", na.strings = NULL,
        colClasses = list(integer = 1:2, numeric = 3:4), showProgress = FALSE, data.table = FALSE
      ),
      warning = function(w) {
        warnings <<- c(warnings, conditionMessage(w))
        invokeRestart("muffleWarning")
      }
    ),
    error = function(e) fail(conditionMessage(e))
  )
  # fill = TRUE pads short lines with NA and gives long ones extra columns:
  # without it, fread() can drop the lines before an odd one unannounced.
  where <- function(row) sprintf("Line %d (not counting blank lines)", row + skip)
  if (ncol(data) < 4L) fail(sprintf("Lines have %d fields, not 4.", ncol(data)))
  if (ncol(data) > 4L) fail(sprintf("%s has more than 4 fields.", where(which(!is.na(data[[5]]))[1])))
  types <- c("integer", "integer", "double", "double")
  for (j in 1:4) {
    if (typeof(data[[j]]) != types[j]) {
      bad <- data[[j]][is.na(suppressWarnings(as.numeric(data[[j]])))][1]
      fail(sprintf("Field %d holds %s, not a number.", j, encodeString(as.character(bad), quote = "'")))
    }
  }
  short <- which(is.na(data[[1]]) | is.na(data[[2]]) | is.na(data[[3]]) | is.na(data[[4]]))
  if (length(short) > 0L) fail(sprintf("%s has fewer than 4 fields.", where(short[1])))
  if (length(warnings) > 0L) fail(warnings[1])
  list(user = data[[1]], item = data[[2]], rating = data[[3]], time = data[[4]])
}

# A MovieLens ratings file that neither reader can parse: why, and the layout
# its name promises.
abort_ratings_file <- function(path, reason, layout, call) {
  cfp_abort(
    c("Can't read {.path {path}} as a MovieLens ratings file.",
      x = "{reason}",
      i = "{.file {basename(path)}} holds one rating per line: {layout}."
    ),
    "file",
    call = call
  )
}

#' Simulate low-rank ratings with popular and unpopular items
#'
#' Draws user and item factors with independent N(0, rank^(-1/2)) entries (so the
#' noiseless ratings `U V'` have unit variance; `user_mean` shifts the user
#' factors' entries), picks which (user, item) pairs
#' are observed with Zipf item popularity (item j is drawn with probability
#' proportional to `j^(-zipf_exponent)`; users uniformly), and observes
#' `U V'` plus Gaussian noise there, clipped to `scale`. The factors are kept as
#' the attribute `"truth"` (a list with `u` and `v`).
#'
#' Pairs are drawn with replacement, duplicates dropped and the draw topped up,
#' so the result has exactly `round(density * n_users * n_items)` ratings. This
#' scales to MovieLens-20M's shape (138,493 x 26,744, 20M ratings). Once more
#' than half of the pairs not yet drawn are still needed (from the start when
#' `density > 0.5`), or after 100 draws per rating (a steep `zipf_exponent`
#' repeats the popular pairs), the rest are drawn without replacement in one
#' go, from the same distribution, so that dense data, up to `density = 1`, is
#' fast. A `zipf_exponent` too steep to finish that way over more than 10
#' million pairs left is an error.
#'
#' @param n_users,n_items Matrix size.
#' @param rank Rank of the noiseless matrix.
#' @param density Share of observed entries, in (0, 1].
#' @param noise_sd Standard deviation of the Gaussian noise (0 for exact low rank).
#' @param zipf_exponent Item popularity exponent (0 for uniform).
#' @param scale Rating bounds to clip to, or `NULL` to keep raw values.
#' @param user_mean Mean of the user factors' entries. At 0 the users share no
#'   taste: every item's average rating over the users is about 0, and an
#'   integrity attack, which moves that average (the users' mean factor times
#'   `v_j` for item j), has almost nothing to work with. A positive value
#'   gives them a common taste along `(1, ..., 1)`, as real data has: items'
#'   average ratings then spread by about `user_mean * rank^(1/4)`, and the
#'   noiseless ratings' variance is `1 + user_mean^2 * sqrt(rank)`.
#' @param seed Optional seed; `NULL` uses the current RNG state.
#' @param threads Threads used to compute the ratings.
#' @return A `cf_ratings` object with integer ids `1..n_users` and `1..n_items`.
#' @examples
#' r <- simulate_ratings(200, 100, rank = 3, density = 0.1, seed = 42)
#' summary(r)
#' @export
simulate_ratings <- function(n_users, n_items, rank = 5, density = 0.05, noise_sd = 0.3,
                             zipf_exponent = 1, scale = c(-2, 2), user_mean = 0, seed = NULL,
                             threads = getOption("cfpoison.threads", 1L)) {
  n_users <- check_count(n_users)
  n_items <- check_count(n_items)
  rank <- check_count(rank, max = min(n_users, n_items))
  check_number(density, min = 0, max = 1, min_inclusive = FALSE)
  check_number(noise_sd, min = 0)
  check_number(zipf_exponent, min = 0)
  if (!is.null(scale)) scale <- check_scale(scale)
  check_number(user_mean)
  threads <- check_threads(threads)
  n_ratings <- round(density * n_users * n_items)
  if (n_ratings < 1) {
    cfp_abort("{.arg density} is too small: it gives no rating.", "value")
  }
  with_seed(seed, {
    sd <- rank^(-1 / 4)
    u <- matrix(stats::rnorm(n_users * rank, mean = user_mean, sd = sd), n_users, rank)
    v <- matrix(stats::rnorm(n_items * rank, sd = sd), n_items, rank)
    popularity <- seq_len(n_items)^(-zipf_exponent)
    # The first n_ratings distinct pairs of a stream of draws (in C++: unique()
    # and sort() on 20M keys take most of a minute), drawn here by R.
    draw <- function(size) {
      list(
        user = sample.int(n_users, size, replace = TRUE),
        item = sample.int(n_items, size, replace = TRUE, prob = popularity)
      )
    }
    seen <- call_core(.sample_pairs(draw, n_users, n_items, n_ratings))
    missing <- n_ratings - length(seen$user)
    if (missing > 0) {
      # Near saturation almost every draw hits a pair already drawn (at
      # density 1 the loop waits for the rarest pair, for minutes), so
      # .sample_pairs() stops once more than half of the pairs left are
      # missing, or after 100 draws per rating (a steep popularity). Finish
      # the same sampling without replacement over the pairs left, by
      # exponential keys (Efraimidis and Spirakis 2006), on the log scale
      # where a steep popularity underflows to 0.
      n_left <- as.double(n_users) * n_items - length(seen$user)
      if (n_left > max(2 * missing, 1e7)) {
        cfp_abort(
          c("{.arg zipf_exponent} = {zipf_exponent} concentrates the draws on too few items to observe {n_ratings} distinct (user, item) pairs.",
            i = "Lower {.arg zipf_exponent} or {.arg density}."
          ),
          "value"
        )
      }
      keys <- (seen$user - 1) * n_items + seen$item
      left <- setdiff(seq_len(as.double(n_users) * n_items), keys)
      log_key <- log(stats::rexp(length(left))) + zipf_exponent * log((left - 1) %% n_items + 1)
      keys <- sort(c(keys, left[order(log_key)][seq_len(missing)]))
      seen <- list(user = as.integer((keys - 1) %/% n_items) + 1L, item = as.integer((keys - 1) %% n_items) + 1L)
      rm(keys, left, log_key)
    }
    noise <- if (noise_sd > 0) stats::rnorm(n_ratings, sd = noise_sd) else numeric(0)
    bounds <- scale %||% c(-Inf, Inf)
    rating <- call_core(.simulated_values(u, v, seen$user, seen$item, noise, bounds[1], bounds[2], threads))
    rm(noise)
  })
  # Checked by their least and largest: at the 20M shape an elementwise test
  # took 1.4 s, range() (which copies them) 0.5 s.
  extent <- if (length(rating) > 0L) c(min(rating), max(rating)) else 0
  if (!all(is.finite(extent)) || max(abs(extent)) > max_abs_rating) {
    cfp_abort(
      c("The simulated ratings exceed {format(max_abs_rating)} in absolute value, the largest the package takes.",
        i = "Lower {.arg noise_sd} or {.arg user_mean}, or clip the ratings with a narrower {.arg scale}."
      ),
      "range"
    )
  }
  # The pairs are sorted by user, then item (.sample_pairs(), or the sorted
  # keys above).
  ratings <- new_cf_ratings(seen$user, seen$item, rating, seq_len(n_users), seq_len(n_items), scale, sorted = TRUE)
  attr(ratings, "truth") <- list(u = u, v = v)
  ratings
}
