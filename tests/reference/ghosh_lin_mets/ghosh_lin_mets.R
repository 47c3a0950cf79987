# Run: Rscript tests/reference/ghosh_lin_mets/ghosh_lin_mets.R > tests/reference/ghosh_lin_mets/ghosh_lin_mets.json
# Data: tests/reference/data/recurrent_events.csv (tests/reference/recurrent_data.py).
# Ghosh–Lin marginal mean with death (terminal == 2) terminal: mets::recurrentMarginal on
# two phreg fits without covariates, clustered by id. mets lists one row per event (tied
# events repeat the time); the test takes the last row of each time.
suppressMessages({library(mets); library(jsonlite)})
d <- read.csv("tests/reference/data/recurrent_events.csv")
d$status <- ifelse(d$event == 1, 1, ifelse(d$terminal == 2, 2, 0))
one <- function(dd) {
  xr <- phreg(Event(start, stop, status == 1) ~ cluster(id), data = dd)
  dr <- phreg(Event(start, stop, status == 2) ~ cluster(id), data = dd)
  m <- recurrentMarginal(xr, dr)
  list(time = m$times, mu = m$mu, se_mu = m$se.mu, survival = m$St)
}
out <- list(
  r_version = R.version.string, mets = as.character(packageVersion("mets")),
  all = one(d), x0 = one(d[d$x == 0, ]), x1 = one(d[d$x == 1, ])
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
