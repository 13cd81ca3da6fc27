# What an nnet or lm user expects of a fit: nnet's argument names, na.exclude,
# nobs / deviance / logLik / AIC / BIC, the call, plot's dots, restarts.

test_that("a typo, or an argument bn_fit does not have, is an error naming it", {
  x <- as.matrix(mtcars[, c("wt", "hp")])
  expect_error(bn_fit(mpg ~ wt, mtcars, hiden = 2), "unknown argument to bn_fit: hiden \\(did you mean hidden\\?\\)")
  expect_error(bn_fit(x, mtcars$mpg, hiden = 2), "hiden")
  expect_error(bn_fit(x, mtcars$mpg, hiden = 2, fooo = 1), "unknown arguments to bn_fit: hiden .*, fooo")
  # named but never evaluated: the name is the error, not the value
  expect_error(bn_fit(mpg ~ wt, mtcars, colour = stop("evaluated")), "unknown argument to bn_fit: colour")
  # a guess only where it is a near miss: foo is not tol
  expect_error(bn_fit(x, mtcars$mpg, foo = 1), "unknown argument to bn_fit: foo$")
  expect_error(bn_fit(x, mtcars$mpg, maxiter = 5), "maxiter \\(did you mean max_iter\\?\\)")
  # bn_fit_parquet alike, before it looks at the path or Python
  expect_error(bn_fit_parquet("no/such.parquet", "y", hiden = 3),
               "unknown argument to bn_fit_parquet: hiden \\(did you mean hidden\\?\\)")
  expect_error(bn_fit_parquet("no/such.parquet", "y", colour = stop("evaluated"), fooo = 1),
               "unknown arguments to bn_fit_parquet: colour, fooo$")
  expect_error(do.call(bn_fit_parquet, c(list("no/such.parquet", "y"), as.list(1:16))),
               "bn_fit_parquet takes its settings by name; 1 unnamed argument\\(s\\) left over")
  # bn_fit's that it has not, and nnet's, say why (they were unknown arguments)
  expect_error(bn_fit_parquet("no/such.parquet", "y", optimizer = "bayes"),
               paste0("bn_fit_parquet fits by L-BFGS only \\(optimizer = \"lbfgs\"\\).*",
                      "got optimizer = \"bayes\""))
  # what it does, named, is taken: the error is the path's
  expect_error(bn_fit_parquet("no/such.parquet", "y", optimizer = "lb"), "does not exist")
  expect_error(bn_fit_parquet("no/such.parquet", "y", batch_size = 32),
               "no argument batch_size: Adam's")
  expect_error(bn_fit_parquet("no/such.parquet", "y", Hess = TRUE),
               "bn_fit_parquet has no argument Hess \\(nnet's\\): the fit keeps no Hessian")
  expect_error(bn_fit_parquet("no/such.parquet", "y", size = 2, hidden = 3),
               "give hidden or nnet's size, not both")
  expect_error(bn_fit_parquet("no/such.parquet", "y", linout = FALSE),
               "not offered: bn_fit_parquet's output is always linear")
  for (a in c("skip", "rang", "Hess", "softmax", "entropy", "censored", "abstol", "reltol",
              "MaxNWts", "Wts", "mask")) {
    args <- list(mpg ~ wt, mtcars, TRUE)
    names(args) <- c("", "", a)
    expect_error(do.call(bn_fit, args), paste0("bn_fit has no argument ", a, " \\(nnet's\\)"),
                 label = a)
  }
  expect_error(bn_fit(x, mtcars$mpg, subset = 1:10),
               "subset is an argument of bn_fit's formula method only: subset x and y")
  expect_error(bn_fit(x, mtcars$mpg, na.action = na.omit), "na.action is an argument of bn_fit's formula")
  expect_error(bn_fit(x, mtcars$mpg, data = mtcars), "data is an argument of bn_fit's formula")
  expect_error(bn_fit(x, mtcars$mpg, 4, "tanh", "bayes", NULL, NULL, 1, NULL, NULL, NULL, 0.01,
                      1e-5, 0, 0.1, NULL, FALSE, NULL, 99), "unnamed argument")
})

