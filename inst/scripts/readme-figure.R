# Draws the README's figure (Figure 1 of Li et al. 2016, as reproduced) from
# the results that reproduce-li2016.R stored in inst/extdata/.
#
#   Rscript inst/scripts/readme-figure.R
library(cfpoison)
library(ggplot2)

grid <- readRDS("inst/extdata/figure-1.rds")
figure_1 <- grid[!(grid$mu_1 <= 0 & grid$mu_2 == -1), ] # Figure 5's settings are drawn apart
plot <- autoplot(figure_1) +
  labs(
    title = "Poisoning alternating minimization on MovieLens (Li et al. 2016, Figure 1)",
    subtitle = "movielens_small(), rank 10, B = 25, Lambda = 2; mean and sd over 3 seeds"
  )
ggsave("man/figures/README-figure-1.png", plot, width = 8, height = 5.5, dpi = 96, bg = "white")
