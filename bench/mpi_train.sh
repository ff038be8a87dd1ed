#!/bin/bash
# bench/mpi_train.sh - data-parallel training on one machine (issue 18,
# docs/distributed-training.md): training throughput of
#   1x1  one process, one thread
#   1x2  one process, two threads (--threads 2: WaveNet's data-parallel
#        shards, OpenBLAS threads for the spectrogram models)
#   2x1  mpirun -np 2, one thread each
# for each model, in one invocation, the three interleaved (rotated each
# repeat), N repeats; one table of medians [min..max] with the process
# tree's CPU time beside the wall time and the ratio to 1x1. Throughput is
# read off RUNDIR/log.csv between the second and the next-to-last step (no
# start-up, no validation), in the trainer's units (target samples or
# examples per second). Then the allreduce of each model's gradients alone
# (bench_mpi_allreduce) over shared memory and over TCP loopback. No peer
# runs here: no anchor trains across processes (the issue's point).
#
#   bench/mpi_train.sh [options] [BUILD_DIR=build]
#     --repeats N   repeats (default 3)
#     --models L    comma list of presets (default
#                   wavenet-small,wavenet-medium,specgan-small,specvae-small)
#     --steps S     steps per run (default 12 for WaveNet, 6 for the others)
#     --quick       1 repeat, 5 steps, wavenet-small only
#     --keep DIR    keep the logs in DIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
REPEATS=3 MODELS=wavenet-small,wavenet-medium,specgan-small,specvae-small STEPS= KEEP= BUILD=
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --repeats) REPEATS=${2:?}; shift ;;
        --models) MODELS=${2:?}; shift ;;
        --steps) STEPS=${2:?}; shift ;;
        --quick) REPEATS=1 STEPS=5 MODELS=wavenet-small ;;
        --keep) KEEP=${2:?}; shift ;;
        -h|--help) usage ;;
        -*) echo "bench/mpi_train.sh: unknown option $1" >&2; usage ;;
        *) BUILD=$1 ;;
    esac
    shift
done
BUILD=${BUILD:-$ROOT/build}
GW=$BUILD/genwave
[ -x "$GW" ] || { echo "bench/mpi_train.sh: no $GW (build first)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench/mpi_train.sh: mpirun not installed (openmpi-bin)" >&2; exit 1; }
[ -z "$STEPS" ] || [ "$STEPS" -ge 5 ] || { echo "bench/mpi_train.sh: --steps must be >= 5" >&2; exit 2; }
T=${KEEP:-$(mktemp -d /tmp/bench_mpi.XXXXXX)}
mkdir -p "$T"
[ -n "$KEEP" ] || trap 'rm -rf "$T"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI=(mpirun --oversubscribe --allow-run-as-root --bind-to none)

. "$ROOT/tests/io/wavgen.inc"
mkdir -p "$T/data"
for i in $(seq 1 24); do wav "$T/data/noise_$i.wav" 16000 32000 /dev/urandom; done

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cpu="$cpu, family $(grep -m1 "cpu family" /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 "^model\s" /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
echo "CPU: $cpu ($(nproc) cores available); $(mpirun --version 2>/dev/null | head -1)"
echo "genwave: $("$GW" --version | tr '\n' ' ')"

# one_run MODEL CONFIG STEPS -> "units_per_s wall_s cpu_s"
one_run() {
    local m=$1 c=$2 s=$3 kind out=$T/run
    case $m in wavenet*) kind=wavenet ;; specgan*) kind=gan ;; specvae*) kind=vae ;; pixelcnn*) kind=pixelcnn ;; esac
    local args=(train "$kind" --data "$T/data" --preset "$m" --steps "$s" --checkpoint-every 1000000
        --out "$out" --overwrite --cache "$T/cache" --seed 1)
    [ $kind = wavenet ] && args+=(--val-every 1000000) || args+=(--sample-every 1000000)
    rm -rf "$out"
    local pre=()
    case $c in
        1x1) args+=(--threads 1) ;;
        1x2) args+=(--threads 2) ;;
        2x1) args+=(--threads 1); pre=("${MPI[@]}" -np 2) ;;
    esac
    /usr/bin/time -f "%e %U %S" -o "$T/time" "${pre[@]}" "$GW" "${args[@]}" >"$T/log-$m-$c" 2>&1 ||
        { echo "bench/mpi_train.sh: $m $c failed: $(tail -3 "$T/log-$m-$c")" >&2; return 1; }
    # units per step: the progress line's throughput x step time is not
    # exact; the preset's batch (x targets) is, as info records it
    local units
    units=$("$GW" info "$out/model.gwm" | awk '/^  batch / { n = $2 * ($3 == "x" ? $4 : 1); print n; exit }')
    [ -n "$units" ] || units=$(awk -F'"batch": ' 'NF > 1 { split($2, a, /[,}]/); print a[1]; exit }' \
        "$ROOT/presets/$m.json")
    awk -F, -v s="$s" -v u="$units" -v t="$(cat "$T/time")" '
        $1 == 2 { a = $2 } $1 == s - 1 { b = $2 }
        END { split(t, x, " "); printf "%.6g %.3f %.3f %d\n", u * (s - 3) / (b - a), x[1], x[2] + x[3], u }' \
        "$out/log.csv"
}

median() { sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; printf "%.4g [%.4g..%.4g]", m, v[1], v[NR] }'; }
med() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

IFS=, read -r -a models <<<"$MODELS"
configs=(1x1 1x2 2x1)
for m in "${models[@]}"; do
    [ -f "$ROOT/presets/$m.json" ] || { echo "bench/mpi_train.sh: no preset $m" >&2; exit 2; }
    s=${STEPS:-$([[ $m == wavenet* ]] && echo 12 || echo 6)}
    : >"$T/res-$m"
    for r in $(seq 1 "$REPEATS"); do
        for k in 0 1 2; do
            c=${configs[$(((k + r - 1) % 3))]}
            res=$(one_run "$m" "$c" "$s") || exit 1
            echo "$c $res" >>"$T/res-$m"
        done
    done
    base=$(awk '$1 == "1x1" { print $2 }' "$T/res-$m" | med)
    printf "\n%s (%s steps, %s repeats)\n" "$m" "$s" "$REPEATS"
    printf "  %-4s %-34s %-10s %-10s %s\n" conf "units/s median [min..max]" "wall s" "CPU s" "x 1x1"
    for c in "${configs[@]}"; do
        u=$(awk -v c=$c '$1 == c { print $2 }' "$T/res-$m")
        printf "  %-4s %-34s %-10s %-10s %.2f\n" "$c" "$(median <<<"$u")" \
            "$(awk -v c=$c '$1 == c { print $3 }' "$T/res-$m" | med)" \
            "$(awk -v c=$c '$1 == c { print $4 }' "$T/res-$m" | med)" \
            "$(echo "$(med <<<"$u") $base" | awk '{ print $1 / $2 }')"
    done
    params=$(awk '/^training [0-9]+ parameters/ { print $2; exit }' "$T/log-$m-1x1")
    # model, parameters, seconds per step on 1x1, units per step, batch
    batch=$(awk -F'"batch": ' 'NF > 1 { split($2, a, /[,}]/); print a[1]; exit }' "$ROOT/presets/$m.json")
    echo "$m ${params:-0} $(awk '$1 == "1x1" { print $5 }' "$T/res-$m" | head -1) $base ${batch:-4}" |
        awk '{ print $1, $2, $3 / $4, $3, $5 }' >>"$T/params"
done

# the gradients' allreduce alone, per model: shared memory and TCP loopback
if [ -x "$BUILD/bench_mpi_allreduce" ] && [ -s "$T/params" ]; then
    sizes=$(awk '{ print $2 }' "$T/params" | tr '\n' ' ')
    echo
    echo "allreduce of each model's gradients, 2 ranks (median of 50, us; bus GB/s):"
    for tr in shm tcp; do
        extra=()
        [ $tr = tcp ] && extra=(--mca btl tcp,self)
        "${MPI[@]}" -np 2 "${extra[@]}" "$BUILD/bench_mpi_allreduce" $sizes 2>/dev/null |
            awk -v tr=$tr '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                printf "  %-4s %10s floats  %9.1f us  %7.3f GB/s\n", tr, v["floats"], v["us_median"], v["bus_GBps"] }'
    done
    sed 's/^/  parameters: /' "$T/params"
fi

# Many machines, modelled: a ring allreduce of the gradients costs
# 2(N-1)/N x bytes / bandwidth + 2(N-1) x latency; one rank's step is this
# machine's 1x1 step. Weak scaling: each node keeps the preset's batch (the
# global batch grows N-fold): speed-up N t / (t + t_ar). Strong scaling: the
# preset's batch split over N nodes (N <= batch): t / (t/N + t_ar).
echo
echo "modelled speed-up on N nodes like this one (1 rank each), weak / strong scaling:"
printf "  %-16s %-8s" model link
for n in 2 4 8 16 32 64; do printf " %-12s" "N=$n"; done
echo
while read -r m p t u b; do
    for link in "10GbE 1.25e9 25e-6" "100Gb/s 12.5e9 3e-6"; do
        set -- $link
        printf "  %-16s %-8s" "$m" "$1"
        for n in 2 4 8 16 32 64; do
            awk -v p="$p" -v t="$t" -v b="$b" -v n=$n -v bw="$2" -v lat="$3" 'BEGIN {
                ar = 2 * (n - 1) / n * p * 4 / bw + 2 * (n - 1) * lat
                weak = n * t / (t + ar)
                strong = n <= b ? sprintf("%.1f", t / (t / n + ar)) : "-"
                printf " %-12s", sprintf("%.1f/%s", weak, strong) }'
        done
        echo
    done
done <"$T/params"
echo "  (t = seconds per step on 1x1: $(awk '{ printf "%s %.3f s  ", $1, $3 }' "$T/params"))"
