test_that("core, loops and central differences agree on random cases", {
  need_core()
  for (a in activations) {
    for (conv in list(c(eps = 1e-5, ddof = 0), c(eps = 0, ddof = 1))) {
      for (q in c(1, 3)) {
        cs <- random_case(match(a, activations) * 10 + q, q = q)
        tab <- bn_check(cs$X, cs$y, cs$params, a, conv[["eps"]], conv[["ddof"]])
        expect_lt(max(tab$core_vs_loop), 1e-10, label = paste(a, q, "core vs loop"))
        expect_lt(max(tab$core_vs_fd), 1e-6, label = paste(a, q, "core vs fd"))
        expect_lt(max(tab$loop_vs_fd), 1e-6, label = paste(a, q, "loop vs fd"))
      }
    }
  }
})

test_that("bn_check reads a block whose gradient is 0 against the gradient's scale", {
  need_core()
  # at b's optimum dR/db is rounding (-2.8e-17): divided by itself, every column read 1
  set.seed(2)
  X <- matrix(rnorm(60), 20); y <- rnorm(20); p <- bn_params(3, 4)
  p$b <- p$b - bn_grad(X, y, p, "tanh")$b / 2
  tab <- bn_check(X, y, p, "tanh")
  expect_lt(max(abs(bn_grad(X, y, p, "tanh")$b)), 1e-15)
  expect_lt(max(tab$core_vs_loop), 1e-10)
  expect_lt(max(tab$core_vs_fd), 1e-5)
  expect_lt(max(tab$loop_vs_fd), 1e-5)
})

test_that("the loops agree with central differences without Python", {
  cs <- random_case(99, N = 6, p1 = 2, p2 = 3, q = 2)
  g <- bn_grad_loop(cs$X, cs$y, cs$params, "softplus", eps = 0.01, ddof = 1)
  f <- function(G1) bngrad:::.loop_forward(cs$X, cs$y, G1, cs$params$gamma,
                                           cs$params$beta, cs$params$G2,
                                           cs$params$b, "softplus", 0.01, 1)$loss
  fd <- cs$params$G1
  for (m in seq_along(fd)) {
    up <- down <- cs$params$G1
    up[m] <- up[m] + 1e-6; down[m] <- down[m] - 1e-6
    fd[m] <- (f(up) - f(down)) / 2e-6
  }
  expect_lt(rel_err(g$G1, fd), 1e-7)
})

test_that("bn_grad takes integer matrices, data frames and G2 as a vector", {
  need_core()
  cs <- random_case(5, N = 10, p1 = 3, p2 = 2)
  Xi <- matrix(as.integer(round(cs$X * 3)), nrow(cs$X))
  expect_true(is.integer(Xi))
  ref <- bn_grad_loop(Xi, cs$y, cs$params)
  g <- bn_grad(Xi, cs$y, cs$params)
  expect_equal(g, ref, tolerance = 1e-10)
  df <- as.data.frame(Xi)
  expect_equal(bn_grad(df, cs$y, cs$params), ref, tolerance = 1e-10)
  # logical X is 0/1 (as Python's core takes a bool array), in a matrix or a data frame
  Xl <- cs$X > 0
  Xn <- Xl + 0
  expect_identical(bn_grad(Xl, cs$y, cs$params), bn_grad(Xn, cs$y, cs$params))
  expect_identical(bn_grad_loop(as.data.frame(Xl), cs$y, cs$params),
                   bn_grad_loop(Xn, cs$y, cs$params))
  pv <- cs$params
  pv$G2 <- as.vector(pv$G2)
  gv <- bn_grad(Xi, cs$y, pv)
  expect_null(dim(gv$G2))
  expect_equal(gv$G2, as.vector(ref$G2), tolerance = 1e-10)
  expect_equal(names(g), c("loss", "G1", "gamma", "beta", "G2", "b"))
  expect_true(is.matrix(g$G1) && is.matrix(g$G2))
  expect_true(is.numeric(g$loss) && length(g$loss) == 1)
})

test_that("p2 = 1 and q = 1 (length-1 vectors, Python floats) work", {
  need_core()
  cs <- random_case(6, N = 7, p1 = 2, p2 = 1)
  pv <- cs$params
  pv$G2 <- 0.7
  expect_equal(bn_grad(cs$X, cs$y, pv, "tanh"), bn_grad_loop(cs$X, cs$y, pv, "tanh"),
               tolerance = 1e-10)
})

test_that("inputs are left as they were", {
  need_core()
  cs <- random_case(8)
  before <- cs
  bn_grad(cs$X, cs$y, cs$params)
  expect_identical(cs, before)
})

test_that("bn_params gives the shapes, is reproducible and spares the RNG", {
  p <- bn_params(5, 3, 2, seed = 4)
  expect_equal(dim(p$G1), c(5L, 3L))
  expect_equal(dim(p$G2), c(3L, 2L))
  expect_equal(p$gamma, rep(1, 3))
  expect_equal(p$b, c(0, 0))
  expect_identical(p, bn_params(5, 3, 2, seed = 4))
  set.seed(10); a <- runif(1)
  set.seed(10); bn_params(2, 2, seed = 3); b <- runif(1)
  expect_identical(a, b)
  expect_error(bn_params(0, 3), "n_inputs")
  expect_error(bn_params(2, 1.5), "n_hidden")
})
