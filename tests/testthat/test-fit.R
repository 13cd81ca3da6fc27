make_data <- function(n = 300, seed = 1) {
  set.seed(seed)
  d <- data.frame(a = runif(n, -2, 2), b = runif(n, -2, 2),
                  f = factor(sample(c("u", "v", "w"), n, TRUE)))
  d$y <- sin(2 * d$a) + d$b^2 / 2 + as.numeric(d$f) + rnorm(n, sd = 0.1)
  d
}

# A fit cut short to keep a test quick: that it reached max_iter is expected,
# and its warning is not the test's subject.
short_fit <- function(...) suppressWarnings(bn_fit(...))

test_that("optimizer takes a unique abbreviation, as match.arg would", {
  need_core()
  x <- as.matrix(mtcars[, c("wt", "hp")])
  y <- mtcars$mpg
  a <- short_fit(x, y, optimizer = "lb", hidden = 2, max_iter = 5, seed = 1)
  expect_identical(a$optimizer, "lbfgs")
  # all the choices, as a wrapper passes bn_fit's default on: the first, "auto"
  v <- short_fit(x, y, optimizer = c("auto", "bayes", "lbfgs", "adam"), hidden = 2,
                 max_iter = 5, seed = 1)
  expect_identical(fitted(v), fitted(short_fit(x, y, hidden = 2, max_iter = 5, seed = 1)))
  expect_identical(fitted(a), fitted(short_fit(x, y, optimizer = "lbfgs", hidden = 2,
                                                max_iter = 5, seed = 1)))
})

test_that("eps = 0 with every input one value is an error naming eps, not a net of NaN", {
  need_core()
  d <- data.frame(y = 1:10, a = 1, b = 2)
  # in R's words, as bn_grad's (the core's said X @ G1)
  expect_error(bn_fit(y ~ a + b, d, eps = 0, hidden = 2),
               "eps = 0 divides by the batch variance of X %\\*% G1, .*use eps > 0")
  expect_true(all(is.finite(fitted(bn_fit(y ~ a + b, d, hidden = 2)))))
})

test_that("L-BFGS without a decay says which decay its held-out rows chose", {
  need_core()
  # 32 rows, 209 weights: decays 0, 0.1, 1 and 10 are tried
  fit <- suppressWarnings(bn_fit(mpg ~ ., data = mtcars, optimizer = "lbfgs", seed = 1))
  expect_true(fit$decay %in% c(0, 0.1, 1, 10))
  expect_output(print(fit), if (fit$decay == 0) "decay none: early stopping" else
                sprintf("decay chosen on held-out rows, per net: %g", fit$decay))
})

