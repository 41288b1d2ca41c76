# Benchmark of the detectors: every detection feature and PCA variable
# selection on MovieLens with 5% uniform fake users, then DegSim (the only
# feature above O(ratings)) on MovieLens-20M-shaped data.
#
#   R CMD INSTALL --preclean .
#   Rscript inst/bench/detect.R
#
# Set CFPOISON_BENCH_SKIP_20M=1 to skip the MovieLens-20M-shaped part, and
# CFPOISON_BENCH_THREADS to change its thread count (default 2).

library(cfpoison)

goals <- list(
  movielens_seconds = 5, # all features + detect_pca at alpha = 5%, one thread, below
  full_degsim_seconds = 600 # above this, the 20M DegSim is timed on a sample and extrapolated
)

# Shared helpers (peak memory, goal reports) live beside this script.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))

seconds <- function(expr) system.time(expr)[["elapsed"]]

# MovieLens (dslabs), 5% uniform fake users, one thread -------------------------

ratings <- movielens_small()
attack <- poison_uniform(ratings, attack_budget(0.05), seed = 1)
cat(sprintf(
  "movielens_small: %d ratings by %d users + %d fake users (%d ratings); one thread\n",
  length(ratings$rating), length(ratings$user_ids), length(attack$fake$user_ids), length(attack$fake$rating)
))
features_seconds <- seconds(features <- detect_features(ratings, attack$fake, k = 25, threads = 1))
pca_seconds <- seconds(pca <- detect_pca(ratings, attack$fake, threads = 1))
report("detect_features (all features, k = 25)", features_seconds, "s")
report("detect_pca (3 components)", pca_seconds, "s")
report("features + PCA", features_seconds + pca_seconds, "s", goals$movielens_seconds)
cat("AUC against the uniform attack (0.5 = chance; below 0.5 = reversed):\n")
aucs <- c(
  vapply(features[c("length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity")],
    detection_auc, numeric(1),
    is_fake = features$is_fake
  ),
  pca_suspicion = detection_auc(pca$suspicion, pca$is_fake)
)
for (name in names(aucs)) report(paste0("  ", name), aucs[[name]], "")

# MovieLens-20M-shaped data: DegSim ---------------------------------------------

if (Sys.getenv("CFPOISON_BENCH_SKIP_20M") == "1") {
  cat("MovieLens-20M-shaped part skipped (CFPOISON_BENCH_SKIP_20M=1)\n")
} else {
  threads <- as.integer(Sys.getenv("CFPOISON_BENCH_THREADS", "2"))
  m <- 138493
  n <- 26744
  simulate_seconds <- seconds(
    big <- simulate_ratings(m, n, rank = 10, density = 20000263 / (m * n), seed = 1, threads = 2)
  )
  cat(sprintf(
    "\nMovieLens-20M-shaped data: %d ratings, %d users x %d items; %d threads\n",
    length(big$rating), m, n, threads
  ))
  report("simulate_ratings", simulate_seconds, "s")
  # DegSim's work: one co-rating update per (user, other rater of one of its
  # items): sum over I_u of (NR_i - 1) per user, sum over items of NR_i (NR_i - 1) in all.
  n_rated <- tabulate(big$item, n)
  work_per_user <- numeric(m)
  user_work <- rowsum(as.double(n_rated[big$item]) - 1, big$user)
  work_per_user[as.integer(rownames(user_work))] <- user_work[, 1]
  total_work <- sum(work_per_user)
  report("pair updates for all users", total_work / 1e9, "x 1e9")

  # Fixed cost (index, O(ratings) features, one user's DegSim), then a random
  # sample of users; the rest scales with the pair updates.
  set.seed(1)
  sample_users <- sample.int(m, 500)
  invisible(gc())
  reset_peak_memory()
  rss_before <- peak_memory_gb()
  fixed_seconds <- seconds(detect_features(big, users = sample_users[1], threads = threads))
  sample_seconds <- seconds(detect_features(big, users = sample_users, threads = threads))
  sample_work <- sum(work_per_user[sample_users])
  ns_per_update <- 1e9 * (sample_seconds - fixed_seconds) * threads / sample_work
  estimate <- fixed_seconds + (sample_seconds - fixed_seconds) * total_work / sample_work
  report("detect_features fixed cost (index, O(ratings) features)", fixed_seconds, "s")
  report(sprintf("detect_features, DegSim for %d random users", length(sample_users)), sample_seconds, "s")
  report("DegSim time per pair update and thread", ns_per_update, "ns")
  if (estimate <= goals$full_degsim_seconds) {
    full_seconds <- seconds(detect_features(big, threads = threads))
    report("detect_features, DegSim for all users (measured)", full_seconds, "s")
  } else {
    report("detect_features, DegSim for all users (EXTRAPOLATED)", estimate, "s")
    cat(sprintf(
      "  not run: the estimate exceeds %g s. Estimate = fixed cost + sample time x (all pair updates / sample's).\n",
      goals$full_degsim_seconds
    ))
  }
  report("peak memory during detect_features (VmHWM)", peak_memory_gb(), "GB")
  report("  resident before detect_features (data in R)", rss_before, "GB")
}
