# Argument checks shared by every stage. Each raises a classed error
# (`cfpoison_error_<what>`, `cfpoison_error`) that names the argument and the fix.

cfp_abort <- function(message, what, ..., call = rlang::caller_env(), .envir = parent.frame()) {
  cli::cli_abort(
    message,
    class = c(paste0("cfpoison_error_", what), "cfpoison_error"),
    ...,
    call = call,
    .envir = .envir
  )
}

check_number <- function(x, arg = rlang::caller_arg(x), min = -Inf, max = Inf,
                         min_inclusive = TRUE, max_inclusive = TRUE, call = rlang::caller_env()) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x)) {
    what <- if (is.numeric(x) && length(x) == 1L) format(x) else cli::format_inline("{.obj_type_friendly {x}}")
    cfp_abort("{.arg {arg}} must be a single finite number, not {what}.", "type", call = call)
  }
  below <- if (min_inclusive) x < min else x <= min
  above <- if (max_inclusive) x > max else x >= max
  if (below || above) {
    lower <- if (min_inclusive) ">=" else ">"
    upper <- if (max_inclusive) "<=" else "<"
    cfp_abort(
      c("{.arg {arg}} must be {lower} {min}{if (is.finite(max)) paste0(' and ', upper, ' ', max) else ''}.",
        x = "It is {x}."
      ),
      "value",
      call = call
    )
  }
  invisible(as.double(x))
}

# Counts cross to C++ as int: the default `max` keeps them in its range
# (as.integer() would turn a larger one into NA with only a warning).
check_count <- function(x, arg = rlang::caller_arg(x), min = 1, max = .Machine$integer.max,
                        call = rlang::caller_env()) {
  check_number(x, arg = arg, min = min, max = min(max, .Machine$integer.max), call = call)
  if (x != round(x)) {
    cfp_abort(c("{.arg {arg}} must be a whole number.", x = "It is {x}."), "type", call = call)
  }
  invisible(as.integer(x))
}

# A classed error for a required argument the caller left out. `missing()`
# sees through the caller's own missing argument when `x` is passed by name.
check_required <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (missing(x)) {
    cfp_abort(
      c("{.arg {arg}} is missing, with no default.", i = "Give {.arg {arg}}; see the function's help."),
      "missing",
      call = call
    )
  }
  invisible(TRUE)
}

check_flag <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    cfp_abort("{.arg {arg}} must be {.code TRUE} or {.code FALSE}.", "type", call = call)
  }
  invisible(x)
}

# Refuses arguments the caller set that the chosen settings leave unused: an
# ignored argument would run another computation than the one asked for.
# `unused` is a named character vector, each argument that the caller set
# (`!missing()`) and the settings leave unused with the reason (cli markup);
# the caller builds it with c(), whose NULL entries drop out.
refuse_unused <- function(unused, call = rlang::caller_env()) {
  if (length(unused) == 0L) {
    return(invisible())
  }
  arg <- names(unused)[1]
  cfp_abort(
    c(paste0("{.arg {arg}} is not used here: ", unused[[1]], "."),
      i = "Drop {.arg {arg}}, or choose the setting that uses it."
    ),
    "value",
    call = call
  )
}

# An object of the package's own classes that was edited by hand fails where
# it enters, as its constructor fails on its fields (`rebuild()` runs the
# constructor on them), not deep inside an attack or in the core.
check_not_damaged <- function(rebuild, arg, class, hint, call = rlang::caller_env()) {
  rebuilt <- tryCatch(rebuild(), cfpoison_error = function(e) e)
  if (inherits(rebuilt, "cfpoison_error")) {
    cfp_abort(
      c("{.arg {arg}} is a damaged {.cls {class}}.", x = "{conditionMessage(rebuilt)}", i = hint),
      "value",
      call = call
    )
  }
  invisible()
}

# Ids to look up with match(), which is lenient ("3" finds the id 3) but finds
# the id 1 for TRUE and matches a list element by element: neither is an id.
check_ids <- function(ids, universe, arg = rlang::caller_arg(ids), call = rlang::caller_env()) {
  logical_ids <- is.logical(ids) && !is.logical(universe) && !all(is.na(ids))
  if (!is.atomic(ids) || !is.null(dim(ids)) || logical_ids) {
    cfp_abort(
      c("{.arg {arg}} must be a vector of ids, not {.obj_type_friendly {ids}}.",
        i = "Give character, numeric or factor ids, as in the ratings' {.field user_ids} and {.field item_ids}."
      ),
      "type",
      call = call
    )
  }
  invisible(ids)
}

check_threads <- function(threads, call = rlang::caller_env()) {
  check_count(threads, arg = "threads", min = 1, max = 1024, call = call)
}

check_ratings <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  check_required(x, arg = arg, call = call)
  if (!inherits(x, "cf_ratings")) {
    cfp_abort(
      c("{.arg {arg}} must be a {.cls cf_ratings} object, not {.obj_type_friendly {x}}.",
        i = "Convert a data frame, matrix or sparse matrix with {.fn as_ratings}."
      ),
      "type",
      call = call
    )
  }
  check_ratings_fields(x, arg = arg, call = call)
  invisible(x)
}

