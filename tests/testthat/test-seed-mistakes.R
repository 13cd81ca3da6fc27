# The seed question's mistakes, each reproduced from its own R code on its own
# example, shown to disagree with central finite differences, and shown fixed
# in bngrad.  docs/derivation.md ("Common mistakes") has one line on each.

s <- bn_seed_example()
X <- s$X; y <- s$y; u <- s$u; G1 <- s$params$G1; G2 <- s$params$G2
gamma <- s$params$gamma; beta <- s$params$beta
N <- nrow(X)
truth <- bn_grad_loop(X, y, s$params, "relu", eps = 0, ddof = 1)

# the seed's own functions, verbatim but for formatting
a <- function(v) { v[v < 0] <- 0; v }
ap <- function(v) { v[v < 0] <- 0; v[v >= 0] <- 1; v }
b <- function(x, bet = beta, gam = gamma) {
  xs <- scale(x)
  gk <- t(matrix(gam)) %x% matrix(rep(1, N))
  bk <- t(matrix(bet)) %x% matrix(rep(1, N))
  gk * xs + bk
}
A <- b(X %*% G1)

# R = sum((y - yhat)^2) / N as a function of one weight block, and its central differences
loss_with <- function(name, value, freeze = NULL) {
  p <- s$params
  p[[name]] <- value
  Z <- X %*% p$G1
  # freeze = list(mu, sd): batch statistics held fixed (what the seed implicitly does)
  Zs <- if (is.null(freeze)) scale(Z) else sweep(sweep(Z, 2, freeze$mu), 2, freeze$sd, `/`)
  Ah <- sweep(sweep(Zs, 2, p$gamma, `*`), 2, p$beta, `+`)
  sum((y - a(Ah) %*% p$G2)^2) / N
}
fd <- function(name, freeze = NULL, h = 1e-6) {
  w <- s$params[[name]]
  g <- w
  for (m in seq_along(w)) {
    up <- down <- w
    up[m] <- up[m] + h; down[m] <- down[m] - h
    g[m] <- (loss_with(name, up, freeze) - loss_with(name, down, freeze)) / (2 * h)
  }
  g
}
far <- function(x, target) rel_err(as.vector(x), as.vector(target)) > 0.05
near <- function(x, target) rel_err(as.vector(x), as.vector(target)) < 1e-6

test_that("mistake 1: the seed's ap() is 1 everywhere, not the relu derivative", {
  expect_true(any(A < 0))
  expect_true(all(ap(A) == 1))       # v[v < 0] <- 0 leaves every entry >= 0
  seed_drdb <- colSums(-2 / N * u %*% t(G2) * ap(A))        # 1/N put back
  fixed_drdb <- colSums(-2 / N * u %*% t(G2) * (A > 0))
  expect_true(far(seed_drdb, fd("beta")))
  expect_true(near(fixed_drdb, fd("beta")))
  expect_true(near(truth$beta, fd("beta")))
})

test_that("mistake 2: the seed drops the 1/N of its own loss", {
  seed_drdb <- colSums(-2 * u %*% t(G2) * (A > 0))          # derivative fixed
  expect_true(far(seed_drdb, fd("beta")))
  expect_equal(seed_drdb / N, fd("beta"), tolerance = 1e-6)
})

stub <- -2 / N * u %*% t(G2) * (A > 0)                      # S = dR/dA, both fixes in
sd_Z <- apply(X %*% G1, 2, sd)
frozen <- list(mu = colMeans(X %*% G1), sd = sd_Z)

test_that("mistake 3: X'(stub * w) treats the batch mean and sd as constants in G1", {
  w <- t(matrix(gamma / sd_Z)) %x% matrix(rep(1, N))        # w as the seed's text defines it
  drdG1 <- t(X) %*% (stub * w)
  expect_true(far(drdG1, fd("G1")))                          # not the gradient of R ...
  expect_true(near(drdG1, fd("G1", freeze = frozen)))       # ... but of R with frozen statistics
  expect_true(near(truth$G1, fd("G1")))
})

test_that("mistake 4: the seed's code multiplies by sd where w needs 1/sd", {
  w_seed <- t(matrix(gamma)) %x% matrix(rep(1, N)) *
    (t(apply(X %*% G1, 2, sd)) %x% matrix(rep(1, N)))      # the seed's line (%>% unrolled)
  w_text <- t(matrix(gamma / sd_Z)) %x% matrix(rep(1, N))
  target <- fd("G1", freeze = frozen)                       # the quantity w is meant for
  expect_true(far(t(X) %*% (stub * w_seed), target))
  expect_true(near(t(X) %*% (stub * w_text), target))
  expect_true(near(truth$G1, fd("G1")))
})

test_that("mistake 5: the seed's gamma gradient carries an extra factor gamma", {
  drdg <- t(scale(X %*% G1)) %*% (stub * t(matrix(gamma)) %x% matrix(rep(1, N)))
  seed_dgamma <- diag(drdg)                                  # its loop_drdg
  expect_true(far(seed_dgamma, fd("gamma")))
  expect_true(near(seed_dgamma / gamma, fd("gamma")))        # A is linear in gamma
  expect_true(near(colSums(stub * scale(X %*% G1)), fd("gamma")))
  expect_true(near(truth$gamma, fd("gamma")))
})

test_that("mistake 6: scale() divides by N - 1, so the 1/N batch-norm backward is wrong here", {
  Zh <- scale(X %*% G1)                                      # var with N - 1
  dxhat <- sweep(stub, 2, gamma, `*`)
  backward <- function(n_var) {                              # the seeds' compact dx, per column
    dZ <- sweep(dxhat, 2, colMeans(dxhat)) -
      sweep(Zh, 2, colSums(dxhat * Zh) / n_var, `*`)
    t(X) %*% sweep(dZ, 2, sd_Z, `/`)
  }
  expect_true(far(backward(N), fd("G1")))                    # the 1/N of seeds 000, 002, 003
  expect_true(near(backward(N - 1), fd("G1")))               # N - ddof
  expect_true(near(truth$G1, fd("G1")))
  need_core()
  expect_lt(rel_err(bn_grad(X, y, s$params, "relu", eps = 0, ddof = 1)$G1, fd("G1")), 1e-6)
})
