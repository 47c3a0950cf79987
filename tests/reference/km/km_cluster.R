# Run from the repository root: Rscript tests/reference/km/km_cluster.R
# Reference values for kaplan_meier(..., cluster=) (issue 10): the infinitesimal-jackknife
# variance with the influences of one person's rows summed, R's
# survfit(..., id = id, robust = TRUE). Data: survival's cgd (repeated infections of one
# person), written to tests/reference/data/cgd.csv by cox_few_clusters.R:
#   "counting": start/stop rows (tstart, tstop], time to any infection, by id;
#   "gap": time from each entry (0 or the previous infection) to the next, one row per entry,
#          by treatment group (repeated entries of one person, right-censored);
#   "gap_weighted": as "gap" with case weights 1 + (id mod 3) / 2.
library(survival)
library(jsonlite)

cgd <- read.csv("tests/reference/data/cgd.csv")
cgd$gap <- cgd$tstop - cgd$tstart
cgd$w <- 1 + (cgd$id %% 3) / 2
times <- c(30, 60, 90, 150, 200, 250, 300, 350)

grab <- function(fit) {
  s <- summary(fit, times = times, extend = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  list(group = strata, time = s$time, n_risk = s$n.risk, surv = s$surv,
       std_err = s$std.err, lower = s$lower, upper = s$upper,
       cumhaz = s$cumhaz, std_chaz = s$std.chaz)
}

out <- list(
  counting = grab(survfit(Surv(tstart, tstop, status) ~ 1, data = cgd, id = id, robust = TRUE,
                          conf.type = "log-log")),
  counting_naive = grab(survfit(Surv(tstart, tstop, status) ~ 1, data = cgd,
                                conf.type = "log-log")),
  gap = grab(survfit(Surv(gap, status) ~ treat, data = cgd, id = id, robust = TRUE,
                     conf.type = "log-log")),
  gap_weighted = grab(survfit(Surv(gap, status) ~ treat, data = cgd, id = id, robust = TRUE,
                              weights = w, conf.type = "log-log")),
  version = as.character(packageVersion("survival"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/km/km_cluster.json")
