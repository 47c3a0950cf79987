# Run from the repository root:  Rscript tests/reference/power_closed_form/power_closed_form.R
# Writes tests/reference/power_closed_form/power_closed_form.json, read by
# test_power_closed_form_reference.py (evaluation.design.closed_form).
# The hazard-ratio formulas are written out here as Stata's `power logrank` documents them
# (Schoenfeld 1983; Freedman 1982; R = nratio = participants per comparison), since no
# packaged R library implements both (powerSurvEpi is not packaged for Debian). The
# proportions use R's own stats::power.prop.test (pooled variance under the null, equal
# groups, no continuity correction) and, for unequal groups, Fleiss's formula written out.
# No data are read: every input is a number in this script.
library(jsonlite)

za <- function(alpha) qnorm(1 - alpha / 2)

schoenfeld_events <- function(hr, alpha, power, p) {
  (za(alpha) + qnorm(power))^2 / (p * (1 - p) * log(hr)^2)
}
freedman_events <- function(hr, alpha, power, p) {
  R <- p / (1 - p)
  (za(alpha) + qnorm(power))^2 * (1 + R * hr)^2 / (R * (1 - hr)^2)
}
schoenfeld_power <- function(hr, events, alpha, p) {
  pnorm(sqrt(events * p * (1 - p)) * abs(log(hr)) - za(alpha))
}
freedman_power <- function(hr, events, alpha, p) {
  R <- p / (1 - p)
  pnorm(sqrt(events * R) * abs(1 - hr) / (1 + R * hr) - za(alpha))
}
# Minimum detectable (protective) hazard ratio: solve power(hr) = power by uniroot.
mdhr <- function(fpower, events, alpha, power, p) {
  uniroot(function(h) fpower(h, events, alpha, p) - power, c(1e-6, 1 - 1e-9),
          tol = 1e-12)$root
}
# Fleiss (pooled) sample size for the comparisons' group, R = n1 / n0.
fleiss_n0 <- function(p0, p1, alpha, power, R) {
  pbar <- (p0 + R * p1) / (1 + R)
  (za(alpha) * sqrt(pbar * (1 - pbar) * (1 + 1 / R)) +
     qnorm(power) * sqrt(p0 * (1 - p0) + p1 * (1 - p1) / R))^2 / (p1 - p0)^2
}

hr_cases <- list(
  list(hr = 0.5, alpha = 0.05, power = 0.8, p = 0.5),
  list(hr = 0.7, alpha = 0.05, power = 0.9, p = 0.5),
  list(hr = 0.6, alpha = 0.05, power = 0.8, p = 1 / 11),  # 10 comparisons per participant
  list(hr = 1.5, alpha = 0.01, power = 0.8, p = 1 / 3)
)
hazard_ratio <- lapply(hr_cases, function(k) {
  c(k,
    schoenfeld_events = schoenfeld_events(k$hr, k$alpha, k$power, k$p),
    freedman_events = freedman_events(k$hr, k$alpha, k$power, k$p),
    schoenfeld_power_100 = schoenfeld_power(k$hr, 100, k$alpha, k$p),
    freedman_power_100 = freedman_power(k$hr, 100, k$alpha, k$p),
    schoenfeld_mdhr_100 = mdhr(schoenfeld_power, 100, k$alpha, k$power, k$p),
    freedman_mdhr_100 = mdhr(freedman_power, 100, k$alpha, k$power, k$p))
})

prop_cases <- list(
  list(p0 = 0.5, p1 = 0.3, alpha = 0.05, power = 0.8),
  list(p0 = 0.45, p1 = 0.35, alpha = 0.05, power = 0.9),
  list(p0 = 0.2, p1 = 0.1, alpha = 0.01, power = 0.8)
)
proportions <- lapply(prop_cases, function(k) {
  n <- power.prop.test(p1 = k$p0, p2 = k$p1, sig.level = k$alpha, power = k$power)$n
  pw <- power.prop.test(n = 60, p1 = k$p0, p2 = k$p1, sig.level = k$alpha)$power
  c(k,
    n_per_group = n,
    power_n60 = pw,
    fleiss_n0_ratio_1_over_5 = fleiss_n0(k$p0, k$p1, k$alpha, k$power, 1 / 5))
})

kish <- local({
  w <- c(1, 1, 1, 1, 0.5, 0.25, 2, 3, 0.1)
  list(weights = w, n_eff = sum(w)^2 / sum(w^2), deff = length(w) * sum(w^2) / sum(w)^2)
})

out <- list(
  r_version = R.version.string,
  hazard_ratio = hazard_ratio,
  proportions = proportions,
  kish = kish
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/power_closed_form/power_closed_form.json")
