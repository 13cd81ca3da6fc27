# The bridge to the Python core: find Python, load the core once, and turn
# Python exceptions into plain R errors.  Nothing here touches Python until
# the first call that needs it, so library(bngrad) is instant and the pure-R
# reference works with no Python at all.

.state <- new.env(parent = emptyenv())

.envname <- "r-bngrad"

.setup_hint <- function() {
  paste0(
    "Run bngrad::install_bngrad(core = \"/path/to/bngrad\") once (it makes the ",
    "virtualenv '", .envname, "' with numpy<2, numba and scipy), or point ",
    "RETICULATE_PYTHON at a Python that has them and the bngrad core."
  )
}

# Choose the Python before reticulate starts one: RETICULATE_PYTHON wins, as
# reticulate users expect; else the package's own virtualenv if it exists.
.choose_python <- function() {
  if (reticulate::py_available(initialize = FALSE)) return(invisible())
  if (!nzchar(Sys.getenv("RETICULATE_PYTHON")) &&
      reticulate::virtualenv_exists(.envname)) {
    reticulate::use_virtualenv(.envname, required = TRUE)
  }
  invisible()
}

.load_core <- function() {
  .choose_python()
  cfg <- tryCatch(reticulate::py_discover_config(), error = function(e) NULL)
  if (is.null(cfg) || is.null(cfg$python)) {
    stop("bngrad found no Python. ", .setup_hint(), call. = FALSE)
  }
  ok <- tryCatch(reticulate::py_available(initialize = TRUE), error = function(e) FALSE)
  if (!isTRUE(ok)) {
    stop("bngrad could not start Python at ", cfg$python, ". ", .setup_hint(),
         call. = FALSE)
  }
  where <- reticulate::py_config()$python
  # Ask Python itself: py_config() reports no numpy at all for a numpy 2.
  np_version <- tryCatch(reticulate::py_eval("__import__('numpy').__version__"),
                         error = function(e) NULL)
  if (is.null(np_version)) {
    stop("bngrad's Python (", where, ") has no numpy. ", .setup_hint(), call. = FALSE)
  }
  if (numeric_version(np_version) >= "2") {
    stop("bngrad's Python (", where, ") has numpy ", np_version,
         "; reticulate ", utils::packageVersion("reticulate"),
         " needs numpy<2. ", .setup_hint(), call. = FALSE)
  }
  import <- function(module, convert) {
    tryCatch(reticulate::import(module, convert = convert), error = function(e) {
      stop("bngrad's Python (", where, ") cannot import the bngrad core (",
           .py_message(e), "). ", .setup_hint(), call. = FALSE)
    })
  }
  core <- import("bngrad", convert = TRUE)
  .check_core_version(as.character(core$`__version__`), where)
  # bn_grad's hot path: the function object fetched once (`$` on a module
  # costs a Python call), its one-vector result converted on return.
  .state$gradients <- import("bngrad.rbridge", convert = TRUE)$gradients
  core
}

# Only a core of this package's own version is used: R and Python halves of
# different versions could disagree on shapes or conventions.
.check_core_version <- function(theirs, where) {
  mine <- as.character(utils::packageVersion("bngrad"))
  if (!identical(mine, theirs)) {
    stop("the bngrad core in ", where, " is version ", theirs,
         " but this R package is ", mine, "; install the matching core. ",
         .setup_hint(), call. = FALSE)
  }
  invisible(TRUE)
}

# The Python core, loaded on first use and kept for the session.
.core <- function() {
  if (is.null(.state$core)) .state$core <- .load_core()
  .state$core
}

# The core's gradient entry point for R (bngrad.rbridge.gradients).
.core_gradients <- function() {
  if (is.null(.state$gradients)) .core()
  .state$gradients
}

bn_core_available <- function() {
  isTRUE(tryCatch(!is.null(.core()), error = function(e) FALSE))
}

# The Python exception's own message, without reticulate's advice lines.
.py_message <- function(e) {
  msg <- strsplit(conditionMessage(e), "\n", fixed = TRUE)[[1]]
  msg <- msg[nzchar(msg) & !grepl("^(Run `reticulate|Detailed traceback|  File )", msg)]
  sub("^[A-Za-z]*(Error|Exception): ", "", msg[1])
}

# Call the core; a Python exception becomes an R error with Python's message.
.call_core <- function(fun, ...) {
  tryCatch(fun(...), error = function(e) stop(.py_message(e), call. = FALSE))
}

install_bngrad <- function(core = Sys.getenv("BNGRAD_CORE"), envname = "r-bngrad",
                           python = NULL) {
  if (!nzchar(core)) {
    core <- paste0("bngrad==", utils::packageVersion("bngrad"))
  }
  if (dir.exists(core)) core <- normalizePath(core)
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  reticulate::virtualenv_install(envname, c("numpy<2", "numba", "scipy", core),
                                 ignore_installed = FALSE)
  py <- reticulate::virtualenv_python(envname)
  # Compile the kernels now, so no later call waits on numba.
  status <- system2(py, c("-m", "bngrad.warmup"))
  if (!identical(status, 0L)) stop("warming the numba cache failed", call. = FALSE)
  message("bngrad's Python is ready in virtualenv '", envname,
          "'; restart R if Python was already started in this session.")
  invisible(py)
}

# Whether this session has started Python (the tests show predict() does not).
reticulate_started <- function() {
  isNamespaceLoaded("reticulate") && reticulate::py_available(initialize = FALSE)
}