test_that("a net far larger than the data is warned of once, by R before the call, in the core's words", {
  need_core()
  checks <- reticulate::import("bngrad.checks")
  expect_identical(c(bngrad:::.slow_weights_per_row, bngrad:::.slow_weights),
                   as.numeric(c(checks$SLOW_WEIGHTS_PER_ROW, checks$SLOW_WEIGHTS)))
  # the core's own warning for the same sizes, word for word
  core_says <- reticulate::py_run_string(paste(
    "import warnings, bngrad.checks as c",
    "with warnings.catch_warnings(record=True) as w:",
    "    warnings.simplefilter('always')",
    "    c.fits_in_memory(32, 2, 1, 25000, 1, 'lbfgs')",
    "said = [str(x.message) for x in w]", sep = "\n"), local = TRUE)$said
  expect_identical(bngrad:::.slow_fit(32, 2, 1, 25000), unlist(core_says))
  expect_null(bngrad:::.slow_fit(32, 2, 1, 1000))            # 5,001 weights
  expect_null(bngrad:::.slow_fit(1e4, 2, 1, 25000))          # 100 weights a row or fewer
  # the warnings a call gave, muffled, and the error it ended with, if any
  warned <- function(expr) {
    said <- character()
    error <- tryCatch({
      withCallingHandlers(expr, warning = function(w) {
        said <<- c(said, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
      NULL
    }, error = conditionMessage)
    list(said = said, error = error)
  }
  got <- warned(bn_fit(mpg ~ wt + hp, mtcars, hidden = 25000, max_iter = 1, seed = 1))
  expect_null(got$error)
  expect_equal(sum(grepl("the fit will be slow", got$said)), 1)
  expect_match(got$said[1], "^hidden = 25000 gives 125,001 weights per net for 32 rows")
  # before the call: a net the core then refuses (too large for memory) was
  # warned of, its weights counted past R's integers (2 x hidden is past them)
  got <- warned(bn_fit(mpg ~ wt + hp, mtcars, hidden = 1.1e9))
  expect_match(got$error, "hidden = 1100000000 is too large for this machine")
  expect_match(got$said, "^hidden = 1100000000 gives 5,500,000,001 weights per net for 32 rows")
  # in the caller's words where it wrote nnet's size, R's warning and the
  # core's alike (said once: the core's copy is the one R gave)
  got <- suppressMessages(warned(bn_fit(mpg ~ wt + hp, mtcars, size = 25000, maxit = 1, seed = 1)))
  expect_null(got$error)
  expect_equal(sum(grepl("the fit will be slow", got$said)), 1)
  expect_match(got$said[1], "^size = 25000 gives 125,001 weights per net for 32 rows")
})

test_that("L-BFGS without a decay on fewer than 20 rows warns, and print says nothing was held out", {
  need_core()
  expect_identical(bngrad:::.lbfgs_min_holdout_rows,
                   as.integer(reticulate::import("bngrad.fit")$LBFGS_MIN_HOLDOUT_ROWS))
  expect_warning(f <- bn_fit(mpg ~ wt + hp, mtcars[1:15, ], optimizer = "lbfgs", hidden = 2,
                             max_iter = 50, tol = 0.5, seed = 1),
                 "without a decay holds no rows out below 20 rows \\(15 here\\).*give decay")
  expect_output(print(f), "decay none, and no early stopping: no rows held out \\(fewer than 20 rows")
  expect_identical(f$early_stopping, FALSE)
  # a fit saved before early_stopping was kept: the 20-row rule, the only one then
  old <- f
  old$early_stopping <- NULL
  expect_output(print(old), "decay none, and no early stopping")
  # 20 rows or more, but the rows drawn to hold out all of weight 0: none held
  # out either (no warning: it depends on the draw), which print says, as the core does
  w <- rep(c(1, 0), c(10, 12))
  g <- suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars[1:22, ], weights = w, optimizer = "lbfgs",
                               hidden = 2, max_iter = 30, seed = 7))
  expect_identical(g$early_stopping, FALSE)
  expect_output(print(g), "decay none, and no early stopping")
  h <- suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars, optimizer = "lbfgs", hidden = 2,
                               max_iter = 30, seed = 7))
  expect_identical(h$early_stopping, TRUE)
  expect_output(print(h), "decay (none: early stopping on held-out rows|chosen on held-out rows)")
  # nets that held none out are named, whatever the others' decays
  m <- h
  m$early_stopping <- c(TRUE, FALSE, TRUE)
  m$decay <- c(1, 0, 0.1)
  expect_output(print(m), paste0("decay chosen on held-out rows, per net: 1 0 0.1 \\(and the ",
                                 "iteration kept\\); net 2 held no rows out"))
})

test_that("the formula method fits, prints like nnet and predicts new data", {
  need_core()
  d <- make_data()
  fit <- bn_fit(y ~ ., data = d, hidden = 8)
  expect_s3_class(fit, "bn_fit")
  expect_output(print(fit), paste("a 4-24-1 batch-normalised network, sigmoid, with 169 weights",
                                   "\\(3 nets of 8 hidden units averaged\\)\n"))
  expect_output(print(summary(fit)), "training MSE")
  expect_length(coef(fit), 169)
  expect_true(all(c("a->h1", "gamma->h24", "h24->o1", "b->o1") %in% names(coef(fit))))
  expect_equal(unname(fitted(fit) + residuals(fit)), d$y, tolerance = 1e-12)
  test <- make_data(200, seed = 2)
  r2 <- 1 - mean((test$y - predict(fit, test))^2) / var(test$y)
  expect_gt(r2, 0.9)
  expect_equal(fit$xlevels$f, c("u", "v", "w"))
  pdf(NULL); on.exit(dev.off())
  expect_silent(plot(fit))
})

