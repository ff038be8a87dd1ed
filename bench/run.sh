#!/bin/bash
# bench/run.sh [BUILD_DIR] - WaveNet benchmarks side by side with the PyTorch
# peer (shared/peers/wavenet_peer.py) run in the same invocation.
#
# Runs bench_wavenet_train (training target samples/s, wavenet-small and
# -medium, 1 and 2 threads) and, when built, bench_wavenet_generate. If
# Debian's python3-torch is importable by /usr/bin/python3, the peer's `train`
# is run right after for the same models and threads and a table of ratios is
# printed; otherwise the ratios use the peer figures recorded in
# shared/peers/README.md (printed by the benches themselves).
#
# Environment: BENCH_STEPS (default 10), BENCH_MODELS (small,medium),
# BENCH_THREADS (1,2), PEERS_DIR (default ../shared/peers beside the repo).
# OpenBLAS kernels follow the environment (this machine sets
# OPENBLAS_CORETYPE=Haswell); `env -u OPENBLAS_CORETYPE bash bench/run.sh`
# lets OpenBLAS pick its AVX-512 kernels (docs/performance.md).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${1:-$ROOT/build}
STEPS=${BENCH_STEPS:-10}
MODELS=${BENCH_MODELS:-small,medium}
THREADS=${BENCH_THREADS:-1,2}
PEERS=${PEERS_DIR:-$ROOT/../shared/peers}
[ -d "$PEERS" ] || PEERS=/work/shared/peers
OUT=$(mktemp -d "${TMPDIR:-/tmp}/gw_bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
export GW_SOURCE_DIR=$ROOT

[ -x "$BUILD/bench_wavenet_train" ] || {
    echo "bench/run.sh: $BUILD/bench_wavenet_train not built (cmake --build $BUILD --target bench_wavenet_train)" >&2
    exit 2
}
echo "== genwave WaveNet training (batch 4 x 4096 targets, Adam) =="
"$BUILD/bench_wavenet_train" --models "$MODELS" --threads "$THREADS" --steps "$STEPS" |
    tee "$OUT/genwave.txt" || exit 1
if [ -x "$BUILD/bench_wavenet_generate" ]; then
    echo "== genwave WaveNet generation =="
    "$BUILD/bench_wavenet_generate" | tee -a "$OUT/genwave.txt"
fi

if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$PEERS/wavenet_peer.py" ]; then
    echo "== PyTorch peer, same machine, same invocation =="
    for m in ${MODELS//,/ }; do
        for t in ${THREADS//,/ }; do
            /usr/bin/python3 "$PEERS/wavenet_peer.py" train --config "wavenet-$m" --threads "$t" \
                --steps "$STEPS" --warmup 3 | tee -a "$OUT/peer.txt"
        done
    done
    echo "== ratio genwave / PyTorch (target samples/s) =="
    /usr/bin/python3 - "$OUT/genwave.txt" "$OUT/peer.txt" <<'EOF'
import json, sys
def results(path):
    out = []
    for line in open(path):
        if line.startswith("RESULT "):
            out.append(json.loads(line[7:]))
    return out
gw = [r for r in results(sys.argv[1]) if r.get("bench") == "wavenet_train"]
peer = {(r["model"], r["threads"]): r for r in results(sys.argv[2]) if r.get("mode") == "train"}
for r in gw:
    p = peer.get((r["model"], r["threads"]))
    if p:
        print(f'{r["model"]:15s} threads {r["threads"]} {r["mode"]:6s}  genwave {r["target_samples_per_s"]:8.0f}'
              f'  PyTorch {p["target_samples_per_s"]:8.0f}  x{r["target_samples_per_s"] / p["target_samples_per_s"]:.2f}')
EOF
else
    echo "(python3-torch not installed: ratios above use shared/peers/README.md's recorded figures)"
fi
