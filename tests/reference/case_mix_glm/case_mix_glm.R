# Reference values for evaluation.sites.case_mix (test_case_mix_glm_reference.py).
# Run from the repository root:  Rscript tests/reference/case_mix_glm/case_mix_glm.R
# Reads case_mix.csv (written by case_mix_data.py); writes case_mix_glm.json: the logistic
# case-mix model (glm, cluster-robust by person with sandwich::vcovCL, HC1), the Cox model
# (coxph, Breslow ties, cluster(person_id)), and observed / expected per municipality for both
# (expected: sum of fitted risks; for Cox, event minus the martingale residual).
suppressPackageStartupMessages({library(survival); library(sandwich); library(jsonlite)})
d <- read.csv("tests/reference/case_mix_glm/case_mix.csv", stringsAsFactors = FALSE)
d$sex <- factor(d$sex)
f <- ~ sex + age + prior_decisions_5y + prior_custody_5y + prior_violence_5y + entry_year

dl <- d[!is.na(d$relapse_1y), ]
g <- glm(update(f, relapse_1y ~ .), family = binomial, data = dl)
V <- vcovCL(g, cluster = ~ person_id, type = "HC1")
ex_l <- tapply(fitted(g), dl$municipality, sum)
ob_l <- tapply(dl$relapse_1y, dl$municipality, sum)

d$rel <- as.integer(d$event == 1)
cx <- coxph(update(f, Surv(duration_days, rel) ~ . + cluster(person_id)), data = d, ties = "breslow")
e_i <- d$rel - residuals(cx, type = "martingale")
ex_c <- tapply(e_i, d$municipality, sum)
ob_c <- tapply(d$rel, d$municipality, sum)

out <- list(
  logistic = list(coef = unname(coef(g)), se = unname(sqrt(diag(V))), terms = names(coef(g)),
                  groups = names(ex_l), observed = unname(ob_l), expected = unname(ex_l)),
  cox = list(coef = unname(coef(cx)), se = unname(sqrt(diag(cx$var))), terms = names(coef(cx)),
             groups = names(ex_c), observed = unname(ob_c), expected = unname(ex_c))
)
write_json(out, "tests/reference/case_mix_glm/case_mix_glm.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
