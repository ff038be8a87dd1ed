#!/bin/bash
# bench/wavenet_generate.sh - genwave's fast WaveNet generation next to the
# PyTorch peer's (shared/peers/wavenet_peer.py generate), same models, same
# 1 s of audio per voice, batch 1 and 8, one thread, back to back.
#
#   bench/wavenet_generate.sh [BUILD_DIR=build] [RUNS=5] [BENCH OPTIONS...]
#
# Options after RUNS go to bench_wavenet_generate, e.g. --plans
# bf16/avx512bf16/prefetch,i8/avx512vnni/noprefetch to time given plans
# (each run of the bench visits them in turn) instead of each format on
# its default kernels.
# The peer runs only when Debian's torch imports under /usr/bin/python3
# (apt-get install python3-torch); otherwise genwave's figures alone.
# GW_PEERS overrides where wavenet_peer.py lives (default ../shared/peers
# beside the repository).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
runs=${2:-5}
case $build in /*) ;; *) build=$here/$build ;; esac
bin=$build/bench_wavenet_generate
peers=${GW_PEERS:-$here/../shared/peers}
[ -x "$bin" ] || { echo "wavenet_generate.sh: $bin not built (cmake --build $build --target bench_wavenet_generate)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$bin" --presets "$here/presets" --runs "$runs" "${@:3}" | tee -a "$log"
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$peers/wavenet_peer.py" ]; then
    for model in wavenet-small wavenet-medium; do
        /usr/bin/python3 "$peers/wavenet_peer.py" generate --config "$model" --threads 1 --seconds 1 \
            | tee -a "$log"
    done
else
    echo "(PyTorch peer skipped: /usr/bin/python3 cannot import torch, or $peers/wavenet_peer.py is missing)"
fi
python3 - "$log" <<'PY'
import json, sys
rows = [json.loads(l[7:]) for l in open(sys.argv[1]) if l.startswith("RESULT ")]
peer = {(r["model"], r["batch"]): r["samples_per_s_per_voice"] for r in rows
        if r.get("mode") == "generate" and not r.get("impl", "").startswith("genwave")}
print("\n| model | weights (plan) | voices | samples/s per voice | x real time | GFLOP/s | vs PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    if not r.get("impl", "").startswith("genwave"):
        continue
    p = peer.get((r["model"], r["batch"]))
    ratio = f"{r['samples_per_s_per_voice'] / p:.1f}x" if p else "-"
    print(f"| {r['model']} | {r.get('plan') or r['impl'].split('-')[-1]} | {r['batch']} | "
          f"{r['samples_per_s_per_voice']:.0f} | {r['x_realtime']:.2f} | {r['gflops']:.1f} | {ratio} |")
PY
