# Run: Rscript tests/reference/mcf_survfit/mcf_survfit.R > tests/reference/mcf_survfit/mcf_survfit.json
# Data: tests/reference/data/recurrent_events.csv (tests/reference/recurrent_data.py).
# The mean cumulative function is survfit's cumulative hazard on counting-process rows;
# with id given, survival 3.x computes the robust (Lawless–Nadeau) variance, and std.chaz
# is the standard error of cumhaz itself.
suppressMessages({library(survival); library(jsonlite)})
d <- read.csv("tests/reference/data/recurrent_events.csv")
one <- function(fit) {
  list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
       cumhaz = fit$cumhaz, std_chaz = fit$std.chaz)
}
plain <- survfit(Surv(start, stop, event) ~ 1, data = d, id = id)
weighted <- survfit(Surv(start, stop, event) ~ 1, data = d, id = id, weights = w)
byx <- survfit(Surv(start, stop, event) ~ x, data = d, id = id)
out <- list(
  r_version = R.version.string, survival = as.character(packageVersion("survival")),
  plain = one(plain), weighted = one(weighted),
  x0 = one(byx[1]), x1 = one(byx[2])
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
