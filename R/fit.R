# bn_fit: fitting the net from R, in the manner of nnet::nnet.  The fit runs
# in the Python core (bngrad.BNRegressor); the result is plain R data, and
# prediction is a forward pass in R, so a saved fit predicts with no Python.

bn_fit <- function(x, ...) UseMethod("bn_fit")

# Who checks what: R checks every setting and the data in R's words before
# it calls the core (single numbers, NA, types, ranges, rows and columns),
# and leaves nothing to the core's own checks, which are there for Python
# callers.  Only what R cannot know comes back from the core: whether a net
# of that size fits in this machine's memory (refused before anything is
# allocated, the message naming hidden).

bn_fit.formula <- function(formula, data, weights, subset, na.action, contrasts = NULL, ...) {
  m <- match.call(expand.dots = FALSE)
  if (is.matrix(eval.parent(m$data))) m$data <- as.data.frame(data)
  m$... <- m$contrasts <- NULL
  # unused factor levels are kept, as nnet keeps them (lm drops them, and
  # its predict() then refuses a level that only a split's test rows have):
  # such a level is an input column of zeros, whose weights the fit leaves
  # at ~0, so it predicts as the reference level does
  m[[1L]] <- quote(stats::model.frame)
  m <- eval.parent(m)
  .check_rows(nrow(m), "the data (after subset and na.action)")
  Terms <- attr(m, "terms")
  if (attr(Terms, "response") == 0L) {
    stop("the formula has no response (nothing left of ~): write it as y ~ inputs",
         call. = FALSE)
  }
  if (!is.null(stats::model.offset(m))) {
    # lm would add it to the fit; a net has no place for it, and dropping it
    # silently fits a different model than the formula says
    stop("the formula has an offset() term, which bn_fit does not support: ",
         "subtract it from the response instead", call. = FALSE)
  }
  x <- stats::model.matrix(Terms, m, contrasts)
  cons <- attr(x, "contrasts")
  x <- .no_intercept(x)
  if (ncol(x) == 0L) {
    stop("the formula has no predictors (", paste(deparse(formula), collapse = " "),
         "): bn_fit needs at least one input", call. = FALSE)
  }
  y <- stats::model.response(m)
  if (is.factor(y) || is.character(y)) {
    # nnet's users fit classes with the same call
    stop("the response ", paste(deparse(formula[[2L]], width.cutoff = 500L), collapse = " "),
         " is ", if (is.factor(y)) "a factor" else "text", ": bn_fit fits regression nets, ",
         "to a numeric response (for classes: nnet::nnet, nnet::multinom)", call. = FALSE)
  }
  fit <- bn_fit.default(x, y, weights = stats::model.weights(m), ...)
  fit$terms <- Terms
  # what predict() asks newdata for: data's variables, and any other that
  # holds a value per row (as many as the rows fitted, or more before
  # subset and na.action); not pi, a poly() degree, bs() knots, cut()
  # breaks or another setting that the formula's environment holds (as lm
  # finds them there)
  env <- environment(Terms)
  given <- if (missing(data) || is.null(data)) character() else
    if (is.matrix(data)) colnames(data) else names(data)
  per_row <- function(v) {
    v %in% given || !exists(v, envir = env) ||
      (!is.function(val <- get(v, envir = env)) && NROW(val) > 1L && NROW(val) >= nrow(m))
  }
  vars <- all.vars(stats::delete.response(Terms))
  fit$newdata_vars <- vars[vapply(vars, per_row, NA)]
  fit$contrasts <- cons
  fit$xlevels <- stats::.getXlevels(Terms, m)
  fit$na.action <- attr(m, "na.action")
  # one name, however long the response's expression (deparse cuts it in lines)
  if (is.null(fit$ynames)) fit$ynames <- paste(deparse(formula[[2L]], width.cutoff = 500L),
                                               collapse = " ")
  fit$call <- match.call()
  fit$call[[1L]] <- as.name("bn_fit")
  class(fit) <- c("bn_fit.formula", "bn_fit")
  fit
}

# A design without its intercept column: the net's b and beta play its part
.no_intercept <- function(x) {
  xint <- match("(Intercept)", colnames(x), nomatch = 0L)
  if (xint > 0L) x[, -xint, drop = FALSE] else x
}

.optimizers <- c("auto", "bayes", "lbfgs", "adam")

