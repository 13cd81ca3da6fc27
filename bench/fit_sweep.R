# Issue 10's goals on data no one chose: every data frame that ships with R's
# datasets and the Debian packages MASS, carData, mlbench, boot, nlme, rpart,
# lattice, survival and cluster, other than bench/panel.R's, with 12-3000
# rows and 2-40 columns, fitted as a script would without a look at it:
# y = the last numeric column of 10 values or more, every other numeric,
# factor or logical column an input (factors of more than 30 levels, ids,
# left out), rows with NA dropped; one random 75/25 split (seed 1).
#   make bench-sweep      (or: Rscript bench/fit_sweep.R, then Rscript bench/fit_sweep.R more)
# With "more": the same for the data frames of 24 other packages that Debian
# ships as r-cran-* (econometrics, robust statistics, mixed models,
# survival, ecology), beyond those the issue names; writes
# bench/fit_sweep_more_R.md.  (Left out: pls, whose data frames hold
# matrix columns, and metadat, tables of meta-analysis effect sizes.)
# Default bn_fit (hidden = 8) against nnet with its decay chosen on the test
# rows (bench/panel.R's nnet_tuned, an oracle), and its time against nnet's
# four fits (one run each: a sweep, not a timing of record; bench/fit_panel.R
# times with repeats).  Some choices of y make a column that is nearly y an
# input (ratios near 0): such a data set is no test of either fit and is
# listed as it comes.  Writes bench/fit_sweep_R.md.
suppressPackageStartupMessages({
  library(bngrad)
  library(nnet)
})
source("bench/panel.R")
inpanel <- names(panel())
invisible(bn_fit(mpg ~ ., data = mtcars, hidden = 2))     # warm-up: Python, numba cache
args <- commandArgs(TRUE)
if (length(args) > 1 || (length(args) == 1 && args != "more")) {
  stop("bench/fit_sweep.R takes no argument, or \"more\" for the second set", call. = FALSE)
}
more <- length(args) == 1
pkgs <- if (more) more_sweep_packages else first_sweep_packages
out <- if (more) "bench/fit_sweep_more_R.md" else "bench/fit_sweep_R.md"

# (the second set without what the first fits already)
tasks <- sweep_tasks(pkgs, inpanel, before = if (more) first_sweep_packages else character())
rows <- list()
for (name in names(tasks)) {
  task <- tasks[[name]]
  d <- design(task$formula, task$data)
  set.seed(1)
  train <- sample(nrow(task$data), round(0.75 * nrow(task$data)))
  nn <- nnet_tuned(d$x, d$y, train, seed = 1)
  set.seed(1)
  t0 <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(bn_fit(task$formula, data = task$data[train, , drop = FALSE],
                                 hidden = 8))
  bn_time <- proc.time()[["elapsed"]] - t0
  pred <- predict(fit, task$data[-train, , drop = FALSE])
  if (anyNA(pred)) stop(name, ": NA in the predictions")
  ratio <- mean((d$y[-train] - pred)^2) / min(nn$mse)
  rows[[name]] <- c(n = nrow(d$x), p = ncol(d$x), ratio = ratio, bn = bn_time, nnet = nn$time)
  cat(sprintf("%-28s n %4d p %3d  ratio %7.3f  time %.3f s vs %.3f s\n", name, nrow(d$x),
              ncol(d$x), ratio, bn_time, nn$time))
}
r <- do.call(rbind, rows)
quality <- sum(r[, "ratio"] <= 1.05)
fast <- sum(r[, "bn"] <= r[, "nnet"])
slow <- r[r[, "bn"] > r[, "nnet"], , drop = FALSE]
head <- c(
  sprintf(paste("%d data sets no one chose (every data frame of %s with 12-3000 rows, not in",
                "bench/panel.R), one 75/25 split each; ratio = test MSE of default bn_fit",
                "(hidden = 8) / that of nnet with its decay chosen on the test split."),
          nrow(r), paste(pkgs, collapse = ", ")),
  sprintf("Ratio <= 1.05 on %d of %d (geometric mean %.3f; above 1.5 on %d).", quality, nrow(r),
          exp(mean(log(pmax(r[, "ratio"], 1e-12)))), sum(r[, "ratio"] > 1.5)),
  sprintf(paste("bn_fit's time <= nnet's four fits on %d of %d; the others have at most %d",
                "rows (nnet's four fits there: %.3f-%.3f s)."), fast, nrow(r),
          if (nrow(slow)) max(slow[, "n"]) else 0L,
          if (nrow(slow)) min(slow[, "nnet"]) else 0, if (nrow(slow)) max(slow[, "nnet"]) else 0),
  "", "| data set | n | p | ratio | bn_fit (s) | nnet x 4 decays (s) |", "|---|---|---|---|---|---|")
body <- sprintf("| %s | %d | %d | %.3f | %.3f | %.3f |", rownames(r), as.integer(r[, "n"]),
                as.integer(r[, "p"]), r[, "ratio"], r[, "bn"], r[, "nnet"])
writeLines(c(head, body), out)
cat(head[1:3], sep = "\n")
