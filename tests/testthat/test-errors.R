# Bad input: an R error naming the argument, from the core and the loops alike.

good <- random_case(1, N = 10, p1 = 3, p2 = 4)
with_param <- function(...) modifyList(good$params, list(...))
na_at <- function(x, m) { x[m] <- NA; x }

cases <- list(
  list("X", list(X = na_at(good$X, 3))),
  list("X", list(X = good$X / 0)),
  # NA in an integer X reaches Python as an ordinary int32: R must see it
  list("X", list(X = na_at(matrix(as.integer(round(good$X * 10)), 10), 7))),
  list("y", list(y = na_at(good$y, 1))),
  list("G1", list(params = with_param(G1 = na_at(good$params$G1, 2)))),
  list("gamma", list(params = with_param(gamma = c(1, NaN, 1, 1)))),
  list("beta", list(params = with_param(beta = rep(Inf, 4)))),
  list("G2", list(params = with_param(G2 = na_at(good$params$G2, 1)))),
  list("b", list(params = with_param(b = NA_real_))),
  list("y", list(y = good$y[-1])),
  list("y", list(y = matrix(0, 10, 2))),
  list("G1", list(params = with_param(G1 = matrix(1, 2, 4)))),
  list("gamma", list(params = with_param(gamma = 1:3))),
  list("beta", list(params = with_param(beta = 1:5))),
  list("G2", list(params = with_param(G2 = matrix(1, 3, 1)))),
  list("b", list(params = with_param(b = c(0, 0)))),
  list("X", list(X = good$X[1, , drop = FALSE], y = good$y[1])),
  list("X", list(X = matrix(letters[1:30], 10))),
  list("X", list(X = data.frame(a = 1:10, b = letters[1:10], c = 1:10))),
  list("activation", list(activation = "elu")),
  list("activation", list(activation = c("relu", "tanh"))),
  list("eps", list(eps = -1e-5)),
  list("eps", list(eps = NA_real_)),
  list("ddof", list(ddof = 2)),
  list("ddof", list(ddof = "1")),
  list("params", list(params = list(G1 = good$params$G1))),
  # no columns, hidden units or outputs: said in R's words by every function
  list("X", list(X = good$X[, 0], params = with_param(G1 = matrix(0, 0, 4)))),
  list("G1", list(params = with_param(G1 = matrix(0, 3, 0), gamma = numeric(0),
                                      beta = numeric(0), G2 = numeric(0)))),
  list("G2", list(y = matrix(0, 10, 0), params = with_param(G2 = matrix(0, 4, 0),
                                                           b = numeric(0))))
)

for (i in seq_along(cases)) {
  name <- cases[[i]][[1]]
  args <- list(X = good$X, y = good$y, params = good$params)
  args[names(cases[[i]][[2]])] <- cases[[i]][[2]]
  test_that(sprintf("bad %s (case %d) is an R error naming it", name, i), {
    expect_error(do.call(bn_grad_loop, args), paste0("\\b", name, "\\b"))
    expect_error(do.call(bn_grad_kron, args), paste0("\\b", name, "\\b"))
    need_core()
    expect_error(do.call(bn_grad, args), paste0("\\b", name, "\\b"))
  })
}

test_that("a constant column of X %*% G1 with eps = 0 is an error, eps > 0 copes", {
  X <- good$X
  X[, 2] <- 3
  p <- with_param(G1 = cbind(good$params$G1[, 1:2], c(0, 1.7, 0), good$params$G1[, 4]))
  expect_error(bn_grad_loop(X, good$y, p, eps = 0), "column 3 of X %\\*% G1 has zero variance")
  # bn_jacobian's argument is Z, and the message names it
  expect_error(bn_jacobian(X %*% p$G1, p$gamma, eps = 0), "column 3 of Z has zero .*change Z")
  need_core()
  expect_error(bn_grad(X, good$y, p, eps = 0), "zero variance")
  g <- bn_grad(X, good$y, p, eps = 1e-5)
  expect_true(all(is.finite(unlist(g))))
})

test_that("with eps = 0 a variance below the doubles' normal range is named, as the core does", {
  # the net is blind to X's scale with eps = 0 until var(X G1) underflows: at
  # 1e-160 it had lost digits unsaid; rounded to 0 (1e-200), the column is flat
  X <- good$X
  p <- good$params
  expect_equal(bn_grad_loop(X * 1e-150, good$y, p, eps = 0)$loss,
               bn_grad_loop(X, good$y, p, eps = 0)$loss, tolerance = 1e-12)
  msg <- "^X %\\*% G1 is too small for float64: column 1 has a variance that underflows.*eps > 0"
  for (s in c(1e-156, 1e-160)) {
    expect_error(bn_grad_loop(X * s, good$y, p, eps = 0), msg)
    expect_error(bn_grad_kron(X * s, good$y, p, eps = 0), msg)
    expect_true(is.finite(bn_grad_loop(X * s, good$y, p, eps = 1e-5)$loss))
  }
  expect_error(bn_jacobian(X %*% p$G1 * 1e-158, p$gamma, eps = 0), "^Z is too small .*rescale Z")
  expect_error(bn_grad_loop(X * 1e-200, good$y, p, eps = 0), "has zero variance")
  expect_error(bn_grad_loop(X * 0 + 1e-200, good$y, p, eps = 0), "has zero variance")
  need_core()
  expect_error(bn_grad(X * 1e-160, good$y, p, eps = 0), msg)
  expect_error(bn_grad(X * 1e-200, good$y, p, eps = 0), "column 1 of X %\\*% G1 has zero variance")
})