bn_fit.default <- function(x, y, hidden = 8, activation = "sigmoid",
                           optimizer = c("auto", "bayes", "lbfgs", "adam"), decay = NULL,
                           ensemble = NULL, restarts = 1, max_iter = NULL, tol = NULL,
                           batch_size = NULL, learning_rate = 0.01, eps = 1e-5, ddof = 0,
                           momentum = 0.1, seed = NULL, trace = FALSE, weights = NULL,
                           ...) {
  # a formula given as a string, before `...` is read: its data = would be named the mistake
  if (is.character(x) && length(x) == 1L && grepl("~", x, fixed = TRUE)) {
    stop("x is the string \"", x, "\", not a formula: write the formula without quotes, ",
         "or give stats::as.formula(\"", x, "\")", call. = FALSE)
  }
  # `...` only catches what is not bn_fit's: nnet's names, and mistakes.
  nnet <- .nnet_dots(match.call(expand.dots = FALSE)$..., function(k) ...elt(k),
                     given = c(hidden = !missing(hidden), max_iter = !missing(max_iter)))
  if (!is.null(nnet$hidden)) hidden <- nnet$hidden
  if (!is.null(nnet$max_iter)) max_iter <- nnet$max_iter
  optimizer <- if (missing(optimizer)) "auto" else
    .one_of(optimizer, .optimizers, "optimizer", partial = TRUE)
  hidden <- .whole(hidden, .as_called("hidden", "size", nnet$hidden))
  max_iter <- .whole(max_iter, .as_called("max_iter", "maxit", nnet$max_iter), null_ok = TRUE)
  set <- .shared_settings(activation, decay, ensemble, restarts, tol, eps, ddof, trace)
  batch_size <- .whole(batch_size, "batch_size", 2, null_ok = TRUE)
  learning_rate <- .real(learning_rate, "learning_rate", 0, open_low = TRUE)
  momentum <- .real(momentum, "momentum", 0, 1, open_low = TRUE)
  seed <- .whole(seed, "seed", 0, null_ok = TRUE)
  # inputs without names get x1, x2, ...: made up here, so predict matches
  # newdata's columns by position, whatever their names (as nnet)
  unnamed <- is.null(colnames(x))
  x <- .fit_design(x)
  if (is.data.frame(y)) y <- as.matrix(y)
  if (is.logical(y)) y <- y + 0                # as lm: TRUE is 1 (dim and names kept)
  if (!is.numeric(y)) stop("y must be numeric, not ", class(y)[1], call. = FALSE)
  Y <- if (.vector_like(y)) matrix(y, ncol = 1) else y
  if (nrow(Y) != nrow(x)) {
    stop("x has ", nrow(x), " rows but y has ", nrow(Y), ": they must match", call. = FALSE)
  }
  if (ncol(Y) == 0L) stop("y has no columns", call. = FALSE)
  if (anyNA(Y) || !all(is.finite(Y))) stop("y contains NA, NaN or Inf", call. = FALSE)
  .check_rows(nrow(x), "x")
  if (!is.null(weights)) weights <- .check_weights(weights, nrow(x), set$ddof)
  if (length(nnet$said)) message("bn_fit: ", paste(nnet$said, collapse = "; "))
  slow <- .slow_fit(nrow(x), ncol(x), ncol(Y), hidden)
  if (!is.null(slow)) {
    slow <- .in_callers_words(slow, nnet$renamed)
    # (immediate.: under options(warn = 0) R holds a warning until the top-level call returns)
    warning(slow, call. = FALSE, immediate. = TRUE)
  }
  # The R stream chooses the seed unless one is given, so set.seed() works.
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  est <- do.call(.core_entry("regressor"), c(set, list(
    hidden = hidden, optimizer = optimizer, max_iter = max_iter, batch_size = batch_size,
    learning_rate = learning_rate, momentum = momentum, seed = seed, verbose = FALSE)))
  if (trace) .trace_progress(est)
  said <- .said(given = slow, renamed = nnet$renamed)
  out <- said$call(.core_entry("fit_entry"), est, x, if (ncol(Y) == 1) as.vector(Y) else Y,
                   if (!is.null(weights)) array(weights), said$add)
  fit <- c(.fitted_fields(out, ncol(x), ncol(Y), colnames(x)), list(
    hidden = hidden, activation = set$activation, decay_chosen = is.null(set$decay),
    eps = set$eps, ddof = set$ddof, seed = seed, weights = weights, coefnames = colnames(x),
    x_unnamed = unnamed, ynames = colnames(Y), call = match.call()))
  fit$call[[1L]] <- as.name("bn_fit")
  class(fit) <- "bn_fit"
  fit$fitted.values <- .bn_forward(fit, x)
  fit$residuals <- if (ncol(Y) == 1) as.vector(Y) - fit$fitted.values else Y - fit$fitted.values
  if (!is.null(fit$robust_weights)) names(fit$robust_weights) <- rownames(x)
  .nnet_fields(fit)
}

# nnet's value and wts, for code written against nnet objects: its fitting
# criterion's final value is here the training RSS, deviance() (without
# nnet's decay term: the nets' decays differ by net and by group of
# weights, on the standardised problem), and its weights coef()'s, unnamed.
.nnet_fields <- function(fit) {
  fit$value <- if (is.null(fit$residuals)) NULL else deviance(fit)
  fit$wts <- .flat_weights(fit$params)
  fit
}

# A net's weights as one vector: G1 (column-major), gamma, beta, G2
# (column-major), b; coef() names them.
.flat_weights <- function(p) c(as.vector(p$G1), p$gamma, p$beta, as.vector(p$G2), p$b)

# The core's warning of a net far larger than the data (bngrad.checks:
# fits_in_memory, SLOW_WEIGHTS_PER_ROW, SLOW_WEIGHTS), or NULL: given before
# the call, as the core's warnings reach R only once it returns (hidden =
# 25000 on 32 rows: after 22 s).  N rows, p1 inputs, q outputs.
.slow_weights_per_row <- 100
.slow_weights <- 1e5
.slow_fit <- function(N, p1, q, hidden) {
  P <- .n_weights(as.double(c(p1, hidden, q)))    # (past R's integers)
  if (P <= .slow_weights_per_row * N * q || P <= .slow_weights) return(NULL)
  sprintf(paste("hidden = %d gives %s weights per net for %d rows: the fit will be slow and",
                "the net far larger than the data can determine"),
          as.integer(hidden), format(P, big.mark = ",", scientific = FALSE), as.integer(N))
}

# The settings bn_fit and bn_fit_parquet share, checked in R's words, as
# BNRegressor's arguments (trace is R's own: checked, not passed).
.shared_settings <- function(activation, decay, ensemble, restarts, tol, eps, ddof, trace) {
  if (!is.logical(trace) || length(trace) != 1 || is.na(trace)) {
    stop("trace must be TRUE or FALSE, got ", .shown(trace), call. = FALSE)
  }
  list(activation = .one_of(activation, .activations, "activation"),
       # (bn_caret's grids, and so a train()'s bestTune, say -1 for NULL)
       decay = .real(decay, "decay", 0, null_ok = TRUE, below = paste(
         " (bn_caret's decay of -1 stands for decay = NULL,", "the fit's own choice)")),
       ensemble = .whole(ensemble, "ensemble", null_ok = TRUE),
       restarts = .whole(restarts, "restarts"),
       tol = .real(tol, "tol", 0, open_low = TRUE, null_ok = TRUE),
       eps = .real(eps, "eps", 0), ddof = .ddof(ddof))
}

# trace = TRUE: the core's fit prints each net's progress as it goes.
.trace_progress <- function(est) {
  reticulate::py_set_attr(est, "progress", function(net, iteration, value) {
    cat(sprintf("net %d iter %4d value %.6f\n", as.integer(net), as.integer(iteration), value))
    utils::flush.console()
  })
}

