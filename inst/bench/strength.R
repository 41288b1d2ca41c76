# Strength of the default attack against every baseline and heuristic, on
# movielens_small, for both learners and three goals (availability, push and
# nuke), with seconds per attack. Every attack of a setting shares one clean
# model (fitted with seed 1) and one seed; every effect is the converged one of
# evaluate_attack().
#
#   R CMD INSTALL --preclean .
#   Rscript inst/bench/strength.R [output.rds]
#
# CFPOISON_BENCH_ALPHAS (default "0.01,0.03,0.1") sets the shares of fake users
# for ALS; CFPOISON_BENCH_NUCLEAR_ALPHAS (default "0.03") those for the nuclear
# norm (empty: none); CFPOISON_BENCH_GOALS (default "availability,push,nuke") the
# goals; CFPOISON_BENCH_SEEDS (default "1") the attacks' seeds, each row measured
# once per seed, with the default's margin over seeds summarized at the end;
# CFPOISON_BENCH_METHODS (default: all) the attacks besides the default;
# CFPOISON_BENCH_RESTARTS (default 1) the default attack's `restarts`. One
# thread throughout.

library(cfpoison)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))

alphas <- function(name, default) as.numeric(strsplit(Sys.getenv(name, default), ",")[[1]])
out_file <- commandArgs(TRUE)[1]

ratings <- movielens_small()
target <- 48516 # clean average prediction about 0.84, as the paper's target (0.8)
seeds <- as.integer(strsplit(Sys.getenv("CFPOISON_BENCH_SEEDS", "1"), ",")[[1]])
restarts <- as.integer(Sys.getenv("CFPOISON_BENCH_RESTARTS", "1"))
# The target's segment (segment attack): the 5 items whose clean factors are
# closest in direction to the target's.
learners <- list(
  als = list(
    learner = learner_als(rank = 10, lambda_u = 5),
    tight = learner_als(rank = 10, lambda_u = 5, max_iter = 2000, tol = 1e-9),
    alphas = alphas("CFPOISON_BENCH_ALPHAS", "0.01,0.03,0.1")
  ),
  nuclear = list(
    learner = learner_nuclear(lambda = 28.5, rank_max = 20),
    tight = learner_nuclear(lambda = 28.5, rank_max = 20, max_iter = 3000, tol = 1e-10),
    alphas = alphas("CFPOISON_BENCH_NUCLEAR_ALPHAS", "0.03")
  )
)
goals <- list(
  availability = list(utility = utility_availability(), direction = "push", metric = "rmse_shift"),
  push = list(utility = utility_integrity(targets = target, weights = 2), direction = "push", metric = "target_shift"),
  nuke = list(utility = utility_integrity(targets = target, weights = -2), direction = "nuke", metric = "target_shift")
)[strsplit(Sys.getenv("CFPOISON_BENCH_GOALS", "availability,push,nuke"), ",")[[1]]]

timed <- function(expr) {
  started <- proc.time()[["elapsed"]]
  value <- expr
  value$bench_seconds <- proc.time()[["elapsed"]] - started
  value
}

# Every attack of one (learner, alpha, goal) cell, each a function that runs it.
attacks_for <- function(spec, clean, budget, goal, segment, seed) {
  optimized <- list(ratings = ratings, learner = spec$learner, utility = goal$utility, budget = budget,
                    clean = clean, seed = seed, progress = FALSE)
  shilling <- list(ratings = ratings, budget = budget, targets = target, seed = seed)
  structured <- function(design, utility = goal$utility) {
    function() timed(poison_structured(ratings, spec$learner, utility, budget, design, clean = clean, seed = seed))
  }
  push <- utility_integrity(targets = target, weights = if (goal$direction == "push") 2 else -2)
  list(
    default = function() timed(do.call(poison_pga, c(optimized, list(restarts = restarts)))),
    pga_paper = function() timed(do.call(poison_pga, c(optimized, list(support = "random", method = "kkt")))),
    sgld = function() timed(do.call(poison_sgld, optimized)),
    sgld_beta_6 = function() timed(do.call(poison_sgld, c(optimized, list(beta = 6)))),
    uniform = function() timed(poison_uniform(ratings, budget, seed = seed)),
    random = function() timed(do.call(poison_random, c(shilling, list(direction = goal$direction)))),
    average = function() timed(do.call(poison_average, c(shilling, list(direction = goal$direction)))),
    bandwagon = function() timed(do.call(poison_bandwagon, c(shilling, list(direction = goal$direction)))),
    segment = function() timed(do.call(poison_segment, c(shilling, list(segment = segment)))),
    love_hate = function() timed(do.call(poison_love_hate, c(shilling, list(direction = goal$direction)))),
    rare_items = structured("rare_items", utility_availability()),
    popular_items = structured("popular_items", utility_availability()),
    anchored = structured("anchored", push)
  )
}
methods <- Sys.getenv("CFPOISON_BENCH_METHODS")
methods <- if (nzchar(methods)) union("default", strsplit(methods, ",")[[1]]) else NULL

