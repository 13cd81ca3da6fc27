# The panel of real regression data sets that bench/fit_panel.R fits with
# bn_fit and nnet: data sets that ship with R, MASS, carData and mlbench
# (all Debian packages).  Chosen broadly (sizes 21-1000, 1-23 inputs, factors,
# smooth and noisy), not tuned to: other data sets judge the same defaults.
panel <- function() {
  data("BostonHousing", "Servo", package = "mlbench", envir = environment())
  birthwt <- transform(MASS::birthwt, race = factor(race))[, -1]
  list(
    mtcars = list(mpg ~ ., datasets::mtcars),
    swiss = list(Fertility ~ ., datasets::swiss),
    stackloss = list(stack.loss ~ ., datasets::stackloss),
    LifeCycleSavings = list(sr ~ ., datasets::LifeCycleSavings),
    rock = list(log(perm) ~ area + peri + shape, datasets::rock),
    airquality = list(Ozone ~ ., na.omit(datasets::airquality)),
    trees = list(Volume ~ ., datasets::trees),
    attitude = list(rating ~ ., datasets::attitude),
    faithful = list(eruptions ~ waiting, datasets::faithful),
    quakes = list(mag ~ ., datasets::quakes),
    Boston = list(medv ~ ., MASS::Boston),
    mcycle = list(accel ~ times, MASS::mcycle),
    cpus = list(log10(perf) ~ syct + mmin + mmax + cach + chmin + chmax, MASS::cpus),
    hills = list(time ~ dist + climb, MASS::hills),
    UScrime = list(y ~ ., MASS::UScrime),
    birthwt = list(bwt ~ ., birthwt),
    Prestige = list(prestige ~ education + income + women, carData::Prestige),
    Salaries = list(salary ~ ., carData::Salaries),
    Duncan = list(prestige ~ income + education, carData::Duncan),
    Servo = list(Class ~ ., Servo)
  )
}

# Five random 75 / 25 splits of n rows (seeds 1-5).
splits <- function(n) lapply(1:5, function(s) { set.seed(s); sample(n, round(0.75 * n)) })

# The design as nnet's formula method builds it: model.matrix without intercept.
design <- function(formula, data) {
  mf <- stats::model.frame(formula, data)
  x <- stats::model.matrix(attr(mf, "terms"), mf)
  list(x = x[, colnames(x) != "(Intercept)", drop = FALSE], y = stats::model.response(mf))
}

# nnet as a user tunes it by hand: inputs standardised on the training rows,
# size 8, maxit 500, linear output, each decay in turn; test MSE per decay.
nnet_decays <- c(0, 1e-3, 1e-2, 1e-1)
nnet_tuned <- function(x, y, train, size = 8, seed = 1) {
  ctr <- colMeans(x[train, , drop = FALSE])
  sc <- apply(x[train, , drop = FALSE], 2, stats::sd)
  sc[sc == 0] <- 1
  xs <- scale(x, ctr, sc)
  t0 <- proc.time()[["elapsed"]]
  mse <- vapply(nnet_decays, function(d) {
    set.seed(seed)
    m <- nnet::nnet(xs[train, , drop = FALSE], y[train], size = size, decay = d,
                    linout = TRUE, maxit = 500, trace = FALSE, MaxNWts = 1e5)
    mean((y[-train] - stats::predict(m, xs[-train, , drop = FALSE]))^2)
  }, 0)
  list(mse = mse, time = proc.time()[["elapsed"]] - t0)
}
