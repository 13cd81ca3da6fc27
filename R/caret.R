# bn_caret: bn_fit as a caret model (caret's custom-model list), tuning
# hidden and decay.  A decay of -1 (any negative one, or NA) stands for
# decay = NULL, the fit's own choice (the evidence, for the default fit), so
# that it competes with fixed decays in one grid.  Not NA in the grids:
# caret counts an NA among the tuning values as a missing performance
# measure and warns on every train().

bn_caret <- function() {
  list(
    label = "Batch-normalised neural network (bngrad)",
    library = "bngrad",
    type = "Regression",
    loop = NULL,
    parameters = data.frame(parameter = c("hidden", "decay"), class = c("numeric", "numeric"),
                            label = c("#Hidden Units", "Weight Decay (-1: chosen by the fit)")),
    grid = function(x, y, len = NULL, search = "grid") {
      if (search == "grid") {
        # caret's nnet grid, with the evidence's choice of decay in place of 0
        expand.grid(hidden = 2 * seq_len(len) - 1,
                    decay = c(-1, if (len > 1) 10^seq(-1, -4, length.out = len - 1)))
      } else {
        unique(data.frame(hidden = sample.int(20, len, replace = TRUE),
                          decay = ifelse(stats::runif(len) < 0.5, -1, 10^stats::runif(len, -5, 1))))
      }
    },
    fit = function(x, y, wts, param, lev, last, classProbs, ...) {
      chosen <- is.na(param$decay) || param$decay < 0
      decay <- if (chosen) NULL else param$decay
      if (is.data.frame(x) && !all(vapply(x, is.numeric, logical(1)))) {
        # factors (train's x/y interface passes x as it is): coded by the
        # formula method, as caret's nnet model does
        dat <- x
        dat$.outcome <- y
        # weights by a name no predictor has: model.frame looks `weights`
        # up in data first, and took a column named wts for them
        .case_weights <- wts
        return(bn_fit(.outcome ~ ., data = dat, hidden = param$hidden, decay = decay,
                      weights = .case_weights, ...))
      }
      bn_fit(x, y, hidden = param$hidden, decay = decay, weights = wts, ...)
    },
    predict = function(modelFit, newdata, preProc = NULL, submodels = NULL) {
      unname(stats::predict(modelFit, newdata))
    },
    prob = NULL,
    # simplest first: fewer hidden units, then more decay (the fit's own choice last)
    sort = function(x) {
      chosen <- is.na(x$decay) | x$decay < 0
      x[order(x$hidden, chosen, -x$decay), , drop = FALSE]
    },
    tags = c("Neural Network", "Bayesian Model", "L2 Regularization"))
}