test_that("nnet's size, maxit and linout are taken, with a message, or refused", {
  need_core()
  # (7 iterations are too few to converge: the warning says so, in the
  # caller's words)
  expect_warning(expect_message(
    f <- bn_fit(mpg ~ wt + hp, mtcars, size = 2, maxit = 7, linout = TRUE, seed = 1),
    "size = 2 taken as hidden; nnet's maxit = 7 taken as max_iter; linout = TRUE"),
    "^bn_fit: maxit = 7 reached before the fit converged .*; increase maxit or tol$")
  expect_warning(bn_fit(mpg ~ wt, mtcars, hidden = 2, max_iter = 7, seed = 1),
                 "^bn_fit: max_iter = 7 reached .*; increase max_iter or tol$")
  # and the core's error, as its warnings (no prose: "fewer hidden units" stays)
  expect_error(suppressWarnings(suppressMessages(bn_fit(mpg ~ wt, mtcars, size = 1e8))),
               "^size = 100000000 is too large for this machine: .*use fewer hidden units$")
  # only where a name is an argument's: prose keeps its words
  expect_equal(bngrad:::.in_callers_words("hidden = 3 hidden units; increase max_iter",
                                         list(hidden = "size", max_iter = "maxit")),
               "size = 3 hidden units; increase maxit")
  expect_equal(f$hidden, 2L)
  # three nets of two units, and one linear unit where the blend uses one
  expect_equal(f$n[2], 2L * 3L + as.integer(f$linear_share > 0))
  expect_lte(f$n_iter, 7L)
  # the same fit as bn_fit's own names give
  g <- suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars, hidden = 2, max_iter = 7, seed = 1))
  expect_identical(f$params, g$params)
  expect_error(bn_fit(mpg ~ wt, mtcars, size = 2, hidden = 3), "give hidden or nnet's size, not both")
  expect_error(bn_fit(mpg ~ wt, mtcars, maxit = 2, max_iter = 3), "give max_iter or nnet's maxit")
  expect_error(bn_fit(mpg ~ wt, mtcars, linout = FALSE), "linout = FALSE .* always linear")
  expect_error(bn_fit(mpg ~ wt, mtcars, linout = NA), "linout must be TRUE or FALSE")
  # a bad value is named as given, and nothing is said of a mapping that failed
  said <- character()
  expect_error(withCallingHandlers(bn_fit(mpg ~ wt, mtcars, size = 0), message = function(m) {
    said <<- c(said, conditionMessage(m))
    invokeRestart("muffleMessage")
  }), "size must be a whole number >= 1, got 0")
  expect_length(said, 0)
  expect_error(bn_fit(mpg ~ wt, mtcars, maxit = -1), "maxit must be NULL or a whole number")
})

test_that("nnet's value and wts are there: the training RSS and the weights", {
  need_core()
  w <- rep(1:2, 16)
  for (f in list(bn_fit(mpg ~ wt + hp, mtcars, hidden = 2, seed = 1),
                 bn_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, hidden = 2, seed = 1,
                        weights = w),
                 suppressWarnings(bn_fit(cbind(mpg, qsec) ~ wt + hp, mtcars, hidden = 2,
                                         optimizer = "lbfgs", max_iter = 20, seed = 1)))) {
    expect_equal(f$value, deviance(f))
    expect_equal(f$value, sum(residuals(f, type = "deviance")^2), tolerance = 1e-12)
    expect_identical(f$wts, unname(coef(f)))
    expect_length(f$wts, bngrad:::.n_weights(f$n))
  }
})

test_that("na.exclude pads fitted, residuals and predict to the rows of the data, as lm does", {
  need_core()
  f <- bn_fit(Ozone ~ Solar.R + Wind + Temp, airquality, na.action = na.exclude, hidden = 3,
              seed = 1)
  l <- lm(Ozone ~ Solar.R + Wind + Temp, airquality, na.action = na.exclude)
  expect_length(fitted(f), nrow(airquality))
  for (get in list(fitted, residuals, predict)) {
    expect_identical(names(get(f)), names(get(l)))
    expect_identical(is.na(get(f)), is.na(get(l)))
  }
  kept <- !is.na(fitted(l))
  expect_equal(unname((fitted(f) + residuals(f))[kept]), airquality$Ozone[kept], tolerance = 1e-12)
  expect_equal(nobs(f), nobs(l))
  # na.omit (the default) leaves them out, as before
  o <- bn_fit(Ozone ~ Solar.R + Wind + Temp, airquality, hidden = 3, seed = 1)
  expect_length(fitted(o), 111)
  expect_equal(unname(fitted(o)), unname(fitted(f)[!is.na(fitted(f))]), tolerance = 0)
})

test_that("model.matrix is the inputs the net was fitted on: lm's design with no intercept", {
  need_core()
  d <- mtcars
  d$mpg[3] <- NA
  f <- bn_fit(mpg ~ wt + factor(cyl) + log(hp), d, subset = hp > 60, na.action = na.exclude,
              hidden = 3, seed = 1)
  l <- lm(mpg ~ wt + factor(cyl) + log(hp), d, subset = hp > 60, na.action = na.exclude)
  x <- model.matrix(f)
  expect_identical(x, model.matrix(l)[, -1])
  expect_identical(colnames(x), f$coefnames)
  # the net's prediction of those rows is its fitted values
  expect_equal(unname(drop(bngrad:::.bn_forward(f, x))), unname(f$fitted.values),
               tolerance = 1e-12)
  expect_error(model.matrix(bn_fit(as.matrix(mtcars[, 2:4]), mtcars$mpg, hidden = 2)),
               "needs a formula fit")
})

