# bn_params and bn_grad, and the one check of every argument that both
# bn_grad and the pure-R reference go through.

.activations <- c("relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity")

bn_params <- function(n_inputs, n_hidden, n_outputs = 1, seed = 1) {
  p1 <- .whole(n_inputs, "n_inputs")
  p2 <- .whole(n_hidden, "n_hidden")
  q <- .whole(n_outputs, "n_outputs")
  if (!is.null(seed)) seed <- .whole(seed, "seed", lowest = 0)
  .with_seed(seed, list(
    # (in doubles: an integer product past 2^31 - 1 was NA, and rnorm "invalid arguments")
    G1 = matrix(stats::rnorm(as.double(p1) * p2) * sqrt(2 / p1), p1, p2),
    gamma = rep(1, p2), beta = rep(0, p2),
    G2 = matrix(stats::rnorm(as.double(p2) * q) / sqrt(p2), p2, q), b = rep(0, q)))
}

# Evaluate `expr` after set.seed(seed), leaving the caller's random stream as
# it was; seed = NULL draws from the caller's stream.
.with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv())
          else assign(".Random.seed", old, envir = globalenv()))
  set.seed(seed)
  expr
}

# Above .Machine$integer.max as.integer() would give NA (with a warning) and
# the core would see a missing value, not the number asked for.
.whole <- function(x, name, lowest = 1, null_ok = FALSE) {
  if (null_ok && is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x < lowest || x != round(x)) {
    stop(sprintf("%s must be %sa whole number >= %d, got %s", name,
                 if (null_ok) "NULL or " else "", lowest, .shown(x)), call. = FALSE)
  }
  if (x > .Machine$integer.max) {
    stop(sprintf("%s = %s is more than R's largest integer, %d", name, .shown(x),
                 .Machine$integer.max), call. = FALSE)
  }
  as.integer(x)
}

# A real number in [low, high], or (low, high] with open_low; `below` is
# added to the error where x is a number below low (what such a value meant).
.real <- function(x, name, low, high = Inf, open_low = FALSE, null_ok = FALSE, below = "") {
  if (null_ok && is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || (if (open_low) x <= low else x < low) ||
      x > high) {
    stop(sprintf("%s must be %sa number in %s%g, %s, got %s%s", name,
                 if (null_ok) "NULL or " else "", if (open_low) "(" else "[", low,
                 if (is.finite(high)) sprintf("%g]", high) else "Inf)", .shown(x),
                 if (is.numeric(x) && length(x) == 1 && isTRUE(x < low)) below else ""),
         call. = FALSE)
  }
  as.double(x)
}

# x, one of choices, or an error naming `name`; with partial, as match.arg
# takes it: a unique abbreviation stands for its choice, and all the choices
# (a function's default, passed on) for the first
.one_of <- function(x, choices, name, partial = FALSE) {
  one <- is.character(x) && length(x) == 1 && !is.na(x)
  if (partial && identical(x, choices)) return(choices[1])
  if (partial && one && !is.na(i <- pmatch(x, choices))) x <- choices[i]
  if (!one || !x %in% choices) {
    stop(name, " must be one of ", paste(choices, collapse = ", "), ", got ", .shown(x),
         if (partial) .ambiguous(x, choices), call. = FALSE)
  }
  x
}

# Where x abbreviates several choices, " (an abbreviation of a and b)" for
# its error; else "".
.ambiguous <- function(x, choices) {
  some <- if (is.character(x) && length(x) == 1 && !is.na(x) && nzchar(x))
    choices[startsWith(choices, x)] else character()
  if (length(some) > 1) paste0(" (an abbreviation of ", paste(some, collapse = " and "), ")")
  else ""
}

.ddof <- function(ddof) {
  if (!is.numeric(ddof) || length(ddof) != 1 || !ddof %in% c(0, 1)) {
    stop("ddof must be 0 or 1, got ", .shown(ddof), call. = FALSE)
  }
  as.integer(ddof)
}

