# Reference values for evaluation.survival.cause_specific_cox: one coxph per cause, the
# other causes censored; Efron ties; with cluster-robust errors by team, and stratified.
# Run from the repository root: Rscript tests/reference/competing/cif_cause_specific_cox.R
library(survival)
library(jsonlite)
rt <- read.csv("tests/reference/data/cif_retention.csv")
rt$group <- factor(rt$group)
out <- list()
for (k in 1:4) {
  f1 <- coxph(Surv(duration_days, event == k) ~ x1 + x2 + group, data = rt, cluster = team)
  f2 <- coxph(Surv(duration_days, event == k) ~ x1 + x2 + strata(stratum), data = rt)
  out[[length(out) + 1]] <- list(case = "cluster_team", cause = k, term = names(coef(f1)),
                                 coef = unname(coef(f1)), se = unname(sqrt(diag(f1$var))))
  out[[length(out) + 1]] <- list(case = "strata_stratum", cause = k, term = names(coef(f2)),
                                 coef = unname(coef(f2)), se = unname(sqrt(diag(f2$var))))
}
write_json(out, "tests/reference/competing/cif_cause_specific_cox.json", digits = NA, auto_unbox = TRUE)