test_that("nobs, deviance and logLik are lm's for the least-squares linear net", {
  need_core()
  # identity units, no decay, L-BFGS to convergence: the least-squares fit
  fit <- function(data, w = NULL) {
    bn_fit(mpg ~ wt + hp + qsec, data, weights = w, activation = "identity",
           optimizer = "lbfgs", decay = 0, hidden = 1, seed = 1)
  }
  f <- fit(mtcars)
  l <- lm(mpg ~ wt + hp + qsec, mtcars)
  expect_identical(f$convergence, 0L)
  expect_equal(nobs(f), 32)
  expect_equal(deviance(f), deviance(l), tolerance = 1e-8)
  expect_equal(as.numeric(logLik(f)), as.numeric(logLik(l)), tolerance = 1e-8)
  # sigma's df counts the weights (8 here, lm's 4 coefficients + 4 of BN's):
  expect_equal(sigma(f), sqrt(deviance(l) / (32 - length(coef(f)))), tolerance = 1e-8)
  w <- rep(1:4, 8)
  fw <- fit(mtcars, w)
  lr <- lm(mpg ~ wt + hp + qsec, mtcars[rep(1:32, w), ])
  expect_equal(nobs(fw), nobs(lr))
  expect_equal(deviance(fw), deviance(lr), tolerance = 1e-8)
  expect_equal(as.numeric(logLik(fw)), as.numeric(logLik(lr)), tolerance = 1e-8)
})

test_that("residuals' types are lm's: weighted ones square to the deviance", {
  need_core()
  w <- rep(c(0, 1, 2.5, 4), 8)
  f <- bn_fit(mpg ~ wt + hp + qsec, mtcars, weights = w, activation = "identity",
              optimizer = "lbfgs", decay = 0, hidden = 1, seed = 1)
  l <- lm(mpg ~ wt + hp + qsec, mtcars, weights = w)
  for (type in c("working", "response")) {
    expect_identical(residuals(f, type = type), residuals(f))
  }
  for (type in c("deviance", "pearson")) {
    r <- residuals(f, type = type)
    expect_equal(sum(r^2), deviance(f), tolerance = 1e-12)
    expect_identical(unname(r[w == 0]), rep(0, 8))
    # lm's weights are the fit's up to the scale nobs() / sum(w)
    expect_equal(r, residuals(l, type = type) * sqrt(nobs(f) / sum(w)), tolerance = 1e-6)
  }
  two <- bn_fit(cbind(mpg, qsec) ~ wt + hp, mtcars, weights = w, hidden = 2, seed = 1)
  r2 <- residuals(two, type = "pearson")
  expect_equal(dim(r2), c(32L, 2L))
  expect_equal(sum(r2^2), deviance(two), tolerance = 1e-12)
  expect_identical(residuals(bn_fit(mpg ~ wt, mtcars, hidden = 2, seed = 1), type = "pearson"),
                   residuals(bn_fit(mpg ~ wt, mtcars, hidden = 2, seed = 1)))
  # unweighted, where repeated rows count once: scaled by nobs() / rows
  set.seed(2)
  boot <- mtcars[sample(32, replace = TRUE), ]
  fb <- bn_fit(mpg ~ wt + hp, boot, hidden = 2, seed = 1)
  expect_lt(nobs(fb), 32)
  expect_equal(sum(residuals(fb, type = "deviance")^2), deviance(fb), tolerance = 1e-12)
  expect_identical(residuals(f, type = "dev"), residuals(f, type = "deviance"))
  expect_identical(residuals(f, type = "pe"), residuals(f, type = "pearson"))
  # "p" is pearson or partial: ambiguous, as lm's residuals finds it
  expect_error(residuals(f, type = "p"), "got \"p\" \\(an abbreviation of pearson and lm's partial\\)")
  expect_error(residuals(f, type = "partial"), "no such terms")
  expect_error(residuals(f, type = "pa"), "no such terms")
  expect_error(residuals(f, type = "raw"), "type must be one of working, response")
})

