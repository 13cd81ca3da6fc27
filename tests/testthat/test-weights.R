# Case weights are frequency weights: an integer weight k counts a row k
# times, in the loss and in the batch statistics alike.  The reference is
# the unweighted computation on the data with rows repeated.

weighted_case <- function(seed, N = 13, q = 1) {
  cs <- random_case(seed, N = N, p1 = 3, p2 = 4, q = q)
  set.seed(seed + 100)
  cs$w <- sample(0:3, N, replace = TRUE)
  cs$w[1:2] <- 1L                              # at least two rows that count
  cs$rows <- rep(seq_len(N), cs$w)
  cs
}
repeated <- function(cs) {
  list(X = cs$X[cs$rows, , drop = FALSE],
       y = if (is.matrix(cs$y)) cs$y[cs$rows, , drop = FALSE] else cs$y[cs$rows])
}

test_that("the loops: integer weights are the rows repeated", {
  for (a in c("relu", "tanh", "softplus")) {
    for (ddof in 0:1) {
      cs <- weighted_case(match(a, activations) + 10 * ddof, q = 1 + ddof)
      r <- repeated(cs)
      g <- bn_grad_loop(cs$X, cs$y, cs$params, a, ddof = ddof, weights = cs$w)
      h <- bn_grad_loop(r$X, r$y, cs$params, a, ddof = ddof)
      for (k in names(h)) expect_lt(rel_err(g[[k]], h[[k]]), 1e-12, label = paste(a, ddof, k))
    }
  }
})

test_that("the core: integer weights are the rows repeated, and agree with the loops", {
  need_core()
  for (a in activations) {
    cs <- weighted_case(match(a, activations) + 40, q = 2)
    r <- repeated(cs)
    g <- bn_grad(cs$X, cs$y, cs$params, a, ddof = 1, weights = cs$w)
    h <- bn_grad(r$X, r$y, cs$params, a, ddof = 1)
    l <- bn_grad_loop(cs$X, cs$y, cs$params, a, ddof = 1, weights = cs$w)
    for (k in names(h)) {
      expect_lt(rel_err(g[[k]], h[[k]]), 1e-12, label = paste(a, k, "vs repeated"))
      expect_lt(rel_err(g[[k]], l[[k]]), 1e-10, label = paste(a, k, "vs loops"))
    }
  }
})

test_that("unit weights change nothing; an integer X and real weights work", {
  need_core()
  cs <- weighted_case(61)
  expect_equal(bn_grad(cs$X, cs$y, cs$params, weights = rep(1, 13)),
               bn_grad(cs$X, cs$y, cs$params), tolerance = 1e-13)
  Xi <- matrix(as.integer(round(cs$X * 3)), nrow(cs$X))
  w <- seq(0.2, 3, length.out = 13)
  expect_equal(bn_grad(Xi, cs$y, cs$params, "sigmoid", weights = w),
               bn_grad_loop(Xi, cs$y, cs$params, "sigmoid", weights = w), tolerance = 1e-10)
})

test_that("bn_check covers weights: core, loops and differences agree", {
  cs <- weighted_case(62, q = 2)
  w <- cs$w + 0.5
  tab <- suppressMessages(bn_check(cs$X, cs$y, cs$params, "tanh", eps = 0, ddof = 1,
                                   weights = w))
  expect_lt(max(tab$loop_vs_fd), 1e-6)
  # the weights reach the differences too: unweighted loops are far from them
  unw <- bn_grad_loop(cs$X, cs$y, cs$params, "tanh", eps = 0, ddof = 1)
  wtd <- bn_grad_loop(cs$X, cs$y, cs$params, "tanh", eps = 0, ddof = 1, weights = w)
  expect_gt(rel_err(unw$G1, wtd$G1), 1e-3)
  need_core()
  expect_lt(max(tab$core_vs_loop), 1e-10)
  expect_lt(max(tab$core_vs_fd), 1e-6)
})

