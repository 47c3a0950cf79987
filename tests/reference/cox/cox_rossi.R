# Reference values for evaluation.survival.cox / cox_zph / aft, printed by R's survival.
# Run from the repository root: Rscript tests/reference/cox/cox_rossi.R
#   (writes tests/reference/cox/cox_rossi.json and the data files in tests/reference/data/)
#
# Inputs: data/rossi.csv (lifelines' load_rossi()), data/cox_synthetic.csv (cox_synthetic_data.py).
# Derived data written here (and committed) so that Python reads exactly what R read:
#   data/cox_rossi.csv       rossi + deterministic cluster `cl`, weight `wt`, delayed entry `entry`
#   data/cox_rossi_long.csv  rossi split at weeks 10, 20, 30, 40 (start/stop rows) with a
#                            time-varying covariate tv = prio * (tstart >= 20)
# Convergence is tightened (eps 1e-11) so that R's values are the MLE to ~1e-10, not R's
# default stopping point; Python converges as tightly, so 1e-6 relative comparisons are fair.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
ctl <- coxph.control(eps = 1e-11, iter.max = 100)

rossi <- read.csv("tests/reference/data/rossi.csv")
n <- nrow(rossi)
i <- seq_len(n)
rossi$cl <- i %% 40
rossi$wt <- 0.5 + (i %% 7) / 4
rossi$entry <- ifelse(rossi$week > (i %% 4) * 2, (i %% 4) * 2, 0)
rossi$id <- i
write.csv(rossi, "tests/reference/data/cox_rossi.csv", row.names = FALSE)

long <- survSplit(Surv(week, arrest) ~ ., data = rossi, cut = c(10, 20, 30, 40),
                  start = "tstart", end = "tstop", id = "split_id")
long$tv <- long$prio * (long$tstart >= 20)
long <- long[order(long$id, long$tstart), c("id", "tstart", "tstop", "arrest", "fin", "age",
                                            "race", "wexp", "mar", "paro", "prio", "tv", "cl")]
write.csv(long, "tests/reference/data/cox_rossi_long.csv", row.names = FALSE)

syn <- read.csv("tests/reference/data/cox_synthetic.csv")
syn$grp <- factor(syn$grp, levels = c("high", "low", "mid"))  # alphabetical, as patsy's C()
syn$status <- as.integer(syn$event == 1)                      # code 2 (competing) censors

fit_info <- function(fit, newdata = NULL, times = NULL, zph = TRUE) {
  out <- list(
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(if (is.null(fit$naive.var)) fit$var else fit$naive.var))),
    loglik = unname(fit$loglik),
    lr = unname(2 * diff(fit$loglik)),
    wald = unname(fit$wald.test),
    score = unname(fit$score),
    n = fit$n, nevent = fit$nevent,
    concordance = unname(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y",
                                           "concordance")]),
    concordance_se = unname(fit$concordance["std"])
  )
  if (!is.null(fit$naive.var)) out$robust_se <- unname(sqrt(diag(fit$var)))
  if (zph) {
    for (tr in c("km", "identity", "rank")) {
      z <- cox.zph(fit, transform = tr)
      out[[paste0("zph_", tr)]] <- list(chisq = unname(z$table[, "chisq"]),
                                        df = unname(z$table[, "df"]),
                                        p = unname(z$table[, "p"]),
                                        x = unname(z$x), y = unname(z$y))
    }
  }
  if (!is.null(newdata)) {
    sf <- survfit(fit, newdata = newdata)
    s <- summary(sf, times = times, extend = TRUE)
    out$surv_times <- times
    out$surv <- unname(as.matrix(s$surv))  # times x newdata rows
  }
  out
}

f_rossi <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
nd <- data.frame(fin = c(0, 1), age = c(20, 30), race = c(1, 0), wexp = c(0, 1),
                 mar = c(0, 1), paro = c(1, 0), prio = c(5, 1))
