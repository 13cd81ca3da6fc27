# What R adds to a gradient: bn_grad against a bare reticulate call with the
# same seven arguments that returns five small arrays (N = 64), and against
# the core's Python call itself, timed in Python with time.perf_counter, on
# the arrays R hands over (N = 64 and N = 1e6).  All in one R session, the
# contenders' batches interleaved so that drift hits both alike; medians of
# per-call batch means.  Prints a markdown table.
#   make bench-bridge   (or: RETICULATE_PYTHON=.venv/bin/python Rscript bench/bench_bridge.R)
suppressPackageStartupMessages(library(bngrad))
ok <- bn_core_available()
if (!ok) stop(attr(ok, "reason"))

reticulate::py_run_string("
import time
import numpy as np
import bngrad

def bare(X, y, G1, gamma, beta, G2, b):
    return (np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.zeros((2, 1)), np.zeros(1))

def python_call(X, y, G1, gamma, beta, G2, b, activation, eps, ddof, reps):
    p = bngrad.Params(G1, gamma, beta, G2, b)
    t = time.perf_counter()
    for _ in range(reps):
        bngrad.gradients(X, y, p, activation, eps, ddof)
    return (time.perf_counter() - t) / reps
")
py <- reticulate::import_main(convert = TRUE)

# seconds per call of f(), one batch of `reps` calls
batch <- function(f, reps) {
  t0 <- Sys.time()
  for (k in seq_len(reps)) f()
  as.numeric(Sys.time() - t0, units = "secs") / reps
}

case <- function(N, p1 = 8, p2 = 16, seed = 1) {
  set.seed(seed)
  list(X = matrix(rnorm(N * p1), N, p1), y = rnorm(N), params = bn_params(p1, p2, seed = seed))
}

compare <- function(cs, reps, batches) {
  p <- cs$params
  ours <- function() bn_grad(cs$X, cs$y, p)
  bare <- function() py$bare(cs$X, cs$y, p$G1, p$gamma, p$beta, p$G2, p$b)
  # the Python call gets the arrays reticulate makes of R's objects
  # (X Fortran-ordered and read-only), with y, gamma, beta, b as arrays
  args <- list(cs$X, array(cs$y), p$G1, array(p$gamma), array(p$beta), p$G2, array(p$b),
               "relu", 1e-5, 0L)
  args <- lapply(args, reticulate::r_to_py)
  python <- function(reps) do.call(py$python_call, c(args, list(as.integer(reps))))
  ours(); bare(); python(1)                               # warm-up
  t <- replicate(batches, c(ours = batch(ours, reps), bare = batch(bare, reps),
                            python = python(reps)))
  apply(t, 1, stats::median)
}

small <- compare(case(64), reps = 200, batches = 25)
large <- compare(case(1e6), reps = 1, batches = 15)

us <- function(s) formatC(s * 1e6, format = "f", digits = 1, big.mark = ",")
row <- function(what, t, against, goal) {
  sprintf("| %s | %s | %s | %.2f | %s |", what, us(t[["ours"]]), us(t[[against]]),
          t[["ours"]] / t[[against]], goal)
}
cat(sprintf("R %s, reticulate %s, Python %s (%s)\n\n", getRversion(),
            utils::packageVersion("reticulate"), reticulate::py_config()$version,
            reticulate::py_config()$python))
cat("| N, p1, p2: bn_grad against | bn_grad (us) | it (us) | ratio | goal |\n")
cat("|---|---|---|---|---|\n")
cat(row("64, 8, 16: bare reticulate call, 7 arguments, 5 small arrays back", small, "bare", "<= 2"), "\n", sep = "")
cat(row("64, 8, 16: the Python call (bngrad.gradients, timed in Python)", small, "python", "-"), "\n", sep = "")
cat(row("1,000,000, 8, 16: the Python call (timed in Python)", large, "python", "<= 1.1"), "\n", sep = "")
