#!/usr/bin/env bash
# Builds cfpoison with AddressSanitizer and UndefinedBehaviorSanitizer into a
# private library and runs the test suite (bad-input tests included) and every
# help page's examples under them. Fails on any sanitizer report, failed test
# or failed example, and ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pkg" "$work/lib"

# Build from a copy of the package's files, so that sanitized objects never
# land in src/ where a later plain install would pick them up.
git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$work/pkg"
# No test load: R is not built with ASan, and loading the library needs the
# runtime preloaded (below).
R_MAKEVARS_USER="$PWD/scripts/Makevars.sanitize" \
  R CMD INSTALL --no-test-load --no-multiarch --library="$work/lib" "$work/pkg" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "sanitize: the sanitized build failed"; exit 1; }

# R leaks by design, so no leak checks. Reports go to stderr, which is logged
# and searched; a child R process (a future worker) that stops on one fails
# its test instead.
sanitized() {
  env LD_PRELOAD="$(gcc -print-file-name=libasan.so)" \
    ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}" "$@"
}

sanitized Rscript scripts/run-tests.R 2>&1 | tee "$work/tests.log"
tests_status=${PIPESTATUS[0]}
sanitized Rscript scripts/run-examples.R 2>&1 | tee "$work/examples.log"
examples_status=${PIPESTATUS[0]}

reports=$(cat "$work/tests.log" "$work/examples.log" | grep -c -e "runtime error:" -e "ERROR: AddressSanitizer")
tests_line=$(grep -E "^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" "$work/tests.log" | tail -n 1)
examples_line=$(grep -E "^examples: " "$work/examples.log" | tail -n 1)
minutes=$(awk -v s=$((SECONDS - start)) 'BEGIN { printf "%.1f", s / 60 }')
echo "sanitize: $reports sanitizer reports; tests: ${tests_line:-no result (R aborted?)};" \
  "${examples_line:-examples: no result (R aborted?)}; $minutes min"
[ "$reports" -eq 0 ] && [ "$tests_status" -eq 0 ] && [ "$examples_status" -eq 0 ]