# A fitted BNRegressor as the fields of a bn_fit, from bngrad.rbridge.fitted's
# (values, lengths, names, optimizer): one vector, cut here (names: one string).  p1 inputs
# (named x_names), q outputs.
.fitted_fields <- function(out, p1, q, x_names) {
  names <- strsplit(out[[3]], " ", fixed = TRUE)[[1]]
  v <- split(out[[1]], factor(rep(names, out[[2]]), levels = names))
  u <- length(v$gamma)
  list(params = list(G1 = matrix(v$G1, p1, u), gamma = v$gamma, beta = v$beta,
                     G2 = matrix(v$G2, u, q), b = v$b),
       running_mean = v$running_mean, running_var = v$running_var,
       x_center = v$x_center, x_scale = v$x_scale, y_center = v$y_center,
       y_scale = v$y_scale, n = c(p1, u, q), optimizer = out[[4]], decay = v$decay,
       input_decay = matrix(v$input_decay, length(v$decay), p1, dimnames = list(NULL, x_names)),
       loss_curve = v$loss_curve, n_iter = as.integer(v$n_iter),
       kept_iter = as.integer(v$kept_iter),
       convergence = as.integer(v$convergence), log_evidence = v$log_evidence,
       effective_params = v$effective_params, linear_share = v$linear_share,
       member_weights = v$member_weights, member_loo_ratio = v$member_loo_ratio,
       n_obs = v$n_obs,
       # (NULL, not logical(0), from a core that sends none: print's rule then)
       early_stopping = if (!is.null(v$early_stopping)) as.logical(v$early_stopping),
       # (NULL where the fit found no law with errors)
       robust_weights = if (length(v$robust_weights)) v$robust_weights)
}

# nnet's arguments: those bn_fit has under its own names, and those it
# refuses, with the reason.  decay, trace and weights are nnet's names too.
.nnet_renamed <- c(size = "hidden", maxit = "max_iter")
# A bad value is named as the caller wrote it: own, or nnet's name where the
# value came under it (got, from .nnet_dots).
.as_called <- function(own, nnet_name, got) if (is.null(got)) own else nnet_name
.nnet_refused <- c(
  skip = "the net has no skip-layer connections",
  rang = "the fit draws its own starting weights (seed = sets them)",
  Hess = "the fit keeps no Hessian",
  softmax = "the net is for regression (its output is linear)",
  entropy = "the fit is least squares only",
  censored = "the net is for regression (its output is linear)",
  abstol = "the stopping rule is set by tol",
  reltol = "the stopping rule is set by tol",
  MaxNWts = "no limit on weights is set (the core refuses a net too large for memory)",
  Wts = "the fit draws its own starting weights (seed = sets them)",
  mask = "the fit fits every weight")
# The formula method's arguments, given to the default method.
.formula_only <- c(
  subset = "subset x and y before calling, or use the formula method",
  na.action = "x must have no NA; the formula method takes na.action",
  data = "data is for the formula method: bn_fit(y ~ ., data = ...)")

# bn_fit_parquet's arguments that bn_fit has and it has not.
.parquet_refused <- c(
  batch_size = "Adam's; it fits by L-BFGS only",
  learning_rate = "Adam's; it fits by L-BFGS only",
  momentum = "Adam's; it fits by L-BFGS only")

# What reached `...` of bn_fit.default (or of fun, called `name`), unevaluated
# (value(k) evaluates the k-th): nnet's size and maxit as hidden and
# max_iter, linout = TRUE accepted, with what to tell the caller (`said`, one
# message once every check has passed); nnet's other arguments, those in
# refused (its names' reasons, and the message's template), and any name fun
# does not know, an error naming them (`...` would otherwise swallow a
# typo).  Only the names are looked at before an error.
.nnet_dots <- function(dots, value, given, fun = bn_fit.default, name = "bn_fit",
                       refused = list(.formula_only,
                                      "%s is an argument of bn_fit's formula method only: %s")) {
  if (!length(dots)) return(list())
  names <- if (is.null(names(dots))) rep("", length(dots)) else names(dots)
  if (any(names == "")) {
    stop(name, " takes its settings by name; ", sum(names == ""),
         " unnamed argument(s) left over", call. = FALSE)
  }
  for (refusal in list(list(.nnet_refused, paste(name, "has no argument %s (nnet's): %s")),
                       refused)) {
    a <- intersect(names, names(refusal[[1]]))[1]
    if (!is.na(a)) stop(sprintf(refusal[[2]], a, refusal[[1]][[a]]), call. = FALSE)
  }
  .refuse_unknown(setdiff(names, c(names(.nnet_renamed), "linout")), fun, name)
  out <- list()
  said <- character()
  for (k in seq_along(names)) {
    a <- names[k]
    v <- value(k)
    if (a == "linout") {
      if (!is.logical(v) || length(v) != 1 || is.na(v)) {
        stop("linout must be TRUE or FALSE, got ", .shown(v), call. = FALSE)
      }
      if (!v) {
        stop("linout = FALSE (nnet's logistic output) is not offered: ", name, "'s output is ",
             "always linear", call. = FALSE)
      }
      said <- c(said, paste("linout = TRUE is what", name, "always does (a linear output)"))
    } else {
      to <- .nnet_renamed[[a]]
      if (isTRUE(given[[to]])) stop(sprintf("give %s or nnet's %s, not both", to, a), call. = FALSE)
      out[[to]] <- v
      out$renamed[[to]] <- a
      said <- c(said, sprintf("nnet's %s = %s taken as %s", a, .shown(v), to))
    }
  }
  out$said <- said
  out
}

# Arguments that reached `...` unknown: an error naming them, each with the
# argument of fun it most likely meant (within 2 edits, and fewer than half its
# letters: hiden is hidden, foo is not tol).
.refuse_unknown <- function(unknown, fun, name) {
  if (!length(unknown)) return(invisible())
  own <- setdiff(names(formals(fun)), "...")
  hint <- vapply(unknown, function(a) {
    d <- utils::adist(a, own, ignore.case = TRUE)[1, ]
    if (min(d) <= 2 && min(d) < nchar(a) / 2) sprintf(" (did you mean %s?)", own[which.min(d)])
    else ""
  }, "")
  stop("unknown argument", if (length(unknown) > 1) "s", " to ", name, ": ",
       paste0(unknown, hint, collapse = ", "), call. = FALSE)
}

