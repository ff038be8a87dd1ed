#!/bin/bash
# genwave train wavenet: 6 steps straight == 3 steps + --resume to 6 (the
# same losses to the last printed digit and the same final weights), the
# final model's provenance, and one-line errors for bad input.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_train_wavenet.XXXXXX")
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/data" "$T/unlabelled"
for n in 57 60 64 67; do wav "$T/data/tone_n${n}_v90.wav" 8000 5000 /dev/urandom; done
wav "$T/unlabelled/a.wav" 8000 5000 /dev/urandom
wav "$T/unlabelled/b.wav" 8000 5000 /dev/urandom

preset=wavenet-tiny-pitch
train() { "$GW" train wavenet --data "$T/data" --preset "$preset" --val-every 3 --seed 5 "$@"; }
# straight_and_resumed A B WHAT: 6 steps straight into $T/A, 3 then --resume
# to 6 into $T/B; every figure of every step (the log's columns after
# elapsed_s, left in $T/A.csv and $T/B.csv) must agree
straight_and_resumed() {
    train --out "$T/$1" --steps 6 >"$T/log" 2>&1 || fail "$3straight run: $(tail -2 "$T/log")"
    train --out "$T/$2" --steps 3 >"$T/log" 2>&1 || fail "$3first half: $(tail -2 "$T/log")"
    train --out "$T/$2" --steps 6 --resume >"$T/log" 2>&1 || fail "$3resume: $(tail -2 "$T/log")"
    cut -d, -f1,3- "$T/$1/log.csv" >"$T/$1.csv"
    cut -d, -f1,3- "$T/$2/log.csv" >"$T/$2.csv"
    cmp -s "$T/$1.csv" "$T/$2.csv" ||
        fail "$3resumed run differs: $(diff "$T/$1.csv" "$T/$2.csv" | head -5)"
}
straight_and_resumed a b ""
grep -q "resumed from step 3 of 6" "$T/log" || fail "resume did not say so: $(head -3 "$T/log")"
# the best held-out model is kept beside the last
[ -s "$T/a/best.gwm" ] || fail "no best.gwm"
"$GW" info "$T/a/best.gwm" | grep -q val_bits_per_sample || fail "best.gwm has no held-out figure"
[ "$(wc -l <"$T/a.csv")" -ge 7 ] || fail "log too short: $(cat "$T/a.csv")"
# same weights: info of both shows the same final training loss
"$GW" info "$T/a/model.gwm" | grep train_loss_nats >"$T/la"
"$GW" info "$T/b/model.gwm" | grep train_loss_nats >"$T/lb"
[ -s "$T/la" ] && cmp -s "$T/la" "$T/lb" || fail "final loss differs: $(cat "$T/la" "$T/lb")"
"$GW" info "$T/b/model.gwm" >"$T/info"
for k in "command.*train wavenet" "seed                     5" "steps                    6" \
    "velocity yes" "val_bits_per_sample"; do
    grep -q "$k" "$T/info" || fail "info lacks '$k': $(cat "$T/info")"
done
[ -s "$T/a/loss.png" ] || fail "no loss.png"

# a learning-rate step decay (train.lr_decay_steps): the steps before the
# decay are the plain run's, the ones after differ, the schedule survives a
# resume, the model records it, and a schedule that does not ascend is a
# one-line error naming the preset
P=$(cd "$(dirname "$0")/../.." && pwd)/presets/wavenet-tiny-pitch.json
sed 's/"clip_norm": 1.0}/"clip_norm": 1.0, "lr_decay_steps": [3], "lr_decay_factor": 0.5}/' "$P" >"$T/decay.json"
grep -q lr_decay_steps "$T/decay.json" || fail "could not write the decay preset"
preset=$T/decay.json
straight_and_resumed d e "decay: "
preset=wavenet-tiny-pitch
# rows: header, validation at 0, steps 1..; the update of step index 3 (log
# row of step 4) is the first at the decayed rate, so step 4's loss is still
# the plain run's and step 5's is not
row() { awk -F, -v s="$2" '$1 == s && $2 != "" {print $2; exit}' "$1"; }
[ "$(row "$T/a.csv" 4)" = "$(row "$T/d.csv" 4)" ] || fail "decay changed step 4: $(row "$T/a.csv" 4) vs $(row "$T/d.csv" 4)"
[ "$(row "$T/a.csv" 5)" != "$(row "$T/d.csv" 5)" ] || fail "decay changed nothing at step 5"
"$GW" info "$T/d/model.gwm" | grep -q "lr .*0.003 (x 0.5 from steps 3)" ||
    fail "schedule not recorded: $("$GW" info "$T/d/model.gwm" | grep lr)"