test_that("predict pads NA rows, checks columns and factor levels", {
  need_core()
  d <- make_data()
  fit <- short_fit(y ~ a + b + f, data = d, hidden = 4, max_iter = 20)
  nd <- d[1:5, ]
  nd$a[2] <- NA
  p <- predict(fit, nd)
  expect_length(p, 5)
  expect_true(is.na(p[2]) && all(!is.na(p[-2])))
  expect_equal(unname(p[-2]), unname(fitted(fit)[c(1, 3, 4, 5)]), tolerance = 1e-12)
  expect_equal(unname(predict(fit, d[7, ])), unname(fitted(fit)[7]), tolerance = 1e-12)
  expect_error(predict(fit, d[, c("a", "f")]), "newdata is missing column\\(s\\) b")
  bad <- d[1:3, ]
  bad$f <- factor(c("u", "v", "zz"))
  expect_error(predict(fit, bad), "new level")
  bad$f <- c(1, 2, 3)
  expect_error(predict(fit, bad), "variable 'f' was fitted as a factor \\(levels u, v, w\\)")
  bad$f <- factor(c("u", "v", "w"))
  bad$a <- as.character(bad$a)
  expect_error(predict(fit, bad), "variable 'a' was fitted with type")
  fx <- short_fit(as.matrix(d[, c("a", "b")]), d$y, hidden = 3, max_iter = 10)
  expect_error(predict(fx, as.matrix(d[, "a", drop = FALSE])),
               "columns the net was fitted on: a, b; it has a$")
  # by name where newdata has them all: a data frame with more, in another order
  expect_equal(predict(fx, d[1:5, c("y", "f", "b", "a")]), predict(fx, as.matrix(d[1:5, c("a", "b")])))
  expect_equal(unname(predict(fx, unname(as.matrix(d[1:5, c("a", "b")])))),
               unname(fitted(fx)[1:5]), tolerance = 1e-12)
  # one new row as a (named) vector; a wrong width is refused in words
  expect_equal(unname(predict(fx, c(b = d$b[2], a = d$a[2]))), unname(fitted(fx)[2]), tolerance = 1e-12)
  expect_equal(unname(predict(fx, c(d$a[2], d$b[2]))), unname(fitted(fx)[2]), tolerance = 1e-12)
  expect_error(predict(fx, matrix(1:3, 1)), "columns the net was fitted on: a, b; it has 3 unnamed")
  # a vector of another length is not one row: named so, not as a one-column mistake
  for (v in list(c(3, 100, 4, 120), 3)) {
    expect_error(predict(fx, v), paste0("newdata is a vector of ", length(v), " values: for a net ",
                                        "of 2 inputs give one value per input \\(one new row\\)"))
  }
  # a fit on a matrix without names (x1, x2 made up) takes newdata's columns by
  # position whatever their names, as nnet: its names were refused as not x1, x2
  xu <- unname(as.matrix(d[, c("a", "b")]))
  fu <- short_fit(xu, d$y, hidden = 3, max_iter = 10)
  named <- as.matrix(d[1:5, c("b", "a")])
  by_position <- predict(fu, unname(named))
  expect_identical(unname(predict(fu, named)), by_position)
  expect_identical(unname(predict(fu, as.data.frame(named))), by_position)
  expect_equal(unname(predict(fu, xu[1:5, ])), unname(fitted(fu)[1:5]), tolerance = 1e-12)
  expect_error(predict(fu, cbind(named, c = 1)),
               paste("newdata must have 2 columns, taken by position \\(the fit's x had no",
                     "column names\\); it has 3"))
  # by position whatever the width: another column, even named x1 and x2, is
  # an error, not a switch to names (the same two columns had read otherwise)
  more <- data.frame(y = 0, x2 = d$b[1:5], x1 = d$a[1:5])
  expect_error(predict(fu, more), "newdata must have 2 columns, taken by position")
  # a fit saved before x_unnamed was kept: by name, as then
  old <- fu
  old$x_unnamed <- NULL
  expect_identical(unname(predict(old, more)), unname(predict(fu, xu[1:5, ])))
  expect_error(predict(old, named), "fitted on: x1, x2; it has b, a")
  # duplicated names: by position, as the fit saw them
  x2 <- cbind(a = d$a, a = d$b)
  f2 <- short_fit(x2, d$a - 2 * d$b, hidden = 2, max_iter = 10, ensemble = 1)
  expect_equal(predict(f2, x2), fitted(f2), tolerance = 1e-12)
  m <- as.matrix(d[1:4, c("a", "b")]); m[3, 1] <- NA
  expect_true(is.na(predict(fx, m)[3]))
})