test_that("a Python-side error reaches R as an R error and the session lives on", {
  need_core()
  core <- bngrad:::.core()
  expect_error(bngrad:::.call_core(core$gradients, good$X, good$y, list(1, 2)), "params")
  expect_true(is.list(bn_grad(good$X, good$y, good$params)))
})

test_that("a core of another version is refused, this version accepted", {
  expect_error(bngrad:::.check_core_version("0.0.1", "somewhere"),
               "core in somewhere is version 0.0.1 but this R package is")
  expect_true(bngrad:::.check_core_version(as.character(packageVersion("bngrad")), "here"))
  need_core()
  expect_identical(bngrad:::.core()$`__version__`, as.character(packageVersion("bngrad")))
})

test_that("bn_check's step h is checked like every other setting", {
  for (h in list(0, -1e-6, NA_real_, c(1e-6, 1), "a")) {
    expect_error(bn_check(good$X, good$y, good$params, h = h), "^h must be a number in \\(0, Inf\\)")
  }
})

test_that("a Python that install_bngrad() cannot mend is named with what does", {
  old <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
  on.exit(if (is.na(old)) Sys.unsetenv("RETICULATE_PYTHON") else Sys.setenv(RETICULATE_PYTHON = old))
  own <- bngrad:::.venv_python(bngrad:::.venv_dir(bngrad:::.envname()))
  Sys.unsetenv("RETICULATE_PYTHON")
  expect_identical(bngrad:::.python_hint(own), bngrad:::.setup_hint())
  # an installation without a core of its own says so, and what install_bngrad() needs
  expect_false(grepl("core =", bngrad:::.setup_hint("r-bngrad", own = "/x/pyproject.toml")))
  expect_match(bngrad:::.setup_hint("r-bngrad", own = ""),
               "install_bngrad\\(core = \"path/to/checkout\"\\) once .* carries no Python core")
  expect_match(bngrad:::.python_hint("/usr/bin/python3"), "restart R and call bngrad before")
  Sys.setenv(RETICULATE_PYTHON = "/opt/other/bin/python")
  expect_match(bngrad:::.python_hint("/opt/other/bin/python"),
               "RETICULATE_PYTHON is set \\(/opt/other/bin/python\\) and chooses it: unset it")
  # RETICULATE_PYTHON set, but another Python started first: that is the fault
  expect_match(bngrad:::.python_hint("/usr/bin/python3"), "restart R and call bngrad before")
})

test_that("a 1-d array (tapply's) is taken as the vector it holds", {
  one_d <- function(v) array(v, dim = length(v))
  p1 <- with_param(G2 = one_d(as.vector(good$params$G2)))
  pv <- with_param(G2 = as.vector(good$params$G2))
  expect_identical(bn_grad_loop(good$X, one_d(good$y), p1), bn_grad_loop(good$X, good$y, pv))
  expect_identical(bn_grad_kron(one_d(good$X[, 1]), one_d(good$y), with_param(G1 = good$params$G1[1, , drop = FALSE])),
                   bn_grad_kron(good$X[, 1], good$y, with_param(G1 = good$params$G1[1, , drop = FALSE])))
  need_core()
  expect_identical(bn_grad(good$X, one_d(good$y), p1), bn_grad(good$X, good$y, pv))
  a <- suppressWarnings(bn_fit(good$X, one_d(good$y), hidden = 2, seed = 1, max_iter = 5))
  b <- suppressWarnings(bn_fit(good$X, good$y, hidden = 2, seed = 1, max_iter = 5))
  expect_identical(a$params, b$params)
})

test_that("weights summing below the smallest normal double are named; too few say their sum", {
  expect_error(bn_grad_loop(good$X, good$y, good$params, weights = rep(1e-310, 10)),
               "weights sum to .*below the smallest normal double")
  expect_error(bn_grad_loop(good$X, good$y, good$params, ddof = 1, weights = rep(0.05, 10)),
               "10 non-zero weights summing to 0.5")
  # a variance that overflows is said, not an NA in the flat-column check
  expect_error(bn_grad_loop(good$X * 1e9, good$y, good$params, eps = 0, weights = rep(1e300, 10)),
               "X %\\*% G1 is too large for float64")
  need_core()
  expect_error(bn_grad(good$X, good$y, good$params, weights = rep(1e-310, 10)),
               "weights sum to .*below the smallest normal double")
})

test_that("X's columns against G1's rows: the message says what each has", {
  for (f in list(bn_grad_loop, bn_grad_kron)) {
    expect_error(f(good$X[, 1:2], good$y, good$params),
                 "G1 must be a matrix with 2 rows \\(the columns of X\\), got 3 x 4$")
    expect_error(f(good$X, good$y, with_param(G1 = 1:3)), "got a vector of length 3$")
    expect_error(f(good$X, good$y, with_param(G1 = array(0, c(2, 4, 1)))), "got 2 x 4 x 1$")
    expect_error(f(good$X, good$y, with_param(G1 = array(0, 3))), "got a vector of length 3$")
  }
  need_core()
  expect_error(bn_grad(good$X[, 1:2], good$y, good$params), "got 3 x 4$")
})