# Batch statistics need two rows.
.check_rows <- function(n, what) {
  if (n == 0L) stop("no rows to fit: ", what, " has none", call. = FALSE)
  if (n < 2L) {
    stop("only 1 row to fit in ", what, ": batch statistics need at least 2", call. = FALSE)
  }
}

# x as a numeric matrix with column names; NA is an error here (the formula
# method's na.action is the place to drop rows).
.fit_design <- function(x) {
  x <- .as_design(x, "x")
  if (ncol(x) == 0L) stop("x has no columns: bn_fit needs at least one input", call. = FALSE)
  if (anyNA(x)) {
    stop("x contains NA: remove those rows, or use the formula interface with ",
         "na.action = na.omit", call. = FALSE)
  }
  x <- .finite(x, "x")
  storage.mode(x) <- "double"
  if (is.null(colnames(x))) colnames(x) <- paste0("x", seq_len(ncol(x)))
  x
}

# The forward pass with batch norm frozen at the fit's population statistics.
.bn_forward <- function(object, x) {
  p <- object$params
  # by column, as sweep() would (whose checks cost more than a small fit's forward)
  by_col <- function(v) rep(v, each = nrow(x))
  xs <- (x - by_col(object$x_center)) / by_col(object$x_scale)
  # where x - center overflows (values near the double maximum of both
  # signs), x / scale - center / scale, value by value as the core does
  bad <- !is.finite(xs)
  if (any(bad)) xs[bad] <- (x / by_col(object$x_scale) - by_col(object$x_center / object$x_scale))[bad]
  A <- xs %*% p$G1 - by_col(object$running_mean)
  A <- A * by_col(p$gamma / sqrt(object$running_var + object$eps)) + by_col(p$beta)
  out <- .act(object$activation)$f(A) %*% p$G2
  out <- (out + by_col(p$b)) * by_col(object$y_scale) + by_col(object$y_center)
  dimnames(out) <- list(rownames(x), if (ncol(out) > 1) object$ynames)
  if (ncol(out) == 1) stats::setNames(out[, 1], rownames(x)) else out
}

predict.bn_fit <- function(object, newdata, ...) {
  # what it cannot give is an error naming it, not plain predictions that
  # look like it: lm's standard errors and intervals, nnet's type = "class".
  # Other arguments are ignored, as lm's and nnet's methods do (ggplot2's
  # geom_smooth(se = FALSE) passes se.fit = FALSE, level and interval = "none")
  dots <- list(...)
  asked <- function(name, plain) !is.null(dots[[name]]) && !identical(dots[[name]], plain)
  if (asked("se.fit", FALSE)) stop("predict.bn_fit gives no standard errors (se.fit)", call. = FALSE)
  if (asked("interval", "none")) {
    stop("predict.bn_fit gives no intervals (interval = \"none\" only)", call. = FALSE)
  }
  # the net's outputs are nnet's "raw" and lm's (or glm's) "response" alike
  if (!is.null(dots$type)) {
    types <- c("raw", "response")
    tryCatch(.one_of(dots$type, types, "type", partial = TRUE), error = function(e)
      stop("predict.bn_fit gives the net's outputs: type = \"raw\" (nnet's default) or ",
           "\"response\" only (or their abbreviations), got ", .shown(dots$type),
           .ambiguous(dots$type, types), call. = FALSE))
  }
  # rows with NA in newdata: NA with na.pass (the default, as nnet), and
  # otherwise what the na.action given makes of them, as in predict.lm
  # (na.omit and na.exclude leave them out, na.fail refuses them, a function
  # of one's own may fill them in): of the model frame for a formula fit,
  # of the inputs for a matrix fit
  na_action <- if (is.null(dots$na.action)) stats::na.pass else match.fun(dots$na.action)
  # (a bn_fit_parquet fit has no fitted values: fitted() says so)
  if (missing(newdata) || is.null(newdata)) return(stats::fitted(object))
  if (inherits(object, "bn_fit.formula")) {
    # (a list is model.frame's data as it is: only the variables used count)
    if (is.matrix(newdata)) newdata <- as.data.frame(newdata)
    Terms <- stats::delete.response(object$terms)
    # (a fit saved before newdata_vars was kept: every variable)
    need <- if (is.null(object$newdata_vars)) all.vars(Terms) else object$newdata_vars
    gone <- setdiff(need, names(newdata))
    if (length(gone)) {
      stop("newdata is missing column(s) ", paste(gone, collapse = ", "), call. = FALSE)
    }
    # a factor given as numbers (its codes, or an ordered factor's values)
    # would be coded otherwise than in the fit: an error naming it, as lm's
    for (v in intersect(names(object$xlevels), names(newdata))) {
      if (is.numeric(newdata[[v]])) {
        stop("newdata: variable '", v, "' was fitted as a factor (levels ",
             paste(object$xlevels[[v]], collapse = ", "), ") but is numeric here",
             call. = FALSE)
      }
    }
    m <- stats::model.frame(Terms, newdata, na.action = na_action, xlev = object$xlevels)
    if (!is.null(cl <- attr(Terms, "dataClasses"))) stats::.checkMFClasses(cl, m)
    x <- .no_intercept(stats::model.matrix(Terms, m, contrasts.arg = object$contrasts))
    labels <- row.names(m)
  } else {
    if (is.list(newdata) && !is.data.frame(newdata)) {
      lengths <- vapply(newdata, NROW, 1L)
      if (length(unique(lengths)) > 1L) {
        stop("newdata: variable lengths differ (", paste(names(newdata), lengths, sep = ": ",
                                                          collapse = ", "), ")", call. = FALSE)
      }
      newdata <- as.data.frame(newdata)
    }
    # columns found by name where newdata has them all (extra ones, another
    # order: a data frame with more than x had), else by position; where the
    # fit's x had no names (x1, x2, ... made up), by position always, as nnet
    # takes them (a fit saved before x_unnamed was kept: by name, as then)
    p1 <- length(object$coefnames)
    unnamed <- isTRUE(object$x_unnamed)
    if (.vector_like(newdata) && (is.numeric(newdata) || is.logical(newdata)) && p1 > 1L) {
      if (length(newdata) != p1) {
        # (as one column it would be named a column count's mistake)
        stop("newdata is a vector of ", length(newdata), " values: for a net of ", p1,
             " inputs give one value per input (one new row), or a matrix or data frame of ",
             p1, " columns", call. = FALSE)
      }
      newdata <- matrix(newdata, 1L, dimnames = list(NULL, names(newdata)))  # one new row
    }
    have <- colnames(newdata)
    if (!unnamed && !is.null(have) && length(dim(newdata)) == 2L &&
        all(object$coefnames %in% have) && !anyDuplicated(have) &&
        !anyDuplicated(object$coefnames)) {
      newdata <- newdata[, object$coefnames, drop = FALSE]
    }
    x <- .as_design(newdata, "newdata")
    if ((is.null(colnames(x)) || unnamed) && ncol(x) == p1) colnames(x) <- object$coefnames
    if (!identical(na_action, stats::na.pass)) {
      done <- na_action(as.data.frame(x))
      if (!is.data.frame(done)) stop("invalid result from na.action", call. = FALSE)
      x <- .as_design(done, "newdata (after na.action)")
    }
    labels <- rownames(x)
  }
  # rows still holding NA (or NaN) predict NA, as in nnet
  keep <- which(stats::complete.cases(x))
  n_all <- nrow(x)
  x <- x[keep, , drop = FALSE]
  if (ncol(x) != length(object$coefnames) ||
      (!is.null(colnames(x)) && !identical(colnames(x), object$coefnames))) {
    if (isTRUE(object$x_unnamed)) {
      stop("newdata must have ", length(object$coefnames), " column",
           if (length(object$coefnames) > 1) "s", ", taken by position (the fit's x had no ",
           "column names); it has ", ncol(x), call. = FALSE)
    }
    stop("newdata must have the columns the net was fitted on: ",
         paste(object$coefnames, collapse = ", "), "; it has ",
         if (is.null(colnames(x))) paste(ncol(x), "unnamed") else paste(colnames(x), collapse = ", "),
         call. = FALSE)
  }
  if (any(is.infinite(x))) {
    stop("newdata contains Inf or -Inf (row ", keep[which(rowSums(is.infinite(x)) > 0)[1]],
         "): a prediction needs finite inputs", call. = FALSE)
  }
  out <- matrix(NA_real_, n_all, object$n[3], dimnames = list(labels, object$ynames))
  if (nrow(x) > 0L) {
    yhat <- .bn_forward(object, x)
    # inputs near the largest double: Inf - Inf in the products came back
    # as a NaN prediction, silently
    bad <- which(rowSums(!is.finite(as.matrix(yhat))) > 0)
    if (length(bad)) {
      stop("newdata: row ", keep[bad[1]], "'s prediction overflows double precision (its ",
           "largest input is ", signif(max(abs(x[bad[1], ])), 3), ")", call. = FALSE)
    }
    out[keep, ] <- yhat
  }
  if (ncol(out) == 1) stats::setNames(out[, 1], labels) else out
}

