# The panel of real regression data sets that bench/fit_panel.R fits with
# bn_fit and nnet: data sets that ship with R, MASS, carData and mlbench
# (all Debian packages), chosen broadly (sizes 16-3987, 1-15 inputs, factors,
# smooth and noisy, outliers, collinear inputs).  Each entry is (formula,
# data, looked at while choosing the defaults): the first 20 were; the other
# 39 were added to check those choices and never used to make one.
panel <- function() {
  suppressPackageStartupMessages(requireNamespace("MASS"))
  e <- environment()
  data("BostonHousing", "Servo", "Ozone", package = "mlbench", envir = e)
  birthwt <- transform(MASS::birthwt, race = factor(race))[, -1]
  st77 <- as.data.frame(datasets::state.x77)
  names(st77) <- make.names(names(st77))
  Oz <- stats::na.omit(Ozone)
  Oz[c("V1", "V2", "V3")] <- lapply(Oz[c("V1", "V2", "V3")], as.numeric)
  list(
    # looked at while choosing the defaults
    mtcars = list(mpg ~ ., datasets::mtcars, TRUE),
    swiss = list(Fertility ~ ., datasets::swiss, TRUE),
    stackloss = list(stack.loss ~ ., datasets::stackloss, TRUE),
    LifeCycleSavings = list(sr ~ ., datasets::LifeCycleSavings, TRUE),
    rock = list(log(perm) ~ area + peri + shape, datasets::rock, TRUE),
    airquality = list(Ozone ~ ., na.omit(datasets::airquality), TRUE),
    trees = list(Volume ~ ., datasets::trees, TRUE),
    attitude = list(rating ~ ., datasets::attitude, TRUE),
    faithful = list(eruptions ~ waiting, datasets::faithful, TRUE),
    quakes = list(mag ~ ., datasets::quakes, TRUE),
    Boston = list(medv ~ ., MASS::Boston, TRUE),
    mcycle = list(accel ~ times, MASS::mcycle, TRUE),
    cpus = list(log10(perf) ~ syct + mmin + mmax + cach + chmin + chmax, MASS::cpus, TRUE),
    hills = list(time ~ dist + climb, MASS::hills, TRUE),
    UScrime = list(y ~ ., MASS::UScrime, TRUE),
    birthwt = list(bwt ~ ., birthwt, TRUE),
    Prestige = list(prestige ~ education + income + women, carData::Prestige, TRUE),
    Salaries = list(salary ~ ., carData::Salaries, TRUE),
    Duncan = list(prestige ~ income + education, carData::Duncan, TRUE),
    Servo = list(Class ~ ., Servo, TRUE),
    # never used to choose anything
    cars = list(dist ~ speed, datasets::cars, FALSE),
    longley = list(Employed ~ ., datasets::longley, FALSE),
    freeny = list(y ~ ., datasets::freeny, FALSE),
    USJudgeRatings = list(RTEN ~ ., datasets::USJudgeRatings, FALSE),
    iris = list(Sepal.Length ~ ., datasets::iris, FALSE),
    ToothGrowth = list(len ~ supp + dose, datasets::ToothGrowth, FALSE),
    CO2 = list(uptake ~ Type + Treatment + conc, as.data.frame(datasets::CO2), FALSE),
    ChickWeight = list(weight ~ Time + Diet, as.data.frame(datasets::ChickWeight), FALSE),
    USArrests = list(Murder ~ ., datasets::USArrests, FALSE),
    state = list(Life.Exp ~ ., st77, FALSE),
    warpbreaks = list(breaks ~ wool + tension, datasets::warpbreaks, FALSE),
    morley = list(Speed ~ Expt + Run, datasets::morley, FALSE),
    Cars93 = list(Price ~ MPG.city + MPG.highway + EngineSize + Horsepower + RPM + Fuel.tank.capacity + Weight + Length + Wheelbase + Width, MASS::Cars93, FALSE),
    cats = list(Hwt ~ Bwt + Sex, MASS::cats, FALSE),
    whiteside = list(Gas ~ Temp + Insul, MASS::whiteside, FALSE),
    GAGurine = list(GAG ~ Age, MASS::GAGurine, FALSE),
    Rubber = list(loss ~ hard + tens, MASS::Rubber, FALSE),
    wtloss = list(Weight ~ Days, MASS::wtloss, FALSE),
    mammals = list(log(brain) ~ log(body), MASS::mammals, FALSE),
    crabs = list(CW ~ FL + RW + CL + BD + sp + sex, MASS::crabs, FALSE),
    fgl = list(RI ~ Na + Mg + Al + Si + K + Ca + Ba + Fe, MASS::fgl, FALSE),
    Pima = list(glu ~ ., MASS::Pima.tr, FALSE),
    painters = list(Composition ~ Drawing + Colour + Expression, MASS::painters, FALSE),
    geyser = list(duration ~ waiting, MASS::geyser, FALSE),
    UScereal = list(calories ~ protein + fat + sodium + fibre + carbo + sugars, MASS::UScereal, FALSE),
    Ozone = list(V4 ~ ., Oz, FALSE),
    Davis = list(weight ~ height + sex, carData::Davis, FALSE),
    Ornstein = list(interlocks ~ assets + sector + nation, carData::Ornstein, FALSE),
    Angell = list(moral ~ hetero + mobility, carData::Angell, FALSE),
    Anscombe = list(education ~ income + young + urban, carData::Anscombe, FALSE),
    Ericksen = list(undercount ~ ., carData::Ericksen, FALSE),
    Freedman = list(crime ~ ., na.omit(carData::Freedman), FALSE),
    Highway1 = list(rate ~ ., carData::Highway1, FALSE),
    Leinhardt = list(infant ~ income + region + oil, na.omit(carData::Leinhardt), FALSE),
    Ginzberg = list(depression ~ simplicity + fatalism, carData::Ginzberg, FALSE),
    Transact = list(time ~ t1 + t2, carData::Transact, FALSE),
    Baumann = list(post.test.1 ~ group + pretest.1, carData::Baumann, FALSE),
    Robey = list(tfr ~ contraceptors, carData::Robey, FALSE),
    SLID = list(wages ~ age + education + sex + language, na.omit(carData::SLID), FALSE)
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

# lm on the same design (least squares with an intercept; aliased columns
# dropped), for scale: the test MSE on the rows held out.
lm_mse <- function(x, y, train) {
  fit <- stats::lm.fit(cbind(1, x[train, , drop = FALSE]), y[train])
  coefs <- fit$coefficients
  coefs[is.na(coefs)] <- 0
  mean((y[-train] - cbind(1, x[-train, , drop = FALSE]) %*% coefs)^2)
}