# weight averaging (train.ema_decay): the live weights train exactly as the
# plain run's (the same losses every step), the average is what validates
# (the held-out figure at step 0 is the plain run's, later ones are not),
# the average and its count survive a resume, and the model records it
sed 's/"clip_norm": 1.0}/"clip_norm": 1.0, "ema_decay": 0.9}/' "$P" >"$T/ema.json"
grep -q ema_decay "$T/ema.json" || fail "could not write the EMA preset"
preset=$T/ema.json
straight_and_resumed f g "ema: "
preset=wavenet-tiny-pitch
# the cut log's columns: step, loss, bits, grad_norm, val_bits
col() { awk -F, -v s="$2" -v c="$3" '$1 == s && $c != "" {print $c; exit}' "$1"; }
for s in 1 3 6; do
    [ "$(col "$T/a.csv" $s 2)" = "$(col "$T/f.csv" $s 2)" ] ||
        fail "ema changed the training loss at step $s: $(col "$T/a.csv" $s 2) vs $(col "$T/f.csv" $s 2)"
done
[ "$(col "$T/a.csv" 0 5)" = "$(col "$T/f.csv" 0 5)" ] || fail "ema: step 0's held-out figure differs"
[ -n "$(col "$T/f.csv" 6 5)" ] && [ "$(col "$T/a.csv" 6 5)" != "$(col "$T/f.csv" 6 5)" ] ||
    fail "ema: the average did not validate at step 6: $(col "$T/f.csv" 6 5)"
"$GW" info "$T/f/model.gwm" | grep -q "ema_decay *0.9" ||
    fail "ema not recorded: $("$GW" info "$T/f/model.gwm" | grep -i ema)"
"$GW" info "$T/f/model.gwm" | grep train_loss_nats >"$T/lf"
cmp -s "$T/la" "$T/lf" || fail "ema: the final training loss differs: $(cat "$T/la" "$T/lf")"
sed 's/"clip_norm": 1.0}/"clip_norm": 1.0, "lr_decay_steps": [5, 3]}/' "$P" >"$T/bad.json"
"$GW" train wavenet --data "$T/data" --preset "$T/bad.json" --out "$T/c" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "descending decay steps: wrong exit"
one_line_error "$T/err"
grep -q "bad.json.*lr_decay_steps must ascend" "$T/err" || fail "descending decay steps: $(cat "$T/err")"

# genwave eval: drawn as the trainer draws its validation windows, the
# held-out side of the training folder gives the figure the model records,
# to the last digit: the plain run's, the averaged (EMA) run's, and a band
# model's (per band value, at the model's own band gains). Another seed
# draws other windows; --all measures every clip; errors are one line.
evalbits() { awk '/bits per (sample|band value)/ {print $NF}' "$1"; }
recorded() { "$GW" info "$1" | awk '$1 == "val_bits_per_sample" {print $2}'; }
for run in a f; do
    "$GW" eval "$T/$run/model.gwm" --data "$T/data" >"$T/ev" 2>&1 || fail "eval $run: $(cat "$T/ev")"
    rec=$(recorded "$T/$run/model.gwm")
    [ -n "$rec" ] && [ "$(evalbits "$T/ev")" = "$rec" ] ||
        fail "eval $run: $(evalbits "$T/ev"), the model records '$rec': $(cat "$T/ev")"
