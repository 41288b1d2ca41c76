# Recomputes every result of the vignette "Reproducing Li et al. (2016)" and
# "Detection and defences", and writes them as small .rds files:
#
#   figure-1.rds    alternating minimization on movielens_small(): PGA, SGLD
#                   (beta = 0.6) and uniform attacks, alpha 1% to 10%, the four
#                   mu settings of Figure 1 (3 seeds) and the two of Figure 5
#                   (1 seed).
#   figure-2.rds    nuclear-norm minimization on the 671 users x 1,700 most
#                   rated movies: the same settings (Figures 2 and 6), 2 seeds
#                   for Figure 2's settings and 1 for Figure 6's.
#   figure-3.rds,   SGLD's beta sweep at alpha = 3% (Figures 3 and 4), one seed.
#   figure-4.rds
#   detection.rds   baselines at alpha = 3% for the detection table, and the
#                   detection features of a PGA and an SGLD attack (ROC curves).
#   defences.rds    Algorithm 1's and the default attack (availability and
#                   integrity) against the filter, bagging and Huber defences,
#                   and each computed through the Huber learner (adaptive).
#   trace.rds       a PGA attack's trace (its fake users and clean model dropped).
#   meta.rds        settings, targets, wall time and session information.
#
#   Rscript inst/scripts/reproduce-li2016.R [output directory] [workers]
#
# Defaults: inst/extdata and 2 workers (future's multisession plan, one thread
# each). Set CFPOISON_CACHE to a directory to save each grid's runs there as
# they finish and resume after an interruption. About 30 minutes on 2 idle cores.
library(cfpoison)

args <- commandArgs(trailingOnly = TRUE)
output <- if (length(args) >= 1) args[1] else "inst/extdata"
workers <- if (length(args) >= 2) as.integer(args[2]) else 2L
dir.create(output, showWarnings = FALSE, recursive = TRUE)
cache <- Sys.getenv("CFPOISON_CACHE")
cache_file <- function(name) if (nzchar(cache)) file.path(cache, paste0(name, ".rds")) else NULL
if (nzchar(cache)) dir.create(cache, showWarnings = FALSE, recursive = TRUE)
future::plan(future::multisession, workers = workers)
options(cfpoison.threads = 1L)

started <- proc.time()[["elapsed"]]
stage <- function(what) cat(sprintf("[%5.0f s] %s\n", proc.time()[["elapsed"]] - started, what))

# The paper's settings (Section 5): ratings shifted to [-2, 2], B = 25 items
# per fake user, Lambda = 2, w = 2 on one target whose average predicted
# rating is near 0.8, beta = 0.6.
alphas <- c(0.01, 0.03, 0.05, 0.10)
mu_figure_1 <- list(c(1, 0), c(1, -1), c(0, 1), c(-1, 1))
mu_figure_5 <- list(c(0, -1), c(-1, -1))
betas <- c(0.1, 0.6, 2, 10)
methods <- c("pga", "sgld", "uniform")
# Algorithm 1 as the paper states it: a random fixed support and Eq. 12's
# gradient (poison_pga()'s default searches the support too; see
# inst/bench/strength.R for how much stronger that is).
algorithm_1 <- list(support = "random", method = "kkt")

# The clean models are fitted to a tight tolerance once, so that the noise
# floor of evaluate_attack() is small (see ?evaluate_attack).
clean_model <- function(learner, ratings) {
  tight <- learner
  tight$max_iter <- 2000L
  tight$tol <- 1e-9
  set.seed(2016)
  fit_cf(ratings, tight)
}

ratings <- movielens_small()
als <- learner_als(rank = 10, lambda_u = 5)
als_clean <- clean_model(als, ratings)
als_target <- select_targets(als_clean, near = 0.8, min_ratings = 10, ratings = ratings, seed = 2016)

# Figure 2's subset: every user, the 1,700 most rated movies. The paper leaves
# the nuclear-norm weight open; lambda = 25 gives a rank-9 model here.
by_item <- as.data.frame(ratings)
most_rated <- names(sort(table(by_item$item), decreasing = TRUE))[seq_len(1700)]
subset <- as_ratings(by_item[by_item$item %in% most_rated, ], scale = ratings$scale)
nuclear <- learner_nuclear(lambda = 25, rank_max = 20)
nuclear_clean <- clean_model(nuclear, subset)
nuclear_target <- select_targets(nuclear_clean, near = 0.8, min_ratings = 10, ratings = subset, seed = 2016)
stage(sprintf("clean models fitted; targets %s (ALS) and %s (nuclear)", als_target, nuclear_target))

grid <- function(name, ratings, learner, clean, target, mu, seeds, methods, alpha, beta = 0.6, ...) {
  result <- attack_grid(ratings, learner,
    methods = methods, alpha = alpha, mu = mu, beta = beta, seeds = seeds, targets = target,
    clean = clean, file = cache_file(name), progress = FALSE,
    attack_args = if ("pga" %in% methods) list(pga = algorithm_1) else list(), ...
  )
  failed <- sum(!is.na(result$error))
  stage(sprintf("%s: %d runs, %d failed", name, nrow(result), failed))
  result
}
figure_grid <- function(name, ratings, learner, clean, target, seeds) {
  both <- rbind(
    grid(paste0(name, "-main"), ratings, learner, clean, target, mu_figure_1, seeds, methods, alphas),
    grid(paste0(name, "-nuke"), ratings, learner, clean, target, mu_figure_5, 1L, methods, alphas)
  )
  both$run <- seq_len(nrow(both))
  both
}

