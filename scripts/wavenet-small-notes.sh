#!/usr/bin/env bash
# The full-size WaveNet on real instrument notes (issue 4): wavenet-small's
# architecture with pitch and velocity conditioning (presets/
# wavenet-small-pitch.json: 16 kHz, 2 stacks x 10 layers, 32 residual /
# 32 gate / 128 skip / 128 head channels, identical to wavenet-small but
# for the conditioning inputs) trained on FluidR3 clarinet notes rendered by
# fluidsynth, then measured: held-out bits/sample (from the model file) and
# the share of the trained notes, rendered from silence for 1 s at
# temperature 1, within 50 cents (`genwave pitch`).
#
#   scripts/wavenet-small-notes.sh [--work DIR] [--minutes M] [--threads T] [--resume]
#
# Work files (data, run folder, pitch report) go to --work (default
# build/wavenet-small-notes). --resume continues an interrupted run for
# another M minutes. Prints one summary line; the figures measured on this
# repository's machine are in docs/performance.md ("wavenet-small on real
# notes").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$root/build/wavenet-small-notes minutes=30 threads=1 resume=()
while (($#)); do
  case $1 in
    --work) work=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --resume) resume=(--resume); shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "wavenet-small-notes.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
gw=${GENWAVE:-$root/build/genwave}
[[ -x $gw ]] || scripts/setup.sh
data=$work/data run=$work/run
mkdir -p "$work"
# 2 s of every note (the clarinet holds steadily), 5 velocities: 125 files
[[ -f $data/manifest.csv ]] ||
  scripts/datasets/instrument-notes.sh "$data" --programs 71 --notes 48-72 \
    --velocities "40 64 88 112 127" --rate 16000 --hold 2.5 --cut 2
"$gw" train wavenet --data "$data" --preset presets/wavenet-small-pitch.json --out "$run" \
  --minutes "$minutes" --threads "$threads" --seed 1 --steps 1000000 "${resume[@]}" 2>"$run.log" ||
  { echo "wavenet-small-notes: training failed; see $run.log:" >&2; tail -3 "$run.log" >&2; exit 1; }
"$gw" pitch "$run/model.gwm" --velocity 100 --velocity 64 --csv "$work/pitch.csv" >"$work/pitch.txt"
info=$("$gw" info "$run/model.gwm")
get() { awk -v k="$1" '$1 == k || $1 == "train." k || $1 == "metric." k { $1 = ""; sub(/^ +/, ""); print; exit }' <<<"$info"; }
echo "wavenet-small-notes: $(get steps) steps, $(get seconds) s (this session); held-out" \
  "$(get val_bits_first) -> $(get val_bits_per_sample) bits/sample;" \
  "$(grep '^in tune' "$work/pitch.txt")"
