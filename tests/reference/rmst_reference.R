# Reference values for evaluation.survival.rmst (tests/test_rmst_reference.py).
# Run from the repository root:  Rscript tests/reference/rmst_reference.R
# Writes tests/reference/rmst_reference.json. R survival 3.5.3 (Debian r-cran-survival).
# RMST and its standard error are what print(survfit(...), rmean = tau) shows (survival's
# internal survmean). survRM2 is not packaged for Debian, so its between-group contrasts
# are computed here with survRM2's own formulas (rmst2: difference with a normal interval,
# ratio with an interval from the log scale by the delta method) from survfit's values.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

rossi <- read.csv("tests/reference/data/rossi.csv")
rossi$w <- (rossi$age %% 5 + 1) / 2
syn <- read.csv("tests/reference/data/km_synthetic.csv")
syn$group <- factor(syn$group, levels = c("high", "low", "mid"))

one <- function(fit, tau, alpha = 0.05) {
  m <- survival:::survmean(fit, rmean = tau)$matrix
  if (is.null(dim(m))) m <- matrix(m, nrow = 1, dimnames = list("all", names(m)))
  est <- m[, "rmean"]; se <- m[, "se(rmean)"]
  z <- qnorm(1 - alpha / 2)
  res <- list(rmean = unname(est), se = unname(se))
  if (length(est) > 1) {
    d <- est[-1] - est[1]; sd <- sqrt(se[-1]^2 + se[1]^2)
    lr <- log(est[-1] / est[1]); sr <- sqrt((se[-1] / est[-1])^2 + (se[1] / est[1])^2)
    res$diff <- unname(d); res$diff_lower <- unname(d - z * sd); res$diff_upper <- unname(d + z * sd)
    res$diff_p <- unname(2 * pnorm(-abs(d / sd)))
    res$ratio <- unname(exp(lr)); res$ratio_lower <- unname(exp(lr - z * sr))
    res$ratio_upper <- unname(exp(lr + z * sr)); res$ratio_p <- unname(2 * pnorm(-abs(lr / sr)))
  }
  res
}

out <- list()
out$rossi_fin_52 <- one(survfit(Surv(week, arrest) ~ fin, data = rossi), 52)
out$rossi_fin_30 <- one(survfit(Surv(week, arrest) ~ fin, data = rossi), 30)
out$rossi_fin_30_5 <- one(survfit(Surv(week, arrest) ~ fin, data = rossi), 30.5)
out$rossi_all_40 <- one(survfit(Surv(week, arrest) ~ 1, data = rossi), 40)
out$rossi_fin_w_40 <- one(survfit(Surv(week, arrest) ~ fin, data = rossi, weights = w), 40)
out$syn_group_730 <- one(survfit(Surv(time, status == 1) ~ group, data = syn), 730)
out$syn_group_1000_a10 <- one(survfit(Surv(time, status == 1) ~ group, data = syn), 1000, 0.1)
out$syn_group_w_365 <- one(survfit(Surv(time, status == 1) ~ group, data = syn, weights = weight), 365)

writeLines(toJSON(out, digits = NA, pretty = FALSE), "tests/reference/rmst_reference.json")
