# The pure-R reference: the net and its gradients node by node, with explicit
# loops and the scalar chain rule, the way the seed question checks its
# algebra.  It shares no formula with the core: the batch-norm backward here
# walks the staged graph (Zh -> sd -> var, Zh -> mu, Zh -> Z) instead of
# using the compact closed form, so agreement between the two means something.

# Activation and its derivative (act'(0) = 0 for relu, as in the core);
# vectorised, so the loops call them on scalars and predict() on matrices.
.act <- function(activation) {
  sigmoid <- function(a) stats::plogis(a)
  switch(activation,
    relu = list(f = function(a) pmax(a, 0), df = function(a) (a > 0) + 0),
    leaky_relu = list(f = function(a) ifelse(a > 0, a, 0.01 * a),
                      df = function(a) ifelse(a > 0, 1, 0.01)),
    tanh = list(f = tanh, df = function(a) 1 - tanh(a)^2),
    sigmoid = list(f = sigmoid, df = function(a) sigmoid(a) * (1 - sigmoid(a))),
    softplus = list(f = function(a) pmax(a, 0) + log1p(exp(-abs(a))), df = sigmoid),
    identity = list(f = function(a) a, df = function(a) a * 0 + 1))
}

# Forward pass, node by node; returns every intermediate the backward needs.
# w: frequency weights (a row of weight k counts k times), W = sum(w)
# standing for N; all ones without weights, which leaves every number as
# the unweighted formulas give it (1 * z and sum(1) are exact).
.loop_forward <- function(X, Y, G1, gamma, beta, G2, b, activation, eps, ddof,
                          w = rep(1, nrow(X))) {
  act <- .act(activation)
  N <- nrow(X); p1 <- ncol(X); p2 <- ncol(G1); q <- ncol(G2)
  W <- 0
  for (i in 1:N) W <- W + w[i]
  Z <- matrix(0, N, p2)
  for (i in 1:N) for (j in 1:p2) for (k in 1:p1) Z[i, j] <- Z[i, j] + X[i, k] * G1[k, j]
  mu <- numeric(p2); v <- numeric(p2)
  for (j in 1:p2) {
    for (i in 1:N) mu[j] <- mu[j] + w[i] * Z[i, j] / W
    for (i in 1:N) v[j] <- v[j] + w[i] * (Z[i, j] - mu[j])^2 / (W - ddof)
  }
  .check_variance(v, "X %*% G1", "X or G1")
  sd <- sqrt(v + eps)
  Zh <- A <- H <- matrix(0, N, p2)
  for (i in 1:N) for (j in 1:p2) {
    Zh[i, j] <- (Z[i, j] - mu[j]) / sd[j]
    A[i, j] <- gamma[j] * Zh[i, j] + beta[j]
    H[i, j] <- act$f(A[i, j])
  }
  yhat <- matrix(0, N, q)
  loss <- 0
  for (i in 1:N) for (k in 1:q) {
    yhat[i, k] <- b[k]
    for (j in 1:p2) yhat[i, k] <- yhat[i, k] + H[i, j] * G2[j, k]
    loss <- loss + w[i] * (Y[i, k] - yhat[i, k])^2 / W
  }
  list(loss = loss, W = W, Z = Z, mu = mu, sd = sd, Zh = Zh, A = A, H = H, yhat = yhat)
}

