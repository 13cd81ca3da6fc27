# bn_fit_parquet: a net fitted to data that lives in Parquet files, through
# the core's Dask path (bngrad.dask.fit_parquet): full-batch L-BFGS on the
# exact gradient, one pass over the files' row groups per gradient, so that
# neither R nor Python ever holds the data.  The result is an ordinary
# bn_fit (plain R data; predict() is R's own forward pass), made from the
# estimator as bn_fit.default makes its own.

bn_fit_parquet <- function(path, y, x = NULL, weights = NULL, hidden = 8,
                           activation = "sigmoid", decay = NULL, ensemble = NULL,
                           restarts = 1, max_iter = NULL, tol = NULL, eps = 1e-5, ddof = 0,
                           seed = NULL, trace = FALSE, scheduler = NULL, optimizer = "lbfgs",
                           ...) {
  # `...` catches nnet's names, as bn_fit's does, and mistakes, named before
  # anything is read
  nnet <- .nnet_dots(match.call(expand.dots = FALSE)$..., function(k) ...elt(k),
                     given = c(hidden = !missing(hidden), max_iter = !missing(max_iter)),
                     fun = bn_fit_parquet, name = "bn_fit_parquet",
                     refused = list(.parquet_refused, "bn_fit_parquet has no argument %s: %s"))
  if (!is.null(nnet$hidden)) hidden <- nnet$hidden
  if (!is.null(nnet$max_iter)) max_iter <- nnet$max_iter
  # (bn_fit's, where a script passes it: only what this fit does is taken)
  tryCatch(.one_of(optimizer, "lbfgs", "optimizer", partial = TRUE), error = function(e)
    stop("bn_fit_parquet fits by L-BFGS only (optimizer = \"lbfgs\"), one pass over the ",
         "files per gradient; got optimizer = ", .shown(optimizer), call. = FALSE))
  .string(path, "path")
  if (!file.exists(path)) stop("path '", path, "' does not exist", call. = FALSE)
  names_of <- function(v, name) {
    if (!is.character(v) || !length(v) || anyNA(v) || !all(nzchar(v))) {
      stop(name, " must be column names (a character vector)", call. = FALSE)
    }
    # one name stays a str in Python (a 1-D y), several a list
    if (length(v) == 1) v else as.list(v)
  }
  y_cols <- names_of(y, "y")
  x_cols <- if (is.null(x)) NULL else as.list(names_of(x, "x"))
  if (!is.null(weights)) .string(weights, "weights")
  both <- intersect(c(unlist(x_cols), weights), y)
  if (length(both)) {
    stop("column '", both[1], "' is both in y and in x or weights", call. = FALSE)
  }
  if (!is.null(x) && !is.null(weights) && weights %in% x) {
    stop("column '", weights, "' is both in x and weights", call. = FALSE)
  }
  if (!is.null(scheduler)) .string(scheduler, "scheduler")
  hidden <- .whole(hidden, .as_called("hidden", "size", nnet$hidden))
  max_iter <- .whole(max_iter, .as_called("max_iter", "maxit", nnet$max_iter), null_ok = TRUE)
  set <- .shared_settings(activation, decay, ensemble, restarts, tol, eps, ddof, trace)
  # as in bn_fit: the R stream chooses the seed unless one is given
  seed <- if (is.null(seed)) sample.int(.Machine$integer.max, 1L) else .whole(seed, "seed", 0)
  if (length(nnet$said)) message("bn_fit_parquet: ", paste(nnet$said, collapse = "; "))
  .core_dask()
  est <- do.call(.call_core, c(list(.core_entry("regressor")), set, list(
    hidden = hidden, optimizer = "lbfgs", max_iter = max_iter, seed = seed, verbose = FALSE)))
  if (trace) .trace_progress(est)
  said <- .said(renamed = nnet$renamed)
  out <- said$call(.core_entry("rbridge")$fit_parquet, est, path, y_cols, x_cols, weights,
                   scheduler, said$add)
  x_names <- as.character(unlist(out[[2]]))
  fit <- c(.fitted_fields(out[[1]], length(x_names), length(y), x_names), list(
    hidden = hidden, activation = set$activation, decay_chosen = is.null(set$decay),
    eps = set$eps, ddof = set$ddof, seed = seed, coefnames = x_names,
    ynames = y, path = path,
    # the data stay in the files: no fitted values or residuals are kept, only
    # how many rows (their total weight) the fit saw (n_obs)
    fitted.values = NULL, residuals = NULL, call = match.call()))
  class(fit) <- "bn_fit"
  .nnet_fields(fit)
}

# What bn_fit_parquet needs in the core's Python (install_bngrad(dask = TRUE)
# installs them).  The floors are not decoration: dask 2026.11.0 reached PyPI
# before a distributed to match it, and pip, asked for both unpinned, paired
# it with distributed 2021.4.1, which cannot import it (distributed pins its
# own dask, so floors on both make pip find a pair).  pyarrow 26 needs NumPy
# 2, which reticulate 1.28 cannot load.
.dask_packages <- c("dask[array]>=2026.8", "distributed>=2026.8", "pyarrow>=25,<26")

# bngrad.dask, once its Python packages are known to be there.
.core_dask <- function() {
  if (is.null(.state$dask)) {
    core <- .core()
    where <- reticulate::py_config()$python
    missing <- Filter(function(m) !reticulate::py_module_available(m), c("dask", "pyarrow"))
    if (length(missing)) {
      stop("bn_fit_parquet needs the Python package(s) ", paste(missing, collapse = " and "),
           " in bngrad's Python (", where, "): bngrad::install_bngrad(dask = TRUE) installs ",
           "them in the virtualenv it sets up; into another Python: ", where, " -m pip install ",
           paste0("'", .dask_packages, "'", collapse = " "), call. = FALSE)
    }
    .state$dask <- reticulate::import("bngrad.dask", convert = TRUE)
  }
  .state$dask
}
