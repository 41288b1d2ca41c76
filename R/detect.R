# Detection of fake users: the classic shilling-detection features per user,
# PCA variable selection, and the AUC that scores a detector. Everything is
# computed on the poisoned data (real plus fake users): a detector run on the
# clean data sees no attack (RecAD issue 8 made that mistake).

#' Shilling-detection features of every user
#'
#' Computes the generic profile features of the shilling-detection literature
#' for every user of the poisoned data: the real users of `ratings`, then the
#' fake users of `attack`. Item statistics, the mean profile length and the
#' neighbours of DegSim all come from the combined data, as a defender would
#' see it.
#'
#' Notation: \eqn{I_u} is the set of items user u rated, \eqn{N_u = |I_u|} its
#' profile length, \eqn{NR_i} the number of ratings of item i and
#' \eqn{\bar r_i} their mean (both over real and fake users).
#'
#' * `rdma`, rating deviation from mean agreement (Chirita, Nejdl and Zamfir
#'   2005): \eqn{RDMA_u = \frac{1}{N_u} \sum_{i \in I_u} |r_{ui} - \bar r_i| / NR_i}.
#' * `wdma`, weighted deviation from mean agreement (Burke, Mobasher, Williams
#'   and Bhaumik 2006): \eqn{WDMA_u = \frac{1}{N_u} \sum_{i \in I_u} |r_{ui} - \bar r_i| / NR_i^2}.
#' * `wda`, weighted degree of agreement (Burke et al. 2006, as collected in
#'   the package's references; not checked against the primary text):
#'   \eqn{WDA_u = \sum_{i \in I_u} |r_{ui} - \bar r_i| / NR_i}, RDMA without
#'   the division by \eqn{N_u}.
#' * `length_var`, length variance (Burke et al. 2006):
#'   \eqn{LengthVar_u = |N_u - \bar N| / \sum_v (N_v - \bar N)^2}, with the mean
#'   and the sum over all users (including any without ratings); 0 for every
#'   user when all lengths are equal.
#' * `mean_var`, filler mean variance (Mobasher, Burke, Bhaumik and Williams
#'   2007): \eqn{MeanVar_u = \frac{1}{|P_F|} \sum_{j \in P_F} (r_{uj} - \bar r_j)^2},
#'   where the filler set \eqn{P_F} is the user's items except those it rated
#'   \eqn{r_{max}}, the top of the rating scale (`ratings$scale[2]` when the
#'   scale is set, otherwise the largest rating in the poisoned data; ratings
#'   within a relative 1.5e-8 of it count as \eqn{r_{max}}, absorbing rounding
#'   from [rescale_ratings()]). 0 when \eqn{P_F} is empty.
#' * `degsim`, degree of similarity with top neighbours (Chirita et al. 2005;
#'   Burke et al. 2006): the mean of the user's `k` largest Pearson
#'   similarities to other users,
#'   \eqn{W_{uv} = \sum_{i} (r_{ui} - \bar r_u)(r_{vi} - \bar r_v) /
#'   \sqrt{\sum_{i} (r_{ui} - \bar r_u)^2 \sum_{i} (r_{vi} - \bar r_v)^2}}
#'   with the sums over the co-rated items \eqn{I_u \cap I_v} and
#'   \eqn{\bar r_u} the user's mean over its *whole profile*: the
#'   collaborative-filtering form of Pearson's correlation (Resnick et al.
#'   1994; Breese, Heckerman and Kadie 1998). The DegSim papers name Pearson's
#'   correlation without fixing the means; this choice is ours. It is not
#'   `cor()` on the co-rated vectors, which centres them on their co-rated
#'   means, and it needs 4 running sums per pair instead of 6. Pairs with
#'   fewer than `min_corated` co-rated items are *excluded*: they are not
#'   neighbours. A pair where either user's co-rated ratings all
#'   equal its mean has an undefined similarity and counts as 0. Similarities
#'   are not discounted for few co-rated items. A user with fewer than `k`
#'   neighbours gets the mean over those it has, and 0 with none.
#'
#' * `popularity`, popularity deviation (ours): how far the popularity of the
#'   items a profile rates strays from what its length leads one to expect.
#'   With \eqn{E} and \eqn{S} the mean and standard deviation of
#'   \eqn{\log(1 + NR_i)} over all ratings, a profile of \eqn{N_u} items
#'   drawn as ratings are drawn has mean log-popularity \eqn{E} with
#'   standard deviation \eqn{S / \sqrt{N_u}}; the feature is
#'   \eqn{|z_u|}, \eqn{z_u = (\frac{1}{N_u} \sum_{i \in I_u} \log(1 + NR_i) - E) / (S / \sqrt{N_u})}.
#'   It flags fake users who rate only rare items (as the strongest
#'   availability attacks do) or only popular ones, at any profile length,
#'   where the paired t-test's frequency reading ([detect_ttest()]) tests
#'   profile length alone.
#'
#' A user without ratings has `rdma`, `wdma`, `wda`, `mean_var`, `degsim` and
#' `popularity` 0.
#'
#' Which direction is suspicious depends on the attack: random and uniform
#' fake users deviate from the item means (high RDMA, WDMA, WDA, MeanVar),
#' while average-attack fillers sit on them (low MeanVar); fake users with the
#' same profile are each other's neighbours (high DegSim). [detection_auc()]
#' below 0.5 means the feature separates in the other direction.
#'
#' **Cost.** The features are computed in the C++ core. All but DegSim take
#' O(ratings). DegSim never forms a user x user matrix: for each user it
#' accumulates co-rating sums with every user sharing an item through the
#' item-by-user index and keeps the `k` largest similarities in a heap, in
#' \eqn{O(\sum_i NR_i^2)} time over all users (\eqn{O(\sum_{i \in I_u} NR_i)}
#' per user) and \eqn{O(threads \cdot users)} memory beyond the index. On
#' MovieLens-20M-sized data that is about \eqn{5 \cdot 10^{11}} pair updates,
#' most of an hour of CPU time (see `inst/bench/detect.R`): restrict `users`
#' to a sample when that is enough.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings) with the 20
#' fake users of an \eqn{\alpha = 3\%} attack: about 0.05 s on one thread.
#'
#' @param ratings The real users' ratings (`cf_ratings`).
#' @param attack The fake users: a `cf_attack` computed on `ratings`, its `fake`
#'   block, or fake users you built: a `cf_ratings` over the same items as
#'   `ratings` (`as_ratings(df, items = ratings$item_ids)`) or a data frame
#'   with columns `user` (any ids), `item` (ids from `ratings$item_ids`) and
#'   `rating`. `NULL` computes the features of the real users alone.
#' @param k Number of nearest neighbours averaged by DegSim.
#' @param min_corated Fewest co-rated items for two users to be DegSim
#'   neighbours. The default 2 is the fewest for which the similarity says
#'   anything (over one item it is -1, 0 or 1). The DegSim papers fix no
#'   value; neighbourhood methods commonly ask for more overlap or discount
#'   similarities over few items (Herlocker, Konstan, Borchers and Riedl 1999
#'   scale them by n/50 below 50 co-rated items; not checked against the
#'   primary text), which raising it approximates. It changes which
#'   users are neighbours, not the cost (see Cost), except that a user with
#'   fewer ratings than `min_corated` has no neighbour and costs nothing.
#' @param users Optional ids (as in the result's `user` column) of the users
#'   whose features are returned; the others still count in the item
#'   statistics, in the mean length and as neighbours. `NULL` returns all.
#' @param threads Number of OpenMP threads for DegSim; results are identical
#'   for any value.
#' @return A `cf_features` tibble with one row per user (real users first,
#'   then fake ones; only `users` when given). With `is_fake`,
#'   [autoplot()][autoplot.cf_features] draws each feature's ROC curve.
#'   \describe{
#'     \item{`user`}{The user's id (`ratings$user_ids`, then the fake users'
#'       ids).}
#'     \item{`is_fake`}{Whether the user is fake; only when `attack` is given.}
#'     \item{`length`}{Profile length \eqn{N_u}, the number of items rated
#'       (integer).}
#'     \item{`rdma`, `wdma`, `wda`, `length_var`, `mean_var`,
#'       `degsim`, `popularity`}{The features defined above (numbers, 0 or
#'       more except `degsim`, a mean of correlations in \[-1, 1\]).}
#'   }
#' @references
#' Chirita, Nejdl and Zamfir (2005). Preventing shilling attacks in online
#' recommender systems. WIDM '05.
#'
#' Burke, Mobasher, Williams and Bhaumik (2006). Classification features for
#' attack detection in collaborative recommender systems. KDD '06.
#'
#' Mobasher, Burke, Bhaumik and Williams (2007). Toward trustworthy
#' recommender systems. ACM TOIT 7(4).
#'
#' Resnick, Iacovou, Suchak, Bergstrom and Riedl (1994). GroupLens: an open
#' architecture for collaborative filtering of netnews. CSCW '94.
#'
#' Breese, Heckerman and Kadie (1998). Empirical analysis of predictive
#' algorithms for collaborative filtering. UAI '98.
#'
#' Herlocker, Konstan, Borchers and Riedl (1999). An algorithmic framework
#' for performing collaborative filtering. SIGIR '99.
#' @seealso [detect_pca()], [detection_auc()], [detection_roc()],
#'   [autoplot.cf_features()].
#' @examples
#' r <- simulate_ratings(200, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 15), seed = 1)
#' features <- detect_features(r, attack$fake, k = 10)
#' head(features)
#' detection_auc(features$rdma, features$is_fake)
#' @export
detect_features <- function(ratings, attack = NULL, k = 25, users = NULL, min_corated = 2,
                            threads = getOption("cfpoison.threads", 1L)) {
  data <- joint_ratings(ratings, attack)
  k <- check_count(k, min = 1)
  min_corated <- check_count(min_corated, min = 1)
  threads <- check_threads(threads)
  rows <- selected_rows(users, data$user_ids)
  m <- length(data$user_ids)
  n <- data$n_items

  # Ratings a relative 1.5e-8 from r_max count as r_max: a rescaled 5-star
  # rating can land an ulp below the scale's end.
  r_max <- if (is.null(data$scale)) max(data$rating) else data$scale[2]
  res <- call_core(.detect_features(
    core_ratings(data), rows - 1L, k, min_corated, r_max, sqrt(.Machine$double.eps) * max(1, abs(r_max)), threads
  ))
  per_user <- c("length", "rdma", "wdma", "wda", "length_var", "mean_var")
  features <- c(
    lapply(res[per_user], `[`, rows),
    list(degsim = res$degsim, popularity = abs(popularity_z(data))[rows])
  )
  # The class is what autoplot() dispatches on.
  tibble::new_tibble(detection_frame(data, rows, features), class = "cf_features")
}

