# Reference values for evaluation.survival.fine_gray: cmprsk::crr (coefficients and its
# sandwich variance with the censoring-estimation term), with and without cengroup, its
# predicted cumulative incidence, and survival::finegray + weighted coxph (Breslow ties,
# robust variance by person or by cluster, case weights, censoring strata).
# Run from the repository root: Rscript tests/reference/competing/finegray_crr.R
library(cmprsk)
library(survival)
library(jsonlite)

mg <- read.csv("tests/reference/data/cif_mgus2.csv")
rt <- read.csv("tests/reference/data/cif_retention.csv")
rt$group <- factor(rt$group)
mg_x <- as.matrix(mg[, c("age", "male", "mspike")])
rt_x <- model.matrix(~ x1 + x2 + group, rt)[, -1]

crr_out <- function(fit, label) {
  list(case = label, term = names(fit$coef), coef = unname(fit$coef),
       se = sqrt(diag(fit$var)), var = fit$var, loglik = fit$loglik,
       converged = fit$converged)
}
pred_out <- function(fit, newx, times) {
  p <- predict(fit, cov1 = newx)
  idx <- findInterval(times, p[, 1])
  list(times = times, cif = lapply(seq_len(nrow(newx)), function(i)
    ifelse(idx == 0, 0, p[pmax(idx, 1), i + 1])))
}

fit_mg1 <- crr(mg$etime, mg$event, mg_x, failcode = 1)
fit_mg2 <- crr(mg$etime, mg$event, mg_x, failcode = 2)
fit_mg1c <- crr(mg$etime, mg$event, mg_x, failcode = 1, cengroup = mg$old)
fit_rt2 <- crr(rt$duration_days, rt$event, rt_x, failcode = 2)
fit_rt2c <- crr(rt$duration_days, rt$event, rt_x, failcode = 2, cengroup = rt$stratum)
fit_rt1 <- crr(rt$duration_days, rt$event, rt_x, failcode = 1)
crr_res <- list(
  crr_out(fit_mg1, "mgus2_cause1"), crr_out(fit_mg2, "mgus2_cause2"),
  crr_out(fit_mg1c, "mgus2_cause1_cengroup_old"), crr_out(fit_rt2, "retention_cause2"),
  crr_out(fit_rt2c, "retention_cause2_cengroup_stratum"), crr_out(fit_rt1, "retention_cause1")
)
newx <- rbind(c(0, 0, 0, 0), c(1, 0.5, 1, 0))
pred <- list(
  retention_cause2 = pred_out(fit_rt2, newx, c(30, 91, 182, 365, 730, 1200)),
  mgus2_cause1 = pred_out(fit_mg1, rbind(c(60, 0, 1), c(75, 1, 2)), c(12, 60, 120, 240, 400))
)

fg_out <- function(fit, label) {
  list(case = label, term = names(coef(fit)), coef = unname(coef(fit)),
       se = unname(sqrt(diag(fit$var))), se_naive = unname(sqrt(diag(fit$naive.var))))
}
rt$status <- factor(rt$event, 0:4)
fg <- finegray(Surv(duration_days, status) ~ ., data = rt, etype = "2")
fgw <- finegray(Surv(duration_days, status) ~ ., data = rt, etype = "2", weights = weight)
form <- Surv(fgstart, fgstop, fgstatus) ~ x1 + x2 + group
fg_res <- list(
  fg_out(coxph(form, data = fg, weights = fgwt, ties = "breslow", cluster = id),
         "retention_cause2_by_person"),
  fg_out(coxph(form, data = fg, weights = fgwt, ties = "breslow", cluster = team),
         "retention_cause2_cluster_team"),
  fg_out(coxph(form, data = fgw, weights = fgwt, ties = "breslow", cluster = id),
         "retention_cause2_weighted"),
  fg_out(coxph(form, data = fgw, weights = fgwt, ties = "breslow", cluster = team),
         "retention_cause2_weighted_cluster_team")
)
# Censoring strata are checked against crr's cengroup only: finegray(... + strata(s)) splits
# a competing exit's rows only at the failure times of its own stratum, so an unstratified
# coxph on it weights other strata's failures with a stale G (an approximation of finegray,
# meant for coxph(... + strata(s))).
mg$status <- factor(mg$event, 0:2)
fgm <- finegray(Surv(etime, status) ~ ., data = mg, etype = "1")
fg_res[[length(fg_res) + 1]] <- fg_out(
  coxph(Surv(fgstart, fgstop, fgstatus) ~ age + male + mspike, data = fgm, weights = fgwt,
        ties = "breslow", cluster = id), "mgus2_cause1_by_person")

write_json(list(crr = crr_res, predict = pred, finegray = fg_res),
           "tests/reference/competing/finegray_crr.json", digits = NA, auto_unbox = TRUE)
