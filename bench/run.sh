#!/bin/bash
# bench/run.sh - genwave's benchmarks and their peers (shared/peers: PyTorch
# and blas_peak) in one invocation, interleaved A B A B, N repeats, one table
# of medians [min..max] (wall time; genwave's by CPU time too), ratios to
# the peer and GFLOP/s against the BLAS peak measured in the same run. Builds nothing: pass a build directory that has
#   bench_wavenet_train bench_wavenet_generate bench_spec_train
#
#   bench/run.sh [options] [BUILD_DIR=build]
#     --threads T    threads for training and BLAS (default 1; generation is
#                    one thread by design)
#     --repeats N    repeats of the whole A B A B sequence (default 3)
#     --steps S      timed training steps per run (default 10; spec models 2S)
#     --seconds X    audio seconds per voice per generation run (default 1)
#     --models LIST  wavenet models (default small,medium)
#     --weights LIST generation weight types (default f32,f16,bf16)
#     --plans LIST   generation plans instead (TYPE/ISA/PREFETCH,... or
#                    measure: bench_wavenet_generate --plans), one row each
#     --gen-only     generation alone (no training benches, no BLAS peak)
#     --quick        smoke test: 1 repeat, 2 steps, 0.05 s, wavenet-small
#     --keep DIR     keep the raw logs (RESULT lines) in DIR
#
# Pin it to a core from outside, e.g. `taskset -c 1 bash bench/run.sh build`:
# every child inherits the affinity. The peers run only when Debian's
# python3-torch imports under /usr/bin/python3; otherwise genwave alone.
# Env: BENCH_STEPS, BENCH_MODELS, BENCH_THREADS (defaults of the options),
# PEERS_DIR (default ../shared/peers beside the repo). OpenBLAS kernels
# follow the environment (this machine sets OPENBLAS_CORETYPE=Haswell).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
STEPS=${BENCH_STEPS:-10}
MODELS=${BENCH_MODELS:-small,medium}
WEIGHTS=f32,f16,bf16
PLANS=
GEN_ONLY=
THREADS=${BENCH_THREADS:-1}
REPEATS=3
SECONDS_GEN=1
KEEP=
BUILD=
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --threads) THREADS=${2:?}; shift ;;
        --repeats) REPEATS=${2:?}; shift ;;
        --steps) STEPS=${2:?}; shift ;;
        --seconds) SECONDS_GEN=${2:?}; shift ;;
        --models) MODELS=${2:?}; shift ;;
        --weights) WEIGHTS=${2:?}; shift ;;
        --plans) PLANS=${2:?}; shift ;;
        --gen-only) GEN_ONLY=1 ;;
        --keep) KEEP=${2:?}; shift ;;
        --quick) REPEATS=1 STEPS=2 SECONDS_GEN=0.05 MODELS=small ;;
        -h|--help) usage ;;
        -*) echo "bench/run.sh: unknown option $1" >&2; usage ;;
        *) BUILD=$1 ;;
    esac
    shift
