#!/bin/bash
# Data-parallel training on MPI (docs/distributed-training.md), on this
# machine with `mpirun --oversubscribe -np 2`; skipped (77) without mpirun
# or without MPI in this genwave.
#  - every model kind, every one of 20 steps: from the same state, one step
#    of 2 ranks x batch B/2 gives 1 rank x batch B's figures within 1e-4
#    relative, and the two ranks' weights, moments and rng are
#    bit-identical (the trainer checks it by hash at every checkpoint and
#    says so);
#  - a checkpoint does not depend on the number of ranks: those states are
#    written by 2 ranks and resumed by 1 (by 1 and resumed by 2 for the
#    PixelCNN), and 20 resumed single steps equal 20 straight steps bit for
#    bit;
#  - faults: kill -9 of one rank ends the job non-zero within seconds and
#    the last checkpoint resumes; a rank that stops answering (SIGSTOP, as a
#    host gone off the network) ends the job after --mpi-timeout; Ctrl-C
#    checkpoints every rank at the same step and stops; ranks given
#    different data or presets are refused naming what differs; a batch the
#    ranks cannot split is refused.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
command -v mpirun >/dev/null || { echo "SKIP: mpirun not installed (openmpi-bin)"; exit 77; }
"$GW" --version | grep -q "^MPI: not compiled" && { echo "SKIP: genwave built without MPI"; exit 77; }
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/train_mpi.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"; kill -9 $(jobs -p) 2>/dev/null' EXIT
# containers often forbid the cross-memory attach Open MPI's shared memory tries first
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI=(mpirun --oversubscribe --allow-run-as-root)

mkdir -p "$T/notes" "$T/notes2" "$T/drums" "$T/other"
for n in 57 60 64 67; do wav "$T/notes/tone_n${n}_v90.wav" 8000 5000 /dev/urandom; done
cp "$T/notes/"* "$T/notes2/"
wav "$T/notes2/tone_n67_v90.wav" 8000 5000 /dev/urandom
for i in $(seq 1 6); do
    wav "$T/drums/kick_$i.wav" 16000 6000 /dev/urandom
    wav "$T/drums/hat_$i.wav" 16000 6000 /dev/urandom
done
cp "$T/drums/"kick_[1-5].wav "$T/other/"
wav "$T/other/kick_6.wav" 16000 6000 /dev/urandom

# A figure of N ranks differs from 1 rank's by the order of float sums,
# about 1e-7. Over many steps that gap is not a bound: Adam's first steps
# move each weight by about lr * sign(g), so a gradient element that is
# zero up to rounding (one in 50,000 of a VAE's, on some data) moves by
# +lr on one side and -lr on the other, and training amplifies it (1e-3
# apart by step 13 on such data). So the ranks are checked step by step
# from one shared state, and the trajectory bit for bit within one N.
#
# close A.csv B.csv COLS WHAT: the last rows' columns COLS (1-based, "3 4 5")
# agree within 1e-4 relative. Measured: about 1e-7, up to 5e-6 for the
# PixelCNN's gradient norm (its weight gradients sum 16,384 pixels in float).
close() {
    awk -F, -v cols="$3" -v what="$4" 'NR == FNR { a = $0; next } { b = $0 }
        END { split(a, x, ","); split(b, y, ","); n = split(cols, c, " ")
          if (x[1] != y[1]) { print what ": step " x[1] " vs " y[1]; exit 1 }
          for (j = 1; j <= n; j++) { i = c[j]
            d = x[i] - y[i]; d = d < 0 ? -d : d; m = x[i] < 0 ? -x[i] : x[i]
            if (x[i] == "" || y[i] == "" || d > 1e-4 * m + 1e-7) {
              print what ": step " x[1] " column " i ": " x[i] " vs " y[i]; exit 1 } } }' \
        "$1" "$2" || fail "$(head -1 "$1") differs"
}
# same CONT.csv CHAIN.csv WHAT: the same rows, every figure of CONT (the
# elapsed time aside) equal to the letter in CHAIN
same() {
    awk -F, -v what="$3" 'NR == FNR { a[FNR] = $0; n = FNR; next }
        FNR == 1 && a[1] != $0 { print what ": columns " a[1] " vs " $0; bad = 1; exit }
        { split(a[FNR], x, ","); if (FNR == 1) next
          for (i = 1; i <= NF; i++) if (i != 2 && x[i] != "" && x[i] != $i) {
              print what ": step " $1 " column " i ": " x[i] " vs " $i; bad = 1; exit } }
        END { if (!bad && FNR != n) { print what ": " n " vs " FNR " rows"; bad = 1 } exit bad }' \
        "$1" "$2" || fail "$(head -1 "$1") differs"
}
# on N ARGS...: genwave ARGS on N ranks (1: no mpirun)
on() {
    local n=$1
    shift
    if [ "$n" = 1 ]; then "$GW" "$@"; else "${MPI[@]}" -np "$n" "$GW" "$@"; fi
}

