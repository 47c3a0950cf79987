# Reference values for the effect estimator's weighted curves and weighted Cox model:
# R survival on data/weighted_input.csv (written by weighted_data.py): the sequential-trial
# cohort of the default synthetic registers with ATT weights.
#  - weighted Aalen-Johansen cumulative incidence of relapse (event 1; death 2 and
#    emigration 3 competing), by group, at days 1..1095 (survfit multi-state with weights);
#  - weighted Kaplan-Meier of relapse-free survival (other events censored), by group;
#  - weighted Cox model of relapse on treated with the cluster-robust variance by person.
# Run from tests/reference: Rscript weighted_survival.R  (writes weighted_survival.json)
suppressPackageStartupMessages({library(survival); library(jsonlite)})
d <- read.csv("data/weighted_input.csv")
days <- c(30, 100, 200, 365, 500, 730, 900, 1095)
out <- list(survival = as.character(packageVersion("survival")), days = days)
d$state <- factor(d$event, levels = 0:3, labels = c("censor", "relapse", "death", "emigration"))
aj <- survfit(Surv(duration_days, state) ~ treated, data = d, weights = weight, id = seq_len(nrow(d)))
km <- survfit(Surv(duration_days, event == 1) ~ treated, data = d, weights = weight)
for (g in c(0, 1)) {
  s <- summary(aj[g + 1, ], times = days, extend = TRUE)
  km_s <- summary(km[g + 1], times = days, extend = TRUE)
  out[[paste0("cif_relapse_", g)]] <- unname(s$pstate[, which(aj$states == "relapse")])
  out[[paste0("km_", g)]] <- unname(km_s$surv)
  out[[paste0("km_n_risk_", g)]] <- unname(km_s$n.risk)
}
fit <- coxph(Surv(duration_days, event == 1) ~ treated, data = d, weights = weight,
             cluster = person_id, ties = "efron")
out$cox_coef <- unname(coef(fit))
out$cox_robust_se <- unname(sqrt(diag(fit$var)))
out$cox_naive_se <- unname(sqrt(diag(fit$naive.var)))
write_json(out, "weighted_survival.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
