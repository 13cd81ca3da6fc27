# The panel of real regression data sets that bench/fit_panel.R fits with
# bn_fit and nnet: data sets that ship with R, MASS, carData, mlbench and
# caret (all Debian packages), chosen broadly (sizes 16-3987, 1-134 inputs,
# factors, smooth and noisy, outliers, collinear inputs, spectra).  Each entry
# is (formula, data, looked at while choosing the defaults): the first 20
# were, and tecator and BloodBrain (stop 32: the ensemble's member weights,
# the Bayesian fit's max_iter); the next 39 were added to check those
# choices (stop 27) and the last 32 at stop 32, and none of them was used to
# make one.
panel <- function() {
  suppressPackageStartupMessages(requireNamespace("MASS"))
  e <- environment()
  data("BostonHousing", "Servo", "Ozone", "BostonHousing2", package = "mlbench", envir = e)
  data("BloodBrain", "tecator", "Sacramento", package = "caret", envir = e)
  birthwt <- transform(MASS::birthwt, race = factor(race))[, -1]
  st77 <- as.data.frame(datasets::state.x77)
  names(st77) <- make.names(names(st77))
  Oz <- stats::na.omit(Ozone)
  Oz[c("V1", "V2", "V3")] <- lapply(Oz[c("V1", "V2", "V3")], as.numeric)
  sac <- Sacramento[c("city", "beds", "baths", "sqft", "type", "price", "latitude", "longitude")]
  UN98 <- na.omit(carData::UN98[c("lifeFemale", "GDPperCapita", "illiteracyFemale",
                                  "contraception", "educationFemale")])
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
    tecator = list(fat ~ ., data.frame(absorp, fat = endpoints[, 2]), TRUE),
    BloodBrain = list(logBBB ~ ., data.frame(bbbDescr, logBBB = logBBB), TRUE),
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
    SLID = list(wages ~ age + education + sex + language, na.omit(carData::SLID), FALSE),
    # added at stop 32, never used to choose anything
    Sacramento = list(log(price) ~ ., sac, FALSE),
    BostonHousing2 = list(cmedv ~ . - medv - tract, BostonHousing2, FALSE),
    OzoneFactors = list(V4 ~ ., stats::na.omit(Ozone), FALSE),
    topo = list(z ~ x + y, MASS::topo, FALSE),
    Puromycin = list(rate ~ conc + state, datasets::Puromycin, FALSE),
    Loblolly = list(height ~ age + Seed, as.data.frame(datasets::Loblolly), FALSE),
    Orange = list(circumference ~ age + Tree, as.data.frame(datasets::Orange), FALSE),
    Theoph = list(conc ~ Time + Dose + Wt, as.data.frame(datasets::Theoph), FALSE),
    cabbages = list(HeadWt ~ Cult + Date + VitC, MASS::cabbages, FALSE),
    anorexia = list(Postwt ~ Prewt + Treat, MASS::anorexia, FALSE),
    gilgais = list(e80 ~ pH00 + pH30 + pH80 + e00 + e30 + c00 + c30 + c80, MASS::gilgais, FALSE),
    nlschools = list(lang ~ IQ + GS + SES + COMB, MASS::nlschools, FALSE),
    Hartnagel = list(fconvict ~ tfr + partic + degrees + mconvict, na.omit(carData::Hartnagel), FALSE),
    States = list(SATV ~ pop + percent + dollars + pay, carData::States, FALSE),
    Wong = list(piq ~ days + duration + sex + age, carData::Wong, FALSE),
    Chirot = list(intensity ~ commerce + tradition + midpeasant + inequality, carData::Chirot, FALSE),
    Bfox = list(partic ~ tfr + menwage + womwage + debt + parttime, carData::Bfox, FALSE),
    Mroz = list(lwg ~ k5 + k618 + age + wc + hc + inc, carData::Mroz, FALSE),
    stormer = list(Time ~ Viscosity + Wt, MASS::stormer, FALSE),
    Rabbit = list(BPchange ~ Dose + Run + Treatment, MASS::Rabbit, FALSE),
    beaver1 = list(temp ~ time + activ, datasets::beaver1, FALSE),
    Indometh = list(conc ~ time + Subject, as.data.frame(datasets::Indometh), FALSE),
    npk = list(yield ~ block + N + P + K, datasets::npk, FALSE),
    oats = list(Y ~ B + V + N, MASS::oats, FALSE),
    petrol = list(Y ~ SG + VP + V10 + EP, MASS::petrol, FALSE),
    Soils = list(pH ~ N + Dens + P + Ca + Mg + K + Na + Conduc, carData::Soils, FALSE),
    UN98 = list(lifeFemale ~ ., UN98, FALSE),
    Florida = list(BUCHANAN ~ GORE + BUSH + NADER + BROWNE + HAGELIN + HARRIS + MCREYNOLDS +
                     MOOREHEAD + PHILLIPS, carData::Florida, FALSE),
    Prestige_income = list(income ~ education + women + prestige + type,
                           na.omit(carData::Prestige), FALSE),
    swiss_infant = list(Infant.Mortality ~ ., datasets::swiss, FALSE),
    mtcars_qsec = list(qsec ~ ., datasets::mtcars, FALSE),
    Boston_nox = list(nox ~ ., MASS::Boston, FALSE)
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

# A data set as the sweep fits it (y ~ ., data), or NULL where it is none.
as_task <- function(df) {
  df <- as.data.frame(df)
  if (nrow(df) < 12 || nrow(df) > 3000 || ncol(df) < 2 || ncol(df) > 40) return(NULL)
  df <- df[, vapply(df, function(v) is.numeric(v) || is.factor(v) || is.logical(v), NA),
           drop = FALSE]
  df <- df[, !vapply(df, function(v) is.factor(v) && nlevels(v) > 30, NA), drop = FALSE]
  num <- names(df)[vapply(df, function(v) is.numeric(v) && length(unique(v[!is.na(v)])) >= 10, NA)]
  if (!length(num) || ncol(df) < 2) return(NULL)
  df <- stats::na.omit(df)
  if (nrow(df) < 12) return(NULL)
  y <- make.names(num[length(num)])
  names(df) <- make.names(names(df), unique = TRUE)
  list(formula = stats::as.formula(paste(y, "~ .")), data = df)
}

# bench/fit_sweep.R's two sets of packages: those the issue names and R's
# recommended ones, then other packages' data frames (survival's own are in
# the first).
first_sweep_packages <- c("datasets", "MASS", "carData", "mlbench", "boot", "nlme", "rpart",
                          "lattice", "survival", "cluster")
more_sweep_packages <- c("AER", "robustbase", "quantreg", "modeldata", "palmerpenguins",
                         "ggplot2", "earth", "lme4", "mlmRev", "plm", "sandwich", "vegan",
                         "pscl", "lmtest", "TH.data", "ipred", "multcomp", "geepack",
                         "clubSandwich", "robumeta", "mclust", "systemfit", "timereg", "mets")

# The sweep's data sets (bench/fit_sweep.R): every data frame of the packages
# pkgs that as_task() takes, but those named in inpanel, as a list of tasks
# named package::name, in the packages' order.  A data frame whose values an
# earlier package (or one of the packages `before`) ships too is taken once:
# mets's copies of timereg's, boot's melanoma of MASS's Melanoma (stored as
# doubles there, integers here), mlmRev's Oxboys of nlme's.
sweep_tasks <- function(pkgs, inpanel, before = character()) {
  # a task's data as plain values: numbers as doubles, no names
  values <- function(task) unname(lapply(task$data, function(v)
    if (is.numeric(v) || is.logical(v)) as.double(v) else as.character(v)))
  tasks <- list()
  seen <- list()
  for (p in c(before, pkgs)) {
    for (it in unique(sub(" .*", "", utils::data(package = p)$results[, "Item"]))) {
      if (it %in% inpanel) next
      e <- new.env()
      ok <- tryCatch({ suppressWarnings(utils::data(list = it, package = p, envir = e)); TRUE },
                     error = function(err) FALSE)
      if (!ok || !exists(it, envir = e) || !is.data.frame(get(it, envir = e))) next
      task <- as_task(get(it, envir = e))
      if (is.null(task)) next
      v <- values(task)
      if (any(vapply(seen, identical, NA, v))) next
      seen[[length(seen) + 1L]] <- v
      if (p %in% before) next
      d <- tryCatch(design(task$formula, task$data), error = function(err) NULL)
      if (is.null(d) || ncol(d$x) == 0 || ncol(d$x) > 150) next
      tasks[[paste0(p, "::", it)]] <- task
    }
  }
  tasks
}