# As lm: rows that na.exclude dropped come back as NA.
fitted.bn_fit <- function(object, ...) {
  .in_memory(object, "fitted values")
  stats::napredict(object$na.action, object$fitted.values)
}

# As lm's types: "working" and "response" are y - fitted; "deviance" and
# "pearson" (the same for least squares) are scaled by the square root of
# each row's weight as the fit counted it, so that their squares sum to
# deviance().  lm's "partial" needs terms linear in the inputs.
.residual_types <- c("working", "response", "deviance", "pearson")

residuals.bn_fit <- function(object, type = "working", ...) {
  .in_memory(object, "residuals")
  # lm's "partial": refused saying why, and "p" ambiguous, as lm's residuals finds it
  if (is.character(type) && length(type) == 1 && !is.na(type) && nzchar(type) &&
      startsWith("partial", type)) {
    if (type == "p") {
      stop("type must be one of ", paste(.residual_types, collapse = ", "), ", got \"p\" ",
           "(an abbreviation of pearson and lm's partial)", call. = FALSE)
    }
    stop("type = \"partial\" is lm's residuals per linear term: a net has no such terms",
         call. = FALSE)
  }
  r <- object$residuals
  if (.one_of(type, .residual_types, "type", partial = TRUE) %in% c("deviance", "pearson")) {
    # (unweighted, nobs() / rows: less than 1 where repeated rows count once)
    w <- if (is.null(object$weights)) rep(1, NROW(r)) else object$weights
    w <- w * (stats::nobs(object) / sum(w))
    r <- sqrt(w) * r
    # a row of weight 0 counts for nothing: 0, not 0 * Inf
    if (is.matrix(r)) r[w == 0, ] <- 0 else r[w == 0] <- 0
  }
  stats::naresid(object$na.action, r)
}

# A bn_fit_parquet fit keeps no rows (its data stay in object$path): what
# needs them says so.
.in_files <- function(object) !is.null(object$path)

.in_memory <- function(object, what) {
  if (.in_files(object)) {
    stop("a bn_fit_parquet fit keeps no ", what, ": its data stayed in ", object$path,
         " (predict(fit, newdata) works)", call. = FALSE)
  }
}

# The observations the fit counted (the core's n_obs_): the rows, or the
# weights' total (frequency weights: a row of weight k stands for k
# observations), or, where repeats are copies, the distinct rows of (x, y).
nobs.bn_fit <- function(object, ...) {
  if (!is.null(object$n_obs)) return(object$n_obs)
  # (a fit saved before the core reported it)
  if (is.null(object$weights)) NROW(object$residuals) else sum(object$weights)
}

# The residual sum of squares on y's scale, over every output, weighted as
# the fit weighed the rows (the weights scaled to sum to nobs).
deviance.bn_fit <- function(object, ...) sum(.rss(object))

# Each output's residual sum of squares, the rows weighted as the fit
# weighed them (the weights scaled to sum to nobs).
.rss <- function(object) {
  .in_memory(object, "residuals")
  w <- if (is.null(object$weights)) rep(1, NROW(object$residuals)) else object$weights
  # the rows that count: a row of weight 0 far away squared to Inf, and 0 * Inf is NaN
  live <- w > 0
  colSums((w * (stats::nobs(object) / sum(w)))[live] *
            as.matrix(object$residuals)[live, , drop = FALSE]^2)
}

