# Issue 13: bn_fit (its defaults but hidden = 16) against nnet at N = 1e4 and
# 1e5 (N x 10 inputs, 16 hidden units; nnet with maxit 150 and linear output), wall time of one fit
# each, after a warm-up bn_fit in the session; test MSE on 25% held out for
# scale.  Rscript bench/fit_speed_nnet.R
suppressPackageStartupMessages({
  library(bngrad)
  library(nnet)
})
invisible(bn_fit(mpg ~ ., data = mtcars, hidden = 2))
timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, time = proc.time()[["elapsed"]] - t0)
}
cat("| N | bn_fit (s) | bn_fit optimiser, iterations | nnet maxit 150 (s) | nnet / bn_fit | bn_fit test MSE | nnet test MSE |\n|---|---|---|---|---|---|---|\n")
for (N in c(1e4, 1e5)) {
  set.seed(1)
  x <- matrix(rnorm(N * 10), N, 10)
  y <- sin(x[, 1]) + x[, 2] * x[, 3] + rnorm(N, sd = 0.3)
  train <- seq_len(0.75 * N)
  b <- timed(bn_fit(x[train, ], y[train], hidden = 16))
  set.seed(1)
  n <- timed(nnet(x[train, ], y[train], size = 16, maxit = 150, linout = TRUE, trace = FALSE))
  mse <- function(p) mean((y[-train] - p)^2)
  cat(sprintf("| %s | %.2f | %s, %d | %.2f | %.1f | %.4f | %.4f |\n", format(N, big.mark = ","),
              b$time, b$value$optimizer, b$value$n_iter, n$time, n$time / b$time,
              mse(predict(b$value, x[-train, ])), mse(predict(n$value, x[-train, ]))))
}