test_that("predict finds what lm finds: names of the formula's environment, no unused level", {
  need_core()
  set.seed(1)
  d <- data.frame(month = rep(1:12, 5), x = runif(60),
                  g = factor(rep(c("p", "q", "r"), 20), levels = c("p", "q", "r", "s")))
  d$y <- sin(2 * pi * d$month / 12) + d$x + rnorm(60, sd = 0.1)
  deg <- 2
  cc <- 1
  # pi, a poly() degree and a constant are the environment's, not newdata's columns
  fit <- short_fit(y ~ sin(2 * pi * month / 12) + poly(x, deg) + log(x + cc), data = d,
                   hidden = 2, max_iter = 20, seed = 1)
  expect_equal(unname(predict(fit, d[1:4, c("month", "x")])), unname(fitted(fit)[1:4]),
               tolerance = 1e-8)
  expect_error(predict(fit, d[1:4, "x", drop = FALSE]), "newdata is missing column\\(s\\) month$")
  # so are bs() knots and cut() breaks, vectors shorter than the data
  kn <- c(0.3, 0.6)
  brks <- c(0, 4, 8, 12)
  fk <- short_fit(y ~ splines::bs(x, knots = kn) + cut(month, brks), data = d, hidden = 2,
                  max_iter = 20, seed = 1)
  expect_identical(fk$newdata_vars, c("x", "month"))
  expect_equal(unname(predict(fk, d[1:4, c("month", "x")])), unname(fitted(fk)[1:4]),
               tolerance = 1e-8)
  # data's variables are always newdata's to give, whatever else has their
  # names (a function, a data set, a global vector); so is a per-row vector
  # the fit took from the environment
  ft <- short_fit(y ~ x + t + pressure, data = transform(d, t = x^2, pressure = x^3),
                  hidden = 2, max_iter = 10, seed = 1)
  expect_error(predict(ft, d[1:3, ]), "missing column\\(s\\) t, pressure$")
  x <- d$x
  yy <- d$y
  fe <- short_fit(yy ~ x, hidden = 2, max_iter = 10, seed = 1)
  expect_error(predict(fe, data.frame(xx = 1:3)), "missing column\\(s\\) x$")
  # a level no training row has: kept, as nnet keeps it (a split's test rows
  # may hold it), an input of zeros in the fit that predicts as the reference level
  fg <- short_fit(y ~ g + x, data = d, hidden = 2, seed = 1)
  expect_identical(fg$coefnames, c("gq", "gr", "gs", "x"))
  at <- function(level) unname(predict(fg, data.frame(g = factor(level, levels(d$g)), x = 0.5)))
  expect_identical(at("s"), at("p"))
  expect_error(predict(fg, data.frame(g = "zz", x = 0)), "new level")
  # a logical response is 0/1, as in lm
  d$hit <- d$y > 0.5
  fl <- short_fit(hit ~ x, data = d, hidden = 2, max_iter = 10, seed = 1)
  expect_equal(unname(fl$residuals + fl$fitted.values), as.numeric(d$hit), tolerance = 1e-12)
})

test_that("predict's na.action is lm's with newdata; a list is newdata; overflow is named", {
  need_core()
  f <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 2, seed = 1)
  l <- lm(mpg ~ wt + hp, mtcars)
  nd <- data.frame(wt = c(2, NA, 3), hp = c(100, 120, NA), row.names = c("a", "b", "c"))
  for (na in list(NULL, stats::na.pass, stats::na.omit, stats::na.exclude, "na.omit")) {
    expect_identical(names(predict(f, nd, na.action = na)), names(predict(l, nd, na.action = na)))
    expect_identical(is.na(predict(f, nd, na.action = na)),
                     is.na(predict(l, nd, na.action = na)))
  }
  expect_error(predict(f, nd, na.action = na.fail), "missing values")
  expect_identical(predict(f, nd[1, ], na.action = na.fail), predict(f, nd[1, ]))
  # any function, as lm calls it (a custom one had been na.pass)
  mine <- function(object, ...) stats::na.omit(object, ...)
  expect_identical(names(predict(f, nd, na.action = mine)), "a")
  # NA in a column the net does not use is no missing input
  expect_identical(names(predict(f, cbind(nd, other = NA), na.action = na.omit)), "a")
  expect_error(predict(f, list(wt = c(2, 3), hp = c(100, 120, 130))), "variable lengths differ")
  # as model.frame: only the variables the formula uses count
  expect_identical(predict(f, list(wt = c(2, 3), hp = c(100, 120), extra = 1:5)),
                   predict(f, data.frame(wt = c(2, 3), hp = c(100, 120))))
  # the na.action is the model frame's, as lm's: a term that makes a NaN
  # (log of a negative) is missing; a function may fill values in
  fl <- bn_fit(mpg ~ log(wt) + hp, mtcars, hidden = 2, seed = 1)
  ll <- lm(mpg ~ log(wt) + hp, mtcars)
  neg <- data.frame(wt = c(2, -1, 3), hp = c(100, 120, 130), row.names = c("a", "b", "c"))
  for (na in list(stats::na.omit, stats::na.exclude)) {
    expect_identical(names(suppressWarnings(predict(fl, neg, na.action = na))),
                     names(suppressWarnings(predict(ll, neg, na.action = na))))
  }
  expect_error(suppressWarnings(predict(fl, neg, na.action = na.fail)), "missing values")
  zero <- function(object, ...) { object[is.na(object)] <- 0; object }
  expect_identical(predict(f, nd, na.action = zero),
                   predict(f, data.frame(wt = c(2, 0, 3), hp = c(100, 120, 0),
                                         row.names = c("a", "b", "c"))))
  fm <- bn_fit(cbind(wt = mtcars$wt, hp = mtcars$hp), mtcars$mpg, hidden = 2, seed = 1)
  expect_identical(predict(fm, list(wt = c(2, 3), hp = c(100, 150))),
                   predict(fm, cbind(wt = c(2, 3), hp = c(100, 150))))
  # (the rows left are named by their number, as lm names them)
  expect_identical(predict(fm, cbind(wt = c(2, NA), hp = c(100, 150)), na.action = na.omit),
                   stats::setNames(predict(fm, cbind(wt = 2, hp = 100)), "1"))
  expect_error(predict(fm, cbind(wt = c(2, NA), hp = c(100, 150)), na.action = na.fail),
               "missing values")
  expect_identical(unname(predict(fm, cbind(wt = c(2, NA), hp = c(100, 150)), na.action = zero)),
                   predict(fm, cbind(wt = c(2, 0), hp = c(100, 150))))
  expect_identical(predict(f, list(wt = 2, hp = 100)), predict(f, data.frame(wt = 2, hp = 100)))
  # inputs near the largest double: an error naming the row, not NaN
  set.seed(1)
  x <- matrix(rnorm(150), 50)
  fx <- bn_fit(x, cbind(x[, 1] + x[, 2], x[, 3]), hidden = 3, seed = 1)
  expect_error(predict(fx, rbind(x[1:2, ], .Machine$double.xmax)),
               "newdata: row 3's prediction overflows double precision")
})