# Gaussian, with the ML variance deviance / nobs (as lm's logLik).  df counts
# sigma and the weights, or, where the evidence measured it ("bayes" with the
# decay left to it), the nets' mean effective number of parameters: mgcv's
# logLik likewise counts effective degrees of freedom.
logLik.bn_fit <- function(object, ...) {
  if (object$n[3] > 1) {
    stop("logLik is defined here for one output; this fit has ", object$n[3], call. = FALSE)
  }
  n <- nobs(object)
  ll <- -n / 2 * (log(2 * pi * deviance(object) / n) + 1)
  structure(ll, nobs = n, df = .model_df(object) + 1, class = "logLik")
}

# The parameters the fit spent: the evidence's effective number where it
# measured one (the mean over the nets in the average: a net left out,
# member_weights 0, spent none of the fit's), else the weights.
.model_df <- function(object) {
  eff <- object$effective_params[.in_average(object)]
  if (object$optimizer == "bayes" && length(eff) && all(is.finite(eff))) mean(eff)
  else length(coef(object))
}

# The residual standard deviation of each output, sqrt(RSS / (nobs - df))
# with df as logLik counts it (lm's sigma counts its coefficients).
sigma.bn_fit <- function(object, ...) {
  rss <- .rss(object)
  n <- stats::nobs(object)
  df <- .model_df(object)
  if (n <= df) {
    warning(sprintf("sigma: the fit spent %.4g parameters on %.4g observations, leaving no ",
                    df, n), "residual degrees of freedom; NA", call. = FALSE)
    rss[] <- NA_real_
    return(rss)
  }
  sqrt(rss / (n - df))
}

# nobs less the parameters sigma counts (lm's df.residual); 0 for a net of
# more weights than observations, which can fit every one
df.residual.bn_fit <- function(object, ...) max(stats::nobs(object) - .model_df(object), 0)

# update(): as lm's, the names given replacing the call's, where a name
# bn_fit matched is read in full on both sides: a formula fit records the
# dots it passes on as written (hid = 2), and a setting bn_fit takes under
# two names (its own, or nnet's: .nnet_renamed) is one setting, so
# update.default, which compares names as written, had added hid = 3 beside
# hidden = 2, or hidden beside size, for bn_fit to refuse.
update.bn_fit <- function(object, ...) {
  given <- names(match.call(expand.dots = FALSE)$...)
  call <- stats::getCall(object)
  own <- names(formals(bn_fit.formula))
  nm <- names(call)
  dots <- which(nzchar(nm) & !nm %in% own)
  nm[dots] <- .matched_names(nm[dots])
  names(call) <- nm
  # the call's entry for each setting given (under its full name or its
  # twin) takes the name as given, for update.default to replace (or, with
  # NULL, drop)
  given <- given[nzchar(given) & !given %in% c(own, "formula.", "evaluate")]
  full <- .matched_names(given)
  twins <- c(.nnet_renamed, stats::setNames(names(.nnet_renamed), .nnet_renamed))
  for (i in seq_along(given)) {
    names(call)[names(call) %in% c(full[i], twins[full[i]])] <- given[i]
  }
  object$call <- call
  NextMethod()
}

# Argument names as R matched them to bn_fit.default's formals, each in the
# company of the others (m is momentum beside max_iter); those it does not
# have (nnet's) as they are, and all as they are where R could not match them
# (a saved fit's call from another version).
.matched_names <- function(names) {
  if (!length(names)) return(names)
  tryCatch({
    # (each value its position, to read the matching back: match.call
    # returns the arguments in the order of the formals)
    by <- match.call(bn_fit.default, as.call(c(quote(bn_fit), stats::setNames(
      as.list(seq_along(names)), names))))
    names[unlist(as.list(by)[-1])] <- names(by)[-1]
    names
  }, error = function(e) names)
}

# The formula a formula fit was given, as lm's formula() (not its terms)
formula.bn_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    stop("this fit was given x and y, not a formula: it has none", call. = FALSE)
  }
  stats::formula(x$terms)
}

# The inputs the net was fitted on (its coefnames: the formula's design with
# no intercept column, which the net's b and beta stand in for), rebuilt from
# the data as lm's model.frame() rebuilds it.  A fit from a matrix was given
# that matrix, which it does not keep.
model.matrix.bn_fit <- function(object, ...) {
  if (!inherits(object, "bn_fit.formula")) {
    stop("model.matrix() needs a formula fit: this net was fitted on the matrix x it was ",
         "given, which the fit does not keep", call. = FALSE)
  }
  m <- stats::model.frame(object)
  x <- .no_intercept(stats::model.matrix(object$terms, m, contrasts.arg = object$contrasts))
  if (!identical(colnames(x), object$coefnames) || nrow(x) != NROW(object$fitted.values)) {
    stop("model.matrix(): the data the net was fitted on have changed since the fit ",
         "(the formula's columns are ", paste(colnames(x), collapse = ", "), ")", call. = FALSE)
  }
  x
}

coef.bn_fit <- function(object, ...) {
  p <- object$params
  h <- paste0("h", seq_len(object$n[2]))
  o <- paste0("o", seq_len(object$n[3]))
  stats::setNames(.flat_weights(p),
                  c(paste0(rep(object$coefnames, object$n[2]), "->", rep(h, each = object$n[1])),
                    paste0("gamma->", h), paste0("beta->", h),
                    paste0(rep(h, object$n[3]), "->", rep(o, each = object$n[2])),
                    paste0("b->", o)))
}

# Weights of a net with n = c(inputs, hidden units, outputs).
.n_weights <- function(n) n[1] * n[2] + 2 * n[2] + n[2] * n[3] + n[3]

# A list as long as the inputs (a factor's dummies) after its head, folded
# to the console's width between items, never inside one.
.folded <- function(head, items, sep = "") {
  if (!length(items)) return(paste0(head, "\n"))
  pieces <- paste0(items, c(rep(sep, length(items) - 1), ""))
  lines <- head
  for (piece in pieces) {
    last <- lines[length(lines)]
    if (nchar(last) + 1 + nchar(piece) > getOption("width")) lines <- c(lines, paste0("  ", piece))
    else lines[length(lines)] <- paste(last, piece)
  }
  paste0(paste(lines, collapse = "\n"), "\n")
}