done
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
for v in "$THREADS" "$REPEATS" "$STEPS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: '$v' is not a positive integer" >&2; exit 2; }
done
[[ $SECONDS_GEN =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "bench/run.sh: --seconds '$SECONDS_GEN' is not a number" >&2; exit 2; }
BENCHES="bench_wavenet_train bench_wavenet_generate bench_spec_train"
[ -n "$GEN_ONLY" ] && BENCHES=bench_wavenet_generate
for b in $BENCHES; do
    [ -x "$BUILD/$b" ] || {
        echo "bench/run.sh: $BUILD/$b not built (cmake --build $BUILD --target $b)" >&2
        exit 2
    }
done
PEERS=${PEERS_DIR:-$ROOT/../shared/peers}
[ -d "$PEERS" ] || PEERS=/work/shared/peers
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && OUT=$(cd "$KEEP" && pwd) || exit 2
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/gw_bench.XXXXXX")
    trap 'rm -rf "$OUT"' EXIT
fi
export GW_SOURCE_DIR=$ROOT
TORCH=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$PEERS/wavenet_peer.py" ] && TORCH=1
BLASPEAK=
if [ -f "$PEERS/blas_peak.c" ] && gcc -O2 -o "$OUT/blas_peak" "$PEERS/blas_peak.c" -lopenblas 2>"$OUT/blas_peak.err"; then
    BLASPEAK=$OUT/blas_peak
else
    echo "(blas_peak not built: $(head -1 "$OUT/blas_peak.err" 2>/dev/null); no GFLOP/s share of the peak)"
fi
SPEC_STEPS=$((STEPS * 2)) # spec steps are shorter than WaveNet's

# Each run appends to $OUT/<side>.<repeat>.txt; a failing bench stops the run.
run() { # side repeat command...
    local side=$1 rep=$2
    shift 2
    echo "+ $*" >>"$OUT/commands.txt"
    "$@" >>"$OUT/$side.$rep.txt" 2>>"$OUT/stderr.txt" || {
        echo "bench/run.sh: failed: $* (see $OUT/stderr.txt)" >&2
        tail -3 "$OUT/stderr.txt" >&2
        exit 1
    }
}
PY=/usr/bin/python3
echo "bench/run.sh: $REPEATS repeat(s), threads $THREADS, $STEPS steps, $SECONDS_GEN s per voice," \
     "models $MODELS, affinity $(taskset -pc $$ 2>/dev/null | sed 's/.*: //'), peers $([ $TORCH = 1 ] && echo PyTorch || echo none)"
echo "load before: $(cat /proc/loadavg)"
for rep in $(seq 1 "$REPEATS"); do
    echo "== repeat $rep/$REPEATS $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    for m in ${MODELS//,/ }; do
        [ -z "$GEN_ONLY" ] && run gw "$rep" "$BUILD/bench_wavenet_train" --models "$m" --threads "$THREADS" --steps "$STEPS" --mode kernel
        [ -z "$GEN_ONLY" ] && [ $TORCH = 1 ] && run peer "$rep" $PY "$PEERS/wavenet_peer.py" train --config "wavenet-$m" \
            --threads "$THREADS" --steps "$STEPS" --warmup 3
        if [ -n "$PLANS" ]; then gen_what=(--plans "$PLANS"); else gen_what=(--weights "$WEIGHTS"); fi
        run gw "$rep" "$BUILD/bench_wavenet_generate" --models "$m" --batches 1,8 "${gen_what[@]}" \
            --seconds "$SECONDS_GEN" --runs 1
        [ $TORCH = 1 ] && run peer "$rep" $PY "$PEERS/wavenet_peer.py" generate --config "wavenet-$m" \
            --threads 1 --seconds "$SECONDS_GEN" --batches 1,8
    done
    [ -n "$GEN_ONLY" ] && continue
    run gw "$rep" "$BUILD/bench_spec_train" "$SPEC_STEPS" "$THREADS"
    if [ $TORCH = 1 ]; then
        for m in specgan-small specvae-small; do
            run peer "$rep" $PY "$PEERS/spec_peer.py" --model "$m" --threads "$THREADS" --steps "$SPEC_STEPS" --warmup 3
        done
    fi
    [ -n "$BLASPEAK" ] && run blas "$rep" env OPENBLAS_NUM_THREADS="$THREADS" "$BLASPEAK"
done
echo "load after: $(cat /proc/loadavg)"

$PY - "$OUT" "$REPEATS" "$THREADS" <<'EOF'
import json, re, statistics, sys
out, reps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
TARGETS = {("wavenet-small", 1): 150000, ("wavenet-small", 8): 32000, ("wavenet-medium", 1): 24000}

def lines(side, rep):
    try:
        return open(f"{out}/{side}.{rep}.txt").read().splitlines()
    except OSError:
        return []

# key -> list over repeats of (value, gflops or None)
gw, peer, blas = {}, {}, {"sgemm": [], "fma": []}
for rep in range(1, reps + 1):
    text = lines("gw", rep)
    for i, l in enumerate(text):
        if l.startswith("RESULT "):
            r = json.loads(l[7:])
            if r.get("bench") == "wavenet_train":
                g = re.search(r"~\s*([\d.]+) GFLOP/s", text[i - 1])
                gw.setdefault(("train", r["model"]), []).append(
                    (r["target_samples_per_s"], float(g.group(1)) if g else None,
                     r["target_samples_per_s"] * r["ms_per_step"] / r["cpu_ms_per_step"]))
            elif r.get("mode") == "generate":
                w = r.get("plan") or r["impl"].split("-")[-1]
                gw.setdefault(("gen", r["model"], r["batch"], w), []).append(
                    (r["samples_per_s_per_voice"], r["gflops"], r["by_cpu_time"]))
        m = re.match(r"(spec\w+-small)\s+(?:(?:f32|bf16)\s+)?threads (\d+):.*?ms/step.*?,\s*([\d.]+) examples/s"
                     r".*= ([\d.]+) examples/s", l)
        if m:
            gw.setdefault(("spec", m.group(1)), []).append((float(m.group(3)), None, float(m.group(4))))
    for l in lines("peer", rep):
        if not l.startswith("RESULT "):
            continue
        r = json.loads(l[7:])
        if r["model"].startswith("spec"):
            peer.setdefault(("spec", r["model"]), []).append((r["examples_per_s"], None))
        elif r["mode"] == "train":
            peer.setdefault(("train", r["model"]), []).append((r["target_samples_per_s"], r["approx_gflops"]))
        elif r["mode"] == "generate":
            peer.setdefault(("gen", r["model"], r["batch"]), []).append(
                (r["samples_per_s_per_voice"], r["gflops"]))
    for l in lines("blas", rep):
        m = re.match(r"sgemm\s+1024x1024x1024\s+([\d.]+)", l)
        if m:
            blas["sgemm"].append(float(m.group(1)))
        m = re.match(r"# FMA peak, 1 core, AVX-512:\s+([\d.]+)", l)
        if m:
            blas["fma"].append(float(m.group(1)))

def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"

def span(runs):
    v = [x[0] for x in runs]
    return f"{fmt(statistics.median(v))} [{fmt(min(v))}..{fmt(max(v))}]" if v else "-"

def med(runs, k=0):
    v = [x[k] for x in runs if x[k] is not None]
    return statistics.median(v) if v else None

peak = statistics.median(blas["sgemm"]) if blas["sgemm"] else None
fma = statistics.median(blas["fma"]) if blas["fma"] else None
print(f"\nmedian [min..max] of {reps} run(s), threads {threads}; "
      f"BLAS peak (sgemm 1024^3, OpenBLAS, {threads} thread): "
      + (f"{peak:.1f} GFLOP/s [{min(blas['sgemm']):.1f}..{max(blas['sgemm']):.1f}]" if peak else "not measured")
      + (f"; AVX-512 FMA peak of one core {fma:.1f} GFLOP/s" if fma else ""))
print("\n| benchmark | unit | genwave | genwave by CPU time | PyTorch | genwave / PyTorch | GFLOP/s genwave (PyTorch) | % of BLAS peak | % of FMA peak | vs target |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
def row(name, unit, g, p, target=None):
    gm, pm = med(g), (med(p) if p else None)
    ratio = f"{gm / pm:.2f}x" if gm and pm else "-"
    gf, pf = med(g, 1), (med(p, 1) if p else None)
    gfs = "-" if gf is None else f"{gf:.1f}" + (f" ({pf:.1f})" if pf is not None else "")
    pct = f"{100 * gf / peak:.0f} %" if gf is not None and peak else "-"
    fpct = f"{100 * gf / fma:.0f} %" if gf is not None and fma else "-"
    c = med(g, 2) if g and len(g[0]) > 2 else None
    cpu = fmt(c) if c else "-"
    tgt = f"{gm / target:.2f} of {target:,}" if target and gm else "-"
    print(f"| {name} | {unit} | {span(g)} | {cpu} | {span(p) if p else '-'} | {ratio} | {gfs} | {pct} | {fpct} | {tgt} |")

for key in sorted(k for k in gw if k[0] == "train"):
    row(f"{key[1]} training, {threads} thr", "target samples/s", gw[key], peer.get(key))
for key in sorted((k for k in gw if k[0] == "gen"), key=lambda k: (k[1], k[2], not k[3].startswith("f32"), k[3])):
    _, model, batch, w = key
    row(f"{model} generation, {batch} voice{'s' if batch > 1 else ''}, {w}", "samples/s per voice",
        gw[key], peer.get(("gen", model, batch)), TARGETS.get((model, batch)))
for key in sorted(k for k in gw if k[0] == "spec"):
    row(f"{key[1]} training, {threads} thr", "examples/s", gw[key], peer.get(key))
EOF
[ -n "$KEEP" ] && echo "raw logs: $OUT"
exit 0