# A value as an error message shows it: one short line, whatever it is.
.shown <- function(x) {
  if (is.null(x)) return("NULL")
  s <- if (is.atomic(x) && length(x) == 1) format(x, digits = 15) else
    paste0("a ", class(x)[1], " of length ", length(x))
  if (is.character(x) && length(x) == 1) s <- paste0('"', x, '"')
  s
}

# Case weights: frequency weights, so every batch statistic needs two rows
# that count and sum(w) - ddof > 0 to divide by.
.check_weights <- function(w, N, ddof, name = "weights") {
  if (!is.numeric(w) || !is.null(dim(w)) && length(dim(w)) != 1L) {
    stop(name, " must be a numeric vector", call. = FALSE)
  }
  if (length(w) != N) {
    stop(name, " must have length ", N, " (the rows of the data), got ", length(w),
         call. = FALSE)
  }
  if (!all(is.finite(w))) stop(name, " contains NA, NaN or Inf", call. = FALSE)
  if (any(w < 0)) stop(name, " must be >= 0, got ", min(w), call. = FALSE)
  W <- sum(w)
  if (!is.finite(W)) {
    stop(name, " sum past the largest double; divide them by a common factor such as their ",
         "maximum (a fit with a fixed decay: divide the decay by it too)", call. = FALSE)
  }
  if (sum(w != 0) < 2 || W <= ddof) {
    stop(name, " must give at least 2 rows a non-zero weight and sum to more than ddof = ",
         ddof, " (batch statistics), got ", sum(w != 0), " non-zero weights summing to ",
         format(W, digits = 15), call. = FALSE)
  }
  if (W < .Machine$double.xmin) {
    stop(name, " sum to ", format(W), ", below the smallest normal double: multiply them by ",
         "a common factor (their scale does not change the loss)", call. = FALSE)
  }
  as.double(as.vector(w))
}

.numeric <- function(x, name) {
  if (!is.numeric(x)) stop(name, " must be numeric", call. = FALSE)
  x
}

.finite <- function(x, name) {
  if (!all(is.finite(.numeric(x, name)))) {
    # the column, where it has a name: a formula's user never wrote "x"
    cn <- colnames(x)
    j <- if (is.matrix(x)) which(colSums(!is.finite(x)) > 0)[1L] else NA
    stop(name, " contains NA, NaN or Inf",
         if (!is.na(j) && !is.null(cn) && nzchar(cn[j])) paste0(", first in column '", cn[j], "'"),
         call. = FALSE)
  }
  x
}

# A vector, or a 1-d array (tapply's, whose nrow() is its length and ncol()
# NA), is taken as the vector it holds.
.vector_like <- function(x) length(dim(x)) < 2L

# A numeric (or integer) matrix from a numeric or logical matrix, data frame
# or vector; NA is left for the caller to judge.
.as_design <- function(X, name = "X") {
  if (is.data.frame(X)) {
    bad <- !vapply(X, function(v) is.numeric(v) || is.logical(v), logical(1))
    if (any(bad)) {
      stop(name, " must be numeric: column '", names(X)[bad][1], "' is ",
           class(X[[which(bad)[1]]])[1], call. = FALSE)
    }
    X <- as.matrix(X)
  }
  # TRUE is 1, as as.matrix makes it beside numbers, nnet takes it and
  # model.matrix codes it (and as Python's core takes a bool array); a data
  # frame's zero rows come out of as.matrix logical too
  if (is.logical(X)) storage.mode(X) <- "double"
  if (.vector_like(X) && is.numeric(X)) X <- matrix(X, ncol = 1)
  if (!is.numeric(X) || length(dim(X)) != 2) {
    stop(name, " must be a numeric matrix", call. = FALSE)
  }
  X
}

.double <- function(x) {
  if (!is.double(x)) storage.mode(x) <- "double"
  x
}

