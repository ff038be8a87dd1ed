#!/bin/bash
# The run controls every `genwave train KIND` shares (src/cli/train_args.c),
# for each of wavenet, gan, vae and pixelcnn: a bad, missing or out-of-range value, an
# unknown option, another kind's option and a missing required option are bad
# usage (exit 2, the first stderr line names the option, then the usage, no
# run folder made); --help prints the run controls and the kind's own options
# on stdout; --resume without a checkpoint is one error line (exit 1); and
# --seed/--steps reach the trainer (recorded in the model file).
set -u
GW=$1
. "$(dirname "$0")/cli.inc"
cli_setup cli_train_args

# labelled notes for the WaveNet, clips for the GAN and VAE
mkdir -p "$T/notes" "$T/clips"
for n in 57 60 64 67; do wav "$T/notes/tone_n${n}_v90.wav" 8000 5000 /dev/urandom; done
for i in 1 2 3 4 5 6; do wav "$T/clips/c$i.wav" 16000 6000 /dev/urandom; done
declare -A data=([wavenet]=$T/notes [gan]=$T/clips [vae]=$T/clips [pixelcnn]=$T/clips)
declare -A preset=([wavenet]=wavenet-tiny-pitch [gan]=specgan-tiny [vae]=specvae-tiny
    [pixelcnn]=pixelcnn-tiny)
declare -A own=([wavenet]="--window 64" [gan]="--d-steps 2" [vae]="--beta 2"
    [pixelcnn]="--sample-every 5")
declare -A foreign=([wavenet]="--loss hinge" [gan]="--beta 2" [vae]="--window 64"
    [pixelcnn]="--beta 2")

# usage KIND WANT ARGS...: `train KIND ARGS...` exits 2, the first stderr line
# is "genwave train KIND: WANT", the usage follows, and nothing is written
usage_error() {
    local kind=$1 want=$2
    shift 2
    "$GW" train "$kind" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "train $kind $*: exit $rc, want 2: $(cat "$T/err")"
    [ "$(head -1 "$T/err")" = "genwave train $kind: $want" ] ||
        fail "train $kind $*: first line '$(head -1 "$T/err")', want 'genwave train $kind: $want'"
    grep -q "^usage: genwave train $kind " "$T/err" || fail "train $kind $*: no usage on stderr"
    [ ! -s "$T/out" ] || fail "train $kind $*: wrote to stdout: $(cat "$T/out")"
    [ ! -e "$T/run" ] || fail "train $kind $*: made the run folder"
}