#' PCA variable selection of fake users
#'
#' Scores every user of the poisoned data (real users of `ratings`, then the
#' fake users of `attack`) by PCA variable selection (Mehta and Nejdl 2009, as
#' in SDLib's `PCASelectUsers`): fake users are built alike and carry little of
#' the data's main directions of variation, so a *low* score is suspicious.
#'
#' * X is the users x items rating matrix with missing entries 0 (as in
#'   SDLib; on the paper's \[-2, 2\] scale that equals a 3-star rating).
#' * Each item column is z-scored over all users, missing entries included:
#'   \eqn{X_z = (X - 1 \mu') D^{-1}} with \eqn{\mu_j} the column mean and
#'   \eqn{D_j} the column's standard deviation. A constant column (an item
#'   nobody rated, or one every user rated alike) is set to 0.
#' * The principal components are the top `n_components` eigenvectors of the
#'   user x user matrix \eqn{X_z X_z'}, i.e. the top left singular vectors
#'   \eqn{U} of \eqn{X_z}: users are the variables, items the observations.
#'   A user's score is the sum of its squared loadings,
#'   \eqn{score_u = \sum_{c \le n\_components} U_{uc}^2} (the scores sum to
#'   `n_components`). SDLib's code instead takes eigenvectors of the item x
#'   item matrix \eqn{X_z' X_z} and sums \eqn{X_z^2} times them; we follow the
#'   method's description (users' loadings), as the package's references do.
#' * `suspicion = -score`, so that, as for every detector here, higher means
#'   more suspicious.
#'
#' **Computation.** \eqn{X_z} is never formed: products with it use the sparse
#' ratings plus the rank-one shift in factored form,
#' \eqn{X_z W = X D^{-1} W - 1 (\mu' D^{-1} W)}, and
#' \eqn{X_z' Q = D^{-1} (X' Q - \mu (1' Q))}. The top singular vectors come from
#' block subspace iteration with Rayleigh-Ritz extraction on a block of
#' `n_components + 10` columns (at most min(users, items)), started from a
#' fixed Gaussian block (drawn with seed 1, leaving the caller's random stream
#' untouched), until the top subspace moves by at most `tol` (square root of
#' the sum of squared sines of the principal angles) between iterations. Each
#' iteration costs O(ratings x block + (users + items) x block^2).
#'
#' @inheritParams detect_features
#' @param n_components Number of principal components (SDLib: 3).
#' @param max_iter Maximum number of subspace iterations; a warning is raised
#'   when the subspace has not settled by then.
#' @param tol Convergence tolerance on the subspace (see Computation).
#' @param threads Number of OpenMP threads for the sparse products; results are
#'   identical for any value.
#' @return A `cf_features` tibble, like [detect_features()]'s, with one row per user (real users first, then fake
#'   ones). The top singular values of \eqn{X_z} are attached as attribute
#'   `"singular_values"` (a small gap after the last one means the scores are
#'   ill-determined).
#'   \describe{
#'     \item{`user`}{The user's id.}
#'     \item{`is_fake`}{Whether the user is fake; only when `attack` is given.}
#'     \item{`score`}{The sum of the user's squared loadings on the top
#'       `n_components` components, between 0 and 1 (the scores sum to
#'       `n_components`); low is suspicious.}
#'     \item{`suspicion`}{`-score`: higher is more suspicious. With `is_fake`,
#'       [autoplot()][autoplot.cf_features] draws its ROC curve
#'       (`features = "suspicion"`; `score` ranks in reverse).}
#'   }
#' @references
#' Mehta and Nejdl (2009). Unsupervised strategies for shilling detection and
#' robust collaborative filtering. User Modeling and User-Adapted Interaction
#' 19(1-2).
#'
#' Halko, Martinsson and Tropp (2011). Finding structure with randomness.
#' SIAM Review 53(2).
#' @seealso [detect_features()], [detection_auc()], [autoplot.cf_features()].
#' @examples
#' r <- simulate_ratings(200, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 15), seed = 1)
#' pca <- detect_pca(r, attack$fake)
#' detection_auc(pca$suspicion, pca$is_fake)
#' autoplot(pca, features = "suspicion")
#' @export
detect_pca <- function(ratings, attack = NULL, n_components = 3, max_iter = 200, tol = 1e-8,
                       threads = getOption("cfpoison.threads", 1L)) {
  data <- joint_ratings(ratings, attack)
  m <- length(data$user_ids)
  n <- data$n_items
  n_components <- check_count(n_components, min = 1, max = min(m, n))
  max_iter <- check_count(max_iter, min = 1)
  check_number(tol, min = 0)
  threads <- check_threads(threads)

  block <- min(n_components + 10L, m, n)
  start <- with_seed(1L, matrix(stats::rnorm(n * block), n, block))
  res <- call_core(.pca_select_users(core_ratings(data), start, n_components, max_iter, tol, threads))
  if (!res$converged) {
    cli::cli_warn(
      c("The PCA subspace did not settle to {.arg tol} = {tol} in {max_iter} iteration{?s}.",
        i = "Raise {.arg max_iter}. A tiny gap after singular value {n_components} leaves the scores ill-determined."
      ),
      class = "cfpoison_warning_convergence"
    )
  }
  out <- detection_frame(data, seq_len(m), list(score = res$score, suspicion = -res$score))
  # Per-user detector scores like detect_features()'s: autoplot() draws their ROC curves.
  class(out) <- c("cf_features", class(out))
  attr(out, "singular_values") <- res$singular_values
  out
}