# ---- N ranks == 1 rank, every kind, every step ----
# KIND PRESET DATA CHAIN-N OTHER-N OPTIONS: the chain of single steps
# (each a --resume of the last) runs on CHAIN-N ranks and must equal a
# straight 20-step run on CHAIN-N bit for bit; from every state of the
# chain, one step on OTHER-N ranks gives the same figures within 1e-4. So
# a checkpoint written by 2 ranks resumes on 1 and the other way round.
kinds=("wavenet wavenet-tiny-pitch notes 2 1 --val-every 10"
    "gan specgan-tiny drums 2 1 --sample-every 10"
    "vae specvae-tiny drums 2 1 --sample-every 10"
    "pixelcnn pixelcnn-tiny drums 1 2 --sample-every 10")
for k in "${kinds[@]}"; do
    set -- $k
    kind=$1 preset=$2 data=$3 nc=$4 no=$5
    shift 5
    run=(train "$kind" --data "$T/$data" --preset "$preset" --seed 3 --batch 4 "$@")
    on "$nc" "${run[@]}" --steps 20 --out "$T/$kind" >"$T/log" 2>&1 || fail "$kind on $nc: $(tail -4 "$T/log")"
    [ -s "$T/$kind/model.gwm" ] && [ -s "$T/$kind/best.gwm" ] || fail "$kind: no model on $nc ranks"
    if [ "$nc" = 2 ]; then
        grep -q "data-parallel on 2 ranks" "$T/log" || fail "$kind: no word of the 2 ranks: $(head -3 "$T/log")"
        grep -q "2 ranks held bit-identical weights, moments and rng at step 20" "$T/log" ||
            fail "$kind: ranks not shown identical: $(tail -4 "$T/log")"
        [ "$(grep -c "model.gwm:" "$T/log")" = 1 ] || fail "$kind: not rank 0 alone reported: $(cat "$T/log")"
    fi
    # the training figures: the columns step 1 (no validation) fills
    cols=$(awk -F, '$1 == 1 { for (i = 3; i <= NF; i++) if ($i != "") printf "%d ", i }' "$T/$kind/log.csv")
    [ -n "$cols" ] || fail "$kind: no training figures in $(head -2 "$T/$kind/log.csv")"
    rm -rf "$T/c"
    for s in $(seq 1 20); do
        res=()
        [ "$s" = 1 ] || res=(--resume)
        rm -rf "$T/o"
        [ "$s" = 1 ] || cp -r "$T/c" "$T/o"
        on "$no" "${run[@]}" --steps "$s" "${res[@]}" --out "$T/o" >"$T/log2" 2>&1 ||
            fail "$kind step $s on $no: $(tail -4 "$T/log2")"
        on "$nc" "${run[@]}" --steps "$s" "${res[@]}" --out "$T/c" >"$T/log" 2>&1 ||
            fail "$kind step $s on $nc: $(tail -4 "$T/log")"
        close "$T/c/log.csv" "$T/o/log.csv" "$cols" "$kind on $nc and $no ranks"
    done
    [ "$no" = 1 ] || grep -q "2 ranks held bit-identical weights, moments and rng at step 20" "$T/log2" ||
        fail "$kind: resumed ranks not shown identical: $(tail -4 "$T/log2")"
    same "$T/$kind/log.csv" "$T/c/log.csv" "$kind: 20 steps and 20 resumed single steps on $nc"
done

