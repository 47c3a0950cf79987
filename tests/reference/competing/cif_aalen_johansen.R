# Reference values for evaluation.survival.cumulative_incidence: the Aalen–Johansen
# estimator from survival::survfit with a factor status (multi-state), whose standard errors
# are the infinitesimal jackknife (R's only choice for multi-state curves), and the
# log-log intervals that survfit_confint applies to each state probability.
# Run from the repository root: Rscript tests/reference/competing/cif_aalen_johansen.R
library(survival)
library(jsonlite)

grab <- function(fit, times, label) {
  s <- summary(fit, times = times, extend = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  out <- list()
  for (k in seq_along(s$states)) {
    out[[k]] <- data.frame(case = label, group = strata, time = s$time, state = s$states[k],
                           n_at_risk = s$n.risk[, 1], estimate = s$pstate[, k],
                           se = s$std.err[, k], ci_lower = s$lower[, k], ci_upper = s$upper[, k],
                           # Counts between the requested times (R's convention for times=):
                           # transitions into the state, and censorings.
                           n_event = s$n.event[, k], n_censor = s$n.censor)
  }
  do.call(rbind, out)
}

mg <- read.csv("tests/reference/data/cif_mgus2.csv")
mg$status <- factor(mg$event, 0:2)
rt <- read.csv("tests/reference/data/cif_retention.csv")
rt$status <- factor(rt$event, 0:4)
# Delayed entry: every third person enters at day 50 (those who left by then are dropped).
rte <- rt
rte$start <- ifelse(rte$id %% 3 == 0, 50, 0)
rte <- rte[rte$duration_days > rte$start, ]

res <- rbind(
  grab(survfit(Surv(etime, status) ~ 1, data = mg, conf.type = "log-log"),
       c(12, 60, 120, 240, 360), "mgus2"),
  grab(survfit(Surv(etime, status) ~ male, data = mg, conf.type = "log-log"),
       c(12, 60, 120, 240, 360), "mgus2_by_male"),
  grab(survfit(Surv(duration_days, status) ~ 1, data = rt, conf.type = "log-log"),
       c(7, 91, 182, 365, 730, 1000), "retention"),
  grab(survfit(Surv(duration_days, status) ~ group, data = rt, conf.type = "log-log"),
       c(7, 91, 182, 365, 730, 1000), "retention_by_group"),
  grab(survfit(Surv(duration_days, status) ~ group, data = rt, weights = weight,
               conf.type = "log-log"),
       c(7, 91, 182, 365, 730, 1000), "retention_weighted"),
  grab(survfit(Surv(duration_days, status) ~ 1, data = rt, conf.type = "log"),
       c(91, 365, 730), "retention_log"),
  grab(survfit(Surv(start, duration_days, status) ~ group, data = rte, id = id,
               weights = weight, conf.type = "log-log"),
       c(7, 91, 182, 365, 730, 1000), "retention_entry_weighted")
)
write_json(res, "tests/reference/competing/cif_aalen_johansen.json", digits = NA, na = "null")