#' Area under the ROC curve of a detector
#'
#' The probability that a randomly chosen fake user scores above a randomly
#' chosen real user, ties counting 1/2: the Mann-Whitney U statistic of the
#' fake users' scores divided by \eqn{n_1 n_0}, computed exactly from mid-ranks,
#' \eqn{AUC = (\sum_{fake} rank - n_1 (n_1 + 1) / 2) / (n_1 n_0)} with \eqn{n_1}
#' fake and \eqn{n_0} real users. 1 is a perfect detector, 0.5 one that
#' guesses, below 0.5 one that ranks in the wrong direction.
#'
#' @param scores Numeric scores, higher meaning more suspicious (for example a
#'   column of [detect_features()] or `suspicion` of [detect_pca()]).
#' @param is_fake Logical: which users are fake, with at least one `TRUE` and
#'   one `FALSE`.
#' @return The AUC, a number in \[0, 1\].
#' @examples
#' detection_auc(c(0.1, 0.4, 0.35, 0.8), c(FALSE, FALSE, TRUE, TRUE))
#' @export
detection_auc <- function(scores, is_fake) {
  n <- check_detection_scores(scores, is_fake)
  # Mid-ranks give tied pairs 1/2; rank sums are exact in double precision.
  ranks <- rank(scores)
  (sum(ranks[is_fake]) - n$n_fake * (n$n_fake + 1) / 2) / (n$n_fake * n$n_real)
}