# The invariants of a cf_ratings (see new_cf_ratings()), checked because the
# C++ core trusts them: a cf_ratings edited by hand must fail here, in R, with
# the field it broke.
check_ratings_fields <- function(x, arg, call = rlang::caller_env()) {
  damaged <- function(problem, what, env = parent.frame()) {
    problem <- cli::format_inline(problem, .envir = env)
    cfp_abort(
      c("{.arg {arg}} is a damaged {.cls cf_ratings}: {problem}.",
        i = "Build ratings with {.fn as_ratings} and change them through it, not by editing their fields."
      ),
      what,
      call = call
    )
  }
  if (!is.list(x) || !all(c("user", "item", "rating", "user_ids", "item_ids") %in% names(x))) {
    damaged("it lacks the fields {.field user}, {.field item}, {.field rating}, {.field user_ids} or {.field item_ids}", "type")
  }
  if (!is.integer(x$user) || !is.integer(x$item) || !is.double(x$rating)) {
    damaged("{.field user} and {.field item} must be integer and {.field rating} double", "type")
  }
  n <- length(x$rating)
  if (length(x$user) != n || length(x$item) != n) {
    damaged("{.field user}, {.field item} and {.field rating} have lengths {length(x$user)}, {length(x$item)} and {n}", "shape")
  }
  for (side in c("user", "item")) {
    size <- length(x[[paste0(side, "_ids")]])
    index <- x[[side]]
    if (anyNA(index) || any(index < 1L | index > size)) {
      damaged("its {.field {side}} indices must lie in 1..{size} (one per {side} id)", "value")
    }
  }
  bad <- which(!is.finite(x$rating))
  if (length(bad) > 0L) {
    damaged("{length(bad)} rating{?s} {?is/are} NA, NaN or infinite (first at entry {bad[1]})", "missing")
  }
  check_rating_magnitude(x$rating, call = call)
  is_fake <- x[["is_fake"]]
  if (!is.null(is_fake) && (!is.logical(is_fake) || length(is_fake) != length(x$user_ids) || anyNA(is_fake))) {
    damaged("its {.field is_fake} must be TRUE or FALSE for each of its {length(x$user_ids)} user id{?s}", "value")
  }
  if (is.unsorted((x$user - 1) * length(x$item_ids) + x$item, strictly = TRUE)) {
    damaged("its entries must be sorted by user, then item, with one rating per (user, item) pair", "value")
  }
  invisible(x)
}

# The largest |rating| the package takes: the core sums squared ratings and
# products of factors of their size, which overflow long before the double
# range ends (1e200 ratings make every ridge system look singular).
max_abs_rating <- 1e100

check_rating_magnitude <- function(rating, call = rlang::caller_env()) {
  huge <- which(abs(rating) > max_abs_rating)
  if (length(huge) > 0L) {
    cfp_abort(
      c("{length(huge)} rating{?s} {?is/are} larger than {format(max_abs_rating)} in absolute value (first at entry {huge[1]}: {format(rating[huge[1]])}).",
        i = "Rescale them, e.g. with {.fn rescale_ratings} onto the paper's [-2, 2]."
      ),
      "range",
      call = call
    )
  }
  invisible(rating)
}

# Runs a call into the C++ core and turns a C++ exception into a classed R error.
call_core <- function(expr, call = rlang::caller_env()) {
  tryCatch(expr, "C++Error" = function(e) {
    cfp_abort(c("The C++ core failed.", x = conditionMessage(e)), "numerical", call = call)
  })
}

# Evaluates `code` with the RNG seeded by `seed` (when not NULL), restoring the
# caller's RNG state afterwards so that a seeded helper does not disturb it.
# The seeded code always runs under R's default generators, so a seed gives
# the same result whatever RNGkind() the caller uses: future's parallel-safe
# streams (L'Ecuyer-CMRG, as in attack_grid()) included.
with_seed <- function(seed, code) {
  if (is.null(seed)) {
    return(code)
  }
  check_count(seed, arg = "seed", min = 0)
  old_kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) old <- get(".Random.seed", envir = globalenv())
  on.exit(
    {
      RNGkind(old_kind[1], old_kind[2], old_kind[3])
      if (had_seed) {
        assign(".Random.seed", old, envir = globalenv())
      } else {
        rm(".Random.seed", envir = globalenv())
      }
    },
    add = TRUE
  )
  set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  code
}

# Writes one line of cli-formatted text to standard output (print methods must
# print to stdout, where cli's semantic output would go to the message stream).
cat_line <- function(..., .envir = parent.frame()) {
  cat(cli::format_inline(..., .envir = .envir), "\n", sep = "")
}

# rlang::arg_match() for a choice argument, with a classed error: the choices
# are the caller's default for that argument.
cfp_arg_match <- function(arg, error_arg = rlang::caller_arg(arg), call = rlang::caller_env()) {
  values <- eval(formals(sys.function(sys.parent()))[[error_arg]], envir = call)
  if (identical(arg, values)) {
    return(values[1])
  }
  if (!is.character(arg) || length(arg) != 1L || is.na(arg) || !arg %in% values) {
    cfp_abort(
      c("{.arg {error_arg}} must be one of {.or {.val {values}}}.",
        x = if (is.character(arg) && length(arg) == 1L) "It is {.val {arg}}." else "It is {.obj_type_friendly {arg}}."
      ),
      "value",
      call = call
    )
  }
  arg
}
