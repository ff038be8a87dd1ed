#!/usr/bin/env bash
# Fuzzing campaign: builds the libFuzzer targets with clang (ASan + UBSan +
# coverage) in build-fuzz/ and runs each for SECONDS (default 30) from its
# committed corpus; a crash's reproducer is written into the committed
# corpus as tests/fuzz/corpus/<name>/crash-<sha1> (commit it: every build's
# regression pass then runs it) and fails the run. Corpus growth is kept in
# build-fuzz/corpus/<name>, not committed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 1800 midi
# The long campaign: SECONDS=1800 per target, or add -fork=2 through
# GW_FUZZ_FLAGS to use both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
command -v clang >/dev/null || { echo "fuzz: clang not installed (apt-get install clang)" >&2; exit 1; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGW_PORTABLE=OFF >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.c; do t=${f##*/fuzz_}; targets+=("${t%.c}"); done
fi
status=0
for t in "${targets[@]}"; do
  cmake --build build-fuzz -j"$(nproc)" --target "fuzz_$t" >/dev/null
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz: $t for ${secs}s"
  if ! build-fuzz/fuzz_"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="tests/fuzz/corpus/$t/" ${GW_FUZZ_FLAGS:-} \
      "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>"build-fuzz/fuzz_$t.log"; then
    echo "fuzz: $t FAILED; reproducer in tests/fuzz/corpus/$t/ (log build-fuzz/fuzz_$t.log)" >&2
    # the reason, in the output a CI run keeps (the log stays in the build)
    grep -E -A12 "^(==[0-9]+==|SUMMARY|[^ #].*(abort|overflow|non-finite|not a one-line))" \
      "build-fuzz/fuzz_$t.log" | head -40 >&2 || true
    status=1
  fi
  grep -E "^(#[0-9]+ +DONE|Done [0-9]+ runs)" "build-fuzz/fuzz_$t.log" | tail -1 || true
done
exit $status
