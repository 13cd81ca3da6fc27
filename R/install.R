# install_bngrad(): the core's virtualenv, made from nothing but this
# installed package (it carries the core in inst/python) and PyPI.

install_bngrad <- function(core = NULL, envname = Sys.getenv("BNGRAD_PYTHON_ENV", "r-bngrad"),
                           python = NULL, dask = FALSE) {
  .string(envname, "envname")
  if (!is.null(python)) .string(python, "python")
  if (!is.null(core)) .string(core, "core")
  if (!is.logical(dask) || length(dask) != 1L || is.na(dask)) {
    stop("dask must be TRUE or FALSE, got ", .shown(dask), call. = FALSE)
  }
  packages <- c("numpy<2", "numba", "scipy", "threadpoolctl", if (dask) .dask_packages)
  named <- paste0("numpy<2, numba, scipy and threadpoolctl",
                  if (dask) " (and dask, distributed and pyarrow, for bn_fit_parquet)")
  dir <- .venv_dir(envname)
  py <- .venv_python(dir)
  source <- .core_source(core, kept = py)
  base <- .pick_python(python)
  venv <- .make_venv(dir, base, explicit = !is.null(python))
  # a core kept from an earlier install_bngrad(core = ...) went with a rebuilt virtualenv
  if (is.null(source$target) && !startsWith(venv, "kept")) .no_core()
  where <- sprintf("into the virtualenv %s (Python %s, made from %s)", dir, py, base$path)
  # a complete virtualenv only has its packages checked: seconds, not minutes
  message(if (startsWith(venv, "kept")) {
    paste("bngrad: checking", named, sub("^into", "in", where))
  } else {
    paste0("bngrad: installing ", named, " from PyPI ", where, "; this takes a minute or two")
  })
  .pip(py, packages, where)
  before <- .core_digest(py)
  if (is.null(source$target)) {
    message("bngrad: keeping ", source$label, ": this installation of bngrad carries none")
  } else {
    message("bngrad: installing the core from ", source$label)
    # --force-reinstall: a core of the same version number may still be newer.
    .pip(py, c("--no-deps", "--force-reinstall", source$target), where)
    unlink(source$cleanup, recursive = TRUE)
  }
  versions <- .run_python(py, "-c", paste(
    "import numpy, numba, scipy, threadpoolctl, bngrad",
    "print(*(m.__version__ for m in (numpy, numba, scipy, threadpoolctl, bngrad)))",
    sep = "; "), what = "importing what was installed")
  versions <- stats::setNames(strsplit(utils::tail(versions, 1), " ", fixed = TRUE)[[1]],
                              c("numpy", "numba", "scipy", "threadpoolctl", "bngrad"))
  .check_core_version(versions[["bngrad"]], py)
  message("bngrad: compiling the kernels into numba's cache")
  warm <- .run_python(py, "-m", "bngrad.warmup", what = "warming the numba cache")
  cache <- .run_python(py, "-c", paste(
    "from bngrad.warmup import cache_location",
    "print(cache_location() or 'none writable')",
    sep = "; "), what = "finding numba's cache")
  remembered <- .remember_envname(envname)
  message(paste(c(
    "bngrad: the Python core is ready.",
    paste0("  interpreter: ", base$path, " (Python ", base$version, ")",
           if (length(base$skipped)) paste0("; passed over ", paste(base$skipped, collapse = "; "))),
    paste0("  virtualenv:  ", dir, " (", venv, ")"),
    paste0("  installed:   ", paste(names(versions), versions, collapse = ", "),
           " (bngrad from ", source$label, ")"),
    paste0("  numba cache: ", utils::tail(cache, 1), " (",
           sub("^bngrad: ", "", utils::tail(grep("kernels cached", warm, value = TRUE), 1)), ")"),
    paste0("  bngrad loads '", envname, "' from now on (remembered in ", remembered, ")"),
    if (nzchar(Sys.getenv("BNGRAD_PYTHON_ENV")) && Sys.getenv("BNGRAD_PYTHON_ENV") != envname)
      paste0("  but BNGRAD_PYTHON_ENV is set to '", Sys.getenv("BNGRAD_PYTHON_ENV"),
             "', which wins while it is set"),
    if (nzchar(Sys.getenv("RETICULATE_PYTHON")))
      paste0("  but RETICULATE_PYTHON is set (", Sys.getenv("RETICULATE_PYTHON"),
             "), which wins while it is set"),
    # a session running this virtualenv's Python has imported the core as
    # it was before: it needs a restart only if the core changed
    if (reticulate_started()) {
      if (!identical(.started_prefix(), normalizePath(dir, mustWork = FALSE)))
        "  restart R to use it: this session has started another Python already"
      else if (nzchar(before) && identical(before, .core_digest(py)))
        "  this session runs this virtualenv's Python, and the core is unchanged: no restart"
      else "  restart R to use the new core: this session imported the one it replaced"
    }),
    collapse = "\n"))
  invisible(py)
}

