# Reference values for evaluation.sites.meta_analysis (test_metafor_reference.py).
# Run from the repository root:  Rscript tests/reference/metafor/metafor.R
# Writes tests/reference/metafor/meta.csv (the estimates: metafor's BCG trials as log risk
# ratios, and a homogeneous set whose tau2 truncates at 0) and metafor.json.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
homog <- data.frame(yi = c(0.10, 0.12, 0.08, 0.11, 0.09), vi = c(0.04, 0.05, 0.03, 0.06, 0.05))
sets <- rbind(
  data.frame(set = "bcg", label = paste(dat.bcg$author, dat.bcg$year), yi = as.numeric(bcg$yi),
             se = sqrt(as.numeric(bcg$vi))),
  data.frame(set = "homogeneous", label = paste0("s", 1:5), yi = homog$yi, se = sqrt(homog$vi))
)
write.csv(sets, "tests/reference/metafor/meta.csv", row.names = FALSE)
sets <- read.csv("tests/reference/metafor/meta.csv")

out <- list(metafor_version = as.character(packageVersion("metafor")))
for (s in unique(sets$set)) {
  d <- sets[sets$set == s, ]
  for (m in c("DL", "REML", "REML_knha")) {
    r <- if (m == "REML_knha") rma(yi = d$yi, sei = d$se, method = "REML", test = "knha") else
      rma(yi = d$yi, sei = d$se, method = m)
    p <- predict(r)
    b <- blup(r)
    out[[paste(s, m, sep = "_")]] <- list(
      estimate = as.numeric(r$b), se = r$se, ci_lower = r$ci.lb, ci_upper = r$ci.ub,
      z = r$zval, p = r$pval, tau2 = r$tau2, i2 = r$I2 / 100, h2 = r$H2, q = r$QE,
      q_p = r$QEp, pi_lower = p$pi.lb, pi_upper = p$pi.ub,
      blup = as.numeric(b$pred), blup_se = as.numeric(b$se)
    )
  }
}
write_json(out, "tests/reference/metafor/metafor.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
