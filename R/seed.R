# The seed question's worked example (the question bngrad grew from), drawn
# exactly as its R code draws it, so that its claims can be checked in R.

bn_seed_example <- function() .with_seed(1, .seed_example())

.seed_example <- function() {
  N <- 10; p1 <- 7; p2 <- 4
  G1 <- matrix(stats::rnorm(p1 * p2), nrow = p1)
  G2 <- stats::rnorm(p2)
  gamma <- 1:p2 + 1
  beta <- (1:p2 + 1) * -1
  u <- stats::rnorm(10)
  X <- matrix(round(stats::runif(N * p1, -5, 5)), nrow = N)
  params <- list(G1 = G1, gamma = gamma, beta = beta, G2 = G2, b = 0)
  # y = a(b(X G1)) G2 + u with the seed's scale(): ddof = 1, eps = 0
  Zs <- scale(X %*% G1)
  A <- sweep(sweep(Zs, 2, gamma, `*`), 2, beta, `+`)
  y <- as.vector(pmax(A, 0) %*% G2) + u
  list(X = X, y = y, u = u, params = params, activation = "relu", eps = 0, ddof = 1)
}
