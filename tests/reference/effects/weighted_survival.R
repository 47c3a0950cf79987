# Reference values for the effect estimator's weighted curves and weighted Cox model:
# R survival on data/weighted_input.csv (written by weighted_data.py): the sequential-trial
# cohort of the default synthetic registers with ATT weights.
#  - weighted Aalen-Johansen cumulative incidence of relapse (event 1; death 2 and
#    emigration 3 competing), by group, at days 1..1095 (survfit multi-state with weights);
#  - weighted Kaplan-Meier of relapse-free survival (other events censored), by group;
#  - weighted Cox model of relapse on treated with the cluster-robust variance by person.
# Section "effect" (keys effect_*): on data/effect_curves_input.csv (written by
# effect_curves_data.py), the curves estimate_programme_effect draws, on every day 0..1095:
#  - the propensity model refitted here (glm binomial) and its stabilised ATT weights,
#    checked against the exported att_weight (same data, same weights);
#  - weighted Aalen-Johansen cumulative incidence of relapse by group with those weights
#    (survfit with case weights), the weighted number at risk, and the same curves with the
#    exported 1:1 matching weights and with no weights (the naive analysis);
#  - the weighted Cox model of relapse with the cluster-robust variance (the marginal HR):
#    coefficient, robust SE, robust Wald p-value and 95 % interval of the HR.
# Run from the repository root: Rscript tests/reference/effects/weighted_survival.R
#   (writes tests/reference/effects/weighted_survival.json)
suppressPackageStartupMessages({library(survival); library(jsonlite)})
d <- read.csv("tests/reference/data/weighted_input.csv")
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

## Section "effect": the curves of estimate_programme_effect ------------------------------
e <- read.csv("tests/reference/data/effect_curves_input.csv")
eday <- 0:1095
ps <- glm(treated ~ age + sex + log1p(prior_decisions_5y), family = binomial, data = e,
          control = glm.control(epsilon = 1e-12, maxit = 50))
sc <- fitted(ps)
p1 <- mean(e$treated)
w_att <- ifelse(e$treated == 1, 1, sc / (1 - sc) * (1 - p1) / p1)
stopifnot(max(abs(w_att / e$att_weight - 1)) < 1e-8)  # the exported weights are R's
out$effect_days <- eday
out$effect_glm_coef <- as.list(coef(ps))  # named: (Intercept), age, sexM, log1p(...)
out$effect_att_weight <- w_att
e$state <- factor(e$event, levels = 0:3, labels = c("censor", "relapse", "death", "emigration"))
curve <- function(w) {
  e$w <- w
  keep <- e$w > 0  # matching: unmatched comparisons carry no weight
  fit <- survfit(Surv(duration_days, state) ~ treated, data = e[keep, ], weights = w,
                 id = seq_len(sum(keep)))
  # The multi-state fit reports unweighted n.risk; the Kaplan-Meier fit's n.risk is the
  # weighted number at risk at the start of day t (rows with duration >= t).
  km <- survfit(Surv(duration_days, event == 1) ~ treated, data = e[keep, ], weights = w)
  res <- list()
  for (g in c(0, 1)) {
    s <- summary(fit[g + 1, ], times = eday, extend = TRUE)
    res[[paste0("cif_relapse_", g)]] <- unname(s$pstate[, which(fit$states == "relapse")])
    res[[paste0("n_risk_", g)]] <- unname(summary(km[g + 1], times = eday, extend = TRUE)$n.risk)
  }
  res
}
for (nm in c("att", "match", "naive")) {
  w <- switch(nm, att = w_att, match = e$match_weight, naive = rep(1, nrow(e)))
  r <- curve(w)
  for (k in names(r)) out[[paste0("effect_", nm, "_", k)]] <- r[[k]]
}
e$w <- w_att
hr <- coxph(Surv(duration_days, event == 1) ~ treated, data = e, weights = w,
            cluster = person_id, ties = "efron")
z <- coef(hr) / sqrt(diag(hr$var))
out$effect_hr_coef <- unname(coef(hr))
out$effect_hr_robust_se <- unname(sqrt(diag(hr$var)))
out$effect_hr_p <- unname(2 * pnorm(-abs(z)))
out$effect_hr_p_summary <- unname(summary(hr)$coefficients[, "Pr(>|z|)"])
out$effect_hr_ci <- unname(exp(coef(hr) + c(-1, 1) * qnorm(0.975) * sqrt(diag(hr$var))))
write_json(out, "tests/reference/effects/weighted_survival.json",
           digits = NA, auto_unbox = TRUE, pretty = FALSE)