#' ROC curve of a detector
#'
#' The receiver operating characteristic of flagging every user whose score is
#' at least a threshold, for each distinct score from the highest down: the
#' share of real users flagged (false positive rate) against the share of fake
#' users flagged (true positive rate). Users with tied scores are flagged
#' together, so a tie is one diagonal step, and the trapezoid area under the
#' curve equals [detection_auc()].
#'
#' @inheritParams detection_auc
#' @return A tibble with one row per distinct score (highest first) after a
#'   first row with threshold `Inf` that flags no one: the curve runs from
#'   (0, 0) to (1, 1).
#'   \describe{
#'     \item{`threshold`}{Users whose score is at least this are flagged.}
#'     \item{`fpr`}{False positive rate: the share of real users flagged.}
#'     \item{`tpr`}{True positive rate: the share of fake users flagged.}
#'   }
#' @seealso [detection_auc()], [autoplot.cf_features()] to draw the curves of
#'   [detect_features()].
#' @examples
#' roc <- detection_roc(c(0.1, 0.4, 0.35, 0.8), c(FALSE, FALSE, TRUE, TRUE))
#' roc
#' # The trapezoid area is the AUC.
#' sum(diff(roc$fpr) * (head(roc$tpr, -1) + tail(roc$tpr, -1)) / 2)
#' @export
detection_roc <- function(scores, is_fake) {
  n <- check_detection_scores(scores, is_fake)
  o <- order(scores, decreasing = TRUE)
  sorted <- scores[o]
  # The last user of each run of tied scores closes that threshold's step.
  last <- c(sorted[-1] != sorted[-length(sorted)], TRUE)
  tibble::tibble(
    threshold = c(Inf, sorted[last]),
    fpr = c(0, cumsum(!is_fake[o])[last] / n$n_real),
    tpr = c(0, cumsum(is_fake[o])[last] / n$n_fake)
  )
}

