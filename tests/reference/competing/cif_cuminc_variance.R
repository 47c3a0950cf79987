# Run from the repository root: Rscript tests/reference/competing/cif_cuminc_variance.R
# Reference values for cumulative_incidence(..., variance="gray") (issue 10): estimates and
# variances of cmprsk::cuminc (Gray 1988), read with cmprsk::timepoints at fixed times.
# Data: survival's mgus2 as competing risks (tests/reference/data/cif_mgus2.csv, written by
# cif_export_mgus2.R: 1 progression, 2 death, 0 censored; months, many ties) and the
# package's synthetic retention cohort (tests/reference/data/cif_retention.csv, four causes).
library(cmprsk)
library(jsonlite)

grab <- function(fit, times, groups) {
  tp <- timepoints(fit, times)
  keys <- rownames(tp$est)  # "<group> <cause>"
  list(key = keys, time = times, est = unname(tp$est), var = unname(tp$var))
}

mg <- read.csv("tests/reference/data/cif_mgus2.csv")
rt <- read.csv("tests/reference/data/cif_retention.csv")
# Times with events of one cause only included (7, 126, 142; 14, 35, 238).
mg_times <- c(6, 7, 12, 60, 120, 126, 142, 240, 360, 420)
rt_times <- c(7, 14, 30, 35, 91, 182, 238, 365, 730, 1000)
out <- list(
  mgus2 = grab(cuminc(mg$etime, mg$event, cencode = 0), mg_times),
  mgus2_by_male = grab(cuminc(mg$etime, mg$event, group = mg$male, cencode = 0), mg_times),
  retention_by_group = grab(cuminc(rt$duration_days, rt$event, group = rt$group, cencode = 0),
                            rt_times),
  version = as.character(packageVersion("cmprsk"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           "tests/reference/competing/cif_cuminc_variance.json")
