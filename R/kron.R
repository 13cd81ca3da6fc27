# The matrix-calculus view in R: every Jacobian of the chain as an explicit
# matrix, Kronecker products built with R's own %x%, column-major vec
# (as.vector), so that vec(A X B) = (t(B) %x% A) vec(X).  Dense: small N only.

.max_dense <- 4096

.check_dense <- function(N, width, what) {
  if (N * width > .max_dense) {
    stop(sprintf("N * %s = %d is too large for dense Jacobians (limit %d); use bn_grad()",
                 what, N * width, .max_dense), call. = FALSE)
  }
}

# The weights' Jacobians, I_p2 %x% Zh (N p2 x p2^2), I_p2 %x% X (N p2 x
# p1 p2) and I_q %x% H (N q x p2 q), within the BN Jacobian's budget of
# .max_dense^2 doubles: N p2 alone let p2 = 512 at N = 8 ask for 8 GB.
.check_weights_jacobians <- function(N, p1, p2, q) {
  size <- max(as.double(N) * p2 * p2 * max(p1, p2), as.double(N) * q * q * p2)
  if (size > .max_dense^2) {
    stop(sprintf(paste("the weights' Jacobians would hold %.0f values, too many for dense",
                       "Jacobians (limit %d^2: N p2^2 max(p1, p2) and N p2 q^2 at most);",
                       "use fewer hidden units or outputs, or bn_grad()"),
                 size, .max_dense), call. = FALSE)
  }
}

# Zh and sd of Z's columns (batch statistics, denominator N - ddof).
.normalise <- function(Z, eps, ddof, what = "Z", change = what) {
  mu <- colMeans(Z)
  var <- colSums(sweep(Z, 2, mu)^2) / (nrow(Z) - ddof)
  .check_variance(var, what, change)
  sd <- sqrt(var + eps)
  list(Zh = sweep(sweep(Z, 2, mu), 2, sd, `/`), sd = sd)
}

bn_jacobian <- function(Z, gamma, eps = 1e-5, ddof = 0) {
  if (!is.matrix(Z)) stop("Z must be a numeric matrix", call. = FALSE)
  Z <- .finite(Z, "Z")
  N <- nrow(Z); p2 <- ncol(Z)
  if (N < 2) stop("Z must have at least 2 rows", call. = FALSE)
  .check_dense(N, p2, "p2")
  gamma <- .finite(gamma, "gamma")
  if (length(gamma) != p2) stop("gamma must have length ", p2, " (the columns of Z)", call. = FALSE)
  if (!is.numeric(eps) || length(eps) != 1 || !is.finite(eps) || eps < 0) {
    stop("eps must be a finite number >= 0", call. = FALSE)
  }
  if (!is.numeric(ddof) || length(ddof) != 1 || !ddof %in% c(0, 1)) {
    stop("ddof must be 0 or 1", call. = FALSE)
  }
  if (eps == 0) .check_spread(Z, ddof, what = "Z", change = "Z", rescale = "Z")
  s <- .normalise(Z, eps, ddof)
  J <- matrix(0, N * p2, N * p2)
  for (j in 1:p2) {
    # block j: (gamma_j / sd_j) (I - 11'/N - zh_j zh_j' / (N - ddof))
    idx <- (j - 1) * N + 1:N
    J[idx, idx] <- gamma[j] / s$sd[j] *
      (diag(N) - matrix(1 / N, N, N) - tcrossprod(s$Zh[, j]) / (N - ddof))
  }
  J
}

bn_grad_kron <- function(X, y, params, activation = "relu", eps = 1e-5, ddof = 0) {
  v <- .check_net(X, y, params, activation, eps, ddof)
  X <- v$X; Y <- v$Y; G1 <- v$G1; G2 <- v$G2
  N <- nrow(X); p1 <- ncol(X); p2 <- ncol(G1); q <- ncol(G2)
  .check_dense(N, p2, "p2")
  .check_dense(N, q, "q")
  .check_weights_jacobians(N, p1, p2, q)
  act <- .act(activation)
  one <- matrix(1, N, 1)
  K <- matrix(0, p2 * p2, p2)            # vec(diag(gamma)) = K gamma
  K[cbind((0:(p2 - 1)) * (p2 + 1) + 1, 1:p2)] <- 1
  # forward, in vec form
  Z <- X %*% G1
  s <- .normalise(Z, v$eps, v$ddof, "X %*% G1", "X or G1")
  vecA <- (diag(p2) %x% s$Zh) %*% K %*% v$gamma + (diag(p2) %x% one) %*% v$beta
  H <- matrix(vapply(vecA, act$f, 0), N, p2)
  yhat <- matrix((diag(q) %x% H) %*% as.vector(G2) + (diag(q) %x% one) %*% v$b, N, q)
  # backward: a row vector times one Jacobian after another
  g_yhat <- t(-2 / N * as.vector(Y - yhat))                        # dR/dvec(yhat)'
  dG2 <- g_yhat %*% (diag(q) %x% H)                                 # I_q %x% H
  db <- g_yhat %*% (diag(q) %x% one)                                # I_q %x% 1_N
  g_H <- g_yhat %*% (t(G2) %x% diag(N))                             # G2' %x% I_N
  g_A <- g_H %*% diag(vapply(vecA, act$df, 0), nrow = N * p2)       # diag(vec(act'(A)))
  dgamma <- g_A %*% (diag(p2) %x% s$Zh) %*% K                       # (I %x% Zh) K
  dbeta <- g_A %*% (diag(p2) %x% one)                               # I_p2 %x% 1_N
  g_Z <- g_A %*% bn_jacobian(Z, v$gamma, v$eps, v$ddof)             # block-diagonal BN
  dG1 <- g_Z %*% (diag(p2) %x% X)                                   # I_p2 %x% X
  .shape_like(.check_finite_result(list(
    loss = sum((Y - yhat)^2) / N, G1 = matrix(dG1, p1, p2), gamma = dgamma, beta = dbeta,
    G2 = matrix(dG2, p2, q), b = db)), v)
}
