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
# (a data set's numbers to 17 significant digits, which read back as the same
# doubles: jsonlite writes at most 15)
exact <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ","), "]")
unlink(Sys.glob(file.path(dir, "*.json")))      # (a task list that changed leaves none behind)
written <- parallel::mclapply(seq_along(tasks), function(i) {
  task <- tasks[[i]]
  d <- design(task$formula, task$data)
  if (nrow(d$x) > 1000) return(NA_character_)
  sp <- splits(nrow(d$x))
  nn <- lapply(seq_along(sp), function(s) nnet_tuned(d$x, d$y, sp[[s]], seed = s))
  rest <- jsonlite::toJSON(list(name = names(tasks)[i], train = sp,
                                nnet_mse = lapply(nn, `[[`, "mse"),
                                nnet_time = vapply(nn, `[[`, 0, "time")),
                           digits = NA, auto_unbox = TRUE)
  x <- paste0("[", paste(apply(unname(d$x), 1, exact), collapse = ","), "]")
  file <- file.path(dir, sprintf("%03d.json", i))
  writeLines(paste0('{"x":', x, ',"y":', exact(as.vector(d$y)), ",", substring(rest, 2)), file)
  file
}, mc.cores = 2, mc.preschedule = FALSE)
failed <- vapply(written, inherits, NA, "try-error")
if (any(failed)) {
  stop("bench/fit_many.R: ", sum(failed), " data sets failed: ",
       paste(names(tasks)[failed], vapply(written[failed], as.character, ""), collapse = "; "),
       call. = FALSE)
}
n <- sum(!is.na(unlist(written)))
cat(sprintf("bench/fit_many.R: %d data sets of at most 1000 rows (of %d) written to %s\n",
            n, length(tasks), dir))
