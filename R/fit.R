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
  m[[1L]] <- quote(stats::model.frame)
  m <- eval.parent(m)
  .check_rows(nrow(m), "the data (after subset and na.action)")
  Terms <- attr(m, "terms")
  x <- stats::model.matrix(Terms, m, contrasts)
  cons <- attr(x, "contrasts")
  xint <- match("(Intercept)", colnames(x), nomatch = 0L)
  if (xint > 0L) x <- x[, -xint, drop = FALSE]
  if (ncol(x) == 0L) {
    stop("the formula has no predictors (", paste(deparse(formula), collapse = " "),
         "): bn_fit needs at least one input", call. = FALSE)
  }
  y <- stats::model.response(m)
  fit <- bn_fit.default(x, y, weights = stats::model.weights(m), ...)
  fit$terms <- Terms
  fit$contrasts <- cons
  fit$xlevels <- stats::.getXlevels(Terms, m)
  fit$na.action <- attr(m, "na.action")
  if (is.null(fit$ynames)) fit$ynames <- deparse(formula[[2L]])
  fit$call <- match.call()
  fit$call[[1L]] <- as.name("bn_fit")
  class(fit) <- c("bn_fit.formula", "bn_fit")
  fit
}

.optimizers <- c("auto", "bayes", "lbfgs", "adam")

