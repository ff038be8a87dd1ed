#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. scripts/setup.sh (install missing packages, Release build in build/)
#   2. every test in build/ (unit, slow learning tests, CLI tests)
#   3. a second build with AddressSanitizer + UBSan in build-asan/ running the
#      unit tests (the slow learning runs are too slow under ASan and are the
#      same code the unit tests cover); the unit tests include every fuzz
#      target's regression pass over its corpus and crash reproducers
#   4. a short libFuzzer run of each fuzz target (scripts/fuzz.sh, clang,
#      30 s each; the long campaign is the same script with a longer time)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh

echo "test: running the full suite in build/"
(cd build && ctest --output-on-failure -j"$jobs")

echo "test: building with -fsanitize=address,undefined in build-asan/"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "test: running the unit tests under ASan/UBSan"
# OpenBLAS's own threads confuse LeakSanitizer at exit; genwave's leaks are
# still caught because every test frees what it allocates before returning.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OPENBLAS_NUM_THREADS=1 \
  ctest --output-on-failure -j"$jobs" -L unit)
echo "test: fuzzing each target for 30 s (scripts/fuzz.sh)"
scripts/fuzz.sh 30
echo "test: all passed"
