# The bridge to the Python core: which Python, loading the core once, and
# Python exceptions as plain R errors.  Nothing here touches Python until the
# first call that needs it, so library(bngrad) is instant and the pure-R
# reference works with no Python at all.  Making the core's virtualenv is in
# install.R.

.state <- new.env(parent = emptyenv())

.default_envname <- "r-bngrad"

# The virtualenv bngrad loads: BNGRAD_PYTHON_ENV if set, else the one
# install_bngrad() last set up for this user (remembered in a file, so that
# its envname holds in later sessions too), else "r-bngrad".
.envname <- function() {
  env <- Sys.getenv("BNGRAD_PYTHON_ENV")
  if (nzchar(env)) return(env)
  f <- .envname_file()
  if (file.exists(f)) {
    env <- readLines(f, n = 1L, warn = FALSE)
    if (length(env) == 1L && nzchar(env)) return(env)
  }
  .default_envname
}

.envname_file <- function() file.path(tools::R_user_dir("bngrad", "config"), "envname")

# As in reticulate: a name is a virtualenv under its root (WORKON_HOME), a
# name with a slash is the virtualenv's path.
.venv_dir <- function(envname) {
  if (grepl("/", envname, fixed = TRUE)) return(normalizePath(envname, mustWork = FALSE))
  file.path(path.expand(reticulate::virtualenv_root()), envname)
}

.venv_python <- function(dir) {
  if (.Platform$OS.type == "windows") file.path(dir, "Scripts", "python.exe")
  else file.path(dir, "bin", "python")
}

.setup_hint <- function(envname = .envname(),
                        own = system.file("python", "pyproject.toml", package = "bngrad")) {
  args <- c(if (envname != .default_envname) sprintf("envname = \"%s\"", envname),
            # an installation without its own copy of the core (.core_source)
            if (!nzchar(own)) "core = \"path/to/checkout\"")
  paste0("Run bngrad::install_bngrad(", paste(args, collapse = ", "),
         ") once (it makes the virtualenv '", envname,
         "' with numpy<2, numba, scipy and the core), or point RETICULATE_PYTHON at a Python ",
         "that has them.", if (!nzchar(own)) paste(
           " This installation carries no Python core of its own (a plain `R CMD build` of",
           "a checkout leaves it out; `make build/bngrad_<version>.tar.gz` puts it in), so",
           "install_bngrad() needs core = a checkout of bngrad."))
}

# What to do when the Python that runs cannot serve: install_bngrad() mends
# bngrad's own virtualenv, but not a Python that RETICULATE_PYTHON chose or
# that was started earlier in the session (reticulate runs one per session).
.python_hint <- function(where) {
  own <- .venv_python(.venv_dir(.envname()))
  same <- function(a, b) identical(normalizePath(dirname(a), mustWork = FALSE),
                                   normalizePath(dirname(b), mustWork = FALSE))
  if (same(where, own)) return(.setup_hint())
  fix <- "or give that Python numpy<2, numba, scipy and the core."
  rp <- Sys.getenv("RETICULATE_PYTHON")
  if (nzchar(rp) && same(where, rp)) {
    return(paste0("RETICULATE_PYTHON is set (", rp, ") and chooses it: unset it and restart R ",
                  "to use bngrad's virtualenv (bngrad::install_bngrad() makes it), ", fix))
  }
  paste0("Python was started in this R session before bngrad chose its own, and reticulate ",
         "runs one Python per session: restart R and call bngrad before anything else ",
         "starts Python (bngrad::install_bngrad() makes its virtualenv), ", fix)
}

# Choose the Python before reticulate starts one.  A Python already running
# in this session, or RETICULATE_PYTHON, wins, as reticulate users expect;
# else the virtualenv, and when it is missing we stop before starting any
# Python, so that install_bngrad() then works without restarting R.
.choose_python <- function() {
  if (reticulate::py_available(initialize = FALSE) ||
      nzchar(Sys.getenv("RETICULATE_PYTHON"))) return(invisible())
  envname <- .envname()
  dir <- .venv_dir(envname)
  named <- paste0("'", envname, "'", if (dir != envname) paste0(" (", dir, ")"))
  if (!dir.exists(dir)) {
    stop("bngrad's Python core is not set up: there is no virtualenv ", named, ". ",
         .setup_hint(envname), call. = FALSE)
  }
  py <- .venv_python(dir)
  if (!file.exists(py)) {
    stop("the virtualenv ", named, " is broken: it has no Python at ", py, ". ",
         .setup_hint(envname), " install_bngrad() rebuilds it.", call. = FALSE)
  }
  reticulate::use_python(py, required = TRUE)
  invisible()
}