.iterations <- function(optimizer) if (optimizer == "adam") "epochs" else "iterations"

# Below this many rows L-BFGS without a decay holds none out (the core's
# fit.LBFGS_MIN_HOLDOUT_ROWS): print says why none were.
.lbfgs_min_holdout_rows <- 20L

# What print and summary both say: the call, the net, how it was fitted and
# how the fit ended (nnet's "converged" / "stopped after").
.describe <- function(x) {
  n <- x$n
  if (!is.null(x$call)) cat("Call:\n", paste(deparse(x$call), collapse = "\n"), "\n\n", sep = "")
  # what the hidden layer is made of, where it is more than one net of
  # `hidden` units (the headline's 25 units of a default fit read as a bug):
  # the nets' units, then the blend's linear ones (embed in the core's blend.py)
  nets <- length(x$decay)
  lin <- seq_len(n[2])[-seq_len(min(n[2], x$hidden * nets))]
  made_of <- c(if (nets > 1) sprintf("%d nets of %d hidden units averaged", nets, x$hidden)
               else if (length(lin)) sprintf("%d hidden units", x$hidden),
               if (length(lin)) sprintf("%d linear unit%s", length(lin),
                                        if (length(lin) > 1) "s" else ""))
  cat(sprintf("a %d-%d-%d batch-normalised network, %s, with %d weights%s\n",
              n[1], n[2], n[3], x$activation, .n_weights(n),
              if (length(made_of)) paste0(" (", paste(made_of, collapse = ", and "), ")") else ""))
  cat(.fewer_units(x))
  cat(.folded("inputs:", x$coefnames))
  if (!is.null(x$ynames)) cat("outputs:", x$ynames, "\n")
  cat(sprintf("fitted by %s; eps %g, ddof %d, seed %d\n", x$optimizer,
              x$eps, as.integer(x$ddof), as.integer(x$seed)))
  num <- function(v, digits = 3) paste(signif(v, digits), collapse = " ")
  evidence <- x$optimizer == "bayes" && all(is.finite(x$effective_params))
  cat(if (evidence) {
    paste0(sprintf(paste("decay (hidden and output weights) chosen by the evidence, per net: %s;",
                         "effective parameters %s of %d per net\n"),
                   num(x$decay), num(x$effective_params), .n_weights(c(n[1], x$hidden, n[3]))),
           if (!is.null(x$input_decay) && any(is.finite(x$input_decay)))
             .folded("each input's decay (ARD), mean over the nets averaged:",
                     paste(x$coefnames, signif(colMeans(x$input_decay[.in_average(x), ,
                                                                      drop = FALSE]), 3)),
                     sep = ","))
  } else if (x$optimizer == "lbfgs" && isTRUE(x$decay_chosen)) {
    # the core says which nets held rows out (a fit saved before it did:
    # the 20-row rule, the only one then)
    held <- if (!is.null(x$early_stopping)) x$early_stopping else
      rep(.in_files(x) || NROW(x$fitted.values) >= .lbfgs_min_holdout_rows, nets)
    none <- if (all(held)) "" else
      sprintf("; net%s %s held no rows out (no early stopping, no decay)",
              if (sum(!held) > 1) "s" else "", paste(which(!held), collapse = ", "))
    if (!any(held)) {
      sprintf(paste("decay none, and no early stopping: no rows held out (fewer than %d rows,",
                    "or those drawn all of weight 0)\n"), .lbfgs_min_holdout_rows)
    } else if (all(x$decay == 0)) {
      sprintf("decay none: early stopping on held-out rows%s\n", none)
    } else {
      sprintf("decay chosen on held-out rows, per net: %s (and the iteration kept)%s\n",
              num(x$decay), none)
    }
  } else sprintf("decay %s (fixed)\n", num(x$decay)))
  out <- which(!.in_average(x))
  if (length(out)) {
    # (a fit saved before the ratio was kept: its rule was 4)
    ratio <- if (is.null(x$member_loo_ratio)) 4 else x$member_loo_ratio
    cat(sprintf(paste("net%s %s left out of the average: leave-one-out error more than %g times",
                      "the best net's\n"), if (length(out) > 1) "s" else "",
                paste(out, collapse = ", "), ratio))
  }
  if (any(x$linear_share > 0)) {
    cat(sprintf("blended with a ridge linear model by leave-one-out error: its share %s; %s\n",
                num(x$linear_share, 2), if (!length(lin)) {
                  "the linear model is a constant there, held in b"
                } else if (length(lin) == 1) {
                  sprintf(paste("the linear model is unit h%d (a gamma of 1e-5 keeps it linear,",
                                "so its weight to the output is large)"), lin)
                } else {
                  sprintf(paste("the linear models are units %s, one per output that uses one",
                                "(a gamma of 1e-5 keeps them linear, so their weights to the",
                                "outputs are large)"), paste0("h", lin, collapse = ", "))
                }))
  }
  if (length(x$robust_weights)) {
    # the errors: a t weight below 0.1 is a residual ~6 robust sds out, where
    # the law's own rows are within a few (the rows fitted, by name)
    low <- which(x$robust_weights < 0.1)
    rows <- if (is.null(names(x$robust_weights))) low else names(x$robust_weights)[low]
    cat(.folded(sprintf(paste("a law with errors: refitted with a t distribution's weights for",
                              "the residuals (robust_weights); %d of %d rows below 0.1, its",
                              "errors and any rows the law's fit misses (at the data's edges):"),
                        length(low), sum(!is.na(x$robust_weights))),
                c(utils::head(rows, 20), if (length(low) > 20) "...")))
  }
  # the curve is the first averaged net's; n_iter the most any net ran
  kept <- .kept_iter(x)
  ran <- length(x$loss_curve)
  first <- .curve_net(x)
  # (not nnet's "final value": that is fit$value, the fit's RSS on y's scale)
  cat(sprintf("final training loss %.6f (%sstandardised y) after %s%d %s: %s\n",
              utils::tail(x$loss_curve, 1),
              if (nets > 1) sprintf("net %d, ", first) else "", if (nets > 1) "at most " else "", x$n_iter,
              .iterations(x$optimizer),
              if (x$convergence == 0) "converged" else "stopped at max_iter, not converged"))
  if (kept < ran) {
    cat(sprintf("the net%s kept is %s, of %s\n", if (nets > 1) sprintf(" %d", first) else "",
                if (kept > 0) sprintf("iteration %d's (training loss %.6f)", kept, x$loss_curve[kept])
                else "its start (iteration 0)",
                if (x$optimizer == "bayes") "highest evidence" else "least held-out error"))
  }
}

