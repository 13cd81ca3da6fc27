# Setting up the core, and life without it.  The whole of install_bngrad()
# (pip, PyPI, the warm-up) is scripts/test_tarball.sh, from the tarball alone.

# Run `code` in a fresh Rscript with `env`; returns what the code's value was.
in_fresh_r <- function(code, env) {
  out <- tempfile(fileext = ".rds")
  script <- tempfile(fileext = ".R")
  writeLines(c("library(bngrad)", sprintf("saveRDS(local({%s}), '%s')", code, out)), script)
  status <- system2(file.path(R.home("bin"), "Rscript"), shQuote(script), env = env,
                    stdout = TRUE, stderr = TRUE)
  expect_null(attr(status, "status"), label = paste(status, collapse = "\n"))
  readRDS(out)
}

test_that("without a core: bn_core_available() says why, bn_check() still checks the loops", {
  home <- tempfile("home-")
  dir.create(home)
  res <- in_fresh_r(paste(
    "ok <- bn_core_available()",
    "p <- bn_params(3, 4, seed = 2); set.seed(3); X <- matrix(rnorm(30), 10); y <- rnorm(10)",
    "msg <- NULL",
    "tab <- withCallingHandlers(bn_check(X, y, p),",
    "  message = function(m) { msg <<- conditionMessage(m); invokeRestart('muffleMessage') })",
    "err <- tryCatch(bn_grad(X, y, p), error = conditionMessage)",
    "list(ok = ok, tab = tab, msg = msg, err = err, started = bngrad:::reticulate_started())",
    sep = "\n"),
    env = c("RETICULATE_PYTHON=", "BNGRAD_PYTHON_ENV=", "BNGRAD_REQUIRE_CORE=",
            paste0("HOME=", home), paste0("WORKON_HOME=", file.path(home, "venvs")),
            paste0("R_USER_CONFIG_DIR=", file.path(home, "config"))))
  expect_false(res$ok)
  expect_match(attr(res$ok, "reason"), "no virtualenv 'r-bngrad'", fixed = TRUE)
  expect_match(attr(res$ok, "reason"), "install_bngrad()", fixed = TRUE)
  expect_equal(res$tab$parameter, c("loss", "G1", "gamma", "beta", "G2", "b"))
  expect_true(all(is.na(res$tab$core_vs_loop)) && all(is.na(res$tab$core_vs_fd)))
  expect_lt(max(res$tab$loop_vs_fd), 1e-6)
  expect_match(res$msg, "no Python core, so the core columns are NA")
  expect_match(res$err, "install_bngrad()", fixed = TRUE)
  # it stopped before starting a Python, so install_bngrad() needs no restart
  expect_false(res$started)
})

test_that("the virtualenv loaded is BNGRAD_PYTHON_ENV, else the one install_bngrad() set up", {
  old <- Sys.getenv(c("BNGRAD_PYTHON_ENV", "R_USER_CONFIG_DIR", "WORKON_HOME"), unset = NA)
  on.exit(for (k in names(old)) {
    if (is.na(old[[k]])) Sys.unsetenv(k) else do.call(Sys.setenv, as.list(old[k]))
  })
  Sys.unsetenv("BNGRAD_PYTHON_ENV")
  Sys.setenv(R_USER_CONFIG_DIR = tempfile("config-"), WORKON_HOME = "/somewhere/venvs")
  expect_equal(bngrad:::.envname(), "r-bngrad")
  bngrad:::.remember_envname("mine")
  expect_equal(bngrad:::.envname(), "mine")
  Sys.setenv(BNGRAD_PYTHON_ENV = "theirs")
  expect_equal(bngrad:::.envname(), "theirs")
  expect_equal(bngrad:::.venv_dir("mine"), "/somewhere/venvs/mine")
  expect_equal(bngrad:::.venv_dir("/opt/envs/x"), "/opt/envs/x")
})

