# bn_fit_parquet: data in Parquet files fitted through the core's Dask path,
# held against bn_fit on the same data in memory.

# dask and pyarrow are required where BNGRAD_REQUIRE_DASK is set (make
# test): there their absence fails, elsewhere it skips.
need_dask <- function() {
  need_core()
  ok <- isTRUE(bn_core_available()) &&
    all(vapply(c("dask", "pyarrow"), reticulate::py_module_available, logical(1)))
  if (nzchar(Sys.getenv("BNGRAD_REQUIRE_DASK"))) {
    expect_true(ok, label = "dask and pyarrow in the core's Python")
  } else if (!ok) {
    skip("dask or pyarrow is not in the core's Python")
  }
}

write_parquet <- function(df, path, row_group_size = 40L) {
  pa <- reticulate::import("pyarrow")
  reticulate::import("pyarrow.parquet")$write_table(
    pa$table(reticulate::r_to_py(as.list(df))), path, row_group_size = as.integer(row_group_size))
  path
}

dask_data <- function(n = 300) {
  set.seed(11)
  d <- data.frame(a = runif(n, -2, 2), b = rnorm(n, 50, 10), c = rnorm(n))
  d$y <- sin(2 * d$a) + (d$b - 50) / 10 - d$c^2 / 2 + rnorm(n, sd = 0.1)
  d$w <- as.numeric(sample(0:2, n, replace = TRUE))
  d
}

test_that("bn_fit_parquet equals bn_fit on the same data, weighted and not", {
  need_dask()
  d <- dask_data()
  path <- write_parquet(d, tempfile(fileext = ".parquet"))
  on.exit(unlink(path))
  x <- as.matrix(d[c("a", "b", "c")])
  for (w in list(NULL, "w")) {
    fit <- suppressWarnings(bn_fit_parquet(path, "y", c("a", "b", "c"), weights = w,
                                           hidden = 4, decay = 0.2, max_iter = 12, seed = 3))
    ref <- suppressWarnings(bn_fit(x, d$y, hidden = 4, optimizer = "lbfgs", decay = 0.2,
                                   max_iter = 12, seed = 3,
                                   weights = if (!is.null(w)) d$w))
    expect_s3_class(fit, "bn_fit")
    expect_identical(fit$coefnames, c("a", "b", "c"))
    for (k in names(ref$params)) {
      expect_lt(rel_err(fit$params[[k]], ref$params[[k]]), 1e-8)
    }
    for (k in c("x_center", "x_scale", "y_center", "y_scale", "running_var")) {
      expect_lt(rel_err(fit[[k]], ref[[k]]), 1e-10)
    }
    expect_lt(rel_err(predict(fit, d[1:20, c("a", "b", "c")]),
                      predict(ref, x[1:20, ])), 1e-8)
    # nnet's names: the weights, and no training RSS (no rows kept)
    expect_identical(fit$wts, unname(coef(fit)))
    expect_null(fit$value)
  }
})

test_that("a bn_fit_parquet fit is plain R data and predicts without Python", {
  need_dask()
  d <- dask_data(200)
  path <- write_parquet(d[c("a", "b", "c", "y")], tempfile(fileext = ".parquet"))
  on.exit(unlink(path))
  # max_iter reached: an R warning, as bn_fit's
  expect_warning(fit <- bn_fit_parquet(path, "y", hidden = 3, max_iter = 5, seed = 1),
                 "max_iter = 5 reached before the fit converged")
  expect_identical(fit$coefnames, c("a", "b", "c"))          # x = NULL: every other column
  leaves <- rapply(unclass(fit), function(v) class(v)[1], how = "unlist")
  expect_false(any(grepl("python", leaves)))
  # no rows kept: the row count is, and what needs rows says why it is missing
  expect_identical(nobs(fit), 200)
  for (f in list(fitted, residuals, deviance, logLik, sigma)) {
    expect_error(f(fit), "a bn_fit_parquet fit keeps no .*: its data stayed in")
  }
  expect_error(predict(fit), "keeps no fitted values")
  expect_output(print(summary(fit)), "training MSE and residuals not kept")
  expect_output(print(fit), "decay none: early stopping on held-out rows")
  again <- unserialize(serialize(fit, NULL))
  expect_equal(predict(again, as.matrix(d[1:5, c("a", "b", "c")])),
               predict(fit, d[1:5, c("a", "b", "c")]))
  expect_output(print(fit), "a 3-3-1 batch-normalised network, sigmoid, with [0-9]+ weights\n")
  # nnet's size and maxit, as bn_fit takes them: the same fit, and a message
  # (and the warning of 5 iterations in the caller's words)
  expect_warning(expect_message(
    nn <- bn_fit_parquet(path, "y", size = 3, maxit = 5, seed = 1),
    "bn_fit_parquet: nnet's size = 3 taken as hidden; nnet's maxit = 5 taken as max_iter"),
    "maxit = 5 reached before the fit converged")
  expect_identical(nn$params, fit$params)
  expect_error(bn_fit_parquet(path, "y", size = 0), "size must be a whole number >= 1, got 0")
})

test_that("bad arguments to bn_fit_parquet are named", {
  need_dask()
  d <- dask_data(50)
  path <- write_parquet(d, tempfile(fileext = ".parquet"))
  on.exit(unlink(path))
  expect_error(bn_fit_parquet(file.path(tempdir(), "no-such.parquet"), "y"), "does not exist")
  expect_error(bn_fit_parquet(path, "y", c("a", "zz")), "x: no column 'zz'")
  expect_error(bn_fit_parquet(path, 3), "y must be column names")
  expect_error(bn_fit_parquet(path, "y", weights = "nope"), "weights: no column 'nope'")
  expect_error(bn_fit_parquet(path, "y", hidden = 0), "hidden must be a whole number")
  expect_error(bn_fit_parquet(path, "y", activation = c("relu", "tanh")), "activation must be one")
  expect_error(bn_fit_parquet(path, "y", decay = NA), "decay must be")
  expect_error(bn_fit_parquet(path, "y", ddof = TRUE), "ddof must be")
  expect_error(bn_fit_parquet(path, "y", trace = "yes"), "trace must be TRUE or FALSE")
  expect_error(bn_fit_parquet(path, "y", c("a", "y")), "column 'y' is both in y and in x")
  expect_error(bn_fit_parquet(path, "y", c("a", "a")), "x names the column 'a' twice")
  d$w[8] <- -1                                 # R's row 8 (Python's 7)
  write_parquet(d, path)
  expect_error(bn_fit_parquet(path, "y", c("a", "b"), weights = "w", max_iter = 2),
               "weights \\(column 'w'\\) must be >= 0, got -1.0 at row 8$")
  d$w <- 1
  d$b[20] <- NA                                # a null in the file
  write_parquet(d, path)
  expect_error(bn_fit_parquet(path, "y", c("a", "b"), max_iter = 2),
               "x: column 'b' contains nulls, NaN or Inf")
})
