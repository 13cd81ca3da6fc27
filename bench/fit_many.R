# The data of docs/fitting.md's check on 444 data sets, for bench/fit_many.py:
# every data set of bench/panel.R's panel and of both sweeps (bench/fit_sweep.R,
# with and without "more") of at most 1000 rows, each as R builds its design
# (bench/panel.R's design(): nnet's formula method's inputs), with the panel's 5
# random 75/25 splits and nnet's test MSE on each split at each of its four
# decays (bench/panel.R's nnet_tuned: inputs standardised, size 8, maxit 500),
# the oracle the default fit is held to.  nnet runs once here; the default fit
# then runs in Python on the same designs and splits as often as a change needs.
#   make fit-many-data     (or: Rscript bench/fit_many.R [DIR])
# Writes DIR (default build/fit_many): one JSON file per data set.  ~4 min on
# 2 cores (nnet's fits, one process per core).
suppressPackageStartupMessages(library(nnet))
source("bench/panel.R")
args <- commandArgs(TRUE)
dir <- if (length(args)) args[1] else "build/fit_many"
dir.create(dir, recursive = TRUE, showWarnings = FALSE)

P <- panel()
tasks <- c(lapply(P, function(e) list(formula = e[[1]], data = e[[2]])),
           sweep_tasks(first_sweep_packages, names(P)),
           sweep_tasks(more_sweep_packages, names(P), before = first_sweep_packages))
written <- parallel::mclapply(seq_along(tasks), function(i) {
  task <- tasks[[i]]
  d <- design(task$formula, task$data)
  if (nrow(d$x) > 1000) return(NULL)
  sp <- splits(nrow(d$x))
  nn <- lapply(seq_along(sp), function(s) nnet_tuned(d$x, d$y, sp[[s]], seed = s))
  out <- list(name = names(tasks)[i], x = unname(d$x), y = unname(as.vector(d$y)),
              train = sp, nnet_mse = lapply(nn, `[[`, "mse"),
              nnet_time = vapply(nn, `[[`, 0, "time"))
  file <- file.path(dir, sprintf("%03d.json", i))
  writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"), file)
  file
}, mc.cores = 2)
n <- sum(!vapply(written, is.null, NA))
cat(sprintf("bench/fit_many.R: %d data sets of at most 1000 rows (of %d) written to %s\n",
            n, length(tasks), dir))