# The curve's net's iteration whose weights were kept (a fit saved before
# kept_iter was kept: its last)
.kept_iter <- function(x) if (is.null(x$kept_iter)) length(x$loss_curve) else x$kept_iter

# Which net loss_curve and kept_iter are: the first in the average
.curve_net <- function(x) which(.in_average(x))[1]

# Where a net in the average uses fewer than its `hidden` units (the weak
# prior's run on fewer units was kept: fit.py's _second_hidden; its other
# units have no weight to the output), a line saying which and how many,
# else "" (the headline's "3 nets of 8 hidden units" read as 8 each).  Only
# the outputs some net reaches count: where the linear model takes an output
# whole (its share 1) or y is constant, every net's weights to it are 0.  A
# net with none reaching them uses all its units, as the core's _used says.
.fewer_units <- function(x) {
  G2 <- x$params$G2
  nets <- which(.in_average(x))
  blocks <- lapply(nets, function(k) (k - 1L) * x$hidden + seq_len(x$hidden))
  if (!length(nets) || max(unlist(blocks)) > nrow(G2)) return("")
  live <- colSums(G2[unlist(blocks), , drop = FALSE] != 0) > 0
  used <- vapply(blocks, function(rows) {
    n <- as.integer(sum(rowSums(G2[rows, live, drop = FALSE] != 0) > 0))
    if (n == 0L) x$hidden else n
  }, 0L)
  fewer <- used < x$hidden
  if (!any(fewer)) return("")
  many <- sum(fewer) > 1
  sprintf(paste("%s %s %s %s of %s %d hidden units (a weak prior's run on fewer units was kept;",
                "the others have no weight to the output)\n"),
          if (many) "nets" else "net", paste(nets[fewer], collapse = ", "),
          if (many) "use" else "uses", paste(used[fewer], collapse = ", "),
          if (many) "their" else "its", x$hidden)
}

# The nets in the average (member weight > 0): all of a fit saved before
# member weights were kept
.in_average <- function(x) {
  if (is.null(x$member_weights)) rep(TRUE, length(x$decay)) else x$member_weights > 0
}

print.bn_fit <- function(x, ...) {
  .describe(x)
  invisible(x)
}

summary.bn_fit <- function(object, ...) {
  res <- object
  res$coefficients <- coef(object)
  if (!.in_files(object)) {                   # a bn_fit_parquet fit has no residuals
    # per output: outputs on different scales do not mix
    r <- as.matrix(object$residuals)
    # (an unnamed y's outputs as coef() names them)
    colnames(r) <- if (is.null(object$ynames)) paste0("o", seq_len(ncol(r))) else object$ynames
    res$residual_summary <- if (ncol(r) == 1) summary(r[, 1]) else t(apply(r, 2, summary))
    res$mse <- .rss(object) / nobs(object)
    names(res$mse) <- colnames(r)
  }
  class(res) <- "summary.bn_fit"
  res
}

print.summary.bn_fit <- function(x, ...) {
  .describe(x)
  if (is.null(x$mse)) {
    cat("training MSE and residuals not kept: the data stayed in ", x$path, "\n", sep = "")
  } else {
    cat(sprintf("training MSE %s%s\n", if (length(x$mse) == 1) sprintf("%.6g", x$mse) else
                  paste(sprintf("%s %.6g", names(x$mse), x$mse), collapse = ", "),
                if (is.null(x$weights)) "" else " (weighted)"))
    cat("\nresiduals:\n")
    print(x$residual_summary)
  }
  cat("\nweights:\n")
  print(round(x$coefficients, 4))
  invisible(x)
}

# The first averaged net's training loss per iteration; the dots go to plot() and win over
# these defaults.
plot.bn_fit <- function(x, ...) {
  curve <- x$loss_curve
  kept <- .kept_iter(x)
  args <- list(seq_along(curve), curve, type = "l", log = if (all(curve > 0)) "y" else "",
               xlim = c(min(kept, 1), length(curve)),
               xlab = if (x$optimizer == "adam") "epoch" else "iteration",
               ylab = if (length(x$decay) > 1)
                 sprintf("training loss of net %d (standardised y)", .curve_net(x))
               else "training loss (standardised y)",
               main = sprintf("bn_fit: %d-%d-%d, %s", x$n[1], x$n[2], x$n[3], x$activation))
  dots <- list(...)
  # lm's diagnostics' arguments, which plot.default took for graphical
  # parameters ("invalid 'which' argument" from box())
  # (plot.lm's own arguments, but main; an abbreviation of which, as no
  # graphical parameter begins with w; and lm's plot(fit, 1))
  lm_only <- c("which", "caption", "panel", "sub.caption", "ask", "id.n", "labels.id",
               "cex.id", "qqline", "cook.levels", "cook.col", "cook.lty", "cook.legendChanges",
               "add.smooth", "iter.smooth", "label.pos", "cex.caption", "cex.oma.main",
               "extend.ylim.f")
  named <- if (is.null(names(dots))) rep("", length(dots)) else names(dots)
  said <- c(named[named %in% lm_only | (nzchar(named) & startsWith("which", named))],
            if (any(named == "")) "unnamed (positional) argument")
  if (length(said)) {
    stop("plot(<bn_fit>) draws the training loss curve and has no ", said[1],
         " (lm's diagnostic plots take which): for residuals against fitted values, ",
         "plot(fitted(fit), residuals(fit)); graphical parameters go by name", call. = FALSE)
  }
  args[names(dots)] <- NULL
  do.call(graphics::plot, c(args, dots))
  # where the evidence or early stopping kept an earlier net than the last
  # (0: the start, where the axis then begins)
  if (kept < length(curve)) graphics::abline(v = kept, lty = 2)
  invisible(x)
}