test_that("logLik's df, AIC and BIC follow the formulas, by hand", {
  need_core()
  by_hand <- function(f, df) {
    r <- residuals(f)
    n <- length(r)
    ll <- -n / 2 * (log(2 * pi * sum(r^2) / n) + 1)
    expect_equal(as.numeric(logLik(f)), ll, tolerance = 1e-12)
    expect_equal(attr(logLik(f), "df"), df)
    expect_equal(attr(logLik(f), "nobs"), n)
    expect_equal(deviance(f), sum(r^2), tolerance = 1e-12)
    expect_equal(AIC(f), -2 * ll + 2 * df, tolerance = 1e-12)
    expect_equal(BIC(f), -2 * ll + log(n) * df, tolerance = 1e-12)
  }
  b <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, seed = 2)
  expect_equal(b$optimizer, "bayes")
  expect_true(all(is.finite(b$effective_params)) && all(b$effective_params < 16))
  by_hand(b, mean(b$effective_params) + 1)
  expect_equal(sigma(b), sqrt(deviance(b) / (32 - mean(b$effective_params))), tolerance = 1e-12)
  expect_equal(df.residual(b), 32 - mean(b$effective_params))
  expect_equal(sigma(b), sqrt(deviance(b) / df.residual(b)), tolerance = 1e-12)
  # the formula as given, as lm's formula(), not the terms
  expect_equal(formula(b), mpg ~ wt + hp, ignore_attr = TRUE)
  expect_identical(names(attributes(formula(b))), c("class", ".Environment"))
  expect_error(formula(bn_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, hidden = 2)),
               "given x and y, not a formula")
  expect_error(bn_fit(~ wt, mtcars, hidden = 2), "the formula has no response")
  two <- bn_fit(cbind(mpg, qsec) ~ wt + hp, mtcars, hidden = 3, seed = 2)
  expect_equal(sigma(two), sqrt(colSums(residuals(two)^2) / (32 - mean(two$effective_params))),
               tolerance = 1e-12, ignore_attr = TRUE)
  big <- bn_fit(mpg ~ ., mtcars, hidden = 8, optimizer = "lbfgs", seed = 2)
  expect_identical(df.residual(big), 0)                  # 113 weights, 32 rows
  expect_warning(s <- sigma(big), "no residual degrees of freedom")
  expect_identical(unname(s), NA_real_)
  expect_identical(names(s), names(sigma(b)))
  l <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, optimizer = "lbfgs", seed = 2)
  # 2-3-1: 2 * 3 + 3 + 3 + 3 + 1 = 16 weights, and sigma
  by_hand(l, 16 + 1)
  # (20 epochs are too few for Adam's stopping rule: the warning says so)
  a <- suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, optimizer = "adam",
                               max_iter = 20, seed = 2))
  by_hand(a, 16 + 1)
  # a fixed decay leaves the evidence out: every weight counts
  d <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, decay = 0.1, ensemble = 1, seed = 2)
  by_hand(d, 16 + 1)
  # decay = 0, nnet's default, is no penalty (not the evidence from no prior)
  z <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 3, decay = 0, ensemble = 1, seed = 2)
  expect_identical(z$decay, 0)
  expect_lt(deviance(z), deviance(d))
  expect_output(print(z), "decay 0 (fixed)", fixed = TRUE)
  m <- suppressWarnings(bn_fit(as.matrix(mtcars[, c("wt", "hp")]), as.matrix(mtcars[, 1:2]),
                               hidden = 2, max_iter = 5, seed = 1))
  expect_error(logLik(m), "logLik is defined here for one output; this fit has 2")
  expect_equal(deviance(m), sum(residuals(m)^2))
})

