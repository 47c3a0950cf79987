# Reference values for evaluation.survival.kaplan_meier (tests/reference/km/test_km_reference.py).
# Run from the repository root:  Rscript tests/reference/km/km_reference.R
# Writes tests/reference/km/km_reference.json. R survival 3.5.3 (Debian r-cran-survival).
suppressPackageStartupMessages({library(survival); library(jsonlite)})

rossi <- read.csv("tests/reference/data/rossi.csv")
# Derived columns, defined identically in the Python test.
rossi$prio_group <- cut(rossi$prio, c(-Inf, 0, 2, Inf), labels = c("0", "1-2", "3+"))
rossi$w <- (rossi$age %% 5 + 1) / 2
rossi$entry <- pmin(rossi$prio, rossi$week - 1)
rossi$id <- seq_len(nrow(rossi))
syn <- read.csv("tests/reference/data/km_synthetic.csv")

times_rossi <- c(5, 10, 20, 26, 30.5, 40, 52)
times_syn <- c(60, 180, 365, 500, 730, 1000, 1200)

one <- function(fit, times) {
  s <- summary(fit, times = times, extend = TRUE)
  strata_full <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(names(fit$strata), fit$strata)
  strata_at <- if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  qd <- function(m) if (is.matrix(m)) m else matrix(m, nrow = 1, dimnames = list("all", names(m)))
  list(
    full = data.frame(strata = strata_full, time = fit$time, n_risk = fit$n.risk,
                      n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
                      std_err = fit$std.err, lower = fit$lower, upper = fit$upper,
                      cumhaz = fit$cumhaz, std_chaz = fit$std.chaz),
    at = data.frame(strata = strata_at, time = s$time, n_risk = s$n.risk,
                    n_event = s$n.event, n_censor = s$n.censor, surv = s$surv,
                    std_err = s$std.err, lower = s$lower, upper = s$upper),
    quantile = list(strata = rownames(qd(q$quantile)), quantile = qd(q$quantile),
                    lower = qd(q$lower), upper = qd(q$upper))
  )
}

out <- list()
for (ct in c("log-log", "log", "plain")) {
  out[[paste0("rossi_fin_", ct)]] <- one(
    survfit(Surv(week, arrest) ~ fin, data = rossi, conf.type = ct), times_rossi)
  out[[paste0("rossi_all_", ct)]] <- one(
    survfit(Surv(week, arrest) ~ 1, data = rossi, conf.type = ct), times_rossi)
  out[[paste0("syn_entry_group_", ct)]] <- one(
    survfit(Surv(entry, time, status == 1) ~ group, data = syn, conf.type = ct), times_syn)
}
out[["rossi_prio"]] <- one(
  survfit(Surv(week, arrest) ~ prio_group, data = rossi, conf.type = "log-log"), times_rossi)
out[["rossi_alpha10"]] <- one(
  survfit(Surv(week, arrest) ~ fin, data = rossi, conf.type = "log-log", conf.int = 0.9),
  times_rossi)
out[["rossi_weights_greenwood"]] <- one(
  survfit(Surv(week, arrest) ~ fin, data = rossi, weights = w, robust = FALSE,
          conf.type = "log-log"), times_rossi)
out[["rossi_weights_robust"]] <- one(
  survfit(Surv(week, arrest) ~ fin, data = rossi, weights = w, robust = TRUE, id = id,
          conf.type = "log-log"), times_rossi)
out[["rossi_entry"]] <- one(
  survfit(Surv(entry, week, arrest) ~ fin, data = rossi, conf.type = "log-log"), times_rossi)
out[["syn_group"]] <- one(
  survfit(Surv(time, status == 1) ~ group, data = syn, conf.type = "log-log"), times_syn)
out[["syn_weights_greenwood"]] <- one(
  survfit(Surv(time, status == 1) ~ group, data = syn, weights = weight, robust = FALSE,
          conf.type = "log"), times_syn)
out[["syn_weights_robust"]] <- one(
  survfit(Surv(time, status == 1) ~ group, data = syn, weights = weight, robust = TRUE, id = id,
          conf.type = "log"), times_syn)
out[["syn_entry_weights_robust"]] <- one(
  survfit(Surv(entry, time, status == 1) ~ group, data = syn, weights = weight,
          robust = TRUE, id = id, conf.type = "log-log"), times_syn)
out[["syn_by_two"]] <- one(
  survfit(Surv(time, status == 1) ~ group + stratum, data = syn, conf.type = "log-log"),
  times_syn)
out[["syn_code2"]] <- one(
  survfit(Surv(time, status %in% c(1, 2)) ~ 1, data = syn, conf.type = "log-log"), times_syn)

writeLines(toJSON(out, digits = NA, na = "null", pretty = FALSE),
           "tests/reference/km/km_reference.json")
