# bn_caret(): bn_fit as a caret model, tuning hidden and decay.

# Loading caret calls Sys.timezone(), which warns on a machine without
# timedatectl; that is the machine's, not caret's nor ours.
have_caret <- suppressWarnings(requireNamespace("caret", quietly = TRUE))

# caret::train; any warning is a failure (caret warned of missing
# performance values for the NA that once stood for the fit's own decay, and
# fixed decays stopped at max_iter on these small folds).
train_quietly <- function(...) {
  withCallingHandlers(caret::train(...), warning = function(w) {
    stop("caret::train warned: ", conditionMessage(w), call. = FALSE)
  })
}

test_that("bn_caret() is a caret model specification for hidden and decay", {
  m <- bn_caret()
  expect_true(all(c("label", "library", "type", "parameters", "grid", "fit", "predict", "prob",
                    "sort") %in% names(m)))
  expect_identical(m$library, "bngrad")
  expect_identical(m$type, "Regression")
  expect_null(m$prob)
  expect_identical(m$parameters$parameter, c("hidden", "decay"))
  g <- m$grid(NULL, NULL, len = 3)
  expect_equal(nrow(g), 9)
  expect_setequal(g$hidden, c(1, 3, 5))
  expect_false(anyNA(g$decay))
  expect_setequal(g$decay, c(-1, 0.1, 1e-4))
  expect_equal(nrow(m$grid(NULL, NULL, len = 1)), 1)
  set.seed(1)
  r <- m$grid(NULL, NULL, len = 6, search = "random")
  expect_true(all(r$hidden >= 1 & r$hidden == round(r$hidden)))
  expect_true(all(r$decay == -1 | r$decay > 0))
  s <- m$sort(data.frame(hidden = c(3, 1, 1, 3, 3), decay = c(0.1, -1, 0.01, 1e-3, NA)))
  expect_equal(s$hidden, c(1, 1, 3, 3, 3))
  expect_equal(s$decay, c(0.01, -1, 0.1, 1e-3, NA))
  # a train()'s bestTune passed to bn_fit: its -1 is explained, not just refused
  expect_error(bn_fit(mpg ~ wt, mtcars, decay = -1),
               "got -1 \\(bn_caret's decay of -1 stands for decay = NULL")
  expect_error(bn_fit(mpg ~ wt, mtcars, decay = NA), "got NA$")
})

test_that("caret::train tunes bn_fit by cross-validation; its RMSE is the folds' by hand", {
  skip_if_not(have_caret, "caret is not installed")
  need_core()
  x <- as.matrix(mtcars[, c("wt", "hp", "qsec", "disp")])
  y <- mtcars$mpg
  set.seed(4)
  folds <- caret::createFolds(y, k = 3, returnTrain = TRUE)
  ctrl <- caret::trainControl(method = "cv", number = 3, index = folds)
  # seed = goes through train's dots to every fit, so each fold's fit can be redone by hand
  t <- train_quietly(x, y, method = bn_caret(), trControl = ctrl, tuneLength = 2, seed = 1)
  expect_equal(nrow(t$results), 4)
  expect_setequal(paste(t$results$hidden, t$results$decay), c("1 -1", "1 0.1", "3 -1", "3 0.1"))
  expect_false(anyNA(t$results$RMSE))
  expect_s3_class(t$finalModel, "bn_fit")
  expect_identical(t$finalModel$hidden, as.integer(t$bestTune$hidden))
  for (k in seq_len(nrow(t$results))) {
    h <- t$results$hidden[k]
    d <- t$results$decay[k]
    rmse <- vapply(folds, function(rows) {
      f <- suppressWarnings(bn_fit(x[rows, ], y[rows], hidden = h,
                                   decay = if (d < 0) NULL else d, seed = 1))
      sqrt(mean((predict(f, x[-rows, ]) - y[-rows])^2))
    }, 0)
    expect_equal(t$results$RMSE[k], mean(rmse), tolerance = 1e-10, label = paste(h, d))
  }
  expect_equal(unname(predict(t, x)), unname(predict(t$finalModel, x)), tolerance = 0)
})

test_that("caret::train with a formula, and with case weights", {
  skip_if_not(have_caret, "caret is not installed")
  need_core()
  t <- train_quietly(mpg ~ wt + hp + factor(cyl), data = mtcars, method = bn_caret(),
                     trControl = caret::trainControl(method = "cv", number = 3), tuneLength = 2)
  expect_equal(nrow(t$results), 4)
  p <- predict(t, mtcars)
  expect_length(p, 32)
  expect_lt(sqrt(mean((p - mtcars$mpg)^2)), sd(mtcars$mpg))
  w <- rep(1:2, 16)
  tw <- train_quietly(mtcars[, c("wt", "hp")], mtcars$mpg, method = bn_caret(), weights = w,
                      trControl = caret::trainControl(method = "none"),
                      tuneGrid = data.frame(hidden = 2, decay = NA), seed = 3)
  expect_identical(tw$finalModel$weights, as.double(w))
  x <- mtcars[, c("wt", "hp")]
  expect_equal(predict(tw$finalModel, x),
               predict(bn_fit(x, mtcars$mpg, hidden = 2, weights = w, seed = 3), x), tolerance = 0)
})

test_that("caret::train's x/y interface takes a data frame with factors, as for nnet", {
  skip_if_not(have_caret, "caret is not installed")
  need_core()
  x <- data.frame(wt = mtcars$wt, cyl = factor(mtcars$cyl))
  w <- rep(1:2, 16)
  t <- train_quietly(x, mtcars$mpg, method = bn_caret(), weights = w,
                     trControl = caret::trainControl(method = "none"),
                     tuneGrid = data.frame(hidden = 2, decay = 0.1), seed = 3)
  d <- cbind(x, mpg = mtcars$mpg)
  ref <- bn_fit(mpg ~ wt + cyl, data = d, hidden = 2, decay = 0.1, weights = w, seed = 3)
  expect_equal(unname(predict(t, x)), unname(predict(ref, d)), tolerance = 0)
  # a predictor named wts is a predictor, not caret's case weights (model.frame
  # looked weights = wts up in the data first)
  x$wts <- mtcars$hp
  f <- bn_caret()$fit(x, mtcars$mpg, wts = NULL, param = data.frame(hidden = 2, decay = 0.1),
                      lev = NULL, last = TRUE, classProbs = FALSE, seed = 3)
  expect_null(f$weights)
  expect_true("wts" %in% f$coefnames)
  f <- bn_caret()$fit(x, mtcars$mpg, wts = w, param = data.frame(hidden = 2, decay = 0.1),
                      lev = NULL, last = TRUE, classProbs = FALSE, seed = 3)
  expect_identical(f$weights, as.double(w))
})