# A digest of the installed core's source ("" where there is none): whether
# reinstalling it changed it
.core_digest <- function(py) {
  r <- .run(py, c("-c", paste(
    "import hashlib, pathlib, bngrad",
    "root = pathlib.Path(bngrad.__file__).parent",
    "h = hashlib.sha256()",
    "[h.update(str(p.relative_to(root)).encode() + p.read_bytes()) for p in sorted(root.rglob('*.py'))]",
    "print(h.hexdigest())", sep = "; ")))
  if (r$status == 0L && length(r$out)) utils::tail(r$out, 1) else ""
}

# the directory above the running Python's bin/ (its virtualenv), its
# symlinks resolved as a directory's only: a virtualenv's python is a
# symlink to the Python it was made from
.started_prefix <- function() {
  py <- tryCatch(reticulate::py_config()$python, error = function(e) "")
  if (!nzchar(py)) return("")
  normalizePath(dirname(dirname(py)), mustWork = FALSE)
}

.string <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    stop(name, " must be one non-empty string", call. = FALSE)
  }
  invisible(x)
}

# What pip installs as the core.  The package's own copy is installed from a
# temporary copy: setuptools writes build/ and egg-info into the source
# directory, and an installed package's directory may be read-only.
# A package built by a plain R CMD build of a checkout has none (the
# Makefile copies python/ into inst/python when it builds the tarball):
# then the core an earlier install_bngrad(core = ...) put in the virtualenv
# whose Python is `kept` is kept (target NULL), so that running it again
# checks the virtualenv, as with a core of its own.
.core_source <- function(core, own = system.file("python", package = "bngrad"), kept = NULL) {
  if (is.null(core)) {
    if (!nzchar(own) || !file.exists(file.path(own, "pyproject.toml"))) {
      if (!is.null(kept) && file.exists(kept) &&
          .run(kept, c("-c", "import bngrad"))$status == 0L) {
        return(list(target = NULL, cleanup = character(),
                    label = paste("the core already in", dirname(dirname(kept)))))
      }
      .no_core()
    }
    tmp <- tempfile("bngrad-core-")
    dir.create(tmp)
    file.copy(own, tmp, recursive = TRUE)
    return(list(target = file.path(tmp, basename(own)), label = own, cleanup = tmp))
  }
  if (dir.exists(core)) core <- normalizePath(core)
  # a path that is not there fails now, not after pip has fetched numba
  path_like <- (grepl("/", core, fixed = TRUE) && !grepl("://", core, fixed = TRUE)) ||
    grepl("\\.(whl|tar\\.gz|zip)$", core)
  if (path_like && !file.exists(core)) {
    stop("core: there is no file or directory ", core, call. = FALSE)
  }
  list(target = core, label = core, cleanup = character())
}

.no_core <- function() {
  stop("this installation of bngrad carries no Python core (no pyproject.toml in ",
       "system.file(\"python\", package = \"bngrad\")): its tarball was built ",
       "without one, as a plain `R CMD build` of a checkout does. Build the tarball with ",
       "`make build/bngrad_", utils::packageVersion("bngrad"), ".tar.gz` in the checkout ",
       "(it copies python/ into inst/python) and install that, or run ",
       "install_bngrad(core = \"path/to/checkout\")", call. = FALSE)
}

# The first Python that can make a virtualenv and reach PyPI (ssl) and is new
# enough; each candidate is probed in a subprocess of R, because that is how
# venv and pip will run it (under R's library path, a Python can pick up
# another build's libpython and lose its ssl module).
.python_probe <- paste(
  "import sys",
  "sys.version_info >= (3, 9) or sys.exit('Python %s is older than 3.9' % sys.version.split()[0])",
  "import ssl, venv, ensurepip",
  "print(sys.prefix)",
  "print(sys.version.split()[0])", sep = "; ")

.python_candidates <- function() {
  found <- unname(Sys.which(c("python3", "python")))
  found <- c(found[nzchar(found)], "/usr/bin/python3", "/usr/local/bin/python3")
  unique(found[file.exists(found)])
}

# Found on the PATH, a virtualenv's Python is passed over: after reticulate
# has started the core's, its bin/ leads the PATH, and rebuilding that
# virtualenv would delete the Python it is made from.
.not_a_venv <- "sys.prefix == sys.base_prefix or sys.exit('it is a virtualenv\\'s Python')"