test_that("predict refuses Inf, gives zero rows for zero rows; fitted names its outputs", {
  need_core()
  fx <- bn_fit(mpg ~ wt, mtcars, hidden = 2)
  expect_error(predict(fx, data.frame(wt = c(1, Inf))), "newdata contains Inf.*row 2")
  expect_length(predict(fx, mtcars[0, ]), 0)
  fy <- bn_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, hidden = 2)
  expect_error(predict(fy, cbind(wt = c(1, 2), hp = c(-Inf, 100))), "newdata contains Inf.*row 1")
  expect_length(predict(fy, as.matrix(mtcars[0, c("wt", "hp")])), 0)   # a logical matrix
  expect_length(predict(fy, mtcars[0, c("wt", "hp")]), 0)
  expect_length(predict(fy, mtcars[0, ]), 0)
  # one new row as a named vector, or as a 1-d array holding it
  expect_identical(predict(fy, array(c(3, 100), dimnames = list(c("wt", "hp")))),
                   predict(fy, c(wt = 3, hp = 100)))
  expect_identical(predict(fy, c(wt = TRUE, hp = FALSE)), predict(fy, c(wt = 1, hp = 0)))
  # what it cannot give is named, not ignored; what costs nothing is taken
  # (ggplot2's geom_smooth(se = FALSE) passes se.fit = FALSE, level, interval = "none")
  expect_error(predict(fx, mtcars, se.fit = TRUE), "no standard errors \\(se.fit\\)")
  expect_error(predict(fx, mtcars, interval = "confidence"), "no intervals")
  expect_error(predict(fx, mtcars, type = "class"), "type = \"raw\" .* or \"response\" only")
  expect_error(predict(fx, mtcars, type = "r"), "got \"r\" \\(an abbreviation of raw and response\\)")
  expect_identical(predict(fx, mtcars, type = "raw", se.fit = FALSE, level = 0.95,
                           interval = "none", na.action = na.pass), predict(fx, mtcars))
  # lm's (and glm's) name for the same outputs, as generic code passes it, and
  # abbreviations, as match.arg takes them
  for (type in c("response", "resp", "ra")) {
    expect_identical(predict(fx, mtcars, type = type), predict(fx, mtcars), label = type)
  }
  fm <- bn_fit(cbind(mpg, qsec) ~ wt + hp, mtcars, hidden = 2)
  expect_identical(colnames(fitted(fm)), c("mpg", "qsec"))
  expect_identical(dim(predict(fm, mtcars[0, ])), c(0L, 2L))
  # a response too long for one line of deparse() is still one output's name
  fl <- suppressWarnings(bn_fit(
    log(mpg + disp / 100 + hp / 1000 + drat / 10 + qsec / 100 + carb / 10 + gear) ~ wt,
    mtcars, hidden = 2, max_iter = 10))
  expect_length(fl$ynames, 1)
  expect_length(predict(fl, mtcars[1:3, ]), 3)
})

