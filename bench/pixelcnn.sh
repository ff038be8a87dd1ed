#!/bin/bash
# bench/pixelcnn.sh - genwave's Gated PixelCNN (bench_pixelcnn) and the
# PyTorch peer (shared/peers/pixelcnn_peer.py train / sample) in one
# invocation, alternately (A B, then B A in the next repeat, ...), N
# repeats, one table of medians [min..max] over the repeats and the ratios
# genwave / PyTorch:
#   training    pixelcnn-small, batch 16, forward + backward + Adam,
#               examples/s at each thread count (genwave: OpenBLAS threads,
#               the training arena has no thread option of its own; peer:
#               torch threads)
#   sampling    one 64 x 64 image on one thread: genwave's cached sampler
#               (whole image timed) against the peer's naive sampler (a
#               full forward per pixel, its first --rows rows timed and the
#               image extrapolated); the ratio is the speed-up per image
# Wall time is the figure; genwave's CPU time is printed beside it (the
# peer reports none). Builds nothing.
#
#   bench/pixelcnn.sh [options] [BUILD_DIR=build]
#     --repeats N    repeats of the A B sequence (default 3)
#     --threads L    training thread counts (default 1,2)
#     --steps S      genwave's timed training steps per run (default 3,
#                    after 1 warm-up; ~2 s each)
#     --peer-steps S the peer's timed training steps (default 1, after 1
#                    warm-up; ~7 s each on one core)
#     --rows R       rows the peer samples and times (default 2, ~0.14 s
#                    per pixel: 128 pixels)
#     --images N     images genwave samples per run (default 5)
#     --precision L  genwave's training precisions (default f32,bf16: bf16 is
#                    the convolutions' products in bfloat16, `train pixelcnn
#                    --precision bf16`; f32 where the CPU lacks AVX512_BF16,
#                    and the table says so); the peer is f32 throughout
#     --quick        smoke test: 1 repeat, 1 step, 1 row, 2 images
#     --keep DIR     keep the raw logs (RESULT lines) in DIR
#
# The peer runs only when Debian's python3-torch imports under
# /usr/bin/python3 (nothing is installed here); otherwise the table says the
# peer is unavailable and shows genwave's figures alone. With the peer, the
# defaults take about 3-3.5 minutes (the peer's 2 s start-up, 2 training
# steps per thread count and 128 naive pixels per repeat are most of it).
# PEERS_DIR overrides where pixelcnn_peer.py lives (default ../shared/peers
# beside the repository, else /work/shared/peers).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
REPEATS=3 THREADS=1,2 STEPS=3 PEER_STEPS=1 ROWS=2 IMAGES=5 KEEP= BUILD= PRECISIONS=f32,bf16
usage() { sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --repeats) REPEATS=${2:?}; shift ;;
        --threads) THREADS=${2:?}; shift ;;
        --steps) STEPS=${2:?}; shift ;;
        --peer-steps) PEER_STEPS=${2:?}; shift ;;
        --rows) ROWS=${2:?}; shift ;;
        --images) IMAGES=${2:?}; shift ;;
        --precision) PRECISIONS=${2:?}; shift ;;
        --keep) KEEP=${2:?}; shift ;;
        --quick) REPEATS=1 STEPS=1 PEER_STEPS=1 ROWS=1 IMAGES=2 ;;
        -h|--help) usage ;;
        -*) echo "bench/pixelcnn.sh: unknown option $1" >&2; usage ;;
        *) BUILD=$1 ;;
    esac
    shift