bn_fit.default <- function(x, y, hidden = 16, activation = "sigmoid",
                           optimizer = c("auto", "bayes", "lbfgs", "adam"), decay = NULL,
                           ensemble = NULL, restarts = 1, max_iter = NULL, tol = NULL,
                           batch_size = NULL, learning_rate = 0.01, eps = 1e-5, ddof = 0,
                           momentum = 0.1, seed = NULL, trace = FALSE, weights = NULL,
                           ...) {
  optimizer <- if (missing(optimizer)) "auto" else .one_of(optimizer, .optimizers, "optimizer")
  activation <- .one_of(activation, .activations, "activation")
  hidden <- .whole(hidden, "hidden")
  decay <- .real(decay, "decay", 0, null_ok = TRUE)
  ensemble <- .whole(ensemble, "ensemble", null_ok = TRUE)
  restarts <- .whole(restarts, "restarts")
  max_iter <- .whole(max_iter, "max_iter", null_ok = TRUE)
  tol <- .real(tol, "tol", 0, open_low = TRUE, null_ok = TRUE)
  batch_size <- .whole(batch_size, "batch_size", 2, null_ok = TRUE)
  learning_rate <- .real(learning_rate, "learning_rate", 0, open_low = TRUE)
  momentum <- .real(momentum, "momentum", 0, 1, open_low = TRUE)
  eps <- .real(eps, "eps", 0)
  ddof <- .ddof(ddof)
  seed <- .whole(seed, "seed", 0, null_ok = TRUE)
  if (!is.logical(trace) || length(trace) != 1 || is.na(trace)) {
    stop("trace must be TRUE or FALSE, got ", .shown(trace), call. = FALSE)
  }
  x <- .fit_design(x)
  if (is.data.frame(y)) y <- as.matrix(y)
  if (!is.numeric(y)) stop("y must be numeric, not ", class(y)[1], call. = FALSE)
  Y <- if (is.null(dim(y))) matrix(y, ncol = 1) else y
  if (nrow(Y) != nrow(x)) {
    stop("x has ", nrow(x), " rows but y has ", nrow(Y), ": they must match", call. = FALSE)
  }
  if (ncol(Y) == 0L) stop("y has no columns", call. = FALSE)
  if (anyNA(Y) || !all(is.finite(Y))) stop("y contains NA, NaN or Inf", call. = FALSE)
  .check_rows(nrow(x), "x")
  if (!is.null(weights)) weights <- .check_weights(weights, nrow(x), ddof)
  # The R stream chooses the seed unless one is given, so set.seed() works.
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  core <- .core()
  est <- core$BNRegressor(
    hidden = hidden, activation = activation, optimizer = optimizer, decay = decay,
    ensemble = ensemble, restarts = restarts, max_iter = max_iter, tol = tol,
    batch_size = batch_size, learning_rate = learning_rate, eps = eps, ddof = ddof,
    momentum = momentum, seed = seed, verbose = FALSE)
  if (trace) {
    reticulate::py_set_attr(est, "progress", function(net, iteration, value) {
      cat(sprintf("net %d iter %4d value %.6f\n", as.integer(net), as.integer(iteration), value))
      utils::flush.console()
    })
  }
  .call_core(.core_rbridge()$fit, est, x, if (ncol(Y) == 1) as.vector(Y) else Y,
             if (!is.null(weights)) array(weights),
             function(msg) warning(msg, call. = FALSE))
  p <- est$params_
  fit <- list(
    params = list(G1 = as.matrix(p$G1), gamma = as.numeric(p$gamma),
                  beta = as.numeric(p$beta), G2 = as.matrix(p$G2), b = as.numeric(p$b)),
    running_mean = as.numeric(est$running_mean_), running_var = as.numeric(est$running_var_),
    x_center = as.numeric(est$x_center_), x_scale = as.numeric(est$x_scale_),
    y_center = as.numeric(est$y_center_), y_scale = as.numeric(est$y_scale_),
    n = c(ncol(x), length(as.numeric(p$gamma)), ncol(Y)), hidden = hidden,
    activation = activation, optimizer = as.character(est$optimizer_),
    decay = as.numeric(est$decay_), eps = eps, ddof = ddof, seed = seed,
    loss_curve = as.numeric(est$loss_curve_), n_iter = as.integer(est$n_iter_),
    convergence = as.integer(est$convergence_),
    log_evidence = as.numeric(est$log_evidence_),
    effective_params = as.numeric(est$effective_params_),
    coefnames = colnames(x), ynames = colnames(Y), call = match.call())
  class(fit) <- "bn_fit"
  fit$fitted.values <- .bn_forward(fit, x)
  fit$residuals <- if (ncol(Y) == 1) as.vector(Y) - fit$fitted.values else Y - fit$fitted.values
  fit
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
  xs <- sweep(sweep(x, 2, object$x_center), 2, object$x_scale, `/`)
  A <- sweep(xs %*% p$G1, 2, object$running_mean)
  A <- sweep(sweep(A, 2, p$gamma / sqrt(object$running_var + object$eps), `*`), 2, p$beta, `+`)
  out <- .act(object$activation)$f(A) %*% p$G2
  out <- sweep(sweep(out, 2, p$b, `+`), 2, object$y_scale, `*`)
  out <- sweep(out, 2, object$y_center, `+`)
  rownames(out) <- rownames(x)
  if (ncol(out) == 1) stats::setNames(out[, 1], rownames(x)) else out
}

predict.bn_fit <- function(object, newdata, ...) {
  if (missing(newdata) || is.null(newdata)) return(stats::fitted(object))
  if (inherits(object, "bn_fit.formula")) {
    if (!is.data.frame(newdata)) newdata <- as.data.frame(newdata)
    Terms <- stats::delete.response(object$terms)
    gone <- setdiff(all.vars(Terms), names(newdata))
    if (length(gone)) {
      stop("newdata is missing column(s) ", paste(gone, collapse = ", "), call. = FALSE)
    }
    m <- stats::model.frame(Terms, newdata, na.action = stats::na.omit, xlev = object$xlevels)
    x <- stats::model.matrix(Terms, m, contrasts.arg = object$contrasts)
    xint <- match("(Intercept)", colnames(x), nomatch = 0L)
    if (xint > 0L) x <- x[, -xint, drop = FALSE]
    keep <- match(row.names(m), row.names(newdata))
    n_all <- nrow(newdata)
    labels <- row.names(newdata)
  } else {
    x <- .as_design(newdata, "newdata")
    if (is.null(colnames(x))) colnames(x) <- object$coefnames
    keep <- which(stats::complete.cases(x))
    n_all <- nrow(x)
    labels <- rownames(x)
    x <- x[keep, , drop = FALSE]
  }
  if (ncol(x) != length(object$coefnames) ||
      (!is.null(colnames(x)) && !identical(colnames(x), object$coefnames))) {
    stop("newdata must have the columns the net was fitted on: ",
         paste(object$coefnames, collapse = ", "), call. = FALSE)
  }
  pred <- .bn_forward(object, x)
  # rows dropped for NA come back as NA, as in nnet
  out <- matrix(NA_real_, n_all, object$n[3], dimnames = list(labels, object$ynames))
  out[keep, ] <- pred
  if (ncol(out) == 1) stats::setNames(out[, 1], labels) else out
}

