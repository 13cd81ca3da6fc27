# The main job: the gradients of the seed question's worked example from the
# Python core, beside the pure-R loops', and the three-way check table.
# Run with `make demo` (which sets RETICULATE_PYTHON to the project's venv).
library(bngrad)

s <- bn_seed_example()
cat("The seed question's example: N = 10, p1 = 7, p2 = 4, relu,",
    "scale() convention (ddof = 1, eps = 0)\n\n")

t0 <- proc.time()[["elapsed"]]
core <- bn_grad(s$X, s$y, s$params, s$activation, s$eps, s$ddof)
t1 <- proc.time()[["elapsed"]]
loop <- bn_grad_loop(s$X, s$y, s$params, s$activation, s$eps, s$ddof)

show <- function(name) {
  cat(sprintf("dR/d%s  (core | R loops)\n", name))
  m <- cbind(as.vector(core[[name]]), as.vector(loop[[name]]))
  colnames(m) <- c("core", "loops")
  if (name == "G1") {
    rownames(m) <- sprintf("G1[%d,%d]", row(core$G1), col(core$G1))
  } else {
    rownames(m) <- sprintf("%s[%d]", name, seq_len(nrow(m)))
  }
  print(signif(m, 10))
  cat("\n")
}
cat(sprintf("loss R = %.12f (core) | %.12f (loops)\n\n", core$loss, loop$loss))
for (name in c("G1", "gamma", "beta", "G2", "b")) show(name)

cat("The seed printed dR/dbeta = -0.446 0.390 1.268 -0.096: its ap() returns 1",
    "everywhere and its loss lacks the 1/N. The true values are above.\n\n")

cat("bn_check: max relative error per block (core, R loops, central differences)\n")
print(bn_check(s$X, s$y, s$params, s$activation, s$eps, s$ddof), digits = 3)
cat(sprintf("\nfirst core call in this session (Python start-up included): %.2f s\n", t1 - t0))

# ---------------------------------------------------------------------------
cat("\nFitting a net from R: datasets::quakes, magnitude from location, depth and stations\n\n")
set.seed(1)
d <- datasets::quakes
train <- sample(nrow(d), round(0.75 * nrow(d)))
fit <- bn_fit(mag ~ lat + long + depth + stations, data = d[train, ], hidden = 16, trace = TRUE)
print(fit)
test_mse <- function(pred) mean((d$mag[-train] - pred)^2)
set.seed(1)
nn <- nnet::nnet(mag ~ lat + long + depth + stations, data = d[train, ], size = 16,
                 linout = TRUE, trace = FALSE)
cat(sprintf("\ntest MSE on the same %d held-out rows: bn_fit %.4f | nnet(size = 16, linout = TRUE) %.4f\n",
            nrow(d) - length(train), test_mse(predict(fit, d[-train, ])),
            test_mse(predict(nn, d[-train, ]))))
dir.create("demo-out", showWarnings = FALSE)
png("demo-out/loss_curve.png", width = 640, height = 440, type = "cairo")
plot(fit)
invisible(dev.off())
cat("loss curve saved to demo-out/loss_curve.png\n")
