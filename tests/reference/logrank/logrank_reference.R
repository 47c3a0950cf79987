# Reference values for evaluation.survival.logrank (tests/reference/logrank/test_logrank_reference.py).
# Run from the repository root:  Rscript tests/reference/logrank/logrank_reference.R
# Writes tests/reference/logrank/logrank_reference.json. R survival 3.5.3 (Debian r-cran-survival).
# The trend test is computed from survdiff's own O - E and variance matrix:
# chi2 = (s'(O - E))^2 / s'Vs with scores s.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

rossi <- read.csv("tests/reference/data/rossi.csv")
rossi$prio_group <- cut(rossi$prio, c(-Inf, 0, 2, Inf), labels = c("0", "1-2", "3+"))
syn <- read.csv("tests/reference/data/km_synthetic.csv")
syn$group <- factor(syn$group, levels = c("high", "low", "mid"))  # sorted, as Python

one <- function(fit, scores = NULL) {
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  ex <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  res <- list(chisq = fit$chisq, df = length(fit$n) - 1,
              p = pchisq(fit$chisq, length(fit$n) - 1, lower.tail = FALSE),
              n = as.numeric(fit$n), observed = obs, expected = ex,
              var = fit$var)
  if (!is.null(scores)) {
    u <- sum(scores * (obs - ex))
    res$trend_chisq <- u^2 / as.numeric(t(scores) %*% fit$var %*% scores)
    res$scores <- scores
  }
  res
}

out <- list()
out$rossi_fin <- one(survdiff(Surv(week, arrest) ~ fin, data = rossi))
out$rossi_fin_rho1 <- one(survdiff(Surv(week, arrest) ~ fin, data = rossi, rho = 1))
out$rossi_prio <- one(survdiff(Surv(week, arrest) ~ prio_group, data = rossi), scores = 1:3)
out$rossi_prio_rho05 <- one(survdiff(Surv(week, arrest) ~ prio_group, data = rossi, rho = 0.5))
out$rossi_fin_strata_wexp <- one(
  survdiff(Surv(week, arrest) ~ fin + strata(wexp), data = rossi))
out$rossi_prio_strata_race_rho1 <- one(
  survdiff(Surv(week, arrest) ~ prio_group + strata(race), data = rossi, rho = 1), scores = 1:3)
out$syn_group <- one(survdiff(Surv(time, status == 1) ~ group, data = syn), scores = c(3, 1, 2))
out$syn_group_strata <- one(
  survdiff(Surv(time, status == 1) ~ group + strata(stratum), data = syn), scores = c(3, 1, 2))
out$syn_group_strata_rho1 <- one(
  survdiff(Surv(time, status == 1) ~ group + strata(stratum), data = syn, rho = 1))
out$syn_score_trend <- one(
  survdiff(Surv(time, status == 1) ~ group_score, data = syn), scores = c(1, 2, 3))

writeLines(toJSON(out, digits = NA, pretty = FALSE), "tests/reference/logrank/logrank_reference.json")