rows <- list()
for (learner_name in names(learners)) {
  spec <- learners[[learner_name]]
  if (length(spec$alphas) == 0L) next # e.g. CFPOISON_BENCH_NUCLEAR_ALPHAS= (empty): no clean fit either
  set.seed(1)
  clean <- fit_cf(ratings, spec$tight)
  factors <- cfpoison:::prediction_factors(clean)
  t_index <- match(target, ratings$item_ids)
  cosine <- as.vector(factors$item %*% factors$item[t_index, ]) /
    sqrt(rowSums(factors$item^2) * sum(factors$item[t_index, ]^2) + 1e-300)
  segment <- ratings$item_ids[setdiff(order(cosine, decreasing = TRUE), t_index)[1:5]]
  for (alpha in spec$alphas) {
    budget <- attack_budget(alpha = alpha)
    for (goal_name in names(goals)) for (seed in seeds) {
      goal <- goals[[goal_name]]
      cat(sprintf("%s, alpha = %g, %s, seed %d\n", learner_name, alpha, goal_name, seed))
      attacks <- attacks_for(spec, clean, budget, goal, segment, seed)
      for (method in if (is.null(methods)) names(attacks) else methods) {
        attack <- attacks[[method]]()
        attack$utility <- goal$utility
        e <- evaluate_attack(ratings, attack, spec$learner, targets = target, clean = clean)
        value <- if (goal$metric == "rmse_shift") e$rmse_shift else e$target_rating_poisoned - e$target_rating_clean
        rows[[length(rows) + 1L]] <- data.frame(
          learner = learner_name, alpha = alpha, goal = goal_name, seed = seed, method = method, effect = value,
          rmse_shift_floor = e$rmse_shift_floor, seconds = attack$bench_seconds
        )
        cat(sprintf("  %-14s %9.4f  (%.1f s)\n", method, value, attack$bench_seconds))
      }
    }
  }
}
table <- do.call(rbind, rows)

# The default attack's margin over the strongest other attack of each row
# (larger is stronger: the nuke's effect counts with its sign flipped).
strength <- ifelse(table$goal == "nuke", -table$effect, table$effect)
cells <- split(seq_len(nrow(table)), table[c("learner", "alpha", "goal", "seed")], drop = TRUE)
margins <- do.call(rbind, lapply(cells, function(i) {
  default <- i[table$method[i] == "default"]
  others <- setdiff(i, default)
  best <- others[which.max(strength[others])]
  data.frame(
    learner = table$learner[default], alpha = table$alpha[default], goal = table$goal[default],
    seed = table$seed[default], default = table$effect[default], best_other = table$method[best],
    best_effect = table$effect[best], margin = strength[default] / strength[best] - 1,
    default_seconds = table$seconds[default]
  )
}))
margins <- margins[order(margins$learner, margins$alpha, margins$goal, margins$seed), ]
rownames(margins) <- NULL
cat("\nDefault attack against the strongest other attack of each row (goal: margin >= 10%)\n")
print(format(margins, digits = 3), row.names = FALSE)
if (length(seeds) > 1L) {
  # Over the seeds: the mean effects, and the margin of the mean effects
  # beside the smallest and largest margin of one seed.
  rows_over_seeds <- split(margins, margins[c("learner", "alpha", "goal")], drop = TRUE)
  over_seeds <- do.call(rbind, lapply(rows_over_seeds, function(m) {
    sign <- if (m$goal[1] == "nuke") -1 else 1
    data.frame(
      learner = m$learner[1], alpha = m$alpha[1], goal = m$goal[1], seeds = nrow(m),
      default_mean = mean(m$default), best_other_mean = mean(m$best_effect),
      margin_of_means = mean(sign * m$default) / mean(sign * m$best_effect) - 1,
      margin_min = min(m$margin), margin_max = max(m$margin)
    )
  }))
  rownames(over_seeds) <- NULL
  cat(sprintf("\nOver seeds %s: mean effects and margins\n", paste(seeds, collapse = ", ")))
  print(format(over_seeds, digits = 3), row.names = FALSE)
}
cat("\nGoals at alpha = 3%: availability >= 0.06 (ALS), >= 0.025 (nuclear); push >= +0.20; nuke <= -0.65\n")
report("peak memory of the process", peak_memory_gb(), "GB")
if (!is.na(out_file)) {
  saveRDS(list(table = table, margins = margins, over_seeds = if (length(seeds) > 1L) over_seeds), out_file)
}