figure_1 <- figure_grid("figure-1", ratings, als, als_clean, als_target, seeds = 1:3)
saveRDS(figure_1, file.path(output, "figure-1.rds"))
figure_2 <- figure_grid("figure-2", subset, nuclear, nuclear_clean, nuclear_target, seeds = 1:2)
saveRDS(figure_2, file.path(output, "figure-2.rds"))

figure_3 <- grid("figure-3", ratings, als, als_clean, als_target, mu_figure_1, 1L, "sgld", 0.03, betas)
saveRDS(figure_3, file.path(output, "figure-3.rds"))
figure_4 <- grid("figure-4", subset, nuclear, nuclear_clean, nuclear_target, mu_figure_1, 1L, "sgld", 0.03, betas)
saveRDS(figure_4, file.path(output, "figure-4.rds"))

# The rest runs in this process: give its fits the workers' cores.
options(cfpoison.threads = workers)

# Detection: classic shilling attacks beside the grids' PGA, SGLD and uniform
# rows, and the per-user features of one PGA and one SGLD attack.
baselines <- grid("detection", ratings, als, als_clean, als_target, c(1, 0), 1:3, c("average", "bandwagon"), 0.03)
budget <- attack_budget(0.03)
features <- list(
  pga = detect_features(ratings, do.call(poison_pga, c(
    list(ratings, als, utility_availability(), budget, clean = als_clean, seed = 1), algorithm_1
  ))),
  sgld = detect_features(ratings, poison_sgld(ratings, als, utility_availability(), budget, clean = als_clean, seed = 1))
)
saveRDS(list(baselines = baselines, features = features), file.path(output, "detection.rds"))
stage("detection features")

# Defences (Section 6): filter the 20 users with the highest RDMA, a bag of 10
# learners, Huber ALS; measured on a 90/10 split so each defence's cost in
# held-out RMSE on clean data shows too.
split <- split_ratings(ratings, test_fraction = 0.1, seed = 2016)
rdma_filter <- function(ratings, attack) {
  defend_filter(ratings, attack, detect_features(ratings, attack)$rdma, n = 20)
}
defences <- list(
  filter_rdma_20 = rdma_filter,
  bagged_10 = learner_bagged(als, n_bags = 10, seed = 1),
  huber = learner_als(rank = 10, lambda_u = 5, loss = "huber", huber_delta = 1)
)
split_clean <- clean_model(als, split$train)
huber_clean <- clean_model(defences$huber, split$train)
split_target <- select_targets(split_clean, near = 0.8, min_ratings = 10, ratings = split$train, seed = 2016)
goals <- list(availability = utility_availability(), integrity = utility_integrity(targets = split_target))
# Each defence against Algorithm 1 and against the default attack (which also
# chooses the fake users' items), both computed against the undefended
# learner; and the same attack computed through the Huber learner (an
# attacker who knows that defence), measured on it in an "adaptive" row.
attackers <- list(algorithm_1 = algorithm_1, default = list())
defence_results <- do.call(rbind, lapply(names(attackers), function(attacker) {
  do.call(rbind, lapply(names(goals), function(goal) {
    attack_on <- function(learner, clean) {
      args <- list(split$train, learner, goals[[goal]], budget, clean = clean, seed = 1)
      do.call(poison_pga, c(args, attackers[[attacker]]))
    }
    attack <- attack_on(als, split_clean)
    through_huber <- attack_on(defences$huber, huber_clean)
    cbind(attack = attacker, goal = goal, evaluate_defence(split$train, attack, split$test, defences,
      adaptive = list(huber = through_huber)
    ))
  }))
}))
saveRDS(defence_results, file.path(output, "defences.rds"))
stage("defences")

trace_attack <- do.call(poison_pga, c(list(ratings, als, utility_availability(), budget, clean = als_clean, seed = 1), algorithm_1))
trace_attack$clean <- NULL
saveRDS(trace_attack, file.path(output, "trace.rds"))

meta <- list(
  wall_seconds = proc.time()[["elapsed"]] - started,
  workers = workers,
  date = Sys.Date(),
  alphas = alphas, betas = betas, mu_figure_1 = mu_figure_1, mu_figure_5 = mu_figure_5,
  als = als, nuclear = nuclear, nuclear_rank = sum(nuclear_clean$d > 0),
  targets = c(als = als_target, nuclear = nuclear_target, defences = split_target),
  n_users = length(ratings$user_ids), n_items = c(als = length(ratings$item_ids), nuclear = length(subset$item_ids)),
  versions = c(R = R.version.string, cfpoison = as.character(utils::packageVersion("cfpoison")))
)
saveRDS(meta, file.path(output, "meta.rds"))
stage("done")