test_that("print and summary show the call, how the fit ended and the decay chosen", {
  need_core()
  f <- bn_fit(mpg ~ wt + hp, data = mtcars, hidden = 3, seed = 2)
  out <- capture.output(print(f))
  call <- deparse(quote(bn_fit(formula = mpg ~ wt + hp, data = mtcars, hidden = 3, seed = 2)))
  expect_identical(out[seq_len(1 + length(call))], c("Call:", call))
  # the headline says what its 10 units are (a 2-10-1 net of hidden = 3 read as a bug)
  expect_match(out, paste0("^a 2-10-1 batch-normalised network, sigmoid, with [0-9]+ weights ",
                           "\\(3 nets of 3 hidden units averaged, and 1 linear unit\\)$"),
               all = FALSE)
  expect_match(out, "fitted by bayes; eps", fixed = TRUE, all = FALSE)
  # every net in the average, or those left out named (their weight 0)
  expect_identical(f$member_weights, rep(1 / 3, 3))
  expect_false(any(grepl("left out of the average", out)))
  # the blend's linear unit is named: it is the one with a huge weight to the output
  expect_gt(f$linear_share, 0)
  expect_match(out, "the linear model is unit h10 (a gamma of 1e-5", fixed = TRUE, all = FALSE)
  expect_gt(abs(f$params$G2[10, 1]), 100 * max(abs(f$params$G2[1:9, 1])))
  m <- bn_fit(as.matrix(mtcars[, c("wt", "hp", "disp")]), as.matrix(mtcars[, c("mpg", "qsec")]),
              hidden = 3, seed = 2)
  lin <- which(m$linear_share > 0)
  expect_length(lin, 2)
  expect_output(print(m), "the linear models are units h10, h11, one per output", fixed = TRUE)
  m$linear_share[] <- c(0.5, 0)
  m$n[2] <- 9L
  expect_output(print(m), "the linear model is a constant there, held in b", fixed = TRUE)
  # a net in the average that uses fewer of its units (the weak prior's run on
  # fewer kept: its others have no weight to the output) is named, with how many
  u <- f
  u$params$G2[1:9, ] <- 1
  expect_false(any(grepl("of (its|their) 3 hidden units", capture.output(print(u)))))
  u$params$G2[2:3, ] <- 0
  expect_match(capture.output(print(u)), paste("^net 1 uses 1 of its 3 hidden units \\(a weak",
                                                "prior's run on fewer units was kept;"), all = FALSE)
  u$params$G2[9, ] <- 0
  expect_match(capture.output(print(u)), "^nets 1, 3 use 1, 2 of their 3 hidden units", all = FALSE)
  u$member_weights <- c(0, 0.5, 0.5)        # (net 1 is left out: not named as using fewer)
  expect_match(capture.output(print(u)), "^net 3 uses 2 of its 3 hidden units", all = FALSE)
  # where the linear model takes the output whole (share 1), every net's
  # weights to it are 0: no net is said to use fewer
  u$params$G2[1:9, ] <- 0
  expect_false(any(grepl("of (its|their) 3 hidden units", capture.output(print(u)))))
  set.seed(1)
  lin <- data.frame(x1 = rnorm(60), x2 = rnorm(60))
  lin$y <- 2 * lin$x1 - lin$x2
  fl <- bn_fit(y ~ ., data = lin, hidden = 3, seed = 1)
  expect_identical(fl$linear_share, 1)
  expect_false(any(grepl("hidden units \\(a weak prior", capture.output(print(fl)))))
  # real fits where the smaller run was kept: the count is the net's units
  # with weight to the output, within its block of `hidden` rows of G2
  said <- 0
  for (seed in 1:6) {
    r <- bn_fit(mpg ~ wt + hp, data = mtcars, hidden = 8, seed = seed)
    line <- grep("hidden units \\(a weak prior", capture.output(print(r)), value = TRUE)
    if (!length(line)) next
    said <- said + 1
    nets <- as.integer(strsplit(sub("^nets? ([0-9, ]+) uses? .*", "\\1", line), ", ")[[1]])
    counts <- as.integer(strsplit(sub("^.* uses? ([0-9, ]+) of .*", "\\1", line), ", ")[[1]])
    expect_identical(counts, vapply(nets, function(k)
      as.integer(sum(r$params$G2[(k - 1) * 8 + 1:8, 1] != 0)), 0L))
    expect_true(all(counts >= 1 & counts <= 4))     # (at most half: _second_hidden)
  }
  expect_gt(said, 0)
  g <- f
  g$member_weights <- c(0.5, 0, 0.5)
  expect_match(capture.output(print(g)), paste("^net 2 left out of the average: leave-one-out",
                                                "error more than 4 times the best net's$"), all = FALSE)
  # the fit's own rule (the core's MEMBER_LOO_RATIO, kept with it), 4 for a fit saved without it
  expect_identical(f$member_loo_ratio, 4)
  g$member_loo_ratio <- 2.5
  expect_match(capture.output(print(g)), "error more than 2.5 times the best net's$", all = FALSE)
  g$member_loo_ratio <- NULL
  expect_match(capture.output(print(g)), "error more than 4 times the best net's$", all = FALSE)
  # the curve printed is the first averaged net's, named
  expect_match(capture.output(print(g)), "\\(net 1, standardised y\\) after at most", all = FALSE)
  g2 <- g
  g2$member_weights <- c(0, 0.5, 0.5)
  expect_match(capture.output(print(g2)), "\\(net 2, standardised y\\) after at most", all = FALSE)
  # a net left out spent none of the fit's parameters
  expect_equal(attr(logLik(g), "df"), mean(f$effective_params[c(1, 3)]) + 1)
  expect_equal(attr(logLik(f), "df"), mean(f$effective_params) + 1)
  line <- grep("^decay \\(hidden and output weights\\) chosen by the evidence, per net: ", out,
               value = TRUE)
  expect_length(line, 1)
  expect_match(line, paste(signif(f$decay, 3), collapse = " "), fixed = TRUE)
  expect_match(line, paste0("effective parameters ", paste(signif(f$effective_params, 3), collapse = " "),
                            " of 16 per net"), fixed = TRUE)
  # each input's decay (ARD), nets by inputs, and their mean over the nets
  expect_identical(dim(f$input_decay), c(3L, 2L))
  expect_identical(colnames(f$input_decay), c("wt", "hp"))
  expect_true(all(f$input_decay > 0))
  expect_match(out, paste0("^each input's decay \\(ARD\\), mean over the nets averaged: wt ",
                           signif(mean(f$input_decay[, "wt"]), 3), ", hp ",
                           signif(mean(f$input_decay[, "hp"]), 3), "$"), all = FALSE)
  fixed <- bn_fit(mpg ~ wt + hp, data = mtcars, hidden = 3, seed = 2, decay = 0.1)
  expect_true(all(is.nan(fixed$input_decay)))
  expect_false(any(grepl("ARD", capture.output(print(fixed)))))
  # the loss is net 1's; the count the most any net ran
  expect_match(out, sprintf(paste0("^final training loss %.6f \\(net 1, standardised y\\) after at ",
                                   "most %d iterations: converged$"),
                            utils::tail(f$loss_curve, 1), f$n_iter), all = FALSE)
  # a net finished at the evidence's decays (from the state the evidence kept) is its last
  # step's: no earlier state is named
  expect_identical(f$kept_iter, length(f$loss_curve))
  expect_false(any(grepl("kept is iteration", out)))
  # stopped by max_iter, a run is not at its evidence's optimum and is not finished: the
  # evidence kept an earlier state than the last, named with its value
  s <- suppressWarnings(bn_fit(mpg ~ wt + hp, data = mtcars, hidden = 3, seed = 2, max_iter = 25))
  expect_identical(s$convergence, 1L)
  expect_lt(s$kept_iter, length(s$loss_curve))
  expect_match(capture.output(print(s)),
               sprintf("^the net %d kept is iteration %d's \\(training loss %.6f\\), of highest evidence$",
                       which(s$member_weights > 0)[1], s$kept_iter, s$loss_curve[s$kept_iter]),
               all = FALSE)
  # and it is that iteration's net: a fit stopped there has it (kept_iter
  # had said the last, and print the last value, of a net not kept)
  b <- suppressWarnings(bn_fit(mpg ~ ., mtcars, seed = 1, ensemble = 1, max_iter = 25))
  h <- suppressWarnings(bn_fit(mpg ~ ., mtcars, seed = 1, ensemble = 1, max_iter = b$kept_iter))
  expect_lt(b$kept_iter, b$n_iter)
  expect_identical(h$params, b$params)
  expect_identical(h$kept_iter, h$n_iter)
  expect_false(any(grepl("the net kept", capture.output(print(h)))))
  # early stopping: the net kept is named, with its value, and marked on the plot
  e <- bn_fit(mpg ~ wt + hp, data = mtcars, hidden = 3, optimizer = "lbfgs", seed = 2)
  expect_lt(e$kept_iter, length(e$loss_curve))
  expect_match(capture.output(print(e)),
               sprintf("^the net kept is iteration %d's \\(training loss %.6f\\), of least held-out error$",
                       e$kept_iter, e$loss_curve[e$kept_iter]), all = FALSE)
  # an Adam fit worse than its start diverged: an error naming learning_rate
  expect_error(suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars, optimizer = "adam",
                                       learning_rate = 3, hidden = 16, seed = 2)),
               "Adam diverged .*lower learning_rate \\(now 3\\)")
  s <- capture.output(print(summary(f)))
  expect_identical(s[seq_len(1 + length(call))], c("Call:", call))
  expect_match(s, sprintf("^training MSE %.6g$", deviance(f) / 32), all = FALSE)
  # per output: outputs of different scales are not mixed
  w <- rep(1:2, 16)
  fm <- bn_fit(cbind(mpg, disp) ~ wt + hp, mtcars, weights = w, hidden = 2, seed = 1)
  sm <- summary(fm)
  expect_equal(unname(sm$mse), unname(colSums(w * residuals(fm)^2) / sum(w)), tolerance = 1e-12)
  expect_identical(dim(sm$residual_summary), c(2L, 6L))
  expect_identical(rownames(sm$residual_summary), c("mpg", "disp"))
  su <- summary(bn_fit(as.matrix(mtcars[, c("wt", "hp")]), unname(cbind(mtcars$mpg, mtcars$disp)),
                       hidden = 2, seed = 1))
  expect_match(capture.output(print(su)), "^training MSE o1 [0-9.e+-]+, o2 [0-9.e+-]+$",
               all = FALSE)
  expect_match(capture.output(print(sm)), "^training MSE mpg [0-9.e+-]+, disp [0-9.e+-]+ \\(weighted\\)$",
               all = FALSE)
  x <- as.matrix(mtcars[, c("wt", "hp")])
  expect_warning(m <- bn_fit(x, mtcars$mpg, hidden = 2, max_iter = 3, seed = 1),
                 "max_iter = 3 reached before the fit converged")
  expect_identical(m$convergence, 1L)
  # R's handlers see the core's warnings, the exiting ones too (one that
  # unwound through Python's frames mid-fit became "(Unknown exception occurred)")
  expect_identical(tryCatch(bn_fit(x, mtcars$mpg, hidden = 2, max_iter = 3, seed = 1),
                            warning = function(w) conditionMessage(w)),
                   "bn_fit: max_iter = 3 reached before the fit converged (bayes); increase max_iter or tol")
  capture.output(caught <- tryCatch(bn_fit(x, mtcars$mpg, hidden = 2, max_iter = 3, seed = 1,
                                            trace = TRUE), warning = function(w) "caught"))
  expect_identical(caught, "caught")
  # a call that warns and then fails: the warnings, then the error
  said <- bngrad:::.said()
  got <- list()
  withCallingHandlers(
    tryCatch(said$call(function() { said$add("first"); said$add("second"); stop("failed") }),
             error = function(e) got[[length(got) + 1]] <<- conditionMessage(e)),
    warning = function(w) {
      got[[length(got) + 1]] <<- conditionMessage(w)
      invokeRestart("muffleWarning")
    })
  expect_identical(unlist(got), c("first", "second", "failed"))
  old <- options(warn = 2)
  expect_error(bn_fit(x, mtcars$mpg, hidden = 2, max_iter = 3, seed = 1), "max_iter = 3")
  options(old)
  pm <- capture.output(print(m))
  call <- deparse(quote(bn_fit(x = x, y = mtcars$mpg, hidden = 2, max_iter = 3, seed = 1)))
  expect_identical(pm[1 + seq_along(call)], call)
  expect_match(pm, "after at most 3 iterations: stopped at max_iter, not converged", all = FALSE)
  fx <- bn_fit(x, mtcars$mpg, hidden = 2, decay = 0.5, optimizer = "lbfgs", seed = 1)
  expect_match(capture.output(print(fx)), "^decay 0.5 \\(fixed\\)$", all = FALSE)
})