done
"$GW" eval "$T/a/model.gwm" --data "$T/data" --seed 99 >"$T/ev" 2>&1 || fail "eval --seed: $(cat "$T/ev")"
[ "$(evalbits "$T/ev")" != "$(recorded "$T/a/model.gwm")" ] || fail "eval --seed 99 drew the same windows"
"$GW" eval "$T/a/model.gwm" --data "$T/data" --all >"$T/ev" 2>&1 || fail "eval --all: $(cat "$T/ev")"
grep -q "from 4 clips of" "$T/ev" || fail "eval --all: not every clip: $(cat "$T/ev")"
mkdir -p "$T/d48"
for n in 57 60 64 67; do wav "$T/d48/tone_n${n}_v90.wav" 48000 12000 /dev/urandom; done
"$GW" train wavenet --data "$T/d48" --preset wavenet-tiny-48k --out "$T/b48" --steps 2 --seed 5 \
    >"$T/log" 2>&1 || fail "48 kHz training: $(tail -2 "$T/log")"
"$GW" eval "$T/b48/model.gwm" --data "$T/d48" >"$T/ev" 2>&1 || fail "eval 48k: $(cat "$T/ev")"
grep -q "bits per band value" "$T/ev" && [ "$(evalbits "$T/ev")" = "$(recorded "$T/b48/model.gwm")" ] ||
    fail "eval of a band model: $(cat "$T/ev"), the model records $(recorded "$T/b48/model.gwm")"
# --val-data: every clip of a second folder validates beside the held-out
# side (its own column), best.gwm follows it, the model records it, and
# eval --all on that folder gives the recorded figure; a resume without it
# is refused (other columns), and a missing folder is a one-line error
mkdir -p "$T/v2"
for n in 59 62; do wav "$T/v2/take_n${n}_v70.wav" 8000 5000 /dev/urandom; done
train --out "$T/vd" --steps 6 --val-data "$T/v2" >"$T/log" 2>&1 || fail "--val-data: $(tail -2 "$T/log")"
head -1 "$T/vd/log.csv" | grep -q ",val_bits,val_data_bits$" || fail "--val-data: columns $(head -1 "$T/vd/log.csv")"
grep -q "best held-out model on --val-data" "$T/log" || fail "--val-data: best.gwm not by it: $(tail -3 "$T/log")"
"$GW" info "$T/vd/model.gwm" | grep -q "val_data .*v2" || fail "--val-data not recorded"
"$GW" eval "$T/vd/model.gwm" --data "$T/v2" --all >"$T/ev" 2>&1 || fail "eval of --val-data: $(cat "$T/ev")"
rec=$("$GW" info "$T/vd/model.gwm" | awk '$1 == "val_data_bits" {print $2}')
[ -n "$rec" ] && [ "$(evalbits "$T/ev")" = "$rec" ] || fail "eval --all of --val-data: $(cat "$T/ev"), recorded '$rec'"
# the held-out side's figures are the plain run's (the second set changes nothing else)
cut -d, -f1,3-6 "$T/vd/log.csv" | tail -n +2 >"$T/vd.csv"
tail -n +2 "$T/a.csv" | cut -d, -f1-5 >"$T/a5.csv"
cmp -s "$T/vd.csv" "$T/a5.csv" || fail "--val-data changed the run: $(diff "$T/vd.csv" "$T/a5.csv" | head -4)"
train --out "$T/vd" --steps 8 --resume >/dev/null 2>"$T/err" && fail "a resume without --val-data ran"
grep -q "columns differ" "$T/err" || fail "resume without --val-data: $(cat "$T/err")"
train --out "$T/vd2" --steps 2 --val-data "$T/nope" >/dev/null 2>"$T/err" && fail "--val-data of a missing folder ran"
one_line_error "$T/err"
grep -q "nope" "$T/err" || fail "--val-data: the folder is not named: $(cat "$T/err")"
# train.input_noise_bands: with shares of 0 the amount of noise makes no
# difference (0.05 and 0.01 train alike: no noise reaches the bands; the
# noise's seed is still drawn each step, so this is not the noiseless run),
# shares of 1 train exactly as the plain per-band noise, and the amount
# does matter without shares; a count that is not one per band is a
# one-line error naming the preset
P48=$(cd "$(dirname "$0")/../.." && pwd)/presets/wavenet-tiny-48k.json
nz() { sed "s/\"clip_norm\": 1000.0}/\"clip_norm\": 1000.0$1}/" "$P48" >"$T/$2.json"; }
nz "" n0
nz ', "input_noise": 0.05' n1
nz ', "input_noise": 0.05, "input_noise_bands": [0, 0, 0, 0, 0, 0]' nz0
nz ', "input_noise": 0.01, "input_noise_bands": [0, 0, 0, 0, 0, 0]' nz0b
nz ', "input_noise": 0.01' n2
nz ', "input_noise": 0.05, "input_noise_bands": [1, 1, 1, 1, 1, 1]' nz1
nz ', "input_noise": 0.05, "input_noise_bands": [0, 1]' nzbad
for p in n0 n1 n2 nz0 nz0b nz1; do
    grep -q "input_noise" "$T/$p.json" || [ "$p" = n0 ] || fail "could not write preset $p"
    "$GW" train wavenet --data "$T/d48" --preset "$T/$p.json" --out "$T/r$p" --steps 3 --seed 5 \
        >"$T/log" 2>&1 || fail "noise preset $p: $(tail -2 "$T/log")"
    cut -d, -f1,3- "$T/r$p/log.csv" >"$T/r$p.csv"