# Checks a detector's scores against the fake flags (shared by detection_auc()
# and detection_roc()) and returns the numbers of fake and real users.
check_detection_scores <- function(scores, is_fake, call = rlang::caller_env()) {
  if (!is.numeric(scores)) {
    cfp_abort("{.arg scores} must be numeric, not {.obj_type_friendly {scores}}.", "type", call = call)
  }
  if (!is.logical(is_fake)) {
    cfp_abort(
      c("{.arg is_fake} must be logical, not {.obj_type_friendly {is_fake}}.",
        i = "Use the {.field is_fake} column of a detector's result."
      ),
      "type",
      call = call
    )
  }
  if (length(scores) != length(is_fake)) {
    cfp_abort(
      "{.arg scores} has {length(scores)} value{?s} but {.arg is_fake} has {length(is_fake)}: give one of each per user.",
      "shape",
      call = call
    )
  }
  if (anyNA(scores) || anyNA(is_fake)) {
    cfp_abort("{.arg scores} and {.arg is_fake} must not contain NA or NaN.", "missing", call = call)
  }
  n_fake <- as.double(sum(is_fake))
  n_real <- length(is_fake) - n_fake
  if (n_fake == 0 || n_real == 0) {
    cfp_abort(
      c("{.arg is_fake} must mark at least one fake and one real user.",
        x = "It has {n_fake} fake and {n_real} real user{?s}."
      ),
      "value",
      call = call
    )
  }
  list(n_fake = n_fake, n_real = n_real)
}

# Rows (in the poisoned data's user order) of the users a caller asked for.
selected_rows <- function(users, user_ids, call = rlang::caller_env()) {
  if (is.null(users)) {
    return(seq_along(user_ids))
  }
  rows <- match(users, user_ids)
  if (length(users) == 0L || anyNA(rows)) {
    unknown <- users[is.na(rows)]
    cfp_abort(
      c("{.arg users} must be ids of users in the data.",
        x = if (length(users) == 0L) "It is empty." else "Unknown: {.val {utils::head(unknown, 5)}}."
      ),
      "value",
      call = call
    )
  }
  sort(unique(rows))
}