# Validate and normalise the arguments of bn_grad / bn_grad_loop.
# Returns X (numeric or integer matrix), Y (N x q matrix), the parameters with
# G2 as a p2 x q matrix, and whether G2 came as a vector.
#
# Who checks what: this checks types, shapes and settings, in R's words.
# With values = FALSE (bn_grad) it leaves the values to the core, whose
# kernels find NaN/Inf and flat columns of X G1 in their own pass over the
# data and word the error for R (bngrad.rbridge); scanning X here as well
# would read it twice.  The one value check kept is NA in an integer X:
# it reaches Python as an ordinary int32, which no pass can tell from data.
.check_net <- function(X, y, params, activation, eps, ddof, values = TRUE, weights = NULL) {
  vet <- if (values) .finite else .numeric
  X <- vet(.as_design(X), "X")
  if (!values && is.integer(X) && anyNA(X)) stop("X contains NA, NaN or Inf", call. = FALSE)
  N <- nrow(X)
  if (N < 2) stop("X must have at least 2 rows (batch statistics), got ", N, call. = FALSE)
  if (ncol(X) == 0L) stop("X must have at least 1 column", call. = FALSE)
  need <- c("G1", "gamma", "beta", "G2", "b")
  if (!is.list(params) || !all(need %in% names(params))) {
    stop("params must be a list with G1, gamma, beta, G2 and b (see bn_params())",
         call. = FALSE)
  }
  G1 <- vet(params$G1, "G1")
  if (!is.matrix(G1) || nrow(G1) != ncol(X)) {
    # (what G1 is too: X's columns may be the mistake)
    stop("G1 must be a matrix with ", ncol(X), " rows (the columns of X), got ",
         if (length(dim(G1)) >= 2L) paste(dim(G1), collapse = " x ") else
           paste("a vector of length", length(G1)), call. = FALSE)
  }
  p2 <- ncol(G1)
  if (p2 == 0L) stop("G1 must have at least 1 column (a hidden unit)", call. = FALSE)
  gamma <- as.vector(vet(params$gamma, "gamma"))
  beta <- as.vector(vet(params$beta, "beta"))
  if (length(gamma) != p2) stop("gamma must have length ", p2, " (the columns of G1)", call. = FALSE)
  if (length(beta) != p2) stop("beta must have length ", p2, " (the columns of G1)", call. = FALSE)
  G2 <- vet(params$G2, "G2")
  G2_vector <- .vector_like(G2)
  if (G2_vector) G2 <- matrix(G2, ncol = 1)
  if (nrow(G2) != p2) stop("G2 must have ", p2, " rows (the columns of G1)", call. = FALSE)
  q <- ncol(G2)
  if (q == 0L) stop("G2 must have at least 1 column (an output)", call. = FALSE)
  b <- as.vector(vet(params$b, "b"))
  if (length(b) != q) stop("b must have length ", q, " (the columns of G2)", call. = FALSE)
  if (is.data.frame(y)) y <- as.matrix(y)
  Y <- vet(y, "y")
  if (.vector_like(Y)) Y <- matrix(Y, ncol = 1)
  if (nrow(Y) != N) stop("y must have ", N, " rows (the rows of X), got ", nrow(Y), call. = FALSE)
  if (ncol(Y) != q) {
    stop("y must have ", q, " column", if (q != 1) "s", " (the columns of G2)", call. = FALSE)
  }
  .one_of(activation, .activations, "activation")
  eps <- .real(eps, "eps", 0)
  ddof <- .ddof(ddof)
  if (!is.null(weights)) weights <- .check_weights(weights, N, ddof)
  if (values && eps == 0) .check_spread(X %*% G1, ddof, weights)
  list(X = X, Y = .double(Y), G1 = .double(G1), gamma = as.double(gamma),
       beta = as.double(beta), G2 = .double(G2), b = as.double(b), G2_vector = G2_vector,
       activation = activation, eps = eps, ddof = ddof, weights = weights)
}

