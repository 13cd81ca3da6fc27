# Two commands do everything on a fresh machine (Debian, python3 with venv):
#   make demo   install what is missing, then run the main job (scripts/demo.R)
#   make test   install what is missing, then pytest, testthat and R CMD check
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
VERSION := $(shell sed -n 's/^Version: //p' DESCRIPTION)
TARBALL := $(BUILD)/bngrad_$(VERSION).tar.gz
# The R package is installed here, never into R's site library.
RLIB := $(BUILD)/Rlib
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
R_PACKAGES := r-base-core r-cran-reticulate r-cran-testthat r-cran-jsonlite r-cran-nnet r-cran-caret
PY_PACKAGES := "numpy<2" numba scipy threadpoolctl pytest hypothesis scikit-learn pandas
# bngrad[dask]: with numpy<2 here, pyarrow 25 is the last that runs (26 needs
# NumPy 2); the NumPy 2 venv takes current releases, at pyproject's floors:
# dask 2026.11.0 came to PyPI before a distributed to match it, and unpinned
# pip paired it with distributed 2021.4.1, which cannot import it.
DASK_PACKAGES := "dask[array]==2026.8.0" "distributed==2026.8.0" "pyarrow==25.0.0"
DASK_PACKAGES_NP2 := "dask[array]>=2026.8" "distributed>=2026.8" pyarrow
PY_SOURCES := pyproject.toml $(wildcard python/bngrad/*.py python/bngrad/kernels/*.py)
R_SOURCES := DESCRIPTION NAMESPACE LICENSE .Rbuildignore $(wildcard R/*.R man/*.Rd tests/*.R tests/testthat/*.R tests/fixtures/*.json)

# R (through reticulate) and the tests use the project's venv; in tests a
# missing core is a failure, never a skip.
export RETICULATE_PYTHON := $(CURDIR)/$(PY)
export R_LIBS := $(CURDIR)/$(RLIB)
export BNGRAD_REQUIRE_CORE := 1
# ... and so is a missing dask for the Dask tests (tests/python/test_dask.py, test-dask.R).
export BNGRAD_REQUIRE_DASK := 1
# R CMD check: no clock check over the network (there is none here).
export _R_CHECK_SYSTEM_CLOCK_ := 0

.PHONY: demo test pytest pytest-numpy2 testthat check check-nocore test-tarball install bench bench-panel bench-sweep bench-fit-speed bench-bridge bench-busy bench-dask fit-many-data fit-many clean

demo: install
	Rscript scripts/demo.R

test: install pytest pytest-numpy2 testthat check check-nocore test-tarball

install: $(BUILD)/r-deps.stamp $(VENV)/core.stamp $(BUILD)/r-install.stamp

# Debian's R and R packages (no CRAN here): installed only when missing.
$(BUILD)/r-deps.stamp:
	@mkdir -p $(BUILD)
	@if ! Rscript -e 'for (p in c("reticulate", "testthat", "jsonlite", "nnet", "caret")) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1; then \
	  echo "installing $(R_PACKAGES) from Debian"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(R_PACKAGES); \
	fi
	@touch $@

# The venv R uses: numpy<2 for reticulate 1.28, the core installed editable
# from python/ (its one source), and the numba cache warmed so that no first
# call waits on a compile.  The cache an edited source may leave stale goes
# first (--fresh, wherever numba keeps it): numba checks a cached kernel
# against its own file only, and a helper it calls from another
# (kernels/activations.py's act_and_slope) is compiled into it.
$(VENV)/core.stamp: $(PY_SOURCES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(PY_PACKAGES) $(DASK_PACKAGES)
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	$(PY) -m bngrad.warmup --fresh
	@touch $@

# Built from a copy without the venvs (R CMD build would copy gigabytes of
# them before .Rbuildignore drops them).  The copy carries the core in
# inst/python, pip-installable there (install_bngrad() installs it from the
# installed package): python/ stays its one source in git, and the
# pyproject is the root one with the package directory pointed at "." (and
# no readme, which stays at the root).
$(TARBALL): $(R_SOURCES) $(PY_SOURCES) $(BUILD)/r-deps.stamp
	@rm -rf $(BUILD)/src && mkdir -p $(BUILD)/src/inst/python
	tar --exclude='./.venv*' --exclude='./$(BUILD)' --exclude='./.git' -cf - . | tar -xf - -C $(BUILD)/src
	tar --exclude=__pycache__ --exclude='*.py[co]' -C python -cf - bngrad | tar -xf - -C $(BUILD)/src/inst/python
	sed -e 's|^package-dir = { "" = "python" }$$|package-dir = { "" = "." }|' -e '/^readme = /d' \
	  pyproject.toml > $(BUILD)/src/inst/python/pyproject.toml
	@grep -q '^package-dir = { "" = "." }$$' $(BUILD)/src/inst/python/pyproject.toml || \
	  { echo "pyproject.toml: no package-dir line to point at inst/python"; exit 1; }
	cd $(BUILD) && R CMD build --no-build-vignettes src >/dev/null

$(BUILD)/r-install.stamp: $(TARBALL)
	@mkdir -p $(RLIB)
	R CMD INSTALL -l $(RLIB) $(TARBALL)
	@touch $@

pytest: $(VENV)/core.stamp
	$(PY) -m pytest -q -p no:cacheprovider

# The core must work with NumPy 2 as well (R's reticulate 1.28 is what needs
# numpy<2): the same tests in a venv with current NumPy, own numba cache.
NP2_VENV := .venv-np2
$(NP2_VENV)/stamp: $(PY_SOURCES)
	@test -x $(NP2_VENV)/bin/python || $(PYTHON) -m venv $(NP2_VENV)
	$(NP2_VENV)/bin/pip install -q --disable-pip-version-check "numpy>=2" numba scipy threadpoolctl pytest hypothesis scikit-learn pandas $(DASK_PACKAGES_NP2)
	$(NP2_VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	rm -rf $(NP2_VENV)/numba-cache
	@touch $@

pytest-numpy2: $(NP2_VENV)/stamp
	NUMBA_CACHE_DIR=$(CURDIR)/$(NP2_VENV)/numba-cache $(NP2_VENV)/bin/python -m pytest -q -p no:cacheprovider

testthat: install
	Rscript tests/run_testthat.R

# R CMD check in $(BUILD)/$(1) with environment $(2): no ERROR, no WARNING
# (NOTEs are shown, not fatal).
define r_check
	@mkdir -p $(BUILD)/$(1)
	cd $(BUILD)/$(1) && $(2) R CMD check --no-manual $(CURDIR)/$(TARBALL) >check.out 2>&1 || (cat check.out; exit 1)
	@sed -n '/^Status:/p' $(BUILD)/$(1)/bngrad.Rcheck/00check.log
	@if grep -qE '(ERROR|WARNING)$$' $(BUILD)/$(1)/bngrad.Rcheck/00check.log; then \
	  cat $(BUILD)/$(1)/bngrad.Rcheck/00check.log; exit 1; fi
endef

check: $(TARBALL) $(VENV)/core.stamp
	$(call r_check,check,)

# The same for a user without the core: the examples and tests must pass.
check-nocore: $(TARBALL)
	$(call r_check,check-nocore,env -u RETICULATE_PYTHON BNGRAD_REQUIRE_CORE= BNGRAD_PYTHON_ENV=/nonexistent/bngrad-venv)

# An R user's install from the tarball alone: fresh HOME and library, no
# RETICULATE_PYTHON, install_bngrad() from PyPI (a few minutes).
test-tarball: $(TARBALL)
	scripts/test_tarball.sh $(TARBALL)

# Benchmarks (not part of test): torch (CPU build, from local disk) and jax
# live in their own venv with current numpy; they are never needed otherwise.
BENCH_VENV := .venv-bench
BENCH_UNSET := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
BENCH_ENV := $(BENCH_UNSET) NUMBA_CACHE_DIR=$(CURDIR)/$(BENCH_VENV)/numba-cache

$(BENCH_VENV)/stamp: $(PY_SOURCES)
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check torch==2.13.0 jax numba scipy threadpoolctl matplotlib
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -m bngrad.warmup --fresh
	@touch $@

bench: $(BENCH_VENV)/stamp install bench-panel bench-sweep bench-fit-speed bench-bridge bench-busy bench-dask
	$(BENCH_ENV) $(BENCH_VENV)/bin/python bench/bench_gradients.py
	# a gradient right after NumPy's own products: NumPy 2's OpenBLAS and NumPy 1.26's
	$(BENCH_ENV) $(BENCH_VENV)/bin/python bench/bench_after_numpy.py
	$(BENCH_UNSET) $(PY) bench/bench_after_numpy.py
	# the project's venv and the cache make warmed for it, as a user has them
	$(BENCH_UNSET) $(PY) bench/bench_memory.py
	$(BENCH_UNSET) $(PY) bench/bench_startup.py --rscript

clean:
	rm -rf $(BUILD) $(VENV) $(BENCH_VENV) $(NP2_VENV) .hypothesis

# Issue 10's panels: bn_fit against tuned nnet on R's data sets, BNRegressor
# against scikit-learn's estimators on its own.
bench-panel: install $(BUILD)/r-bench.stamp
	$(BENCH_UNSET) Rscript bench/fit_panel.R
	$(BENCH_UNSET) $(PY) bench/fit_panel.py
	$(BENCH_UNSET) $(PY) bench/wide_few_rows.py

# Issue 10's goals on data no one chose: every data frame of R's packages
# not in the panel (bench/fit_sweep.R).
bench-sweep: install $(BUILD)/r-bench.stamp
	$(BENCH_UNSET) Rscript bench/fit_sweep.R
	$(BENCH_UNSET) Rscript bench/fit_sweep.R more

# docs/fitting.md's check on the 444 data sets of the panel and both sweeps of
# at most 1000 rows (5 splits each): nnet's oracle once, in R (fit-many-data,
# ~4 min), then the default fit in Python on the same designs and splits
# (fit-many, ~2 min): the ratios a change to the default fit is measured by.
FIT_MANY := $(BUILD)/fit_many
$(FIT_MANY)/done: bench/fit_many.R bench/panel.R | $(BUILD)/r-bench.stamp
	$(BENCH_UNSET) Rscript bench/fit_many.R $(FIT_MANY)
	@touch $@
fit-many-data: install $(FIT_MANY)/done
fit-many: fit-many-data
	$(BENCH_UNSET) $(PY) bench/fit_many.py $(FIT_MANY)

# Issue 13: a fit iteration in gradient calls, two BLAS settings; bn_fit vs nnet.
bench-fit-speed: install
	$(BENCH_UNSET) $(PY) bench/bench_fit_speed.py
	$(BENCH_UNSET) Rscript bench/fit_speed_nnet.R

# The panel's and the sweep's data sets: Debian's MASS, mlbench, carData, the
# recommended packages the sweep reads, and its second set's (only if missing).
# (Debian's name of each: r-cran- and the R name in lower case)
BENCH_R_PACKAGES := MASS mlbench carData boot nlme rpart lattice survival cluster \
  AER robustbase quantreg modeldata palmerpenguins ggplot2 earth lme4 mlmRev plm sandwich \
  vegan pscl lmtest TH.data ipred multcomp geepack clubSandwich robumeta mclust systemfit \
  timereg mets
$(BUILD)/r-bench.stamp: Makefile
	@if ! Rscript -e 'for (p in strsplit("$(BENCH_R_PACKAGES)", " ")[[1]]) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1; then \
	  $(SUDO) apt-get install -y -qq $(addprefix r-cran-,$(shell echo $(BENCH_R_PACKAGES) | tr A-Z a-z)); fi
	@touch $@

# R's side of a call (the project's venv, as R users have it)
bench-bridge: install
	Rscript bench/bench_bridge.R

bench-busy: install
	Rscript bench/bench_busy.R

# Issue 12: gradients and fits at 1e7 rows in memory and on Dask (threads,
# LocalCluster of 1 and 2 workers), and a compute's overhead at small N: the
# project's venv, which has bngrad[dask].  About 3 minutes on 2 cores.
bench-dask: install
	$(BENCH_UNSET) $(PY) bench/bench_dask.py
