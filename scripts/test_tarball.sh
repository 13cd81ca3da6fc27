#!/usr/bin/env bash
# What an R user does with the source tarball alone, in a fresh HOME and R
# library with RETICULATE_PYTHON unset: R CMD INSTALL, then
# bngrad::install_bngrad() (a virtualenv, numpy<2/numba/scipy/threadpoolctl
# from PyPI, the core from the tarball's copy, the numba cache), then bn_grad
# against the pure-R loops; install_bngrad(dask = TRUE), then bn_fit_parquet.
# Also: an empty virtualenv left behind (as a failed pip leaves one) is
# rebuilt, install_bngrad(envname = ) is what a new session loads, and the
# core imports and computes where no numba cache location is writable.
#   scripts/test_tarball.sh build/bngrad_0.1.0.tar.gz      (make test-tarball)
set -euo pipefail
tarball=$(realpath "$1")
phases="$(cd "$(dirname "$0")" && pwd)/test_tarball.R"
start=$SECONDS
work=$(mktemp -d /tmp/bngrad-tarball.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
chmod 755 "$work"        # the read-only check at the end reads it as another user

export HOME=$work/home
export WORKON_HOME=$HOME/.virtualenvs RETICULATE_VIRTUALENV_ROOT=$HOME/.virtualenvs
export R_LIBS=$work/lib
unset RETICULATE_PYTHON BNGRAD_PYTHON_ENV BNGRAD_REQUIRE_CORE NUMBA_CACHE_DIR R_LIBS_USER \
  XDG_CACHE_HOME XDG_CONFIG_HOME XDG_DATA_HOME
mkdir -p "$HOME" "$R_LIBS" "$WORKON_HOME"
cd "$HOME"               # not in the checkout, whose pyproject.toml reticulate would read

echo "== R CMD INSTALL $(basename "$tarball") into a new library"
R CMD INSTALL -l "$R_LIBS" "$tarball" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

echo "== an empty virtualenv where install_bngrad() will look"
python3 -m venv --without-pip "$WORKON_HOME/r-bngrad"
Rscript "$phases" partial

echo "== install_bngrad(), then bn_grad in the same session"
Rscript "$phases" install

echo "== install_bngrad(dask = TRUE), then bn_fit_parquet"
Rscript "$phases" install-dask

echo "== install_bngrad(envname = <a path>), then a new session loads that one"
Rscript "$phases" install-elsewhere "$HOME/elsewhere"
Rscript "$phases" load-elsewhere "$HOME/elsewhere"

echo "== no writable numba cache (read-only install and HOME, NUMBA_CACHE_DIR unset)"
py=$HOME/elsewhere/bin/python
code='import bngrad, numpy as np
p = bngrad.init_params(3, 4)
X = np.arange(60.0).reshape(20, 3) % 7
print("gradient loss", bngrad.gradients(X, np.arange(20.0), p).loss)'
if [ "$(id -u)" = 0 ]; then        # root writes anywhere: be nobody instead
  chmod a+rx "$HOME" && chmod -R a+rX "$HOME/elsewhere"
  as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent)
else
  chmod -R a-w "$HOME/elsewhere" && mkdir -m 555 "$work/rohome"
  as_other=(env HOME="$work/rohome")
fi
out=$("${as_other[@]}" "$py" -c "$code" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
grep -q "finds no writable cache location" <<<"$out" || { echo "FAILED: no warning"; exit 1; }
grep -q "^gradient loss " <<<"$out" || { echo "FAILED: no gradient"; exit 1; }

echo "test_tarball: passed in $((SECONDS - start)) s"