# ---- faults ----
# rank_pid RUNDIR K: the pid of rank K of the job writing RUNDIR
rank_pid() {
    for p in $(pgrep -f -- "--out $1"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
    done
}
long=(train wavenet --data "$T/notes" --preset wavenet-tiny-pitch --seed 3 --batch 4 --val-every 50
    --checkpoint-every 20 --steps 100000000)
# kill -9 of rank 1 after a checkpoint: the job ends, non-zero, within 20 s
"${MPI[@]}" -np 2 "$GW" "${long[@]}" --out "$T/k" >"$T/klog" 2>&1 &
job=$!
for i in $(seq 1 300); do [ -s "$T/k/checkpoint.gwm" ] && break; sleep 0.1; done
[ -s "$T/k/checkpoint.gwm" ] || fail "no checkpoint to kill after: $(tail -3 "$T/klog")"
victim=$(rank_pid "$T/k" 1)
[ -n "$victim" ] || fail "rank 1 not found"
kill -9 "$victim"
t0=$SECONDS
for i in $(seq 1 200); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
kill -0 $job 2>/dev/null && fail "the job still runs 20 s after rank 1 was killed"
wait $job && fail "the job exited 0 after rank 1 was killed"
echo "kill -9 of rank 1: the job ended in $((SECONDS - t0)) s"
"$GW" "${long[@]/100000000/30}" --resume --out "$T/k" >"$T/log" 2>&1 ||
    fail "the checkpoint left by the killed job does not resume: $(tail -3 "$T/log")"

# Ctrl-C on mpirun (it passes the signal on): rank 0 decides, every rank
# stops after the same step, the checkpoint is written and says so
"${MPI[@]}" -np 2 "$GW" "${long[@]}" --out "$T/i" >"$T/ilog" 2>&1 &
job=$!
for i in $(seq 1 300); do [ -s "$T/i/checkpoint.gwm" ] && break; sleep 0.1; done
kill -INT $job
for i in $(seq 1 200); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
kill -0 $job 2>/dev/null && fail "the job still runs 20 s after Ctrl-C"
grep -q "interrupted; --resume continues" "$T/ilog" || fail "Ctrl-C: no interruption line: $(tail -4 "$T/ilog")"
grep -q "2 ranks held bit-identical" "$T/ilog" || fail "Ctrl-C: no final checkpoint: $(tail -4 "$T/ilog")"

# a rank that stops answering: the others give up after --mpi-timeout
"${MPI[@]}" -np 2 "$GW" "${long[@]}" --mpi-timeout 3 --out "$T/s" >"$T/slog" 2>&1 &
job=$!
for i in $(seq 1 300); do [ -s "$T/s/checkpoint.gwm" ] && break; sleep 0.1; done
victim=$(rank_pid "$T/s" 1)
[ -n "$victim" ] || fail "rank 1 not found (stop)"
kill -STOP "$victim"
for i in $(seq 1 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
kill -0 $job 2>/dev/null && { kill -9 "$victim"; fail "the job still runs 30 s after rank 1 stopped"; }
wait $job && fail "the job exited 0 after rank 1 stopped"
grep -q "rank 0 waited 3 s for the other ranks" "$T/slog" || fail "no watchdog message: $(tail -5 "$T/slog")"
kill -9 "$victim" 2>/dev/null

# ranks given different data, or a different preset, are refused before training
"${MPI[@]}" -np 1 "$GW" train pixelcnn --data "$T/drums" --preset pixelcnn-tiny --batch 4 --steps 5 --out "$T/d" : \
    -np 1 "$GW" train pixelcnn --data "$T/other" --preset pixelcnn-tiny --batch 4 --steps 5 --out "$T/d" \
    >"$T/log" 2>&1 && fail "ranks with different data were not refused"
grep -q "genwave: ranks disagree on the" "$T/log" || fail "no disagreement error: $(tail -5 "$T/log")"
w2=(train wavenet --preset wavenet-tiny-pitch --batch 4 --steps 5 --out "$T/d2")
"${MPI[@]}" -np 1 "$GW" "${w2[@]}" --data "$T/notes" : -np 1 "$GW" "${w2[@]}" --data "$T/notes2" \
    >"$T/log" 2>&1 && fail "wavenet ranks with different data were not refused"
grep -q "genwave: ranks disagree on the training data" "$T/log" || fail "data not named: $(tail -5 "$T/log")"
P=$(cd "$(dirname "$0")/../.." && pwd)/presets/wavenet-tiny-pitch.json
sed 's/"lr": [0-9.e-]*/"lr": 0.0005/' "$P" >"$T/other.json"
cmp -s "$P" "$T/other.json" && fail "could not write a second preset"
w3=(train wavenet --data "$T/notes" --batch 4 --steps 5 --out "$T/d3")
"${MPI[@]}" -np 1 "$GW" "${w3[@]}" --preset "$P" : -np 1 "$GW" "${w3[@]}" --preset "$T/other.json" \
    >"$T/log" 2>&1 && fail "ranks with different presets were not refused"
grep -q "genwave: ranks disagree on the preset" "$T/log" || fail "preset not named: $(tail -5 "$T/log")"
[ -e "$T/d3/checkpoint.gwm" ] && fail "a refused job wrote a checkpoint"
# a batch the ranks cannot split
w=(train wavenet --data "$T/notes" --preset wavenet-tiny-pitch --seed 3 --val-every 10)
"${MPI[@]}" -np 2 "$GW" "${w[@]}" --batch 3 --steps 2 --out "$T/b" >"$T/log" 2>&1 && fail "batch 3 on 2 ranks ran"
grep -q "a batch of 3 does not split over 2 ranks" "$T/log" || fail "no batch error: $(tail -5 "$T/log")"
echo "ok: MPI training exact for 4 kinds, resumable across rank counts, faults stop the job"