bn_grad_loop <- function(X, y, params, activation = "relu", eps = 1e-5, ddof = 0,
                         weights = NULL) {
  v <- .check_net(X, y, params, activation, eps, ddof, weights = weights)
  X <- v$X; Y <- v$Y; G1 <- v$G1; gamma <- v$gamma; G2 <- v$G2; b <- v$b
  w <- if (is.null(v$weights)) rep(1, nrow(X)) else v$weights
  f <- .loop_forward(X, Y, G1, gamma, v$beta, G2, b, activation, v$eps, v$ddof, w)
  act <- .act(activation)
  N <- nrow(X); p1 <- ncol(X); p2 <- ncol(G1); q <- ncol(G2); W <- f$W; n <- W - v$ddof
  # output layer: yhat[i,k] = b[k] + sum_j H[i,j] G2[j,k],  R = sum w (Y - yhat)^2 / W
  dG2 <- matrix(0, p2, q); db <- numeric(q); dH <- matrix(0, N, p2)
  for (i in 1:N) for (k in 1:q) {
    dyhat <- -2 * w[i] * (Y[i, k] - f$yhat[i, k]) / W
    db[k] <- db[k] + dyhat
    for (j in 1:p2) {
      dG2[j, k] <- dG2[j, k] + f$H[i, j] * dyhat
      dH[i, j] <- dH[i, j] + dyhat * G2[j, k]
    }
  }
  # H = act(A), A = gamma * Zh + beta
  dgamma <- numeric(p2); dbeta <- numeric(p2); dZh <- matrix(0, N, p2)
  for (i in 1:N) for (j in 1:p2) {
    dA <- dH[i, j] * act$df(f$A[i, j])
    dbeta[j] <- dbeta[j] + dA
    dgamma[j] <- dgamma[j] + dA * f$Zh[i, j]
    dZh[i, j] <- dA * gamma[j]
  }
  # Zh = (Z - mu) / sd, sd = sqrt(var + eps), var = sum w (Z - mu)^2 / (W - ddof),
  # mu = sum w Z / W: Z reaches Zh directly, through mu and through var.
  dZ <- matrix(0, N, p2)
  for (j in 1:p2) {
    dsd <- 0
    for (i in 1:N) dsd <- dsd - dZh[i, j] * (f$Z[i, j] - f$mu[j]) / f$sd[j]^2
    dvar <- dsd / (2 * f$sd[j])
    dmu <- 0
    for (i in 1:N) {
      dmu <- dmu - dZh[i, j] / f$sd[j] - dvar * 2 * w[i] * (f$Z[i, j] - f$mu[j]) / n
    }
    for (i in 1:N) {
      dZ[i, j] <- dZh[i, j] / f$sd[j] + dvar * 2 * w[i] * (f$Z[i, j] - f$mu[j]) / n +
        dmu * w[i] / W
    }
  }
  # Z = X G1
  dG1 <- matrix(0, p1, p2)
  for (k in 1:p1) for (j in 1:p2) for (i in 1:N) dG1[k, j] <- dG1[k, j] + X[i, k] * dZ[i, j]
  .shape_like(.check_finite_result(list(loss = f$loss, G1 = dG1, gamma = dgamma, beta = dbeta,
                                         G2 = dG2, b = db)), v)
}

# max |a - b| over the scale of b (at least floor), per parameter block.
.rel_err <- function(a, b, floor = 0) {
  max(abs(a - b)) / max(abs(b), floor, .Machine$double.xmin)
}

bn_check <- function(X, y, params, activation = "relu", eps = 1e-5, ddof = 0,
                     h = 1e-6, weights = NULL) {
  v <- .check_net(X, y, params, activation, eps, ddof, weights = weights)
  h <- .real(h, "h", 0, open_low = TRUE)
  w <- if (is.null(v$weights)) rep(1, nrow(v$X)) else v$weights
  loop <- bn_grad_loop(X, y, params, activation, eps, ddof, weights)
  # Without the core the loops-vs-differences column still says something.
  have_core <- bn_core_available()
  core <- if (have_core) bn_grad(X, y, params, activation, eps, ddof, weights)
  if (!have_core) {
    message("bn_check: no Python core, so the core columns are NA (",
            attr(have_core, "reason"), ")")
  }
  # central differences of the loop's forward pass, one weight at a time
  P <- v[c("G1", "gamma", "beta", "G2", "b")]
  loss_at <- function(P) {
    .loop_forward(v$X, v$Y, P$G1, P$gamma, P$beta, P$G2, P$b, activation,
                  v$eps, v$ddof, w)$loss
  }
  fd <- lapply(names(P), function(name) {
    g <- P[[name]]
    for (m in seq_along(g)) {
      step <- h * max(1, abs(P[[name]][m]))
      up <- down <- P
      up[[name]][m] <- up[[name]][m] + step
      down[[name]][m] <- down[[name]][m] - step
      g[m] <- (loss_at(up) - loss_at(down)) / (2 * step)
    }
    g
  })
  names(fd) <- names(P)
  fd <- .shape_like(c(list(loss = loss_at(P)), fd), v)
  blocks <- c("loss", names(P))
  # each block against its own largest entry, but not below 1e-3 of the
  # gradient's largest: a block whose gradient is 0 (b's, at a fitted net)
  # divided rounding by rounding and read 1
  versus <- function(a, b) {
    if (is.null(a)) return(rep(NA_real_, length(blocks)))
    scale <- 1e-3 * max(vapply(names(P), function(k) max(abs(b[[k]])), 0))
    vapply(blocks, function(k) .rel_err(a[[k]], b[[k]], if (k == "loss") 0 else scale), 0)
  }
  data.frame(parameter = blocks, core_vs_loop = versus(core, loop),
             core_vs_fd = versus(core, fd), loop_vs_fd = versus(loop, fd), row.names = NULL)
}