test_that("case weights: their scale is free for the default fit of continuous inputs", {
  need_core()
  # the evidence counts distinct rows: any constant weight gives the unweighted fit
  one <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, seed = 1)
  for (w in c(1 / 32, 2)) {
    f <- expect_silent(bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, seed = 1, weights = rep(w, 32)))
    expect_equal(predict(f, mtcars), predict(one, mtcars), tolerance = 1e-8)
    expect_equal(c(nobs(f), deviance(f), AIC(f)), c(32, deviance(one), AIC(one)), tolerance = 1e-8)
  }
  # a bootstrap sample's repeats count once: nobs is its distinct rows
  boot <- mtcars[c(1:20, 1:12), ]
  expect_equal(nobs(bn_fit(mpg ~ wt + hp, boot, hidden = 3, seed = 1)), 20)
  # against a fixed decay they count data, as nnet's: too few warn
  expect_warning(bn_fit(mpg ~ wt, mtcars, hidden = 2, decay = 0.1, weights = rep(1 / 32, 32)),
                 "sum to 1 over 32 rows.*frequency weights")
})

test_that("a saved fit predicts the same numbers in a new R session without Python", {
  need_core()
  d <- make_data()
  fit <- short_fit(y ~ ., data = d, hidden = 5, max_iter = 30)
  rds <- tempfile(fileext = ".rds")
  out <- tempfile(fileext = ".rds")
  saveRDS(list(fit = fit, new = make_data(50, seed = 9)), rds)
  expect_true(all(vapply(unlist(fit, recursive = TRUE), function(v) !inherits(v, "python.builtin.object"), TRUE)))
  script <- sprintf(paste(
    "s <- readRDS('%s'); library(bngrad)",
    "stopifnot(!bngrad:::reticulate_started())",
    "saveRDS(predict(s$fit, s$new), '%s')",
    "stopifnot(!bngrad:::reticulate_started())", sep = "; "), rds, out)
  status <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(script)),
                    env = c("RETICULATE_PYTHON=/nonexistent/python", "BNGRAD_REQUIRE_CORE="),
                    stdout = FALSE, stderr = FALSE)
  expect_equal(status, 0L)
  expect_identical(readRDS(out), predict(fit, make_data(50, seed = 9)))
})

test_that("a RETICULATE_PYTHON that does not exist is named in the reason", {
  script <- "cat(attr(bngrad::bn_core_available(), 'reason'))"
  out <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(script)),
                 env = c("RETICULATE_PYTHON=/nonexistent/python", "BNGRAD_REQUIRE_CORE="),
                 stdout = TRUE, stderr = FALSE)
  expect_match(paste(out, collapse = " "),
               "RETICULATE_PYTHON is set to '/nonexistent/python', which does not exist")
})

test_that("inputs and outputs near the double maximum of both signs fit and predict", {
  need_core()
  set.seed(3)
  # x's first column centred far from 0: x - center overflows at -big
  x <- cbind(c(-1, runif(29, 0.5, 1)), runif(30, -1, 1))
  y <- sin(2 * x[, 1]) + x[, 2]^2
  big <- 1.7e308
  ref <- bn_fit(x, y, hidden = 2, seed = 1)
  fit <- bn_fit(x * big, y / max(abs(y)) * big, hidden = 2, seed = 1)
  p <- predict(fit, x * big) / big * max(abs(y))
  expect_true(all(is.finite(p)))
  expect_lt(max(abs(p - predict(ref, x))), 0.1 * sd(y))
})

test_that("set.seed() or seed = makes a fit reproducible", {
  need_core()
  d <- make_data(150)
  set.seed(3); f1 <- short_fit(y ~ ., data = d, hidden = 4, max_iter = 15)
  set.seed(3); f2 <- short_fit(y ~ ., data = d, hidden = 4, max_iter = 15)
  set.seed(4); f3 <- short_fit(y ~ ., data = d, hidden = 4, max_iter = 15)
  expect_identical(f1$params, f2$params)
  expect_false(identical(f1$params, f3$params))
  expect_identical(short_fit(y ~ ., data = d, hidden = 4, max_iter = 15, seed = 8)$params,
                   short_fit(y ~ ., data = d, hidden = 4, max_iter = 15, seed = 8)$params)
})

test_that("R and Python fit the same weights from the same data and settings", {
  need_core()
  d <- jsonlite::fromJSON(test_path("..", "fixtures", "fit_example.json"), simplifyVector = FALSE)
  x <- do.call(rbind, lapply(d$x, unlist))
  y <- unlist(d$y)
  w <- unlist(d$w)
  for (case in d$cases) {
    s <- case$settings
    args <- c(list(x, y), s)
    if (isTRUE(case$weighted)) args$weights <- w
    fit <- suppressWarnings(do.call(bn_fit, args))
    for (k in c("G1", "gamma", "beta", "G2", "b")) {
      want <- unlist(case$expected[[k]])
      if (k %in% c("G1", "G2")) want <- do.call(rbind, lapply(case$expected[[k]], unlist))
      expect_equal(as.vector(fit$params[[k]]), as.vector(want), tolerance = 1e-10,
                   label = paste(case$name, k))
    }
    expect_equal(unname(predict(fit, x)), unlist(case$predict), tolerance = 1e-10)
    expect_equal(fit$running_mean, unlist(case$running_mean), tolerance = 1e-10)
    expect_identical(fit$convergence, as.integer(case$convergence))
    expect_equal(fit$linear_share, unlist(case$linear_share))
  }
})

