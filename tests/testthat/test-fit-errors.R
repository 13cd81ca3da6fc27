# bn_fit's errors: in R's words, naming the argument, before any Python runs
# (the settings are R's to check; only a net too large for memory is the
# core's to refuse, and its message reaches R as it is).

x <- as.matrix(mtcars[, c("wt", "hp")])
y <- mtcars$mpg

settings <- list(
  list(hidden = 0, "hidden must be a whole number >= 1, got 0"),
  list(hidden = 2.5, "hidden must be a whole number >= 1, got 2.5"),
  list(hidden = "4", "hidden must be a whole number >= 1, got \"4\""),
  list(hidden = 1e10, "hidden = 1e\\+10 is more than R's largest integer"),
  list(decay = NA, "decay must be NULL or a number in \\[0, Inf\\), got NA"),
  list(decay = -1, "decay must be NULL or a number in \\[0, Inf\\), got -1"),
  list(decay = "0.1", "decay must be NULL or a number"),
  list(decay = TRUE, "decay must be NULL or a number .*got TRUE"),
  list(decay = c(0.1, 0.2), "decay must be NULL or a number .*got a numeric of length 2"),
  list(decay = Inf, "decay must be NULL or a number"),
  list(momentum = 5, "momentum must be a number in \\(0, 1\\], got 5"),
  list(momentum = 0, "momentum must be a number in \\(0, 1\\], got 0"),
  list(ensemble = 0, "ensemble must be NULL or a whole number >= 1, got 0"),
  list(ensemble = NA, "ensemble must be NULL or a whole number >= 1, got NA"),
  list(restarts = NULL, "restarts must be a whole number >= 1, got NULL"),
  list(restarts = 1.5, "restarts must be a whole number >= 1"),
  list(max_iter = 0, "max_iter must be NULL or a whole number >= 1, got 0"),
  list(max_iter = NA_integer_, "max_iter must be NULL or a whole number"),
  list(tol = 0, "tol must be NULL or a number in \\(0, Inf\\), got 0"),
  list(tol = NaN, "tol must be NULL or a number"),
  list(batch_size = 1, "batch_size must be NULL or a whole number >= 2, got 1"),
  list(learning_rate = -0.1, "learning_rate must be a number in \\(0, Inf\\), got -0.1"),
  list(learning_rate = NULL, "learning_rate must be a number"),
  list(seed = -1, "seed must be NULL or a whole number >= 0, got -1"),
  list(seed = "a", "seed must be NULL or a whole number"),
  list(eps = -1e-5, "eps must be a number in \\[0, Inf\\), got -1e-05"),
  list(eps = NA, "eps must be a number"),
  list(ddof = 2, "ddof must be 0 or 1, got 2"),
  list(ddof = NA, "ddof must be 0 or 1"),
  list(activation = "elu", "activation must be one of relu, .*, got \"elu\""),
  list(activation = NA, "activation must be one of"),
  list(optimizer = "bfgs", "optimizer must be one of auto, bayes, lbfgs, adam, got \"bfgs\""),
  list(optimizer = c("lbfgs", "adam"), "optimizer must be one of"),
  list(optimizer = "a", "optimizer must be one of .*got \"a\" \\(an abbreviation of auto and adam\\)"),
  list(trace = NA, "trace must be TRUE or FALSE, got NA"),
  list(trace = "yes", "trace must be TRUE or FALSE"))

for (s in settings) {
  name <- names(s)[1]
  test_that(sprintf("bn_fit(%s = %s) is an R error naming %s", name, deparse(s[[1]]), name), {
    args <- c(list(x, y), s[1])
    expect_error(do.call(bn_fit, args), s[[2]])
    # the formula method says the same (its dots reach the same checks)
    expect_error(do.call(bn_fit, c(list(mpg ~ wt + hp, mtcars), s[1])), s[[2]])
  })
}

test_that("data that cannot be fitted is an R error saying why", {
  expect_error(bn_fit(mpg ~ 1, mtcars), "the formula has no predictors \\(mpg ~ 1\\)")
  expect_error(bn_fit(mpg ~ wt + offset(hp), mtcars), "offset\\(\\) term")
  expect_error(bn_fit(mpg ~ wt, mtcars, subset = mpg > 100), "no rows to fit")
  expect_error(bn_fit(mpg ~ wt, mtcars[1, ]), "only 1 row to fit .* at least 2")
  expect_error(bn_fit(mpg ~ wt, mtcars, subset = 3), "only 1 row to fit")
  expect_error(bn_fit(x[1, , drop = FALSE], y[1]), "only 1 row to fit in x")
  expect_error(bn_fit(x[0, , drop = FALSE], y[0]), "no rows to fit")
  expect_error(bn_fit(x[, 0], y), "x has no columns")
  expect_error(bn_fit(x, matrix(0, 32, 0)), "y has no columns")
})

test_that("a net too large for memory is refused by the core, in a message naming hidden", {
  need_core()
  # (R's warning that such a net is far larger than the data comes first: test-fit.R)
  expect_error(suppressWarnings(bn_fit(x, y, hidden = 1e9)),
               "hidden = 1000000000 is too large for this machine")
  # in R's words: no Python class in front (helper-45: bngrad.checks.InvalidParameterError)
  expect_error(suppressWarnings(bn_fit(x, y, hidden = 1e9)), "^hidden = 1000000000")
  expect_error(bn_fit(x, y, ensemble = 1e8), "^ensemble x restarts = 100,000,000 runs")
})

test_that("a factor response is named, and bn_fit said to be regression", {
  expect_error(bn_fit(Species ~ ., data = iris),
               "the response Species is a factor: bn_fit fits regression nets")
})
