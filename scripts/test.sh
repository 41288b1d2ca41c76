#!/usr/bin/env bash
# Runs the test suite against a bounds-checked build of cfpoison (std::vector
# and Armadillo accesses checked), installed into a private library.
set -euo pipefail
cd "$(dirname "$0")/.."

lib=$(mktemp -d)
trap 'rm -rf "$lib"' EXIT
R_MAKEVARS_USER="$PWD/scripts/Makevars.check" R CMD INSTALL --preclean --no-multiarch --library="$lib" . >"$lib/install.log" 2>&1 ||
  { cat "$lib/install.log"; exit 1; }
R_LIBS="$lib${R_LIBS:+:$R_LIBS}" Rscript scripts/run-tests.R