times <- c(5, 10, 20, 30, 40, 52)
res <- list()
for (ties in c("efron", "breslow")) {
  r <- list()
  fit <- coxph(f_rossi, data = rossi, ties = ties, control = ctl)
  r$plain <- fit_info(fit, nd, times)
  fit <- coxph(f_rossi, data = rossi, ties = ties, robust = TRUE, control = ctl)
  r$robust <- fit_info(fit, zph = FALSE)
  fit <- coxph(f_rossi, data = rossi, ties = ties, cluster = cl, control = ctl)
  r$cluster <- fit_info(fit, zph = FALSE)
  fit <- coxph(Surv(week, arrest) ~ fin + age + race + mar + paro + prio + strata(wexp),
               data = rossi, ties = ties, cluster = cl, control = ctl)
  nds <- nd; nds$wexp <- c(0, 1)
  r$strata <- fit_info(fit, nds, times)
  fit <- coxph(f_rossi, data = rossi, ties = ties, weights = wt, robust = TRUE, control = ctl)
  r$weights <- fit_info(fit, nd, times)
  fit <- coxph(Surv(entry, week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
               data = rossi, ties = ties, cluster = cl, control = ctl)
  r$entry <- fit_info(fit, nd, times)
  fit <- coxph(Surv(tstart, tstop, arrest) ~ fin + age + prio + tv, data = long, ties = ties,
               cluster = id, control = ctl)
  r$long <- fit_info(fit)
  fit <- coxph(Surv(entry, time, status) ~ x1 + x2 + grp + x1:x2 + strata(stratum), data = syn,
               ties = ties, cluster = cl, weights = w, control = ctl)
  nds <- data.frame(x1 = c(-1, 0.5), x2 = c(0, 1), grp = factor(c("low", "high"),
                    levels = c("high", "low", "mid")), stratum = c("a", "b"))
  r$synthetic <- fit_info(fit, nds, c(1, 2, 5, 10, 20))
  fit <- coxph(Surv(entry, time, status) ~ x1 + x2 + grp, data = syn, ties = ties,
               cluster = cl, control = ctl)
  r$synthetic_unweighted <- fit_info(fit)
  res[[ties]] <- r
}

aft <- list()
for (dist in c("weibull", "lognormal", "loglogistic")) {
  fit <- survreg(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi,
                 dist = dist, control = survreg.control(rel.tolerance = 1e-12, maxiter = 100))
  v <- vcov(fit)
  aft[[dist]] <- list(coef = unname(coef(fit)), se = unname(sqrt(diag(v)))[seq_along(coef(fit))],
                      log_scale = log(fit$scale), log_scale_se = unname(sqrt(v["Log(scale)", "Log(scale)"])),
                      loglik = unname(fit$loglik))
}
fit <- survreg(Surv(week, arrest) ~ fin + age + prio, data = rossi, weights = wt,
               dist = "weibull", control = survreg.control(rel.tolerance = 1e-12, maxiter = 100))
v <- vcov(fit)
aft$weibull_weighted <- list(coef = unname(coef(fit)), se = unname(sqrt(diag(v)))[1:4],
                             log_scale = log(fit$scale),
                             log_scale_se = unname(sqrt(v["Log(scale)", "Log(scale)"])),
                             loglik = unname(fit$loglik))
res$aft <- aft

# Window logistic regression (Brå 2012 style): relapse within 10 weeks, missing when the
# person left follow-up earlier without an event; cluster-robust as sandwich::vcovCL (HC1).
suppressPackageStartupMessages(library(sandwich))
syn$relapse_10w <- ifelse(syn$status == 1 & syn$time <= 10, TRUE, ifelse(syn$time > 10, FALSE, NA))
lg <- glm(relapse_10w ~ x1 + x2 + grp, family = binomial, data = syn,
          control = glm.control(epsilon = 1e-14, maxit = 100))
res$logistic <- list(coef = unname(coef(lg)), se = unname(sqrt(diag(vcov(lg)))),
                     cluster_se = unname(sqrt(diag(vcovCL(lg, cluster = ~cl, type = "HC1")))),
                     n = nobs(lg), n_missing = sum(is.na(syn$relapse_10w)),
                     loglik = as.numeric(logLik(lg)))
res$survival_version <- as.character(packageVersion("survival"))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"),
           "tests/reference/cox/cox_rossi.json")
