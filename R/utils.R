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
                         min_inclusive = TRUE, call = rlang::caller_env()) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x)) {
    what <- if (is.numeric(x) && length(x) == 1L) format(x) else cli::format_inline("{.obj_type_friendly {x}}")
    cfp_abort("{.arg {arg}} must be a single finite number, not {what}.", "type", call = call)
  }
  below <- if (min_inclusive) x < min else x <= min
  if (below || x > max) {
    bound <- if (min_inclusive) ">=" else ">"
    cfp_abort(
      c("{.arg {arg}} must be {bound} {min}{if (is.finite(max)) paste0(' and <= ', max) else ''}.",
        x = "It is {x}."
      ),
      "value",
      call = call
    )
  }
  invisible(as.double(x))
}

check_count <- function(x, arg = rlang::caller_arg(x), min = 1, max = Inf, call = rlang::caller_env()) {
  check_number(x, arg = arg, min = min, max = max, call = call)
  if (x != round(x)) {
    cfp_abort(c("{.arg {arg}} must be a whole number.", x = "It is {x}."), "type", call = call)
  }
  invisible(as.integer(x))
}

check_flag <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    cfp_abort("{.arg {arg}} must be {.code TRUE} or {.code FALSE}.", "type", call = call)
  }
  invisible(x)
}

check_threads <- function(threads, call = rlang::caller_env()) {
  check_count(threads, arg = "threads", min = 1, max = 1024, call = call)
}

check_ratings <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!inherits(x, "cf_ratings")) {
    cfp_abort(
      c("{.arg {arg}} must be a {.cls cf_ratings} object, not {.obj_type_friendly {x}}.",
        i = "Convert a data frame, matrix or sparse matrix with {.fn as_ratings}."
      ),
      "type",
      call = call
    )
  }
  invisible(x)
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
  check_count(seed, arg = "seed", min = 0, max = .Machine$integer.max)
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
