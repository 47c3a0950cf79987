# Run from the repository root: Rscript tests/reference/cox/timefix.R
# Reference values for the timefix option (issue 10): R merges times that differ only by
# floating-point rounding (aeqSurv, timefix = TRUE by default in survfit and coxph).
# Durations are converted from days in two ways on alternate rows, as two data sources
# would compute them; the two give results that differ in the last bits for some values:
#   months: odd rows time / 30.4375, even rows (time / 365.25) * 12   (veteran, cgd)
#   years:  odd rows etime / 12,     even rows etime * (1 / 12)        (mgus2, months)
# Python computes the same IEEE operations on the same CSVs (veteran.csv and cgd.csv are
# written by cox_few_clusters.R, cif_mgus2.csv by cif_export_mgus2.R).
library(survival)
library(jsonlite)

months <- function(days) {
  alt <- seq_along(days) %% 2 == 0
  ifelse(alt, (days / 365.25) * 12, days / 30.4375)
}
vet <- read.csv("tests/reference/data/veteran.csv")
vet$months <- months(vet$time)
cgd <- read.csv("tests/reference/data/cgd.csv")
cgd$start_m <- months(cgd$tstart)
cgd$stop_m <- months(cgd$tstop)
mg <- read.csv("tests/reference/data/cif_mgus2.csv")
alt <- seq_len(nrow(mg)) %% 2 == 0
mg$years <- ifelse(alt, mg$etime * (1 / 12), mg$etime / 12)
mg$status <- factor(mg$event, 0:2)

km <- function(fit) list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                         surv = fit$surv, std_err = fit$std.err)
ctl <- function(timefix) coxph.control(eps = 1e-11, iter.max = 100, timefix = timefix)
cx <- function(fit) list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
                         loglik = fit$loglik)
out <- list()
for (tf in c(TRUE, FALSE)) {
  key <- if (tf) "timefix" else "no_timefix"
  aj <- survfit(Surv(years, status) ~ 1, data = mg, timefix = tf)
  out[[key]] <- list(
    km_veteran = km(survfit(Surv(months, status) ~ 1, data = vet, timefix = tf)),
    km_cgd_entry = km(survfit(Surv(start_m, stop_m, status) ~ 1, data = cgd, timefix = tf)),
    cox_veteran = cx(coxph(Surv(months, status) ~ karno + age + trt, data = vet,
                           control = ctl(tf))),
    cox_cgd = cx(coxph(Surv(start_m, stop_m, status) ~ treat + age + steroids, data = cgd,
                       control = ctl(tf))),
    cif_mgus2 = list(time = aj$time, pstate = unname(aj$pstate[, 2:3]),
                     std_err = unname(aj$std.err[, 2:3])),
    logrank_veteran = {
      # survdiff(timefix = FALSE) fails in survival 3.5.3 (the argument reaches
      # model.frame), so the log-rank reference is R's default, timefix = TRUE.
      sd <- survdiff(Surv(months, status) ~ trt, data = vet)
      list(observed = unname(sd$obs), expected = unname(sd$exp), chisq = sd$chisq)
    },
    rmst_veteran = {
      tab <- summary(survfit(Surv(months, status) ~ trt, data = vet, timefix = tf),
                     rmean = 12)$table
      list(rmean = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]))
    }
  )
}
out$version <- as.character(packageVersion("survival"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           "tests/reference/cox/timefix.json")
