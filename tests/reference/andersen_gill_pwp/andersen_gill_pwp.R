# Run: Rscript tests/reference/andersen_gill_pwp/andersen_gill_pwp.R > tests/reference/andersen_gill_pwp/andersen_gill_pwp.json
# Data: tests/reference/data/recurrent_events.csv (tests/reference/recurrent_data.py).
# Andersen–Gill: one baseline, every interval at risk; PWP total time: strata by the
# event number enum; PWP gap time: the same strata, times since the previous event.
# All with cluster(id) (robust variance) and Efron ties, as R's defaults.
suppressMessages({library(survival); library(jsonlite)})
d <- read.csv("tests/reference/data/recurrent_events.csv")
d <- d[order(d$id, d$start), ]
prev <- ave(ifelse(d$event == 1, d$stop, NA), d$id, FUN = function(v) {
  s <- c(NA, head(v, -1)); for (i in seq_along(s)) if (i > 1 && is.na(s[i])) s[i] <- s[i - 1]; s
})
prev[is.na(prev)] <- 0
d$gstart <- d$start - prev
d$gstop <- d$stop - prev
res <- function(fit) list(coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))),
                          naive_se = unname(sqrt(diag(fit$naive.var))), loglik = fit$loglik)
ag <- coxph(Surv(start, stop, event) ~ x + z + cluster(id), data = d)
pwpt <- coxph(Surv(start, stop, event) ~ x + z + strata(enum) + cluster(id), data = d)
pwpg <- coxph(Surv(gstart, gstop, event) ~ x + z + strata(enum) + cluster(id), data = d)
out <- list(r_version = R.version.string, survival = as.character(packageVersion("survival")),
            andersen_gill = res(ag), pwp_total = res(pwpt), pwp_gap = res(pwpg))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
