#!/usr/bin/env bash
# Installs everything cfpoison needs on Debian 12 / R 4.2, then the package itself.
# Debian's r-cran-* packages are built for this R; CRAN only for what Debian lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  r-base-dev
  r-cran-rcpp r-cran-rcpparmadillo r-cran-cli r-cran-rlang r-cran-matrix
  r-cran-dslabs r-cran-testthat r-cran-roxygen2 r-cran-pkgbuild
  r-cran-future r-cran-future.apply r-cran-progressr r-cran-ggplot2 r-cran-knitr r-cran-rmarkdown pandoc
  r-cran-tibble r-cran-generics
  r-cran-batchtools r-cran-future.batchtools # grids on a cluster scheduler (tests/testthat/test-slurm.R)
  r-cran-data.table # read_movielens()'s fast reader
  qpdf # R CMD check --as-cran compresses the vignettes' PDFs with it
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Not packaged by Debian: softImpute (the reference solver the tests compare
# against, and an external victim) and recosystem (LIBMF, an external victim;
# its CRAN version 0.5.1 needs R >= 3.3).
Rscript -e 'for (p in c("softImpute", "recosystem")) if (!requireNamespace(p, quietly = TRUE)) install.packages(p)'

R CMD INSTALL --preclean --no-multiarch . >/dev/null
echo "cfpoison installed."
