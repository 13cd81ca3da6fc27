# bn_fit against nnet(..., linout = TRUE): median test MSE and wall time over
# several seeds, same hidden size, default settings on both sides.
#   make bench-fit        (or: RETICULATE_PYTHON=.venv/bin/python Rscript bench/fit_vs_nnet.R)
# bn_fit's time is taken after a first warm-up call in the session (Python
# start-up is paid once per session, not per fit).  Writes bench/fit_vs_nnet.md.
suppressPackageStartupMessages({
  library(bngrad)
  library(nnet)
})

friedman1 <- function(n) {
  x <- matrix(runif(n * 5), n, 5, dimnames = list(NULL, paste0("x", 1:5)))
  y <- 10 * sin(pi * x[, 1] * x[, 2]) + 20 * (x[, 3] - 0.5)^2 + 10 * x[, 4] + 5 * x[, 5] +
    rnorm(n)
  data.frame(x, y = y)
}
smooth6 <- function(n) {
  x <- matrix(rnorm(n * 6), n, 6, dimnames = list(NULL, paste0("x", 1:6)))
  y <- tanh(x[, 1] + x[, 2]) - x[, 3] * x[, 4] / 2 + exp(-x[, 5]^2) + 0.3 * x[, 6] + rnorm(n, sd = 0.1)
  data.frame(x, y = y)
}
quakes_task <- function(n) {          # the datasets package: quakes, magnitude from the rest
  d <- datasets::quakes
  d[sample(nrow(d), n, replace = n > nrow(d)), c("lat", "long", "depth", "stations", "mag")]
}
tasks <- list(
  list(name = "Friedman #1 (5 inputs)", make = friedman1, n = 3000, y = "y"),
  list(name = "smooth, 6 inputs", make = smooth6, n = 3000, y = "y"),
  list(name = "quakes: mag ~ . (4 inputs)", make = quakes_task, n = 1000, y = "mag")
)
seeds <- 1:5
hidden <- 16

timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, time = proc.time()[["elapsed"]] - t0)
}

invisible(bn_fit(y ~ ., data = friedman1(200), hidden = 4, max_iter = 5))   # warm-up

rows <- list()
for (task in tasks) {
  res <- t(vapply(seeds, function(s) {
    set.seed(s)
    d <- task$make(task$n)
    train <- sample(nrow(d), round(0.75 * nrow(d)))
    f <- stats::as.formula(paste(task$y, "~ ."))
    yt <- d[-train, task$y]
    set.seed(s)
    b <- timed(bn_fit(f, data = d[train, ], hidden = hidden))
    set.seed(s)
    n <- timed(nnet(f, data = d[train, ], size = hidden, linout = TRUE, trace = FALSE))
    c(bn_mse = mean((yt - predict(b$value, d[-train, ]))^2), bn_time = b$time,
      nnet_mse = mean((yt - predict(n$value, d[-train, ]))^2), nnet_time = n$time)
  }, numeric(4)))
  med <- apply(res, 2, stats::median)
  rows[[task$name]] <- med
  cat(sprintf("%-28s bn_fit MSE %.4f in %.3f s | nnet MSE %.4f in %.3f s\n", task$name,
              med[["bn_mse"]], med[["bn_time"]], med[["nnet_mse"]], med[["nnet_time"]]))
}

md <- c(sprintf("Median over seeds %s; %d hidden units; 75%% / 25%% train / test split.", 
                paste(range(seeds), collapse = "-"), hidden), "",
        "| task (rows) | bn_fit test MSE | nnet test MSE | bn_fit time (s) | nnet time (s) |",
        "|---|---|---|---|---|")
for (i in seq_along(rows)) {
  r <- rows[[i]]
  md <- c(md, sprintf("| %s (%d) | %.4f | %.4f | %.3f | %.3f |", names(rows)[i], tasks[[i]]$n,
                      r[["bn_mse"]], r[["nnet_mse"]], r[["bn_time"]], r[["nnet_time"]]))
}
writeLines(md, "bench/fit_vs_nnet.md")
cat(md, sep = "\n")
