#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. scripts/setup.sh (install missing packages, Release build in build/)
#   2. every test in build/ (unit, slow learning tests, CLI tests)
#   3. a second build with AddressSanitizer + UBSan in build-asan/ running the
#      unit tests (the slow learning runs are too slow under ASan and are the
#      same code the unit tests cover); the unit tests include every fuzz
#      target's regression pass over its corpus and crash reproducers
#   4. a ThreadSanitizer build in build-tsan/ running the threaded tests: the
#      engine (generator thread, rings), the MIDI map, the LV2 plugin through
#      liblilv (worker, state), the WaveNet stream and trainer (shard
#      threads), the PixelCNN trainer's shards, the convolutions' column
#      blocks and the training loop (OpenBLAS's pool)
#   5. a short libFuzzer run of each fuzz target (scripts/fuzz.sh, clang,
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
# (the suppressions' path is taken before the cd: $PWD inside the subshell
# would be build-asan/)
supp="$PWD/tests/lsan.supp"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions="$supp" \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OPENBLAS_NUM_THREADS=1 \
  ctest --output-on-failure -j"$jobs" -L unit)
# The "8-byte leak per LV2 load/unload" (issue "Hostile input") was libgomp
# (pulled in by libsoxr) unloaded with the plugin; genwave.lv2 now pins it.
# lv2bench loads, runs and unloads the ASan-built plugin: LeakSanitizer must
# find nothing but liblilv's own (tests/lsan.supp).
echo "test: the ASan-built plugin under lv2bench with LeakSanitizer"
LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" LV2_PATH="$PWD/build-asan/lv2:/usr/lib/lv2" \
  GW_WISDOM="$PWD/build-asan/wisdom" \
  lv2bench -b 256 -n 4800 urn:genwave:synth
echo "test: building with -fsanitize=thread in build-tsan/"
tsan_tests=(engine_test_engine engine_test_engine_noalloc engine_test_midi_map plugin_test_lv2_host
            models_test_wavenet_stream models_test_wavenet_train models_test_pixelcnn nn_test_conv2d
            train_test_trainer)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target "${tsan_tests[@]}" genwave_lv2 genwave_cli
echo "test: running the threaded tests under TSan"
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 OPENBLAS_NUM_THREADS=2 \
  ctest --output-on-failure -j"$jobs" -R "^($(IFS='|'; echo "${tsan_tests[*]}"))\$")
echo "test: fuzzing each target for 30 s (scripts/fuzz.sh)"
scripts/fuzz.sh 30
echo "test: all passed"
