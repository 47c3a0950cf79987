# Run: Rscript tests/reference/ghosh_lin_weighted/ghosh_lin_weighted.R > tests/reference/ghosh_lin_weighted/ghosh_lin_weighted.json
# Data: tests/reference/data/recurrent_events.csv (tests/reference/recurrent_data.py), the
# rows of ghosh_lin_mets with their person weight w.
# The weighted Ghosh–Lin marginal mean, by hand: mets::recurrentMarginal takes no weights,
# so mu(t) = sum_{s <= t} S_w(s-) dN_w(s) / Y_w(s), where S_w is survival's weighted
# Kaplan–Meier of death (terminal == 2; emigration, 3, is censoring) on the counting-process
# rows and dN_w / Y_w the weighted Nelson–Aalen increments of the recurrent events (the
# weighted n.event and n.risk of survfit on the same rows). Times are distinct in the data.
suppressMessages({library(survival); library(jsonlite)})
d <- read.csv("tests/reference/data/recurrent_events.csv")
one <- function(dd) {
  km <- survfit(Surv(start, stop, terminal == 2) ~ 1, data = dd, weights = w)
  na <- survfit(Surv(start, stop, event == 1) ~ 1, data = dd, weights = w)
  ev <- na$n.event > 0
  t <- na$time[ev]
  inc <- na$n.event[ev] / na$n.risk[ev]
  # S_w(t-): the Kaplan–Meier of death just before each event time (a left-continuous
  # step function: an offence at the time of a death counts).
  s_left <- stepfun(km$time, c(1, km$surv), right = TRUE)(t)
  # Survival at every time where a death happens, for the comparison of S_w itself.
  dth <- km$n.event > 0
  list(
    time = t, mu = cumsum(s_left * inc), increment = inc, n_risk = na$n.risk[ev],
    death_time = km$time[dth], survival = km$surv[dth]
  )
}
out <- list(
  r_version = R.version.string, survival = as.character(packageVersion("survival")),
  all = one(d), x0 = one(d[d$x == 0, ]), x1 = one(d[d$x == 1, ])
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
