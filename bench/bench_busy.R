# bn_fit and bn_grad with the machine idle and with another process busy on
# it (an R busy loop, started and ended here by its process id): the time of
# each, median of several runs, and busy / idle.  A small product on a
# multi-threaded BLAS shows here: its threads wait on the busy core (the
# issue's bn_fit on mtcars went from 0.05 s to 1.2 s).  Prints a markdown table.
#   make bench-busy   (or: RETICULATE_PYTHON=.venv/bin/python Rscript bench/bench_busy.R)
suppressPackageStartupMessages(library(bngrad))
ok <- bn_core_available()
if (!ok) stop(attr(ok, "reason"))

set.seed(1)
small <- list(X = matrix(rnorm(64 * 8), 64), y = rnorm(64), p = bn_params(8, 16, seed = 1))
large <- list(X = matrix(rnorm(1e5 * 8), 1e5), y = rnorm(1e5), p = bn_params(8, 16, seed = 1))
jobs <- list(
  # one thread and no BLAS: what the busy process does to any single-threaded work
  "pure R, one thread (for scale)" = list(
    run = function() sum(sqrt(seq_len(2e5))), reps = 50, runs = 7),
  "bn_fit(mpg ~ ., mtcars, hidden = 8)" = list(
    run = function() bn_fit(mpg ~ ., data = mtcars, hidden = 8, seed = 1), reps = 1, runs = 7),
  "predict() of that fit, mtcars" = local({
    fit <- bn_fit(mpg ~ ., data = mtcars, hidden = 8, seed = 1)
    list(run = function() predict(fit, mtcars), reps = 200, runs = 7)
  }),
  "bn_grad, N = 64, p1 = 8, p2 = 16" = list(
    run = function() bn_grad(small$X, small$y, small$p), reps = 200, runs = 7),
  "bn_grad, N = 1e5, p1 = 8, p2 = 16" = list(
    run = function() bn_grad(large$X, large$y, large$p), reps = 5, runs = 7))

seconds <- function(job) {
  job$run()
  stats::median(replicate(job$runs, {
    t0 <- Sys.time()
    for (k in seq_len(job$reps)) job$run()
    as.numeric(Sys.time() - t0, units = "secs") / job$reps
  }))
}

idle <- vapply(jobs, seconds, 0)

# The busy process: its pid from the shell that starts it, so that exactly it is ended.
rscript <- file.path(R.home("bin"), "Rscript")
pid <- as.integer(system2("sh", c("-c", shQuote(paste(
  shQuote(rscript), "-e", shQuote("repeat {}"), ">/dev/null 2>&1 & echo $!"))), stdout = TRUE))
on.exit(tools::pskill(pid), add = TRUE)
Sys.sleep(1)
busy <- vapply(jobs, seconds, 0)
tools::pskill(pid)

blas <- extSoftVersion()[["BLAS"]]
cat(sprintf("R's BLAS: %s; cores: %d; busy: one R busy loop\n\n", blas, parallel::detectCores()))
cat("| job | idle (ms) | busy (ms) | busy / idle |\n|---|---|---|---|\n")
cat(sprintf("| %s | %.3f | %.3f | %.2f |\n", names(jobs), idle * 1e3, busy * 1e3, busy / idle),
    sep = "")