done
grep -q "times 1 1 1 1 1 1 for bands 0..5" "$T/log" || fail "noise shares not shown: $(head -8 "$T/log")"
cmp -s "$T/rnz0.csv" "$T/rnz0b.csv" || fail "noise shares of 0 let noise through: $(diff "$T/rnz0.csv" "$T/rnz0b.csv" | head -3)"
cmp -s "$T/rn1.csv" "$T/rnz1.csv" || fail "noise shares of 1 differ from the plain noise: $(diff "$T/rn1.csv" "$T/rnz1.csv" | head -3)"
cmp -s "$T/rn1.csv" "$T/rn2.csv" && fail "the amount of input noise changed nothing"
"$GW" train wavenet --data "$T/d48" --preset "$T/nzbad.json" --out "$T/rbad" --steps 1 >/dev/null 2>"$T/err" &&
    fail "2 noise shares for 6 bands were accepted"
one_line_error "$T/err"
grep -q "nzbad.json: train.input_noise_bands has 2 values" "$T/err" || fail "noise shares: $(cat "$T/err")"
"$GW" eval "$T/a/model.gwm" --data "$T/nope" >/dev/null 2>"$T/err" && fail "eval of a missing folder succeeded"
one_line_error "$T/err"
grep -q "nope" "$T/err" || fail "eval: the folder is not named: $(cat "$T/err")"

# vocoder mode: a mel-conditioned model trains and resynthesises a file from
# its mel spectrogram, sample for sample as long
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-vocoder --out "$T/voc" --steps 3 \
    >"$T/log" 2>&1 || fail "vocoder training: $(tail -2 "$T/log")"
"$GW" eval "$T/voc/model.gwm" --data "$T/data" >/dev/null 2>"$T/err" && fail "eval of a vocoder succeeded"
one_line_error "$T/err"
grep -q "vocoder" "$T/err" || fail "eval of a vocoder: $(cat "$T/err")"
"$GW" render "$T/voc/model.gwm" --vocode "$T/data/tone_n60_v90.wav" -o "$T/voc.wav" >"$T/msg" 2>"$T/err" ||
    fail "vocode: $(cat "$T/err")"
grep -q "0.62 s at 8000 Hz, vocoded" "$T/msg" || fail "vocode length: $(cat "$T/msg")"
"$GW" render "$T/a/model.gwm" --vocode "$T/data/tone_n60_v90.wav" -o "$T/x.wav" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "vocode with a model without mel input: wrong exit"
one_line_error "$T/err"
grep -q "no mel input" "$T/err" || fail "vocode: $(cat "$T/err")"
[ ! -e "$T/x.wav" ] || fail "x.wav written"

