# The boundary to the C++ core: the one layout of ratings and the one encoding
# of a learner that every stage hands over (read by src/boundary.h).

# The real users' ratings and, when given, the fake users of `attack` (anything
# as_cf_attack() takes) as rows after them (the joint data of Eq. 4 and 5),
# 1-based, in cf_ratings order (by user, then item): `user`, `item`, `rating`,
# the row ids `user_ids` (real, then fake), `is_fake` (`NULL` without fake
# users), `n_items` and the rating `scale`.
joint_ratings <- function(ratings, attack = NULL, call = rlang::caller_env()) {
  check_ratings(ratings, call = call)
  data <- list(
    user = ratings$user, item = ratings$item, rating = ratings$rating, user_ids = ratings$user_ids,
    n_items = length(ratings$item_ids), scale = ratings$scale, is_fake = NULL
  )
  if (is.null(attack)) {
    return(data)
  }
  fake <- as_cf_attack(attack, ratings, arg = "attack", call = call)$fake
  m <- length(ratings$user_ids)
  data$user <- c(ratings$user, fake$user + m)
  data$item <- c(ratings$item, fake$item)
  data$rating <- c(ratings$rating, fake$rating)
  data$user_ids <- c(ratings$user_ids, fake$user_ids)
  data$is_fake <- rep(c(FALSE, TRUE), c(m, length(fake$user_ids)))
  data
}

# A joint layout (or a cf_ratings) as the core reads it: 0-based indices over
# n_users x n_items (src/boundary.h, read_ratings()).
core_ratings <- function(data) {
  if (inherits(data, "cf_ratings")) data <- joint_ratings(data)
  list(
    user = data$user - 1L, item = data$item - 1L, rating = data$rating,
    n_users = length(data$user_ids), n_items = data$n_items
  )
}

# A learner as the core reads it (src/boundary.h, read_learner()): the
# weights of its factored fit (Eq. 2; the nuclear norm's is Eq. 2 with
# lambda / 2 on each factor), its loss, its biases and its stopping rule.
core_learner <- function(learner) {
  penalties <- factor_penalties(learner)
  list(
    nuclear = inherits(learner, "cf_learner_nuclear"),
    lambda_u = penalties[["lambda_u"]],
    lambda_v = penalties[["lambda_v"]],
    lambda = learner[["lambda"]] %||% 0,
    huber_delta = if (identical(learner[["loss"]], "huber")) learner$huber_delta else 0,
    biases = is_biased(learner),
    lambda_bias = learner[["lambda_bias"]] %||% 0,
    max_iter = learner$max_iter,
    tol = learner$tol,
    # Set by accelerated() only: the package's refits to a tolerance
    # (refit_learner()) and the default search's, which must agree with them.
    anderson = learner[["anderson"]] %||% 0L
  )
}
