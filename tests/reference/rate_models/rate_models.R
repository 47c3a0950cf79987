# Run: Rscript tests/reference/rate_models/rate_models.R > tests/reference/rate_models/rate_models.json
# Data: tests/reference/data/recurrent_events.csv (tests/reference/recurrent_data.py),
# summed per person: count = number of events, exposure = time at risk (sum of stop -
# start); cluster = groups of three consecutive persons, so that the clustered and the
# per-person sandwich differ. Cluster-robust variance: sandwich::vcovCL, type HC1 (its
# default): G/(G-1) (N-1)/(N-K) times the meat. glm.nb's vcovCL holds theta fixed.
suppressMessages({library(MASS); library(sandwich); library(jsonlite)})
d <- read.csv("tests/reference/data/recurrent_events.csv")
p <- aggregate(cbind(count = event, exposure = stop - start) ~ id + x + z + w, data = d, FUN = sum)
p <- p[order(p$id), ]
p$cl <- ceiling(p$id / 3)
write.csv(p, "tests/reference/data/recurrent_rates.csv", row.names = FALSE)
res <- function(fit, cl) {
  v <- vcovCL(fit, cluster = cl, type = "HC1")
  list(coef = unname(coef(fit)), se_model = unname(sqrt(diag(vcov(fit)))),
       se_cluster = unname(sqrt(diag(v))), terms = names(coef(fit)))
}
pois <- glm(count ~ x + z + offset(log(exposure)), family = poisson, data = p,
  control = glm.control(epsilon = 1e-12, maxit = 100))
wpois <- glm(count ~ x + offset(log(exposure)), family = quasipoisson, data = p, weights = w,
  control = glm.control(epsilon = 1e-12, maxit = 100))
nb <- glm.nb(count ~ x + z + offset(log(exposure)), data = p, control = glm.control(epsilon = 1e-12, maxit = 100))
wnb <- suppressWarnings(glm.nb(count ~ x + offset(log(exposure)), data = p, weights = w,
  control = glm.control(epsilon = 1e-12, maxit = 100)))
out <- list(
  r_version = R.version.string, MASS = as.character(packageVersion("MASS")),
  sandwich = as.character(packageVersion("sandwich")),
  poisson = res(pois, ~cl), poisson_weighted = res(wpois, ~cl),
  negbin = c(res(nb, ~cl), theta = nb$theta), negbin_weighted = c(res(wnb, ~cl), theta = wnb$theta)
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
