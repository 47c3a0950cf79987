# Run from the repository root: Rscript tests/reference/cox/cox_few_clusters.R
# Reference values for evaluation.survival.cox with few clusters (issue 10) and for the order
# of summary rows. Data are survival's own public data sets, exported here to
# tests/reference/data/ (cgd.csv, lung.csv, veteran.csv) so that Python reads what R read.
#
# cgd (chronic granulomatous disease trial, start/stop rows of repeated infections)
# clustered by hos.cat (4 hospital categories) with 8 coefficients: the robust variance has
# rank <= 3 and R's Wald test uses the generalised inverse of coxph.wtest (cholesky2);
# clustered by center (13 centres); lung clustered by inst (18 institutions).
# "cr1" is the cluster-robust variance times G / (G - 1), computed here from R's variance.
library(survival)
library(jsonlite)

cgd_out <- survival::cgd
cgd_out$treat <- as.integer(cgd_out$treat == "rIFN-g")
cgd_out$male <- as.integer(cgd_out$sex == "male")
cgd_out$autosomal <- as.integer(cgd_out$inherit == "autosomal")
cgd_out$steroids <- as.integer(cgd_out$steroids)
cgd_out$propylac <- as.integer(cgd_out$propylac)
cgd_out <- cgd_out[, c("id", "center", "hos.cat", "treat", "male", "age", "height", "weight",
                       "autosomal", "steroids", "propylac", "tstart", "tstop", "status", "enum")]
names(cgd_out)[3] <- "hos_cat"
cgd_out$center <- as.character(cgd_out$center)
cgd_out$hos_cat <- as.character(cgd_out$hos_cat)
write.csv(cgd_out, "tests/reference/data/cgd.csv", row.names = FALSE)

lung_out <- survival::lung
lung_out <- lung_out[complete.cases(lung_out[, c("inst", "age", "sex", "ph.ecog", "ph.karno",
                                                 "pat.karno", "wt.loss")]),
                     c("inst", "time", "status", "age", "sex", "ph.ecog", "ph.karno",
                       "pat.karno", "wt.loss")]
lung_out$event <- as.integer(lung_out$status == 2)
names(lung_out) <- gsub(".", "_", names(lung_out), fixed = TRUE)  # patsy names have no dots
write.csv(lung_out, "tests/reference/data/lung.csv", row.names = FALSE)

vet_out <- survival::veteran
vet_out$celltype <- as.character(vet_out$celltype)
write.csv(vet_out, "tests/reference/data/veteran.csv", row.names = FALSE)

cgd <- read.csv("tests/reference/data/cgd.csv")
lung <- read.csv("tests/reference/data/lung.csv")
veteran <- read.csv("tests/reference/data/veteran.csv")
ctl <- coxph.control(eps = 1e-11, iter.max = 100)  # toler.chol: the default, as coxph

one <- function(fit, G) {
  w <- survival:::coxph.wtest(fit$var, coef(fit), ctl$toler.chol)
  list(
    terms = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$naive.var))),
    robust_se = unname(sqrt(diag(fit$var))),
    var = unname(fit$var),
    wald = unname(fit$wald.test),
    wald_df = w$df,
    wald_df_summary = unname(summary(fit)$waldtest["df"]),
    n_clusters = G,
    cr1_se = unname(sqrt(diag(fit$var) * G / (G - 1))),
    cr1_wald = survival:::coxph.wtest(fit$var * G / (G - 1), coef(fit), ctl$toler.chol)$test,
    rank = qr(fit$var)$rank
  )
}

cgd_formula <- Surv(tstart, tstop, status) ~ treat + male + age + height + weight +
  autosomal + steroids + propylac
out <- list()
for (ties in c("efron", "breslow")) {
  out[[ties]] <- list(
    cgd_hos_cat = one(coxph(cgd_formula, data = cgd, cluster = hos_cat, ties = ties,
                            control = ctl), length(unique(cgd$hos_cat))),
    cgd_center = one(coxph(cgd_formula, data = cgd, cluster = center, ties = ties,
                           control = ctl), length(unique(cgd$center))),
    lung_inst = one(coxph(Surv(time, event) ~ age + sex + ph_ecog + ph_karno + pat_karno +
                            wt_loss, data = lung, cluster = inst, ties = ties, control = ctl),
                    length(unique(lung$inst)))
  )
}

# Order of the summary rows: R's terms() keeps the formula's order within a degree and puts
# main effects before interactions; factor levels against the first (alphabetical) level.
order_fit <- function(f) {
  fit <- coxph(f, data = veteran, control = ctl)
  list(terms = names(coef(fit)), coef = unname(coef(fit)),
       se = unname(sqrt(diag(fit$var))))
}
out$order <- list(
  main = order_fit(Surv(time, status) ~ karno + celltype + trt + age),
  interaction = order_fit(Surv(time, status) ~ age:trt + karno + celltype + diagtime)
)
out$version <- as.character(packageVersion("survival"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/cox/cox_few_clusters.json")
