# Recomputes the adaptive-attack results of the vignette "Detection and
# defences" and writes them to adaptive.rds:
#
#   defences   evaluate_defence() on a 90/10 split of movielens_small(): the
#              default attack computed against plain ALS (non-adaptive) and
#              computed through each defence (adaptive): Huber ALS, the
#              filter that drops the 20 users of highest RDMA
#              (learner_filtered()) and 5 bootstrap bags (learner_bagged());
#              availability, alpha = 3%, B = 25.
#   victims    the same on the whole of movielens_small(), measured by
#              evaluate_attack() on each defended learner.
#   tradeoff   the stealth trade-off on the whole of movielens_small(): the
#              default attack at stealth levels 0 to 3 and SGLD at beta 0.06
#              to 6, each with its RMSE shift, its seconds and what the
#              detectors see (evaluate_detection()).
#   meta       settings, wall time and session information.
#
#   Rscript inst/scripts/adaptive-attacks.R [output directory]
#
# Default output: inst/extdata. Set CFPOISON_CACHE to a directory to keep each
# attack there and resume after an interruption. About 9 minutes with one
# other job on the machine (2026-12-06; 2 cores).
library(cfpoison)

args <- commandArgs(trailingOnly = TRUE)
output <- if (length(args) >= 1) args[1] else "inst/extdata"
dir.create(output, showWarnings = FALSE, recursive = TRUE)
cache <- Sys.getenv("CFPOISON_CACHE")
if (nzchar(cache)) dir.create(cache, showWarnings = FALSE, recursive = TRUE)
options(cfpoison.threads = 1L)
started <- proc.time()[["elapsed"]]
stage <- function(what) cat(sprintf("[%5.0f s] %s\n", proc.time()[["elapsed"]] - started, what))
cached <- function(name, expr) {
  file <- if (nzchar(cache)) file.path(cache, paste0(name, ".rds"))
  if (!is.null(file) && file.exists(file)) {
    return(readRDS(file))
  }
  value <- expr
  if (!is.null(file)) saveRDS(value, file)
  stage(name)
  value
}

ratings <- movielens_small()
als <- learner_als(rank = 10, lambda_u = 5)
budget <- attack_budget(alpha = 0.03, items_per_user = 25)
goal <- utility_availability()
tight <- function(learner) {
  learner$max_iter <- 2000
  learner$tol <- 1e-9
  learner
}
clean_model <- function(learner, data) fit_cf(data, tight(learner), seed = 1, progress = FALSE)
timed <- function(expr) {
  at <- proc.time()[["elapsed"]]
  value <- expr
  value$bench_seconds <- proc.time()[["elapsed"]] - at
  value
}

# Defences, each against the attack computed against plain ALS and the one
# computed through it.
split <- split_ratings(ratings, test_fraction = 0.1, seed = 2016)
defences <- list(
  huber = learner_als(rank = 10, lambda_u = 5, loss = "huber", huber_delta = 1),
  filter_rdma_20 = learner_filtered(als, "rdma", n = 20),
  bagged_5 = learner_bagged(als, n_bags = 5, seed = 1)
)
attack_through <- function(learner, name) {
  cached(paste0("attack-", name), timed(poison_pga(split$train, learner, goal, budget,
    clean = clean_model(learner, split$train), seed = 1, progress = FALSE
  )))
}
plain <- attack_through(als, "plain")
adaptive <- Map(attack_through, defences, names(defences))
defence_table <- evaluate_defence(split$train, plain, split$test, defences, adaptive = adaptive, progress = FALSE)
stage("defences")

# The stealth trade-off, against the detectors, on the whole data.
clean <- clean_model(als, ratings)
stealth_attack <- function(level) {
  cached(paste0("stealth-", level), timed(poison_pga(ratings, als, goal, budget,
    stealth = level, clean = clean, seed = 1, progress = FALSE
  )))
}

# Each defence on the whole data: the plain attack (stealth 0) and the one
# computed through it, measured on the defended learner.
victims <- do.call(rbind, lapply(names(defences), function(name) {
  learner <- defences[[name]]
  defended_clean <- clean_model(learner, ratings)
  through <- cached(paste0("full-attack-", name), timed(poison_pga(ratings, learner, goal, budget,
    clean = defended_clean, seed = 1, progress = FALSE
  )))
  attackers <- list(non_adaptive = stealth_attack(0), adaptive = through)
  do.call(rbind, lapply(names(attackers), function(attacker) {
    measured <- evaluate_attack(ratings, attackers[[attacker]], learner, clean = defended_clean, progress = FALSE)
    cbind(defence = name, attacker = attacker, seconds = attackers[[attacker]]$bench_seconds,
      measured[c("n_fake_users", "rmse_shift", "rmse_shift_floor")]
    )
  }))
}))
stage("victims")
detection_of <- function(attack, method, level) {
  shift <- evaluate_attack(ratings, attack, als, clean = clean, progress = FALSE)$rmse_shift
  cbind(
    method = method, level = level, rmse_shift = shift, seconds = attack$bench_seconds,
    evaluate_detection(ratings, attack)
  )
}
stealth_levels <- c(0, 0.01, 0.03, 0.1, 0.3, 1, 3)
betas <- c(0.06, 0.2, 0.6, 2, 6)
tradeoff <- rbind(
  do.call(rbind, lapply(stealth_levels, function(level) detection_of(stealth_attack(level), "pga", level))),
  do.call(rbind, lapply(betas, function(beta) {
    attack <- cached(paste0("sgld-", beta), timed(poison_sgld(ratings, als, goal, budget,
      beta = beta, clean = clean, seed = 1, progress = FALSE
    )))
    detection_of(attack, "sgld", beta)
  })),
  detection_of(timed(poison_uniform(ratings, budget, seed = 1)), "uniform", NA)
)
stage("trade-off")

meta <- list(
  budget = budget, learner = als, defences = defences, stealth_levels = stealth_levels, betas = betas,
  attack_seconds = c(plain = plain$bench_seconds, vapply(adaptive, `[[`, numeric(1), "bench_seconds")),
  wall_seconds = proc.time()[["elapsed"]] - started,
  session = utils::sessionInfo()
)
saveRDS(list(defences = defence_table, victims = tibble::as_tibble(victims), tradeoff = tibble::as_tibble(tradeoff),
             meta = meta),
  file.path(output, "adaptive.rds")
)
stage("done")