.pick_python <- function(python = NULL, candidates = .python_candidates()) {
  probe <- .python_probe
  if (!is.null(python)) candidates <- path.expand(python)
  else probe <- sub("import ssl", paste0(.not_a_venv, "; import ssl"), probe, fixed = TRUE)
  tried <- character()
  for (cand in candidates) {
    r <- .run(cand, c("-c", probe))
    if (r$status == 0L && length(r$out) >= 2) {
      out <- utils::tail(r$out, 2)
      return(list(path = cand, prefix = out[1], version = out[2], skipped = tried))
    }
    tried <- c(tried, paste0(cand, ": ", .last_line(r$out)))
  }
  stop("bngrad found no Python (>= 3.9, with ssl, venv and ensurepip) to make its ",
       "virtualenv from; tried:\n",
       if (length(tried)) paste0("  ", tried, collapse = "\n") else "  (no python3 or python on the PATH)",
       "\nInstall one (on Debian: apt-get install python3-venv) or give ",
       "install_bngrad(python = \"/path/to/python3\").", call. = FALSE)
}

# A virtualenv is kept only when its Python runs and already has numpy<2,
# numba, scipy and threadpoolctl; one left broken or partial (by a failed
# pip, a removed base Python) is rebuilt, as is one made from another
# Python than the `python` asked for.
.venv_check <- paste(
  "import sys, ssl, pip, numpy, numba, scipy, threadpoolctl",
  "int(numpy.__version__.split('.')[0]) < 2 or sys.exit('it has numpy ' + numpy.__version__)",
  "print(sys.base_prefix)", sep = "; ")

.make_venv <- function(dir, base, explicit) {
  rebuilt <- NULL
  if (dir.exists(dir) || file.exists(dir)) {
    if (!file.exists(file.path(dir, "pyvenv.cfg"))) {
      stop(dir, " exists and is not a virtualenv (it has no pyvenv.cfg); remove it or ",
           "choose another envname", call. = FALSE)
    }
    py <- .venv_python(dir)
    r <- .run(py, c("-c", .venv_check))
    problem <- if (r$status != 0L) {
      paste0("its Python ", py, " failed: ", .last_line(r$out))
    } else if (explicit && !identical(normalizePath(utils::tail(r$out, 1), mustWork = FALSE),
                                      normalizePath(base$prefix, mustWork = FALSE))) {
      paste0("it was made from the Python in ", utils::tail(r$out, 1), ", not ", base$path)
    }
    if (is.null(problem)) return("kept: it was complete")
    message("bngrad: rebuilding the virtualenv ", dir, ": ", problem)
    unlink(dir, recursive = TRUE)
    rebuilt <- problem
  }
  r <- .run(base$path, c("-m", "venv", dir))
  if (r$status != 0L) {
    stop("making the virtualenv ", dir, " with ", base$path, " failed: ",
         paste(utils::tail(r$out, 5), collapse = "\n"), call. = FALSE)
  }
  if (is.null(rebuilt)) "made" else paste0("rebuilt: ", rebuilt)
}

.pip <- function(py, args, where) {
  r <- .run(py, c("-m", "pip", "install", "--disable-pip-version-check", "-q", args))
  if (r$status != 0L) {
    stop("pip could not install ", paste(args[!startsWith(args, "--")], collapse = " "), " ",
         where, "; install_bngrad() again completes the virtualenv or rebuilds it. pip said:\n",
         paste(utils::tail(r$out, 15), collapse = "\n"), call. = FALSE)
  }
  invisible(r$out)
}

.run_python <- function(py, ..., what) {
  r <- .run(py, c(...))
  if (r$status != 0L) {
    stop(what, " failed with ", py, ":\n", paste(utils::tail(r$out, 15), collapse = "\n"),
         call. = FALSE)
  }
  r$out
}

# A command's status and its output (stdout and stderr together).
.run <- function(command, args) {
  out <- suppressWarnings(tryCatch(
    system2(command, shQuote(args), stdout = TRUE, stderr = TRUE),
    error = function(e) structure(conditionMessage(e), status = 127L)))
  list(status = if (is.null(attr(out, "status"))) 0L else as.integer(attr(out, "status")),
       out = as.character(out))
}

.last_line <- function(out) {
  out <- out[nzchar(trimws(out))]
  if (length(out)) utils::tail(out, 1) else "no output"
}

.remember_envname <- function(envname) {
  f <- .envname_file()
  dir.create(dirname(f), recursive = TRUE, showWarnings = FALSE)
  writeLines(envname, f)
  f
}