# bad input: one line, exit 1
"$GW" train wavenet --data "$T/nope" --preset wavenet-tiny-pitch --out "$T/c" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing data: wrong exit"
one_line_error "$T/err"
grep -q "nope" "$T/err" || fail "missing data not named: $(cat "$T/err")"
"$GW" train wavenet --data "$T/data" --preset no-such-preset --out "$T/c" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "bad preset: wrong exit"
one_line_error "$T/err"
grep -q "no-such-preset" "$T/err" || fail "bad preset not named: $(cat "$T/err")"
"$GW" train wavenet --data "$T/unlabelled" --preset wavenet-tiny-pitch --out "$T/c" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "unlabelled data: wrong exit"
one_line_error "$T/err"
grep -q "no note" "$T/err" || fail "unlabelled: $(cat "$T/err")"
# issue 14: the processed-audio cache never goes into the sound folder: the
# user's cache ($GW_CACHE here, else ~/.cache/genwave), or --cache DIR
[ -e "$T/data/.genwave-cache" ] && fail "a cache was written into the data folder"
if [ -n "${GW_CACHE:-}" ]; then
    ls "$GW_CACHE"/datasets/*/dataset-*.bin >/dev/null 2>&1 || fail "no cache under \$GW_CACHE"
fi
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/cached" --steps 1 \
    --cache "$T/mycache" >/dev/null 2>&1 || fail "--cache run failed"
ls "$T/mycache"/dataset-*.bin >/dev/null 2>&1 || fail "--cache DIR holds no cache: $(ls -a "$T/mycache")"
# D8: train names the files it skips, and says when nothing is held out
mkdir -p "$T/d8"
cp "$T/data/tone_n57_v90.wav" "$T/d8/"
echo "not audio" >"$T/d8/broken.wav"
"$GW" train wavenet --data "$T/d8" --preset wavenet-tiny-pitch --out "$T/d8run" --steps 1 >"$T/d8.log" 2>&1 ||
    fail "d8 run: $(tail -2 "$T/d8.log")"
grep -q "skipped 1 unreadable" "$T/d8.log" || fail "no skip count: $(head -3 "$T/d8.log")"
grep -q "^warning: broken.wav: unreadable, skipped" "$T/d8.log" || fail "skip not named: $(head -3 "$T/d8.log")"
grep -q "^warning: no file is held out" "$T/d8.log" || fail "no held-out warning: $(head -4 "$T/d8.log")"
# D10: resuming with another preset is refused, naming what differs (the
# checkpoint of $T/b was trained with wavenet-tiny-pitch)
sed 's/"pitch_features": 5, "velocity": true/"pitch_features": 0, "velocity": false/' \
    "${GW_SOURCE_DIR:-$(dirname "$0")/../..}/presets/wavenet-tiny-pitch.json" >"$T/other.json"
"$GW" train wavenet --data "$T/data" --preset "$T/other.json" --out "$T/b" --steps 9 --resume \
    >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "resume with another preset: want exit 1"
one_line_error "$T/err"
grep -q "b/checkpoint.gwm was trained with another preset (conditioning.pitch_features 5 vs 0, conditioning.velocity true vs false)" "$T/err" ||
    fail "resume with another preset: $(cat "$T/err")"
# a finished run is not silently overwritten
train --out "$T/a" --steps 6 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "existing run: want exit 1"
one_line_error "$T/err"
# bad usage: exit 2
"$GW" train wavenet --data "$T/data" >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing --out: want exit 2"
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/c" --steps -3 >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad --steps: want exit 2"
"$GW" train nosuchkind >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown kind: want exit 2"
"$GW" train wavnet >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "typo kind: want exit 2"
grep -q "unknown kind 'wavnet'; did you mean wavenet?" "$T/err" || fail "typo kind: $(cat "$T/err")"
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/c" --early-stop 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad --early-stop: want exit 2"
echo "train_wavenet.sh: ok"