fitted.bn_fit <- function(object, ...) object$fitted.values

residuals.bn_fit <- function(object, ...) object$residuals

coef.bn_fit <- function(object, ...) {
  p <- object$params
  h <- paste0("h", seq_len(object$n[2]))
  o <- paste0("o", seq_len(object$n[3]))
  c(stats::setNames(as.vector(p$G1), paste0(rep(object$coefnames, object$n[2]), "->",
                                            rep(h, each = object$n[1]))),
    stats::setNames(p$gamma, paste0("gamma->", h)),
    stats::setNames(p$beta, paste0("beta->", h)),
    stats::setNames(as.vector(p$G2), paste0(rep(h, object$n[3]), "->", rep(o, each = object$n[2]))),
    stats::setNames(p$b, paste0("b->", o)))
}

print.bn_fit <- function(x, ...) {
  n <- x$n
  cat(sprintf("a %d-%d-%d batch-normalised network, %s, with %d weights\n",
              n[1], n[2], n[3], x$activation, length(coef(x))))
  cat("inputs:", x$coefnames, "\n")
  if (!is.null(x$ynames)) cat("outputs:", x$ynames, "\n")
  cat(sprintf("options: %s, decay %s, eps %g, ddof %d, seed %d\n",
              x$optimizer, paste(signif(x$decay, 3), collapse = " "), x$eps, as.integer(x$ddof),
              as.integer(x$seed)))
  cat(sprintf("final value %.6f after %d %s\n", utils::tail(x$loss_curve, 1), x$n_iter,
              if (x$optimizer == "lbfgs") "iterations" else "epochs"))
  invisible(x)
}

summary.bn_fit <- function(object, ...) {
  res <- c(object[c("n", "activation", "optimizer", "n_iter", "loss_curve")],
           list(weights = coef(object),
                residuals = summary(as.vector(object$residuals)),
                mse = mean(as.matrix(object$residuals)^2)))
  class(res) <- "summary.bn_fit"
  res
}

print.summary.bn_fit <- function(x, ...) {
  cat(sprintf("a %d-%d-%d batch-normalised network, %s, with %d weights\n",
              x$n[1], x$n[2], x$n[3], x$activation, length(x$weights)))
  cat(sprintf("fitted by %s in %d %s; training MSE %.6g\n", x$optimizer, x$n_iter,
              if (x$optimizer == "lbfgs") "iterations" else "epochs", x$mse))
  cat("\nresiduals:\n")
  print(x$residuals)
  cat("\nweights:\n")
  print(round(x$weights, 4))
  invisible(x)
}

plot.bn_fit <- function(x, ...) {
  curve <- x$loss_curve
  graphics::plot(seq_along(curve), curve, type = "l", log = if (all(curve > 0)) "y" else "",
                 xlab = if (x$optimizer == "lbfgs") "iteration" else "epoch",
                 ylab = "training objective (standardised y)",
                 main = sprintf("bn_fit: %d-%d-%d, %s", x$n[1], x$n[2], x$n[3], x$activation), ...)
  invisible(x)
}