for kind in wavenet gan vae pixelcnn; do
    base=(--data "${data[$kind]}" --preset "${preset[$kind]}" --out "$T/run")
    # each run control with a value out of its range, or not a number
    for bad in "--steps -3" "--steps 0" "--steps 1.5" "--steps 12abc" "--minutes -1" \
        "--minutes nan" "--threads 0" "--threads 257" "--seed -1" "--seed 2147483648" \
        "--batch 0" "--lr 0" "--lr 2" "--checkpoint-every 0"; do
        set -- $bad
        usage_error $kind "bad or unknown option '$1' with value $2" "${base[@]}" $bad
    done
    # a missing value at the end of the command line
    for opt in --steps --seed --data --out --preset; do
        usage_error $kind "bad or unknown option '$opt'" "${base[@]}" $opt
    done
    usage_error $kind "bad or unknown option '--no-such' with value 3" "${base[@]}" --no-such 3
    usage_error $kind "bad or unknown option '--no-such' with value --resume" "${base[@]}" --no-such --resume
    set -- ${foreign[$kind]}
    usage_error $kind "bad or unknown option '$1' with value $2" "${base[@]}" ${foreign[$kind]}
    usage_error $kind "--data, --preset and --out are required" --data "${data[$kind]}" --out "$T/run"
    usage_error $kind "--data, --preset and --out are required" --preset "${preset[$kind]}" --out "$T/run"
    usage_error $kind "--data, --preset and --out are required" --data "${data[$kind]}" \
        --preset "${preset[$kind]}" --steps 3 --resume

    # --help: stdout only, the shared run controls and the kind's own options
    "$GW" train $kind --help >"$T/out" 2>"$T/err" || fail "train $kind --help: exit $?"
    [ ! -s "$T/err" ] || fail "train $kind --help wrote to stderr: $(cat "$T/err")"
    set -- ${own[$kind]}
    for want in "^usage: genwave train $kind --data DIR" "^Run controls" "--resume " "--minutes M " \
        "--checkpoint-every N" "^  $1 " "${preset[$kind]}"; do
        grep -q -e "$want" "$T/out" || fail "train $kind --help lacks '$want': $(cat "$T/out")"
    done
    # -h after other options still only prints the help (no training)
    "$GW" train $kind "${base[@]}" -h >"$T/out" 2>&1 || fail "train $kind ... -h: exit $?"
    [ ! -e "$T/run" ] || fail "train $kind -h made the run folder"

    # --resume of a run that never started: one error line, exit 1
    "$GW" train $kind "${base[@]}" --steps 2 --resume ${own[$kind]} >/dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 1 ] || fail "train $kind --resume without a checkpoint: exit $rc, want 1: $(cat "$T/err")"
    # (the spectrogram trainers print their data summary first: progress)
    [ "$(grep -c '^genwave: ' "$T/err")" -eq 1 ] || fail "train $kind --resume: $(cat "$T/err")"
    tail -1 "$T/err" | grep -q "^genwave: $T/run/checkpoint.gwm: no checkpoint to resume from$" ||
        fail "train $kind --resume: $(cat "$T/err")"
    rm -rf "$T/run"

    # run controls and the kind's own option reach the trainer: 2 steps,
    # seed 9, recorded in the model file
    "$GW" train $kind "${base[@]}" --steps 2 --seed 9 --batch 2 --lr 0.0005 --checkpoint-every 1 \
        --minutes 5 --threads 1 ${own[$kind]} >"$T/out" 2>"$T/err" ||
        fail "train $kind: $(tail -2 "$T/err")"
    "$GW" info "$T/run/model.gwm" >"$T/info" 2>&1 || fail "info $kind: $(cat "$T/info")"
    for want in "seed  *9$" "steps  *2$" "command  *genwave train $kind --data"; do
        grep -q -e "$want" "$T/info" || fail "train $kind: info lacks '$want': $(cat "$T/info")"
    done
    [ -f "$T/run/checkpoint.gwm" ] || fail "train $kind wrote no checkpoint"
    rm -rf "$T/run"
done
# --preset auto picks by the folder (trainer.h): a small labelled folder
# gets the small-data WaveNet, an unlabelled one the unconditioned one, a
# small folder of hits the small-data GAN; it says so, and trains with it
auto() { # KIND DATA WANT
    "$GW" train "$1" --data "$2" --preset auto --out "$T/auto" --steps 1 --batch 2 >"$T/out" 2>"$T/err" ||
        fail "--preset auto, $1 on $2: $(tail -2 "$T/err")"
    grep -q -e "^--preset auto: $3 (" "$T/err" || fail "--preset auto did not pick $3: $(head -2 "$T/err")"
    "$GW" info "$T/auto/model.gwm" | grep -q "$3" || fail "--preset auto: the model is not $3"
    rm -rf "$T/auto"
}
mkdir -p "$T/unlabelled"
for i in 1 2 3; do wav "$T/unlabelled/u$i.wav" 16000 20000 /dev/urandom; done
auto wavenet "$T/notes" wavenet-small-data
auto wavenet "$T/unlabelled" wavenet-small
auto gan "$T/clips" specgan-small-data
"$GW" train vae --data "$T/nowhere" --preset auto --out "$T/auto" --steps 1 2>"$T/err" &&
    fail "--preset auto on a missing folder ran"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "nowhere" "$T/err" || fail "--preset auto, missing folder: $(cat "$T/err")"
echo "train_args.sh: ok"