test_that("print folds the inputs and their decays to the console's width, between items", {
  need_core()
  set.seed(3)
  x <- matrix(rnorm(40 * 24), 40, dimnames = list(NULL, sprintf("input_%02d", 1:24)))
  f <- bn_fit(x, x[, 1] + rnorm(40), hidden = 2, seed = 1)
  old <- options(width = 60)
  on.exit(options(old))
  out <- capture.output(print(f))
  block <- function(head) {
    i <- grep(head, out)
    expect_length(i, 1)
    j <- i
    while (j < length(out) && startsWith(out[j + 1], "  ")) j <- j + 1
    expect_gt(j, i)                                  # folded, not one long line
    expect_true(all(nchar(out[i:j]) <= 60))
    trimws(gsub(" +", " ", sub(head, "", paste(out[i:j], collapse = " "))))
  }
  expect_identical(block("^inputs:"), paste(colnames(x), collapse = " "))
  decays <- signif(colMeans(f$input_decay[bngrad:::.in_average(f), , drop = FALSE]), 3)
  expect_identical(block("^each input's decay \\(ARD\\), mean over the nets averaged:"),
                   paste(colnames(x), decays, collapse = ", "))
})

test_that("plot passes its dots to plot(), over its own defaults", {
  need_core()
  f <- bn_fit(mpg ~ wt + hp, mtcars, hidden = 2, seed = 1)
  pdf(NULL)
  on.exit(dev.off())
  expect_silent(plot(f, xlab = "step", main = "mine", col = 2, lwd = 2))
  plot(f)
  expect_true(par("ylog"))                     # its default: a log scale
  plot(f, log = "", ylim = c(0, 10))
  expect_false(par("ylog"))
  expect_equal(par("usr")[3:4], c(-0.4, 10.4))   # R's 4% either side of ylim
  # lm's diagnostics' arguments are named, not passed on as graphical parameters
  expect_error(plot(f, which = 1), "has no which \\(lm's diagnostic plots")
  expect_error(plot(f, ask = FALSE), "has no ask")
  expect_error(plot(f, whi = 2), "has no whi ")
  expect_error(plot(f, w = 2), "has no w ")
  expect_error(plot(f, 1), "has no unnamed \\(positional\\) argument")
  expect_error(plot(f, sub.caption = "x"), "has no sub.caption")
  expect_error(plot(f, cook.col = 2), "has no cook.col")
  # graphical parameters still pass, abbreviated too (as: asp)
  expect_silent(plot(f, sub = "a subtitle", as = NA))
})

