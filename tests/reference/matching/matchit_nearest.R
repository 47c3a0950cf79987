# Reference values for evaluation.effects.match: MatchIt nearest-neighbour matching on the
# logit propensity scores in data/matchit_input.csv (written by matchit_data.py).
# Run from the repository root: Rscript tests/reference/matching/matchit_nearest.R
#   (writes tests/reference/matching/matchit_nearest.json)
#
# Why a distance matrix and not `distance = d$logit_ps`: in the Debian build of MatchIt 4.5.1
# the vector path (nn_matchC_vec) compares |d_i - d_j| after truncation to an integer (C's
# integer abs()), so every pair closer than one logit unit ties and the left neighbour wins;
# its caliper check is truncated the same way. The matrix path computes the distances in R.
# "largest first" is obtained by sorting the rows by decreasing score and matching in data
# order; the caliper is 0.2 (or 0.1) SD of the logit score over all rows, std.caliper = FALSE.
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
d <- read.csv("tests/reference/data/matchit_input.csv")
d$row <- seq_len(nrow(d))
d <- d[order(d$logit_ps, decreasing = TRUE), ]
rownames(d) <- NULL
s <- sd(d$logit_ps)
configs <- list(
  k1_caliper = list(ratio = 1, replace = FALSE, caliper = 0.2, exact = NULL),
  k3_caliper = list(ratio = 3, replace = FALSE, caliper = 0.2, exact = NULL),
  k2_replace = list(ratio = 2, replace = TRUE, caliper = 0.2, exact = NULL),
  k1_nocaliper = list(ratio = 1, replace = FALSE, caliper = NULL, exact = NULL),
  k2_exact_sex = list(ratio = 2, replace = FALSE, caliper = 0.1, exact = ~sex)
)
dm <- abs(outer(d$logit_ps[d$treat == 1], d$logit_ps[d$treat == 0], "-"))
out <- list(MatchIt = as.character(packageVersion("MatchIt")))
for (nm in names(configs)) {
  cf <- configs[[nm]]
  cal <- if (is.null(cf$caliper)) NULL else cf$caliper * s
  m <- suppressWarnings(matchit(treat ~ age + prior + sex, data = d, method = "nearest",
               distance = dm, ratio = cf$ratio, replace = cf$replace,
               caliper = cal, std.caliper = FALSE, exact = cf$exact, m.order = "data"))
  mm <- m$match.matrix
  ctrl <- matrix(d$row[as.integer(mm)], nrow = nrow(mm))  # original 1-based rows
  ctrl[is.na(ctrl)] <- 0L
  w <- numeric(nrow(d)); w[d$row] <- m$weights
  out[[nm]] <- list(
    treated = d$row[as.integer(rownames(mm))],
    match_matrix = ctrl,
    weights = w
  )
}
write_json(out, "tests/reference/matching/matchit_nearest.json",
           digits = NA, auto_unbox = TRUE, pretty = FALSE)