# A detector's tidy result: user ids, the fake flag when there are fake users,
# then the detector's columns (a list of vectors) for the given rows.
detection_frame <- function(data, rows, columns) {
  head <- list(user = data$user_ids[rows])
  if (!is.null(data$is_fake)) head$is_fake <- data$is_fake[rows]
  tibble::as_tibble(c(head, columns))
}

#' Evaluate how detectable an attack is
#'
#' Runs every detector on the poisoned data and returns one tidy table: the
#' AUC of each feature of [detect_features()] and of [detect_pca()]'s
#' suspicion at telling the attack's fake users from the real ones, and the
#' p-values of both readings of [detect_ttest()].
#'
#' An AUC of 0.5 is chance; below 0.5 the feature ranks fake users *below* real
#' ones (for example DegSim against fake users who rate rare items), so
#' `max(auc, 1 - auc)` is what a defender who knows the direction achieves.
#' A t-test reading that is undefined for the attack (the mean reading with a
#' single fake user) gets `NA` and its reason in `note`.
#'
#' @param ratings The real users' ratings the attack was computed on.
#' @param attack A `cf_attack` computed on `ratings`, or fake users you built
#'   (a `cf_ratings` or a data frame, as `attack` of [detect_features()]).
#' @inheritParams detect_features
#' @inheritParams detect_pca
#' @return A tibble with one row per detector: the features of
#'   [detect_features()] in their order, `pca`, then the two t-test
#'   readings.
#'   \describe{
#'     \item{`detector`}{`"length"`, `"rdma"`, `"wdma"`, `"wda"`,
#'       `"length_var"`, `"mean_var"`, `"degsim"`, `"popularity"`, `"pca"`,
#'       `"ttest_frequency"` or `"ttest_mean"`.}
#'     \item{`kind`}{`"feature"`, `"pca"` or `"t-test"`.}
#'     \item{`auc`}{The detector's AUC ([detection_auc()], 0 to 1) at
#'       telling the fake users from the real ones; `NA` for the t-tests.}
#'     \item{`p_value`}{The t-test's p-value; `NA` for the other detectors
#'       and for an undefined reading.}
#'     \item{`statistic`}{The t-test's t statistic (normal minus fake); `NA`
#'       as `p_value`.}
#'     \item{`note`}{Why a t-test reading is undefined for this attack;
#'       `NA` otherwise.}
#'   }
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#' evaluate_detection(r, attack)
#' @export
evaluate_detection <- function(ratings, attack, k = 25, n_components = 3,
                               threads = getOption("cfpoison.threads", 1L)) {
  check_ratings(ratings)
  # Checked once here; the detectors get the bare block.
  fake <- as_cf_attack(attack, ratings)$fake
  features <- detect_features(ratings, fake, k = k, threads = threads)
  pca <- detect_pca(ratings, fake, n_components = n_components, threads = threads)
  scores <- c(as.list(features)[setdiff(names(features), c("user", "is_fake"))], list(pca = pca$suspicion))
  by_score <- data.frame(
    detector = names(scores),
    kind = c(rep("feature", length(scores) - 1L), "pca"),
    auc = vapply(scores, detection_auc, numeric(1), is_fake = features$is_fake),
    p_value = NA_real_,
    statistic = NA_real_,
    note = NA_character_
  )
  tibble::as_tibble(rbind(by_score, ttest_rows(fake, ratings)))
}

# evaluate_detection()'s rows for both readings of the paired t-test of the
# fake users `fake`; a reading that is undefined for them gets NA and its
# reason in `note`.
ttest_rows <- function(fake, ratings) {
  do.call(rbind, lapply(c("frequency", "mean"), function(reading) {
    row <- data.frame(
      detector = paste0("ttest_", reading), kind = "t-test", auc = NA_real_, p_value = NA_real_,
      statistic = NA_real_, note = NA_character_
    )
    tryCatch(
      {
        test <- as.data.frame(detect_ttest(ratings, fake, reading = reading))
        row$p_value <- test$p_value
        row$statistic <- test$statistic
      },
      cfpoison_error = function(e) row$note <<- conditionMessage(e)
    )
    row
  }))
}