done
for v in "$REPEATS" "$STEPS" "$PEER_STEPS" "$ROWS" "$IMAGES"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench/pixelcnn.sh: '$v' is not a positive integer" >&2; exit 2; }
done
[[ $THREADS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench/pixelcnn.sh: --threads '$THREADS' is not a list like 1,2" >&2; exit 2; }
[[ $PRECISIONS =~ ^(f32|bf16)(,(f32|bf16))*$ ]] || { echo "bench/pixelcnn.sh: --precision '$PRECISIONS' is not a list of f32 and bf16" >&2; exit 2; }
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BIN=$BUILD/bench_pixelcnn
[ -x "$BIN" ] || { echo "bench/pixelcnn.sh: $BIN not built (cmake --build $BUILD --target bench_pixelcnn)" >&2; exit 2; }
PEERS=${PEERS_DIR:-$ROOT/../shared/peers}
[ -f "$PEERS/pixelcnn_peer.py" ] || PEERS=/work/shared/peers
PY=/usr/bin/python3
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && OUT=$(cd "$KEEP" && pwd) || exit 2
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/gw_pixelcnn_bench.XXXXXX")
    trap 'rm -rf "$OUT"' EXIT
fi
PEER=
if [ ! -f "$PEERS/pixelcnn_peer.py" ]; then
    PEER_WHY="$PEERS/pixelcnn_peer.py is missing"
elif ! "$PY" -c 'import torch' 2>"$OUT/torch.err"; then
    PEER_WHY="$PY cannot import torch ($(tail -1 "$OUT/torch.err"))"
else
    PEER=1
fi

# each run appends its output to $OUT/<side>.<repeat>.txt; a failure stops all
run() { # side repeat command...
    local side=$1 rep=$2
    shift 2
    echo "+ $*" >>"$OUT/commands.txt"
    "$@" >>"$OUT/$side.$rep.txt" 2>>"$OUT/stderr.txt" || {
        echo "bench/pixelcnn.sh: failed: $* (see $OUT/stderr.txt)" >&2
        tail -3 "$OUT/stderr.txt" >&2
        exit 1
    }
}
gw_train() {
    for p in ${PRECISIONS//,/ }; do
        run gw "$1" "$BIN" --mode train --threads "$THREADS" --steps "$STEPS" --warmup 1 --precision "$p"
    done
}
gw_sample() { run gw "$1" "$BIN" --mode sample --images "$IMAGES"; }
peer_train() {
    [ -n "$PEER" ] || return 0
    for t in ${THREADS//,/ }; do
        run peer "$1" "$PY" "$PEERS/pixelcnn_peer.py" train --threads "$t" --steps "$PEER_STEPS" --warmup 1
    done
}
peer_sample() { [ -n "$PEER" ] && run peer "$1" "$PY" "$PEERS/pixelcnn_peer.py" sample --threads 1 --rows "$ROWS"; }

CPU_NAME=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
CPU_FAM=$(lscpu | sed -n 's/^CPU family: *//p' | head -1)
CPU_MOD=$(lscpu | sed -n 's/^Model: *//p' | head -1)
echo "bench/pixelcnn.sh: cpu \"$CPU_NAME\" (family $CPU_FAM, model $CPU_MOD), $(nproc) cpu(s)," \
     "affinity $(taskset -pc $$ 2>/dev/null | sed 's/.*: //'); $REPEATS repeat(s), threads $THREADS;" \
     "peer: $([ -n "$PEER" ] && echo "PyTorch $("$PY" -c 'import torch; print(torch.__version__)')" || echo "unavailable: $PEER_WHY")"
echo "load before: $(cat /proc/loadavg)"
echo "$PRECISIONS" >"$OUT/precisions"
T0=$(date +%s)
for rep in $(seq 1 "$REPEATS"); do
    echo "== repeat $rep/$REPEATS $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ $((rep % 2)) = 1 ]; then # A B
        gw_train "$rep"; peer_train "$rep"; gw_sample "$rep"; peer_sample "$rep"
    else # B A
        peer_train "$rep"; gw_train "$rep"; peer_sample "$rep"; gw_sample "$rep"
    fi
done
echo "load after: $(cat /proc/loadavg); $(($(date +%s) - T0)) s"

"$PY" - "$OUT" "$REPEATS" "${PEER:-0}" <<'EOF'
import json, statistics, sys
out, reps, peer_on = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"

def results(side):
    rows = []
    for rep in range(1, reps + 1):
        try:
            rows += [json.loads(l[7:]) for l in open(f"{out}/{side}.{rep}.txt") if l.startswith("RESULT ")]
        except OSError:
            pass
    return rows

gw, peer = results("gw"), results("peer")
cpu = next((l[5:].strip() for l in open(f"{out}/gw.1.txt") if l.startswith("cpu: ")), "?")

def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"

def span(v):
    return f"{fmt(statistics.median(v))} [{fmt(min(v))}..{fmt(max(v))}]" if v else "-"

def med(v):
    return statistics.median(v) if v else None

print(f"\nmedian [min..max] over {reps} repeat(s) of each run's median; cpu (cpuid): {cpu}")
if not peer_on:
    print("PyTorch peer unavailable: genwave's figures alone, no ratios")
print("\n| benchmark | unit | genwave | genwave by CPU time | PyTorch | genwave / PyTorch | by CPU time / PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- |")
threads = sorted({r["threads"] for r in gw if r["mode"] == "train"})
precs = sorted({r.get("precision", "f32") for r in gw if r["mode"] == "train"}, key=lambda x: x != "f32")
for t in threads:
    p = [r["examples_per_s"] for r in peer if r["mode"] == "train" and r["threads"] == t]
    for pr in precs:
        rows = [r for r in gw if r["mode"] == "train" and r["threads"] == t and r.get("precision", "f32") == pr]
        if not rows:
            continue
        g = [r["examples_per_s"] for r in rows]
        gc = [r["examples_per_s_by_cpu"] for r in rows]
        ratio = f"{med(g) / med(p):.2f}x" if p else "-"
        cratio = f"{med(gc) / med(p):.2f}x" if p else "-"
        print(f"| pixelcnn-small training, batch 16, {t} thr, genwave {pr} | examples/s | {span(g)} | "
              f"{fmt(med(gc))} | {span(p) if p else 'unavailable'} | {ratio} | {cratio} |")
if "bf16" in {x.strip() for x in open(f"{out}/precisions").read().split(",")} and "bf16" not in precs:
    print("(bf16 asked for, but this CPU has no AVX512_BF16: its runs were f32)")
g = [r["s_per_image"] for r in gw if r["mode"] == "sample"]
gc = [r["cpu_s_per_image"] for r in gw if r["mode"] == "sample"]
p = [r["naive_s_per_image"] for r in peer if r["mode"] == "sample"]
ratio = f"{med(p) / med(g):,.0f}x faster" if p else "-"
cratio = f"{med(p) / med(gc):,.0f}x faster" if p else "-"
print(f"| pixelcnn-small sampling, one 64x64 image, 1 thr (genwave cached, PyTorch naive) | s per image | "
      f"{span(g)} | {fmt(med(gc))} | {span(p) if p else 'unavailable'} | {ratio} | {cratio} |")
gs = [r["us_per_pixel"] for r in gw if r["mode"] == "sample"]
pp = [r["ms_per_pixel"] for r in peer if r["mode"] == "sample"]
print(f"\nper pixel: genwave {med(gs):.1f} us (cached)" +
      (f", PyTorch {med(pp):.1f} ms (naive, {peer[0].get('torch', '?')})" if pp else ""))
EOF
[ -n "$KEEP" ] && echo "raw logs: $OUT"
exit 0
