# Export survival::mgus2 as a competing-risks data set: progression to a plasma-cell
# malignancy (event 1) or death without progression (event 2), censored (0).
# Rows with a missing covariate used by the reference scripts are dropped.
# Run: Rscript tests/reference/competing/cif_export_mgus2.R  (from the repository root)
library(survival)
d <- mgus2
d$etime <- ifelse(d$pstat == 0, d$futime, d$ptime)
d$event <- ifelse(d$pstat == 0, 2 * d$death, 1)
d$male <- as.integer(d$sex == "M")
d$old <- as.integer(d$age >= 70)
d <- d[complete.cases(d[, c("etime", "event", "age", "male", "mspike", "hgb")]),
       c("id", "etime", "event", "age", "male", "old", "mspike", "hgb")]
write.csv(d, "tests/reference/data/cif_mgus2.csv", row.names = FALSE)
