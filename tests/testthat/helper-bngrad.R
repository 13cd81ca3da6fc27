# Shared helpers for the R tests.

# The core is required where BNGRAD_REQUIRE_CORE is set (make test, CI):
# there a missing Python is a failure, not a skip.
need_core <- function() {
  if (nzchar(Sys.getenv("BNGRAD_REQUIRE_CORE"))) {
    expect_true(bn_core_available(), label = "the Python core loads")
  } else if (!bn_core_available()) {
    skip("the bngrad Python core is not available")
  }
}

fixture_files <- function() {
  dir <- test_path("..", "fixtures")
  files <- list.files(dir, pattern = "\\.json$", full.names = TRUE)
  # gradient cases only: seed_data.json is raw data, fit_example.json a fit
  files[!grepl("^(seed_data|fit_)", basename(files))]
}

read_fixture <- function(path) {
  d <- jsonlite::fromJSON(path, simplifyVector = TRUE)
  # every fixture says whether it is weighted: `$` on a list would give NULL
  # for a missing field as for an unweighted case
  stopifnot("weights" %in% names(d))
  as_mat <- function(v, vector_ok) if (is.null(dim(v)) && !vector_ok) matrix(v, nrow = 1) else v
  X <- as_mat(d$X, FALSE)
  if (d$X_integer) storage.mode(X) <- "integer"
  d$X <- X
  d$params <- list(G1 = as_mat(d$G1, FALSE), gamma = d$gamma, beta = d$beta,
                   G2 = d$G2, b = d$b)
  d
}

rel_err <- function(a, b) {
  stopifnot(identical(dim(a), dim(b)), length(a) == length(b))
  max(abs(a - b)) / max(abs(b), .Machine$double.xmin)
}

random_case <- function(seed, N = 12, p1 = 3, p2 = 4, q = 1) {
  set.seed(seed)
  list(X = matrix(rnorm(N * p1, sd = 2), N, p1),
       y = if (q == 1) rnorm(N) else matrix(rnorm(N * q), N, q),
       params = list(G1 = matrix(rnorm(p1 * p2), p1, p2), gamma = runif(p2, -2, 2),
                     beta = rnorm(p2), G2 = matrix(rnorm(p2 * q), p2, q), b = rnorm(q)))
}

activations <- c("relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity")