test_that("below two rows an input, of 20 or more, the fit may leave inputs out", {
  need_core()
  # make_friedman1's function of x1-x5 among 60 inputs, 75 rows: the fit is
  # compared with fits again on the inputs its decays rank first
  set.seed(5)
  x <- matrix(runif(100 * 60), 100, 60, dimnames = list(NULL, paste0("x", 1:60)))
  y <- 10 * sin(pi * x[, 1] * x[, 2]) + 20 * (x[, 3] - 0.5)^2 + 10 * x[, 4] + 5 * x[, 5] +
    rnorm(100)
  train <- 1:75
  f <- bn_fit(x[train, ], y[train], seed = 1)
  kept <- which(is.finite(f$input_decay[1, ]))
  expect_true(all(c("x1", "x2", "x4") %in% names(kept)))
  expect_lt(length(kept), 21)
  expect_true(all(is.infinite(f$input_decay[, -kept])))
  expect_true(all(f$params$G1[-kept, ] == 0))
  # that fit itself, on those inputs: the same seed, data and standardisation
  g <- bn_fit(x[train, kept], y[train], seed = 1)
  expect_equal(predict(f, x[-train, ]), predict(g, x[-train, kept]), tolerance = 1e-9)
  expect_output(print(f), paste(colnames(x)[-kept][1], "Inf"), fixed = TRUE)
})

test_that("a law with errors is fitted with the errors downweighted, as in Python", {
  need_core()
  # an exact law on every row but four, which are gross errors in it
  set.seed(2)
  x <- matrix(runif(300, -2, 2), 100, 3, dimnames = list(NULL, c("a", "b", "c")))
  law <- function(x) exp(x[, 1] / 2) + x[, 2] - 0.5 * x[, 3]
  y <- law(x) + c(8, -6, 10, 5, rep(0, 96))
  f <- bn_fit(x, y, seed = 1)
  expect_length(f$robust_weights, 100)
  expect_true(all(f$robust_weights[1:4] < 0.01))
  expect_true(all(f$robust_weights[-(1:4)] > 0.2))
  new <- matrix(runif(600, -2, 2), 200, 3, dimnames = list(NULL, c("a", "b", "c")))
  expect_lt(mean((predict(f, new) - law(new))^2), 1e-4 * var(law(new)))
  expect_output(print(f), "a law with errors: .* 4 of 100 rows below 0.1[^:]*:\\s+1 2 3 4\n")
  # by the rows' names where the data have them (a formula's data frame)
  d <- data.frame(x, y = y, row.names = paste0("r", 1:100))
  expect_output(print(bn_fit(y ~ ., d, seed = 1)), "rows below 0.1[^:]*:\\s+r1 r2 r3 r4\n")
  py <- reticulate::import("bngrad")$BNRegressor(seed = 1L)$fit(x, y)
  expect_equal(f$robust_weights, as.vector(py$robust_weights_), tolerance = 1e-12)
  # noise, not a law: the first fit stands
  g <- bn_fit(x, law(x) + rnorm(100, sd = 0.3) + c(8, -6, 10, 5, rep(0, 96)), seed = 1)
  expect_null(g$robust_weights)
  expect_false(any(grepl("law with errors", capture.output(print(g)))))
})

test_that("trace = TRUE prints nnet-style progress as the fit runs", {
  need_core()
  d <- make_data(100)
  expect_output(short_fit(y ~ ., data = d, hidden = 3, max_iter = 20, trace = TRUE),
                "net 1 iter   10 value [0-9.]+")
  # and the last iteration: a fit shorter than 10 prints too
  expect_output(short_fit(y ~ ., data = d, hidden = 3, max_iter = 3, trace = TRUE),
                "net 1 iter    3 value [0-9.]+")
})

test_that("adam fits too, and predicts with its running statistics", {
  need_core()
  d <- make_data(400)
  # defaults (Adam's 200 epochs end before its stopping rule here, and warn)
  fit <- suppressWarnings(bn_fit(y ~ ., data = d, hidden = 8, optimizer = "adam", seed = 1))
  expect_equal(fit$optimizer, "adam")
  test <- make_data(200, seed = 2)
  expect_gt(1 - mean((test$y - predict(fit, test))^2) / var(test$y), 0.8)
})

