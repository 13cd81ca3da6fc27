# Settings of bn_fit against its defaults, on the data sets of bench/panel.R
# and bench/fit_sweep.R with nmin-nmax rows, 5 splits each (panel.R's
# splits): for each variant, how many median test MSE ratios to nnet's oracle
# (its decay chosen on the test rows, nnet_tuned) are <= 1.05, their geometric
# mean, and on how many data sets its median time is within nnet's four fits.
# What docs/fitting.md's tables of variants came from; not part of make bench.
#   Rscript bench/fit_variants.R NMIN NMAX 'list(one = list(ensemble = 1))'
# A variant is a list of bn_fit's arguments; the default fit is always run,
# as "default".  Prints a line per data set and the summary.
suppressPackageStartupMessages({
  library(bngrad)
  library(nnet)
})
source("bench/panel.R")
args <- commandArgs(TRUE)
if (length(args) != 3) stop("usage: Rscript bench/fit_variants.R NMIN NMAX 'list(name = list(...))'")
nmin <- as.integer(args[1])
nmax <- as.integer(args[2])
variants <- c(list(default = list()), eval(parse(text = args[3])))
invisible(bn_fit(mpg ~ ., data = mtcars, hidden = 2))     # warm-up: Python, numba cache

P <- panel()
tasks <- c(lapply(P, function(d) list(formula = d[[1]], data = d[[2]])),
           sweep_tasks(first_sweep_packages, names(P)))
res <- list()
for (name in names(tasks)) {
  task <- tasks[[name]]
  d <- design(task$formula, task$data)
  n <- nrow(d$x)
  if (n < nmin || n > nmax) next
  r <- sapply(seq_along(splits(n)), function(s) {
    train <- splits(n)[[s]]
    nn <- nnet_tuned(d$x, d$y, train, seed = s)
    out <- c(nnet = min(nn$mse), nnet_time = nn$time)
    for (v in names(variants)) {
      set.seed(s)
      t0 <- proc.time()[["elapsed"]]
      fit <- suppressWarnings(do.call(bn_fit, c(list(task$formula, data = task$data[train, , drop = FALSE],
                                                     hidden = 8), variants[[v]])))
      out[[paste0(v, ".time")]] <- proc.time()[["elapsed"]] - t0
      pred <- predict(fit, task$data[-train, , drop = FALSE])
      out[[paste0(v, ".mse")]] <- mean((d$y[-train] - pred)^2)
    }
    out
  })
  med <- apply(r, 1, stats::median)
  ratio <- med[paste0(names(variants), ".mse")] / med[["nnet"]]
  fast <- med[paste0(names(variants), ".time")] <= med[["nnet_time"]]
  res[[name]] <- list(n = n, ratio = ratio, fast = fast)
  cat(sprintf("%-28s n %4d  %s\n", name, n,
              paste(sprintf("%s %.3f%s", names(variants), ratio, ifelse(fast, "", " (slower)")),
                    collapse = "  ")))
}
ratios <- do.call(rbind, lapply(res, `[[`, "ratio"))
fast <- do.call(rbind, lapply(res, `[[`, "fast"))
for (k in seq_along(variants)) {
  cat(sprintf("%s: ratio <= 1.05 on %d of %d, geometric mean %.3f, above 1.5 on %d; time <= nnet's on %d\n",
              names(variants)[k], sum(ratios[, k] <= 1.05), nrow(ratios),
              exp(mean(log(pmax(ratios[, k], 1e-6)))), sum(ratios[, k] > 1.5), sum(fast[, k])))
}
