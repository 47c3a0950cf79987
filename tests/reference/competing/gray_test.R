# Reference values for evaluation.survival.gray_test: Gray's K-sample test per cause,
# cmprsk::cuminc(...)$Tests, plain and stratified, rho = 0 and rho = 1.
# Run from the repository root: Rscript tests/reference/competing/gray_test.R
library(cmprsk)
library(jsonlite)

tests <- function(fit, label, rho) {
  t <- fit$Tests
  data.frame(case = label, rho = rho, cause = as.integer(rownames(t)),
             statistic = t[, "stat"], p = t[, "pv"], df = t[, "df"])
}

mg <- read.csv("tests/reference/data/cif_mgus2.csv")
rt <- read.csv("tests/reference/data/cif_retention.csv")
res <- rbind(
  tests(cuminc(mg$etime, mg$event, mg$male), "mgus2_by_male", 0),
  tests(cuminc(mg$etime, mg$event, mg$male, strata = mg$old), "mgus2_by_male_strata_old", 0),
  tests(cuminc(rt$duration_days, rt$event, rt$group), "retention_by_group", 0),
  tests(cuminc(rt$duration_days, rt$event, rt$group, rho = 1), "retention_by_group", 1),
  tests(cuminc(rt$duration_days, rt$event, rt$group, strata = rt$stratum),
        "retention_by_group_strata", 0),
  tests(cuminc(rt$duration_days, rt$event, rt$x1, strata = rt$stratum, rho = 0.5),
        "retention_by_x1_strata", 0.5)
)
write_json(res, "tests/reference/competing/gray_test.json", digits = NA)