# With eps = 0 a constant column of X G1 divides by zero; a spread below what
# doubles resolve at the column's magnitude counts as constant (as in Python);
# with weights, the spread of the rows that count.
.check_spread <- function(Z, ddof, w = NULL, what = "X %*% G1", change = "X / G1",
                          rescale = "X or G1") {
  if (is.null(w)) w <- rep(1, nrow(Z))
  mu <- colSums(w * Z) / sum(w)
  var <- colSums(w * sweep(Z, 2, mu)^2) / (sum(w) - ddof)
  .check_variance(var, what, rescale)         # (an overflow's NaN made `flat` NA)
  sd <- sqrt(var)
  flat <- sd == 0 | sd <= 64 * .Machine$double.eps * apply(abs(Z[w != 0, , drop = FALSE]), 2, max)
  # a spread, but a variance below the normal range of doubles: digits lost
  under <- !flat & var < .Machine$double.xmin
  bad <- which(flat | under)
  if (length(bad) && under[bad[1]]) {
    stop(what, " is too small for float64: column ", bad[1], " has a variance that ",
         "underflows, and eps = 0 divides by it (rescale ", rescale, ", or use eps > 0)",
         call. = FALSE)
  }
  if (length(bad)) {
    stop("column ", bad[1], " of ", what, " has zero variance, and eps = 0 ",
         "divides by it; use eps > 0 or change ", change, call. = FALSE)
  }
}

# The gradients in the shapes of the parameters the caller gave.
.shape_like <- function(g, v) {
  G2 <- as.matrix(g$G2)
  list(loss = as.numeric(g$loss), G1 = matrix(as.numeric(g$G1), nrow(v$G1)),
       gamma = as.numeric(g$gamma), beta = as.numeric(g$beta),
       G2 = if (v$G2_vector) as.numeric(G2) else matrix(as.numeric(G2), nrow(v$G2)),
       b = as.numeric(g$b))
}

bn_grad <- function(X, y, params, activation = "relu", eps = 1e-5, ddof = 0, weights = NULL) {
  v <- .check_net(X, y, params, activation, eps, ddof, values = FALSE, weights = weights)
  # gamma, beta and b as 1-d arrays: reticulate makes a length-1 R vector a
  # Python float and a longer one a list, neither of which the core's
  # small-X kernel takes.  X goes as it is (an integer X is converted by
  # the core, a double one is read in place).  Without weights the call is
  # the one it always was: no None to convert on the hot path.
  g <- if (is.null(v$weights)) {
    .call_core(.core_entry("gradients"), v$X, v$Y, v$G1, array(v$gamma), array(v$beta), v$G2,
               array(v$b), v$activation, v$eps, v$ddof)
  } else {
    .call_core(.core_entry("gradients"), v$X, v$Y, v$G1, array(v$gamma), array(v$beta), v$G2,
               array(v$b), v$activation, v$eps, v$ddof, array(v$weights))
  }
  .unpack(g[[1L]], v)
}

# bngrad.rbridge's one vector c(loss, vec(dG1), dgamma, dbeta, vec(dG2), db)
# in the shapes of the parameters the caller gave.
.unpack <- function(g, v) {
  dim(g) <- NULL       # reticulate gives a 1-d array, whose subsets stay 1-d arrays
  p1 <- nrow(v$G1)
  p2 <- ncol(v$G1)
  q <- ncol(v$G2)
  end <- cumsum(c(1L, p1 * p2, p2, p2, p2 * q, q))
  block <- function(k) g[(end[k - 1L] + 1L):end[k]]
  list(loss = g[[1L]], G1 = matrix(block(2L), p1, p2), gamma = block(3L), beta = block(4L),
       G2 = if (v$G2_vector) block(5L) else matrix(block(5L), p2, q), b = block(6L))
}

# The core's words where float64 overflows, for the references too: a
# variance that overflowed made sd Inf, Zh 0 and gamma's gradient a silent 0.
.check_variance <- function(var, what, change = what) {
  bad <- which(!is.finite(var))
  if (length(bad)) {
    stop(what, " is too large for float64: column ", bad[1], " has a variance that ",
         "overflows (rescale ", change, ")", call. = FALSE)
  }
}

.check_finite_result <- function(g) {
  if (!all(vapply(g, function(a) all(is.finite(a)), NA))) {
    stop("the loss or a gradient overflows float64 although X, y and the parameters are ",
         "finite (rescale X, y or the parameters)", call. = FALSE)
  }
  g
}