.load_core <- function() {
  .choose_python()
  ok <- tryCatch(reticulate::py_available(initialize = TRUE), error = function(e) FALSE)
  if (!isTRUE(ok)) {
    # which Python, asked only now: the search costs ~0.1 s of every first call
    rp <- Sys.getenv("RETICULATE_PYTHON")
    if (nzchar(rp) && !file.exists(rp)) {
      stop("bngrad found no Python: RETICULATE_PYTHON is set to '", rp, "', which does not ",
           "exist. Unset it or point it at a Python with numpy<2, numba, scipy and the core; ",
           "or unset it and run bngrad::install_bngrad() once.", call. = FALSE)
    }
    cfg <- tryCatch(reticulate::py_discover_config(), error = function(e) NULL)
    if (is.null(cfg) || is.null(cfg$python)) {
      stop("bngrad found no Python. ", .setup_hint(), call. = FALSE)
    }
    stop("bngrad could not start Python at ", cfg$python, ". ", .setup_hint(),
         call. = FALSE)
  }
  where <- reticulate::py_config()$python
  # Ask Python itself: py_config() reports no numpy at all for a numpy 2.
  np_version <- tryCatch(reticulate::py_eval("__import__('numpy').__version__"),
                         error = function(e) NULL)
  if (is.null(np_version)) {
    stop("bngrad's Python (", where, ") has no numpy. ", .python_hint(where), call. = FALSE)
  }
  if (numeric_version(np_version) >= "2") {
    stop("bngrad's Python (", where, ") has numpy ", np_version,
         "; reticulate ", utils::packageVersion("reticulate"),
         " needs numpy<2. ", .python_hint(where), call. = FALSE)
  }
  import <- function(module, convert) {
    tryCatch(reticulate::import(module, convert = convert), error = function(e) {
      stop("bngrad's Python (", where, ") cannot import the bngrad core (",
           .py_message(e), "). ", .python_hint(where), call. = FALSE)
    })
  }
  core <- import("bngrad", convert = TRUE)
  .check_core_version(as.character(core$`__version__`), where)
  # bn_grad's hot path: the function object fetched once (`$` on a module
  # costs a Python call), its one-vector result converted on return.
  .state$rbridge <- import("bngrad.rbridge", convert = TRUE)
  .state$gradients <- .state$rbridge$gradients
  # and bn_fit's (~0.09 ms a fetch, a fortieth of a small fit)
  .state$fit_entry <- .state$rbridge$fit
  .state$regressor <- core$BNRegressor
  core
}

# Only a core of this package's own version is used: R and Python halves of
# different versions could disagree on shapes or conventions.
.check_core_version <- function(theirs, where) {
  mine <- as.character(utils::packageVersion("bngrad"))
  if (!identical(mine, theirs)) {
    stop("the bngrad core in ", where, " is version ", theirs,
         " but this R package is ", mine, "; install the matching core. ",
         .python_hint(where), call. = FALSE)
  }
  invisible(TRUE)
}

# The Python core, loaded on first use and kept for the session.
.core <- function() {
  if (is.null(.state$core)) .state$core <- .load_core()
  .state$core
}

# One of the objects .load_core() keeps for the session: "rbridge" (the
# module of R's entry points), "gradients" (bn_grad's), "fit_entry"
# (bn_fit's) or "regressor" (the estimator bn_fit fits).  Kept, not fetched
# with `$` each call: that costs a Python call.
.core_entry <- function(name) {
  if (is.null(.state[[name]])) .core()
  .state[[name]]
}

bn_core_available <- function() {
  reason <- tryCatch({
    .core()
    NULL
  }, error = function(e) conditionMessage(e))
  if (is.null(reason)) TRUE else structure(FALSE, reason = reason)
}

# The Python exception's own message, without reticulate's advice lines.
.py_message <- function(e) {
  msg <- strsplit(conditionMessage(e), "\n", fixed = TRUE)[[1]]
  msg <- msg[nzchar(msg) & !grepl("^(Run `reticulate|Detailed traceback|  File )", msg)]
  # (a class of a module is named with it: bngrad.checks.InvalidParameterError)
  sub("^[A-Za-z_.]*(Error|Exception): ", "", msg[1])
}

# Call the core; a Python exception becomes an R error with Python's message.
.call_core <- function(fun, ...) {
  tryCatch(fun(...), error = function(e) stop(.py_message(e), call. = FALSE))
}

# The core's warnings during a call, kept and signalled as R warnings once
# the call has returned (or failed: before its error): a handler that exits
# (tryCatch(warning = )) must not unwind through Python's frames, where
# reticulate turned it into "(Unknown exception occurred)".  said$add is the
# core's callback; said$call(fun, ...) is .call_core(fun, ...).  A message
# among `given` (said by R before the call) is not said again.  `renamed`
# (from .nnet_dots: list(max_iter = "maxit") where the caller wrote maxit)
# puts the caller's own names in the core's warnings and its error.
.said <- function(given = NULL, renamed = NULL) {
  msgs <- character()
  signal <- function() {
    for (msg in msgs[!msgs %in% given]) warning(msg, call. = FALSE)
    msgs <<- character()
  }
  list(add = function(msg) msgs <<- c(msgs, .in_callers_words(msg, renamed)),
       call = function(...) {
         out <- tryCatch(.call_core(...), error = function(e) {
           signal()
           stop(.in_callers_words(conditionMessage(e), renamed), call. = FALSE)
         })
         signal()
         out
       })
}

# msg with each of bn_fit's argument names in `renamed` as the caller wrote
# it (nnet's): where it is named as an argument ("max_iter = 3", "increase
# max_iter"), not in prose ("hidden units").
.in_callers_words <- function(msg, renamed) {
  for (own in names(renamed)) {
    msg <- gsub(sprintf("\\b%s(?= =)|(?<=increase )%s\\b", own, own), renamed[[own]], msg,
                perl = TRUE)
  }
  msg
}

# Whether this session has started Python (the tests show predict() does not).
reticulate_started <- function() {
  isNamespaceLoaded("reticulate") && reticulate::py_available(initialize = FALSE)
}
