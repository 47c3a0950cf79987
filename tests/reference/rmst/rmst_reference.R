# Reference values for evaluation.survival.rmst (tests/reference/rmst/test_rmst_reference.py).
# Run from the repository root:  Rscript tests/reference/rmst/rmst_reference.R
# Writes tests/reference/rmst/rmst_reference.json. R survival 3.5.3 (Debian r-cran-survival).
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

writeLines(toJSON(out, digits = NA, pretty = FALSE), "tests/reference/rmst/rmst_reference.json")

# Delayed entry (Greenwood-type se from survmean) and the infinitesimal-jackknife se from
# survfit's own per-person RMST residuals, sqrt(sum((w * r)^2)), one group at a time.
rossi$id <- seq_len(nrow(rossi))
rossi$entry <- pmin(rossi$prio, rossi$week - 1)
syn$id <- seq_len(nrow(syn))
ij <- function(data, formula_rhs, tau, wname) {
  lv <- levels(factor(data$grp))
  est <- se <- numeric(length(lv))
  for (k in seq_along(lv)) {
    d <- data[data$grp == lv[k], ]
    d$wt <- d[[wname]]
    # resid() re-evaluates the call, so build it with the formula and data spelled out.
    assign("ij_data", d, envir = .GlobalEnv)
    f <- eval(bquote(survfit(.(formula_rhs), data = ij_data, weights = wt, id = id,
                             robust = TRUE)), envir = .GlobalEnv)
    r <- resid(f, times = tau, type = "rmst")
    est[k] <- survival:::survmean(f, rmean = tau)$matrix["rmean"]
    se[k] <- sqrt(sum((d$wt * r)^2))
  }
  list(rmean = est, se = se)
}
rossi$grp <- rossi$fin
syn$grp <- syn$group
syn$one <- 1
res <- list()
res$rossi_fin_entry_40 <- one(survfit(Surv(entry, week, arrest) ~ fin, data = rossi), 40)
res$rossi_fin_w_robust_40 <- ij(rossi, Surv(week, arrest) ~ 1, 40, "w")
res$rossi_fin_robust_52 <- ij(transform(rossi, one = 1), Surv(week, arrest) ~ 1, 52, "one")
res$syn_group_entry_w_robust_730 <- ij(syn, Surv(entry, time, status == 1) ~ 1, 730, "weight")
res$syn_group_w_robust_2000 <- ij(syn, Surv(time, status == 1) ~ 1, 2000, "weight")
writeLines(toJSON(res, digits = NA, pretty = FALSE), "tests/reference/rmst/rmst_robust_reference.json")
