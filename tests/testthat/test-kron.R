fd_jacobian <- function(f, x, h = 1e-6) {
  sapply(seq_along(x), function(m) {
    up <- down <- x
    up[m] <- up[m] + h
    down[m] <- down[m] - h
    as.vector(f(up) - f(down)) / (2 * h)
  })
}

test_that("bn_jacobian equals central differences of the BN layer", {
  cs <- random_case(21, N = 6, p1 = 3, p2 = 3)
  Z <- cs$X %*% cs$params$G1
  for (conv in list(c(1e-5, 0), c(0, 1))) {
    bn <- function(Z) {
      s <- bngrad:::.normalise(Z, conv[1], conv[2])
      sweep(sweep(s$Zh, 2, cs$params$gamma, `*`), 2, cs$params$beta, `+`)
    }
    J <- bn_jacobian(Z, cs$params$gamma, eps = conv[1], ddof = conv[2])
    expect_equal(dim(J), c(18L, 18L))
    expect_lt(rel_err(J, fd_jacobian(bn, Z)), 1e-7)
  }
})

test_that("bn_grad_kron gives the loops' and the core's numbers", {
  for (a in activations) {
    cs <- random_case(match(a, activations), N = 7, p1 = 3, p2 = 3, q = 2)
    kr <- bn_grad_kron(cs$X, cs$y, cs$params, a, eps = 0, ddof = 1)
    lp <- bn_grad_loop(cs$X, cs$y, cs$params, a, eps = 0, ddof = 1)
    for (k in names(lp)) expect_lt(rel_err(kr[[k]], lp[[k]]), 1e-10, label = paste(a, k))
  }
  s <- bn_seed_example()
  kr <- bn_grad_kron(s$X, s$y, s$params, "relu", eps = 0, ddof = 1)
  expect_null(dim(kr$G2))
  need_core()
  g <- bn_grad(s$X, s$y, s$params, "relu", eps = 0, ddof = 1)
  for (k in names(g)) expect_lt(rel_err(kr[[k]], g[[k]]), 1e-10, label = k)
})

test_that("dense Jacobians refuse large N with the limit named", {
  Z <- matrix(rnorm(5000 * 2), 5000)
  expect_error(bn_jacobian(Z, c(1, 1)), "too large for dense Jacobians \\(limit 4096\\)")
  expect_error(bn_grad_kron(Z, rnorm(5000), bn_params(2, 2)), "limit 4096")
  # wide nets on few rows: I %x% Zh is N p2 x p2^2 (8 GB at p2 = 512, N = 8)
  expect_error(bn_grad_kron(Z[1:8, ], rnorm(8), bn_params(2, 512)),
               "would hold 1073741824 values.*limit 4096\\^2")
  # and many outputs: I_q %x% H is N q x p2 q (4 GB at q = 2048, p2 = 64, N = 2)
  expect_error(bn_grad_kron(Z[1:2, 1, drop = FALSE], matrix(0, 2, 2048), bn_params(1, 64, 2048)),
               "would hold 536870912 values")
  expect_error(bn_jacobian(matrix(1:6 + 0.5, 3), 1), "gamma")
})

test_that("overflow is said as the core says it, by the loops and the Jacobians alike", {
  set.seed(1)
  X <- matrix(rnorm(80), 20); y <- rnorm(20); p <- bn_params(4, 3)
  for (f in list(bn_grad_loop, bn_grad_kron)) {
    # (an overflowed variance made sd Inf, Zh 0 and gamma's gradient a silent 0)
    expect_error(f(X * 1e200, y, p), "X %\\*% G1 is too large for float64: column 1")
    expect_error(f(X, y * 1e160, p), "the loss or a gradient overflows float64")
  }
  expect_error(bn_jacobian(X * 1e200, rep(1, 4)), "Z is too large for float64")
})