test_that("install_bngrad() names every Python it tried, and why each would not do", {
  fake <- tempfile("python-")
  writeLines(c("#!/bin/sh", "echo 'ModuleNotFoundError: No module named ssl' >&2", "exit 1"), fake)
  Sys.chmod(fake, "0755")
  err <- tryCatch(bngrad:::.pick_python(candidates = c("/nonexistent/python3", fake)),
                  error = conditionMessage)
  expect_match(err, "/nonexistent/python3: ", fixed = TRUE)
  expect_match(err, paste0(fake, ": ModuleNotFoundError: No module named ssl"), fixed = TRUE)
  expect_match(err, "install_bngrad(python = ", fixed = TRUE)
  # the first that works is taken, the ones before it reported
  got <- bngrad:::.pick_python(candidates = c(fake, bngrad:::.python_candidates()))
  expect_true(got$path != fake && numeric_version(got$version) >= "3.9")
  expect_match(got$skipped[1], fake, fixed = TRUE)
  # python = is the only candidate, and a bad one stops before anything is made
  venvs <- tempfile("venvs-")
  old <- Sys.getenv("WORKON_HOME", unset = NA)
  Sys.setenv(WORKON_HOME = venvs)
  on.exit(if (is.na(old)) Sys.unsetenv("WORKON_HOME") else Sys.setenv(WORKON_HOME = old))
  expect_error(install_bngrad(python = "/nonexistent/python3"), "tried:\n  /nonexistent/python3: ")
  expect_false(dir.exists(venvs))
  expect_error(install_bngrad(envname = ""), "envname must be one non-empty string")
  expect_error(install_bngrad(python = 3), "python must be one non-empty string")
  for (bad in list(NA, "yes", c(TRUE, FALSE), 1)) {
    expect_error(install_bngrad(dask = bad), "dask must be TRUE or FALSE")
  }
  expect_false(dir.exists(venvs))
})

test_that("a broken virtualenv is rebuilt, and a directory that is none is left alone", {
  base <- bngrad:::.pick_python()
  dir <- tempfile("venv-")
  dir.create(file.path(dir, "bin"), recursive = TRUE)
  expect_error(bngrad:::.make_venv(dir, base, explicit = FALSE), "is not a virtualenv")
  writeLines("home = /gone", file.path(dir, "pyvenv.cfg"))
  writeLines(c("#!/bin/sh", "exit 1"), file.path(dir, "bin", "python"))
  Sys.chmod(file.path(dir, "bin", "python"), "0755")
  expect_message(how <- bngrad:::.make_venv(dir, base, explicit = FALSE), "rebuilding")
  expect_match(how, "^rebuilt: its Python .* failed")
  r <- bngrad:::.run(bngrad:::.venv_python(dir), c("-c", "import sys; print(sys.prefix)"))
  expect_equal(r$status, 0L)
  expect_equal(normalizePath(r$out), normalizePath(dir))
  # found on the PATH (reticulate puts a started virtualenv's bin/ first), a
  # virtualenv's Python is passed over: rebuilding that one would delete it
  got <- bngrad:::.pick_python(candidates = c(bngrad:::.venv_python(dir), base$path))
  expect_equal(got$path, base$path)
  expect_match(got$skipped, "it is a virtualenv's Python", fixed = TRUE)
  unlink(dir, recursive = TRUE)
})

test_that("a package built without the core says how to get one", {
  expect_error(bngrad:::.core_source(NULL, own = tempfile("no-core-")),
               "plain `R CMD build`.*make build/bngrad_.*tar.gz.*install_bngrad\\(core = ")
  checkout <- bngrad:::.core_source(tempdir())
  expect_identical(checkout$target, normalizePath(tempdir()))
  expect_error(bngrad:::.core_source("/nonexistent/core"), "core: there is no file or directory")
  expect_error(bngrad:::.core_source("bngrad-9.whl"), "core: there is no file or directory")
  expect_identical(bngrad:::.core_source("bngrad==9")$target, "bngrad==9")   # a requirement
})

test_that("a package built without the core keeps the one its virtualenv already has", {
  need_core()
  none <- tempfile("no-core-")
  kept <- bngrad:::.core_source(NULL, own = none, kept = reticulate::py_config()$python)
  expect_null(kept$target)                     # install_bngrad() then installs no core
  expect_match(kept$label, "^the core already in /")
  no_bngrad <- tempfile("python-")             # a "Python" that cannot import bngrad
  writeLines(c("#!/bin/sh", "exit 1"), no_bngrad)
  Sys.chmod(no_bngrad, "755")
  for (py in c(no_bngrad, tempfile("no-python-"))) {
    expect_error(bngrad:::.core_source(NULL, own = none, kept = py), "plain `R CMD build`")
  }
})
