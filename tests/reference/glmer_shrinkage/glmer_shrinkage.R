# Reference values for evaluation.sites.shrinkage (test_glmer_shrinkage_reference.py).
# Run from the repository root:  Rscript tests/reference/glmer_shrinkage/glmer_shrinkage.R
# Reads shrinkage.csv (written by shrinkage_data.py); writes glmer_shrinkage.json.
#
# What the package implements: the case-mix logistic model without site (glm), O/E per
# site, and the normal-normal model on log(O/E) with variance 1/O, tau2 by REML and BLUPs:
# metafor::rma(method = "REML") + blup(). What it is compared with: a binomial
# random-intercept model with the case-mix linear predictor as offset, lme4::glmer
# (Laplace), whose per-site O/E is sum(plogis(offset + u_m)) / E_m.
suppressPackageStartupMessages({library(metafor); library(lme4); library(jsonlite)})
d <- read.csv("tests/reference/glmer_shrinkage/shrinkage.csv", stringsAsFactors = FALSE)
g <- glm(relapse_1y ~ age + prior_decisions_5y, family = binomial, data = d)
d$p <- fitted(g)
O <- c(tapply(d$relapse_1y, d$municipality, sum))
E <- c(tapply(d$p, d$municipality, sum))
yi <- log(ifelse(O > 0, O, 0.5) / E); vi <- 1 / ifelse(O > 0, O, 0.5)
r <- rma(yi = yi, vi = vi, method = "REML")
b <- blup(r)

d$off <- qlogis(d$p)
m <- glmer(relapse_1y ~ 1 + offset(off) + (1 | municipality), family = binomial, data = d)
u <- ranef(m)$municipality
d$u <- u[d$municipality, 1] + fixef(m)[1]
oe_glmer <- tapply(plogis(d$off + d$u), d$municipality, sum) / E

out <- list(
  groups = names(O), observed = unname(O), expected = unname(E),
  mu = as.numeric(r$b), tau2 = r$tau2,
  blup = as.numeric(b$pred), blup_se = as.numeric(b$se),
  glmer_oe = unname(oe_glmer), glmer_sd = attr(VarCorr(m)$municipality, "stddev")[[1]],
  lme4_version = as.character(packageVersion("lme4"))
)
write_json(out, "tests/reference/glmer_shrinkage/glmer_shrinkage.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