test_that("bad weights are an R error naming them, from the core and the loops alike", {
  cs <- weighted_case(63)
  bad <- list(list(rep(1, 5), "weights must have length 13"),
              list(c(-1, rep(1, 12)), "weights must be >= 0"),
              list(c(NA, rep(1, 12)), "weights contains NA"),
              list(c(1, rep(0, 12)), "weights must give at least 2 rows a non-zero weight"),
              list(rep(1e308, 13), "weights sum past the largest double; divide them"),
              list(rep("1", 13), "weights must be a numeric vector"),
              list(matrix(1, 13, 2), "weights must be a numeric vector"))
  for (b in bad) {
    expect_error(bn_grad_loop(cs$X, cs$y, cs$params, weights = b[[1]]), b[[2]])
    expect_error(bn_fit(cs$X, cs$y, weights = b[[1]]), b[[2]])
  }
  # W - ddof is what the variance divides by
  expect_error(bn_grad_loop(cs$X, cs$y, cs$params, ddof = 1, weights = c(0.5, 0.4, rep(0, 11))),
               "sum to more than ddof = 1")
  need_core()
  for (b in bad) expect_error(bn_grad(cs$X, cs$y, cs$params, weights = b[[1]]), b[[2]])
})

test_that("the default fit with integer weights is the fit on the rows repeated", {
  need_core()
  set.seed(7)
  w <- sample(0:3, nrow(mtcars), replace = TRUE)
  w[1:2] <- 1
  rows <- rep(seq_len(nrow(mtcars)), w)
  f <- bn_fit(mpg ~ wt + hp + qsec, mtcars, weights = w, hidden = 4, seed = 5)
  r <- bn_fit(mpg ~ wt + hp + qsec, mtcars[rows, ], hidden = 4, seed = 5)
  expect_equal(f$optimizer, "bayes")
  expect_equal(predict(f, mtcars), predict(r, mtcars), tolerance = 1e-7)
  for (k in names(r$params)) expect_equal(f$params[[k]], r$params[[k]], tolerance = 1e-7)
  expect_equal(f$decay, r$decay, tolerance = 1e-7)
  expect_equal(f$log_evidence, r$log_evidence, tolerance = 1e-7)
  # and what is computed from the fit: nobs counts what the fit counted, here
  # (y of many values) the distinct rows of non-zero weight, copies once
  expect_equal(nobs(f), sum(w > 0))
  expect_equal(nobs(r), sum(w > 0))
  expect_equal(deviance(f), deviance(r), tolerance = 1e-7)
  expect_equal(logLik(f), logLik(r), tolerance = 1e-7)
  expect_identical(weights(f), as.double(w))
  # the weights matter: the unweighted fit is another
  u <- bn_fit(mpg ~ wt + hp + qsec, mtcars, hidden = 4, seed = 5)
  expect_gt(max(abs(predict(u, mtcars) - predict(f, mtcars))), 1e-3)
})

test_that("a row of weight 0 with a residual whose square overflows leaves deviance finite", {
  need_core()
  set.seed(1)
  d <- data.frame(x1 = rnorm(60), x2 = rnorm(60))
  d$y <- sin(d$x1) + 0.3 * d$x2 + rnorm(60, sd = 0.1)
  w <- rep(1, 60)
  w[c(3, 10)] <- 0
  d$y[10] <- 1e200                             # its residual squared: Inf, times 0 was NaN
  f <- bn_fit(y ~ ., d, weights = w, hidden = 3, seed = 1)
  g <- bn_fit(y ~ ., d[w > 0, ], weights = w[w > 0], hidden = 3, seed = 1)
  # (the same fit to rounding: OpenBLAS's products of 60 rows and of 58
  # round alike on some CPUs, not on all (4e-12 with SkylakeX's kernels))
  expect_equal(deviance(f), deviance(g), tolerance = 1e-9)
  expect_equal(as.numeric(logLik(f)), as.numeric(logLik(g)), tolerance = 1e-9)
  expect_equal(sigma(f), sigma(g), tolerance = 1e-9)
})
