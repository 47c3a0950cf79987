# Reference values for evaluation.sites: exact Poisson intervals and tests of O/E
# (poisson.test), Spiegelhalter's exact funnel limits (qpois/qbinom with interpolation) and
# the overdispersion factor with additive tau2 (test_poisson_test_reference.py).
# Run from the repository root:  Rscript tests/reference/poisson_test/poisson_test.R
# Reads tests/reference/poisson_test/oe.csv (observed and expected per site: the default
# synthetic data's case mix, and a made-up overdispersed set); writes poisson_test.json.
suppressPackageStartupMessages(library(jsonlite))
d <- read.csv("tests/reference/poisson_test/oe.csv")
out <- list(r_version = R.version.string)

# poisson.test(O, T = E): the interval for the rate O/E and the two-sided exact p of O/E = 1.
pt <- lapply(seq_len(nrow(d)), function(i) poisson.test(d$observed[i], T = d$expected[i]))
out$poisson <- list(
  ci_lower = sapply(pt, function(x) x$conf.int[1]),
  ci_upper = sapply(pt, function(x) x$conf.int[2]),
  p = sapply(pt, function(x) x$p.value)
)

# Spiegelhalter (2005), appendix A.1.1: exact limits with interpolation.
pois_limit <- function(p, E) {
  y <- qpois(p, E); a <- (ppois(y, E) - p) / dpois(y, E); (y - a) / E
}
binom_limit <- function(p, n, t) {
  r <- qbinom(p, n, t); a <- (pbinom(r, n, t) - p) / dbinom(r, n, t); (r - a) / n
}
E <- c(0.8, 2.5, 4.4, 10.4, 26, 60, 150)
n <- c(10, 16, 40, 84, 200, 1000)
probs <- c(0.001, 0.025, 0.975, 0.999)
out$limits <- list(
  expected = E, n = n, probs = probs, target = 0.3,
  poisson = lapply(probs, function(p) pois_limit(p, E)),
  binomial = lapply(probs, function(p) binom_limit(p, n, 0.3))
)

# Overdispersion (Spiegelhalter 2005, section 4; SHMI): z = (O/E - 1) sqrt(E); the
# 10 % of k (rounded half up) lowest and highest z are set to the nearest kept value; phi = mean(z^2);
# additive tau2 = (k phi - (k - 1)) / (sum w - sum w^2 / sum w), w = E, truncated at 0.
od <- list()
for (s in unique(d$set)) {
  x <- d[d$set == s, ]
  z <- (x$observed / x$expected - 1) * sqrt(x$expected)
  k <- length(z); cut <- floor(0.1 * k + 0.5); zs <- sort(z)
  if (cut > 0) { zs[1:cut] <- zs[cut + 1]; zs[(k - cut + 1):k] <- zs[k - cut] }
  phi <- mean(zs^2)
  w <- x$expected
  tau2 <- max(0, (k * phi - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))
  # additive 95 % limits at each site's E, and whether it lies outside them
  lo <- 1 - qnorm(0.975) * sqrt(1 / w + tau2); hi <- 1 + qnorm(0.975) * sqrt(1 / w + tau2)
  # exact 95 % limits at each site's E
  elo <- pois_limit(0.025, w); ehi <- pois_limit(0.975, w)
  oe <- x$observed / x$expected
  od[[s]] <- list(phi = phi, phi_p = pchisq(k * phi, k, lower.tail = FALSE), tau2 = tau2,
                  outside_additive = (oe < lo) | (oe > hi),
                  outside_exact = (oe < elo) | (oe > ehi))
}
out$overdispersion <- od

# Binomial limits for O/E (a common outcome): O ~ Bin(n, E / n) under the target, so the
# limit for O/E is binom_limit(p, n, E / n) / (E / n), at each site of the default set.
x <- d[d$set == "default", ]
r <- x$expected / x$n
out$binomial_oe <- list(
  lower = binom_limit(0.025, x$n, r) / r, upper = binom_limit(0.975, x$n, r) / r,
  lower_998 = binom_limit(0.001, x$n, r) / r, upper_998 = binom_limit(0.999, x$n, r) / r
)
write_json(out, "tests/reference/poisson_test/poisson_test.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