test_that("bad input to bn_fit is a clear R error", {
  d <- make_data(30)
  x <- as.matrix(d[, c("a", "b")])
  expect_error(bn_fit(x, as.character(d$y)), "y must be numeric")
  expect_error(bn_fit(x, d$f), "y must be numeric")
  expect_error(bn_fit(x, d$y[-1]), "x has 30 rows but y has 29")
  xn <- x; xn[4, 2] <- NA
  expect_error(bn_fit(xn, d$y), "x contains NA")
  # Inf is no NA: na.omit keeps its row, and the message names the column
  xi <- x; xi[4, 2] <- Inf
  expect_error(bn_fit(xi, d$y), "x contains NA, NaN or Inf, first in column 'b'", fixed = TRUE)
  di <- d; di$b[4] <- -Inf
  expect_error(bn_fit(y ~ a + b, data = di), "first in column 'b'", fixed = TRUE)
  expect_error(bn_fit(x, d$y, hidden = 0), "hidden")
  expect_error(bn_fit(data.frame(a = letters[1:30]), d$y), "x must be numeric")
  # a logical column is 0/1, as nnet and model.matrix take it
  dl <- data.frame(a = d$a, l = d$b > 0)
  if (bn_core_available()) {
    expect_identical(bn_fit(dl, d$y, hidden = 2, seed = 1)$params,
                     bn_fit(data.frame(a = d$a, l = as.numeric(d$b > 0)), d$y, hidden = 2,
                            seed = 1)$params)
  }
  expect_error(bn_fit("y ~ a + b", d), "x is the string \"y ~ a \\+ b\", not a formula")
  expect_error(bn_fit("y ~ a + b", data = d), "x is the string \"y ~ a \\+ b\", not a formula")
  dn <- d; dn$a[3] <- NA
  expect_error(bn_fit(y ~ ., data = dn, na.action = na.fail), "missing values")
  need_core()
  expect_error(bn_fit(x, d$y, activation = "elu"), "activation")
  fit <- short_fit(y ~ ., data = dn, hidden = 3, max_iter = 5)      # na.omit drops the row
  expect_length(fitted(fit), 29)
})

test_that("forked children (mclapply) fit after the parent has", {
  skip_on_os("windows")
  need_core()
  f0 <- bn_fit(mpg ~ wt + hp, mtcars, seed = 1)
  # R forks from C, where Python's at-fork hooks do not run: children hung
  # on the parent's helper threads
  r <- parallel::mclapply(1:2, function(i) predict(bn_fit(mpg ~ wt + hp, mtcars, seed = 1),
                                                   mtcars[1:2, ]), mc.cores = 2)
  expect_equal(r[[2]], predict(f0, mtcars[1:2, ]), tolerance = 0)
})

test_that("a fork straight after a threaded gradient or fit: the children finish", {
  skip_on_os("windows")
  skip_if(!nzchar(Sys.which("timeout")), "no timeout command")
  need_core()
  # R's thread holds the GIL while R runs; children forked (mclapply) while a
  # helper thread waited for it hung for good on a GIL switch to a thread
  # they do not have.  Run in a process of its own, so a hang is a failure.
  script <- tempfile(fileext = ".R")
  writeLines(c(
    sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "library(bngrad)",
    "set.seed(1)",
    "X <- matrix(rnorm(2e5 * 10), ncol = 10)    # large enough for the helper threads",
    "p <- bn_params(10, 16, 1, seed = 1)",
    "want <- bn_grad(X[1:50, ], X[1:50, 1], p)$loss",
    "child <- function(i) bn_grad(X[1:50, ], X[1:50, 1], p)$loss",
    "for (k in 1:3) {",
    "  bn_grad(X, X[, 1], p)",
    "  stopifnot(unlist(parallel::mclapply(1:2, child, mc.cores = 2)) == want)",
    "  bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, seed = k)",
    "  stopifnot(unlist(parallel::mclapply(1:2, child, mc.cores = 2)) == want)",
    "}",
    "cat('children done\\n')"), script)
  out <- suppressWarnings(system2("timeout", c("120", file.path(R.home("bin"), "Rscript"),
                                               script), stdout = TRUE, stderr = TRUE))
  expect_true("children done" %in% out, info = paste(out, collapse = "\n"))
})

test_that("bn_fit's defaults are BNRegressor's, so a default fit is the same net in both", {
  need_core()
  py <- reticulate::import("bngrad")$BNRegressor()$get_params()
  f <- formals(bngrad:::bn_fit.default)
  for (a in c("hidden", "activation", "ensemble", "restarts", "max_iter", "tol", "batch_size",
              "learning_rate", "eps", "ddof", "momentum"))
    expect_equal(eval(f[[a]]), py[[a]], info = a)
  expect_identical(eval(f$optimizer)[1], py$optimizer)
  expect_equal(eval(formals(bngrad::bn_fit_parquet)$hidden), py$hidden)
})