test_that("update() takes a setting under either of its names, as the call gave it or not", {
  need_core()
  f <- suppressMessages(bn_fit(mpg ~ wt + hp, mtcars, size = 2, maxit = 50, seed = 1))
  g <- suppressWarnings(update(f, hidden = 3, max_iter = 40))
  expect_equal(g$hidden, 3L)
  expect_null(g$call$size)
  expect_null(g$call$maxit)
  expect_equal(g$call$max_iter, 40)
  h <- suppressMessages(suppressWarnings(update(g, size = 4)))
  expect_equal(h$hidden, 4L)
  expect_null(h$call$hidden)
  # a formula, and data found where update() was called, as lm's update
  d <- mtcars[1:20, ]
  k <- suppressMessages(update(f, . ~ . + qsec, data = d))
  expect_equal(nobs(k), 20)
  expect_equal(k$coefnames, c("wt", "hp", "qsec"))
  expect_equal(update(f, hidden = 5, evaluate = FALSE)$hidden, 5)
  # a call with neither name, or the same one
  z <- bn_fit(mpg ~ wt, mtcars, seed = 1)
  expect_equal(update(z, hidden = 2)$hidden, 2L)
  # NULL drops the setting under either name (the default), as update() does
  expect_equal(suppressWarnings(update(f, hidden = NULL, maxit = NULL))$hidden, 8L)
  # a formula fit's call keeps abbreviations as written: read as R matched them
  a <- bn_fit(mpg ~ wt + hp, mtcars, hid = 2, max = 30, seed = 1)
  expect_equal(suppressMessages(suppressWarnings(update(a, size = 3)))$hidden, 3L)
  u <- update(a, maxit = 20, evaluate = FALSE)
  expect_equal(u[["maxit"]], 20)
  expect_null(u[["max"]])
  expect_null(u[["max_iter"]])
  # the abbreviation itself given again replaces, or with NULL drops, the value
  expect_equal(suppressWarnings(update(a, hid = 3))$hidden, 3L)
  expect_equal(suppressWarnings(update(a, hid = NULL))$hidden, 8L)
  # names matched as R matched them (m: momentum, once max_iter is given in full)
  m <- suppressWarnings(bn_fit(mpg ~ wt + hp, mtcars, optimizer = "adam", max_iter = 5, m = 0.2))
  expect_equal(update(m, momentum = 0.3, evaluate = FALSE)[["momentum"]], 0.3)
  expect_null(update(m, momentum = 0.3, evaluate = FALSE)[["m"]])
  # and the full name beside it given again: m is still momentum
  u <- update(m, max_iter = 10, evaluate = FALSE)
  expect_equal(c(u[["max_iter"]], u[["momentum"]]), c(10, 0.2))
  expect_equal(update(m, max_iter = NULL, evaluate = FALSE)[["momentum"]], 0.2)
  # abbreviations given to update() too, against full names, twins or NULL
  u <- update(m, mo = 0.3, evaluate = FALSE)
  expect_equal(c(u[["mo"]], is.null(u[["momentum"]])), c(0.3, TRUE))
  u <- update(f, hid = 3, max = 10, evaluate = FALSE)           # f: size = 2, maxit = 50
  expect_equal(c(u[["hid"]], u[["max"]]), c(3, 10))
  expect_true(is.null(u[["size"]]) && is.null(u[["maxit"]]))
  expect_equal(suppressWarnings(update(f, hid = 3))$hidden, 3L)
  u <- update(g, hid = NULL, evaluate = FALSE)                  # g: hidden = 3
  expect_true(is.null(u[["hid"]]) && is.null(u[["hidden"]]))
  expect_equal(update(g, hidden = 2, evaluate = FALSE)$hidden, 2)
})

test_that("restarts keeps the best of several random starts", {
  need_core()
  set.seed(1)
  x <- matrix(runif(160, -2, 2), 80)
  y <- sin(2 * x[, 1]) * x[, 2] + rnorm(80, sd = 0.1)
  one <- bn_fit(x, y, hidden = 3, seed = 1)
  four <- bn_fit(x, y, hidden = 3, seed = 1, restarts = 4)
  # each net's first start is the single-start fit's, so its evidence can only rise
  expect_true(all(four$log_evidence >= one$log_evidence - 1e-9))
  expect_gt(max(four$log_evidence - one$log_evidence), 0.5)
  lone <- bn_fit(x, y, hidden = 3, seed = 2, optimizer = "lbfgs", decay = 0.01)
  lfour <- bn_fit(x, y, hidden = 3, seed = 2, optimizer = "lbfgs", decay = 0.01, restarts = 4)
  expect_lt(utils::tail(lfour$loss_curve, 1), utils::tail(lone$loss_curve, 1) - 1e-3)
  expect_error(bn_fit(x, y, restarts = 0), "restarts must be a whole number >= 1, got 0")
})
