# Reference values on a relapse cohort from the package's own generator (issue 3): ties
# (whole days), delayed entry, strata and clusters (several entry events per person).
# Data: tests/reference/data/generator_cohort.csv, written by generator_cohort_data.py.
# Run from the repository root: Rscript tests/reference/generator_cohort/generator_cohort.R
library(survival)
library(jsonlite)

d <- read.csv("tests/reference/data/generator_cohort.csv")
d$relapse <- as.integer(d$event == 1)
# Delayed-entry analyses need entry < exit: rows that exit on day 0 cannot enter later.
de <- d[d$duration_days > d$entry_days, ]
times_km <- c(365, 730, 1095)
# Tight convergence so both sides are the MLE to ~1e-10 (as in cox_rossi.R).
ctl <- coxph.control(eps = 1e-11, toler.chol = 1e-12, iter.max = 100)

km_at <- function(fit) {
  s <- summary(fit, times = times_km, extend = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  list(group = strata, time = s$time, n_risk = s$n.risk, n_event = s$n.event,
       surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper)
}

cox_out <- function(fit) {
  list(terms = names(coef(fit)), coef = unname(coef(fit)),
       se = unname(sqrt(diag(fit$naive.var))), robust_se = unname(sqrt(diag(fit$var))),
       loglik = fit$loglik, n = fit$n, nevent = fit$nevent)
}

cif_at <- function(fit, times) {
  s <- summary(fit, times = times, extend = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  out <- list()
  for (k in seq_along(s$states)) {
    out[[k]] <- data.frame(group = strata, time = s$time, state = s$states[k],
                           n_at_risk = s$n.risk[, 1], estimate = s$pstate[, k],
                           se = s$std.err[, k], ci_lower = s$lower[, k], ci_upper = s$upper[, k])
  }
  do.call(rbind, out)
}

res <- list()
res$km_sex <- km_at(survfit(Surv(duration_days, relapse) ~ sex, data = d, conf.type = "log-log"))
res$km_entry_sex <- km_at(survfit(Surv(entry_days, duration_days, relapse) ~ sex, data = de,
                                  conf.type = "log-log"))
sd <- survdiff(Surv(duration_days, relapse) ~ sex + strata(muni_group), data = d)
res$logrank_sex_strata <- list(chisq = sd$chisq, df = length(sd$n) - 1,
                               p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE))
f <- Surv(duration_days, relapse) ~ sex + age + prior_decisions_5y + strata(muni_group)
for (ties in c("efron", "breslow")) {
  res[[paste0("cox_", ties)]] <- cox_out(coxph(f, data = d, cluster = cluster_id, ties = ties,
                                               control = ctl))
  res[[paste0("cox_entry_", ties)]] <- cox_out(coxph(
    Surv(entry_days, duration_days, relapse) ~ sex + age + prior_decisions_5y + strata(muni_group),
    data = de, cluster = cluster_id, ties = ties, control = ctl))
}
d$status <- factor(d$event, 0:3)
res$cif <- cif_at(survfit(Surv(duration_days, status) ~ 1, data = d, conf.type = "log-log"),
                  c(365, 1095))
res$cif_sex <- cif_at(survfit(Surv(duration_days, status) ~ sex, data = d, conf.type = "log-log"),
                      c(365, 1095))
write_json(res, "tests/reference/generator_cohort/generator_cohort.json", digits = NA, na = "null", auto_unbox = TRUE)
