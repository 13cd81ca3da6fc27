# The R half of scripts/test_tarball.sh: one phase per fresh R process,
#   Rscript scripts/test_tarball.R <phase> [virtualenv path]
# Every check stops the process with a message when it fails.
args <- commandArgs(trailingOnly = TRUE)
phase <- args[1]
library(bngrad)

check <- function(ok, ...) if (!isTRUE(ok)) stop("FAILED: ", ..., call. = FALSE)

# install_bngrad()'s messages, shown as they come and returned
installing <- function(...) {
  said <- character()
  withCallingHandlers(install_bngrad(...), message = function(m) {
    said <<- c(said, conditionMessage(m))
  })
  paste(said, collapse = "")
}

# bn_grad against the pure-R loops on a few shapes and settings
agrees <- function() {
  set.seed(7)
  for (a in c("relu", "tanh", "softplus")) {
    for (q in c(1, 3)) {
      X <- matrix(rnorm(40 * 5), 40)
      y <- if (q == 1) rnorm(40) else matrix(rnorm(40 * q), 40)
      p <- bn_params(5, 6, q, seed = q)
      core <- bn_grad(X, y, p, a, eps = 0, ddof = 1)
      loop <- bn_grad_loop(X, y, p, a, eps = 0, ddof = 1)
      for (k in names(loop)) {
        err <- max(abs(core[[k]] - loop[[k]])) / max(abs(loop[[k]]))
        check(err < 1e-10, a, " q = ", q, " ", k, ": core and loops differ by ", err)
      }
    }
  }
  X <- matrix(rnorm(2e5 * 4), 2e5)       # the tiled kernels, not the small-X one
  p <- bn_params(4, 3, seed = 1)
  y <- rnorm(2e5)
  check(isTRUE(all.equal(bn_grad(X, y, p), bn_grad_loop(X, y, p), tolerance = 1e-9)),
        "core and loops differ at N = 2e5")
  X[5, 2] <- NA
  err <- tryCatch(bn_grad(X, y, p), error = conditionMessage)
  check(identical(err, "X contains NA, NaN or Inf"), "NA in X gave: ", err)
  cat("bn_grad agrees with bn_grad_loop\n")
}

venv_of_session <- function() dirname(dirname(reticulate::py_config()$python))

if (phase == "partial") {
  # a virtualenv with no packages, as a failed pip leaves one
  ok <- bn_core_available()
  check(!ok, "the core loads from an empty virtualenv")
  check(grepl("has no numpy", attr(ok, "reason")) && grepl("install_bngrad", attr(ok, "reason")),
        "reason: ", attr(ok, "reason"))
  tab <- suppressMessages(bn_check(matrix(rnorm(20), 10), rnorm(10), bn_params(2, 3)))
  check(all(is.na(tab$core_vs_loop)) && max(tab$loop_vs_fd) < 1e-6, "bn_check without a core")
  cat("without a core: bn_core_available() is FALSE because:", attr(ok, "reason"), "\n")
} else if (phase == "install") {
  said <- installing()
  check(grepl("virtualenv:.*(rebuilt: its Python .* failed)", said), "the empty virtualenv was not rebuilt")
  check(grepl("numba cache: /", said), "no numba cache location reported")
  # the same session uses it: no Python was started before
  agrees()
  check(venv_of_session() == file.path(Sys.getenv("WORKON_HOME"), "r-bngrad"),
        "the session's Python is ", reticulate::py_config()$python)
  # bn_fit_parquet without Dask's packages says what installs them
  err <- tryCatch(bn_fit_parquet(tempdir(), "y"), error = conditionMessage)
  check(grepl("install_bngrad(dask = TRUE)", err, fixed = TRUE), "bn_fit_parquet without dask: ", err)
} else if (phase == "install-dask") {
  # what that error says to run, then a fit to Parquet files on Dask's
  # default scheduler; distributed must import (pip once paired dask with a
  # distributed that could not)
  said <- installing(dask = TRUE)
  check(grepl("dask, distributed and pyarrow", said, fixed = TRUE), "dask = TRUE said: ", said)
  set.seed(3)
  d <- data.frame(a = rnorm(200), b = runif(200))
  d$y <- sin(d$a) + d$b + rnorm(200, sd = 0.1)
  dir.create(path <- file.path(tempdir(), "parquet"))
  pa <- reticulate::import("pyarrow")
  for (k in 1:2) {
    rows <- d[(100 * (k - 1) + 1):(100 * k), ]
    reticulate::import("pyarrow.parquet")$write_table(
      pa$table(reticulate::r_to_py(as.list(rows))), file.path(path, sprintf("part-%d.parquet", k)))
  }
  fit <- bn_fit_parquet(path, "y", hidden = 4, seed = 1)
  check(inherits(fit, "bn_fit") && fit$n_obs == 200 && all(is.finite(predict(fit, d[1:5, ]))),
        "bn_fit_parquet after install_bngrad(dask = TRUE)")
  v <- reticulate::import("distributed")$`__version__`
  cat("bn_fit_parquet after install_bngrad(dask = TRUE): MSE on its rows",
      sprintf("%.4f; distributed %s imports\n", mean((d$y - predict(fit, d))^2), v))
} else if (phase == "install-elsewhere") {
  said <- installing(envname = args[2])
  check(grepl(paste0("virtualenv:  ", args[2], " (made)"), said, fixed = TRUE), "not made at ", args[2])
} else if (phase == "load-elsewhere") {
  agrees()
  check(venv_of_session() == args[2], "a new session loads ", reticulate::py_config()$python,
        ", not the virtualenv install_bngrad(envname = ) set up")
  # run again from the session using it: the virtualenv is kept and checked,
  # and a restart is asked for only if the core changed
  said <- installing(envname = args[2])
  check(grepl("(kept: it was complete)", said, fixed = TRUE), "not kept on a second run: ", said)
  check(grepl("checking numpy<2, numba, scipy and threadpoolctl in the virtualenv", said,
              fixed = TRUE) && !grepl("minute or two", said, fixed = TRUE),
        "a second run says it installs: ", said)
  check(grepl("this session runs this virtualenv's Python, and the core is unchanged: no restart",
              said, fixed = TRUE), "a second run from the session using it: ", said)
} else {
  stop("unknown phase ", phase)
}
