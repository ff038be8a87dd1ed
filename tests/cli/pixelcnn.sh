#!/bin/bash
# The PixelCNN commands end to end on a tiny noise folder of two classes
# (train pixelcnn with and without classes, resume, info, sample, eval,
# complete), and their bad-input paths: one "genwave: " line (or usage,
# exit 2), no crash, nothing half-written.
set -u
GW=$1
. "$(dirname "$0")/cli.inc"
cli_setup cli_pixelcnn

mkdir -p "$T/data" "$T/other"
for i in $(seq 1 6); do
    wav "$T/data/kick_$i.wav" 16000 6000 /dev/urandom
    wav "$T/data/hat_$i.wav" 16000 6000 /dev/urandom
done
for i in 1 2 3; do wav "$T/other/tom_$i.wav" 16000 6000 /dev/urandom; done
wav "$T/long.wav" 16000 40000 /dev/urandom
wav "$T/short.wav" 16000 1000 /dev/urandom
# pixelcnn-tiny conditioned on at most 4 classes, and on at most 1
sed 's/"classes": 0/"classes": 4/' "$P/pixelcnn-tiny.json" >"$T/cond.json"
sed 's/"classes": 0/"classes": 1/' "$P/pixelcnn-tiny.json" >"$T/cond1.json"

# ---- training (a few steps) ----
"$GW" train pixelcnn --data "$T/data" --preset pixelcnn-tiny --out "$T/u" --steps 3 \
    --sample-every 2 --batch 4 >"$T/out" 2>"$T/err" || fail "train pixelcnn: $(tail -3 "$T/err")"
[ -f "$T/u/model.gwm" ] && [ -f "$T/u/best.gwm" ] || fail "train pixelcnn wrote no model"
[ -f "$T/u/samples/step-0000002.png" ] || fail "train pixelcnn wrote no sample grid"
[ -f "$T/u/samples/step-0000002-0.wav" ] || fail "train pixelcnn wrote no sample WAV"
head -1 "$T/u/log.csv" | grep -q "val_bits_per_dim" || fail "log.csv columns: $(head -1 "$T/u/log.csv")"
grep -q "bits/dim (0 classes)" "$T/out" || fail "train pixelcnn summary: $(cat "$T/out")"
# --threads 2 splits each batch across two shards: the same run up to float
# rounding (the losses of log.csv agree to 5 significant digits)
"$GW" train pixelcnn --data "$T/data" --preset pixelcnn-tiny --out "$T/u2" --steps 3 \
    --sample-every 2 --batch 4 --threads 2 >/dev/null 2>"$T/err" ||
    fail "train pixelcnn --threads 2: $(tail -3 "$T/err")"
losses() { awk -F, 'NR > 1 && $3 != "" { printf "%.5g\n", $3 }' "$1"; }
[ -n "$(losses "$T/u/log.csv")" ] && [ "$(losses "$T/u/log.csv")" = "$(losses "$T/u2/log.csv")" ] ||
    fail "--threads 2 trained another run: $(losses "$T/u/log.csv" | tr '\n' ' ') vs $(losses "$T/u2/log.csv" | tr '\n' ' ')"
# precision: auto (the runs above) is bf16 where the CPU has AVX512_BF16
# (it says which, and the model records it); --precision f32 is then close
# to it but not the same run, and elsewhere the same run
"$GW" train pixelcnn --data "$T/data" --preset pixelcnn-tiny --out "$T/u3" --steps 3 \
    --sample-every 2 --batch 4 --precision f32 >/dev/null 2>"$T/err3" ||
    fail "train pixelcnn --precision f32: $(tail -3 "$T/err3")"
grep -q "^precision: f32" "$T/err3" || fail "--precision f32 said: $(cat "$T/err3")"
"$GW" info "$T/u3/model.gwm" | grep -q "  precision *f32" ||
    fail "the f32 model does not record its precision: $("$GW" info "$T/u3/model.gwm")"
if "$GW" info "$T/u/model.gwm" | grep -q "  precision *bf16"; then
    # (to the last digit written: bf16 moves a short run's losses ~1e-5)
    [ "$(cut -d, -f3 "$T/u/log.csv")" != "$(cut -d, -f3 "$T/u3/log.csv")" ] ||
        fail "auto (bf16) trained the f32 run"
    awk -F, 'NR > 1 && $3 != "" { print $3 }' "$T/u/log.csv" >"$T/l1"
    awk -F, 'NR > 1 && $3 != "" { print $3 }' "$T/u3/log.csv" >"$T/l3"
    paste "$T/l1" "$T/l3" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 0.01 * $1) exit 1 }' ||
        fail "bf16 losses are not within 1% of f32's: $(paste -d' ' "$T/l1" "$T/l3" | tr '\n' ' ')"
else
    "$GW" info "$T/u/model.gwm" | grep -q "  precision *f32" || fail "auto recorded no precision"
    [ "$(losses "$T/u/log.csv")" = "$(losses "$T/u3/log.csv")" ] ||
        fail "auto (f32 here) and --precision f32 trained different runs"
fi
"$GW" train pixelcnn --data "$T/data" --preset pixelcnn-tiny --out "$T/u4" --steps 3 \
    --precision f16 >/dev/null 2>"$T/err" && fail "--precision f16 was taken"
grep -q -- "--precision" "$T/err" || fail "--precision f16: $(cat "$T/err")"
"$GW" train pixelcnn --data "$T/data" --preset "$T/cond.json" --out "$T/c" --steps 3 \
    --sample-every 2 --batch 4 >"$T/out" 2>"$T/err" || fail "train conditioned: $(tail -3 "$T/err")"
grep -q "conditioned on 2 classes: hat, kick" "$T/err" || fail "classes not reported: $(cat "$T/err")"
grep -q "(2 classes)" "$T/out" || fail "train conditioned summary: $(cat "$T/out")"
# manifest.csv's class column wins over the names: every kick "low", the
# hats split into "high" and "air" (a "file,class" manifest)
cp -r "$T/data" "$T/mdata"
{
    echo "file,class"
    for i in $(seq 1 6); do echo "kick_$i.wav,low"; done
    for i in 1 2 3; do echo "hat_$i.wav,high"; done
    for i in 4 5 6; do echo "hat_$i.wav,air"; done
} >"$T/mdata/manifest.csv"
"$GW" train pixelcnn --data "$T/mdata" --preset "$T/cond.json" --out "$T/m" --steps 1 --batch 4 \
    >/dev/null 2>"$T/err" || fail "train on a class manifest: $(tail -3 "$T/err")"
grep -q "conditioned on 3 classes: air, high, low" "$T/err" ||
    fail "manifest classes not used: $(cat "$T/err")"
# with only hat_1 relabelled there are 3 classes again (hat, kick, odd)...
printf 'file,class\nhat_1.wav,odd\n' >"$T/mdata/manifest.csv"
"$GW" train pixelcnn --data "$T/mdata" --preset "$T/cond.json" --out "$T/m" --steps 1 --batch 4 \
    --overwrite >/dev/null 2>"$T/err" || fail "train on a partial class manifest: $(tail -3 "$T/err")"
grep -q "conditioned on 3 classes: hat, kick, odd" "$T/err" ||
    fail "partial manifest classes: $(cat "$T/err")"
# ... and over the preset's one class it is refused, saying where classes come from
"$GW" train pixelcnn --data "$T/mdata" --preset "$T/cond1.json" --out "$T/m1" --steps 1 \
    >/dev/null 2>"$T/err" && fail "3 classes over a preset of 1 accepted"
grep -q "manifest.csv's class column" "$T/err" || fail "class limit message: $(cat "$T/err")"
# the same run directory again without --resume is refused; --resume continues
"$GW" train pixelcnn --data "$T/data" --preset "$T/cond.json" --out "$T/c" --steps 3 >/dev/null 2>"$T/err" &&
    fail "train into a run with a checkpoint without --resume succeeded"
one_line_error "$T/err"
"$GW" train pixelcnn --data "$T/data" --preset "$T/cond.json" --out "$T/c" --steps 5 --resume \
    --sample-every 2 --batch 4 >/dev/null 2>"$T/err" || fail "resume: $(tail -2 "$T/err")"

# resume continues bit for bit: 4 steps straight == 2 steps + resume to 4
common=(--data "$T/data" --preset "$T/cond.json" --sample-every 2 --batch 4 --seed 7)
"$GW" train pixelcnn "${common[@]}" --out "$T/r4" --steps 4 >/dev/null 2>&1 || fail "4 steps"
"$GW" train pixelcnn "${common[@]}" --out "$T/r2" --steps 2 >/dev/null 2>&1 || fail "2 steps"
"$GW" train pixelcnn "${common[@]}" --out "$T/r2" --steps 4 --resume >/dev/null 2>"$T/err" ||
    fail "resume to 4: $(tail -2 "$T/err")"
"$GW" sample "$T/r4/model.gwm" -n 2 -o "$T/s4" --gl-iters 2 >/dev/null 2>&1 || fail "sample r4"
"$GW" sample "$T/r2/model.gwm" -n 2 -o "$T/s2" --gl-iters 2 >/dev/null 2>&1 || fail "sample r2"
cmp -s "$T/s4/sample-001.wav" "$T/s2/sample-001.wav" || fail "resumed run differs"

# ---- the model commands ----
"$GW" info "$T/c/model.gwm" >"$T/out" 2>"$T/err" || fail "info: $(cat "$T/err")"
grep -q "Gated PixelCNN 'pixelcnn-tiny'" "$T/out" || fail "info: $(cat "$T/out")"
grep -q "2 classes: hat, kick" "$T/out" || fail "info classes: $(cat "$T/out")"
grep -q "bits_per_dim_untrained" "$T/out" || fail "info metrics: $(cat "$T/out")"
"$GW" sample "$T/c/model.gwm" -n 3 -o "$T/s" --class kick --temperature 0.8 --seed 4 \
    --gl-iters 4 >"$T/out" 2>"$T/err" || fail "sample: $(cat "$T/err")"
[ -f "$T/s/sample-002.wav" ] && [ -f "$T/s/sample-grid.png" ] || fail "sample outputs missing"
grep -q "class kick" "$T/out" || fail "sample summary: $(cat "$T/out")"
"$GW" sample "$T/u/model.gwm" -n 2 -o "$T/su" --gl-iters 4 >/dev/null 2>"$T/err" ||
    fail "sample unconditioned: $(cat "$T/err")"
"$GW" eval "$T/c/model.gwm" --data "$T/data" -n 8 >"$T/out" 2>"$T/err" || fail "eval: $(cat "$T/err")"
grep -q "held-out bits per dimension" "$T/out" || fail "eval output: $(cat "$T/out")"
grep -q "ceiling: untrained model" "$T/out" || fail "eval output: $(cat "$T/out")"
"$GW" complete "$T/c/model.gwm" "$T/long.wav" --keep-frames 8 --class hat -o "$T/done.wav" \
    --png "$T/done.png" --gl-iters 4 >"$T/out" 2>"$T/err" || fail "complete: $(cat "$T/err")"
[ -f "$T/done.wav" ] && [ -f "$T/done.png" ] || fail "complete outputs missing"
grep -q "the first 8 of 32 frames" "$T/out" || fail "complete summary: $(cat "$T/out")"
# a completion keeps what it is given: with every frame kept nothing is
# sampled, so the temperature cannot matter
for t in 1 0.5; do
    "$GW" complete "$T/u/model.gwm" "$T/long.wav" --keep-frames 32 -o "$T/all$t.wav" --gl-iters 4 \
        --temperature $t >/dev/null 2>"$T/err" || fail "complete all frames: $(cat "$T/err")"
done
cmp -s "$T/all1.wav" "$T/all0.5.wav" || fail "complete changed kept frames"
# fill-in: frames 4-9 anew, the best-weighted of 4 candidates; the same seed
# gives the same sound
for k in a b; do
    "$GW" complete "$T/c/model.gwm" "$T/long.wav" --fill 4-10 --candidates 4 --class hat \
        -o "$T/fill$k.wav" --gl-iters 4 >"$T/out" 2>"$T/err" || fail "complete --fill: $(cat "$T/err")"
done
grep -q "frames 4-9 of 32 .* drawn anew .* candidate [1-4] of 4, .* 22 frames after the gap .* effective sample size" \
    "$T/out" || fail "complete --fill summary: $(cat "$T/out")"
cmp -s "$T/filla.wav" "$T/fillb.wav" || fail "complete --fill is not reproducible"

# ---- bad input: one error line, non-zero exit, nothing written ----
echo "junk" >"$T/junk.gwm"
size=$(stat -c %s "$T/c/model.gwm")
head -c 300 "$T/c/model.gwm" >"$T/trunc.gwm"
head -c $((size - 100)) "$T/c/model.gwm" >"$T/trunc2.gwm"
cp "$T/c/model.gwm" "$T/flip.gwm"
printf '\x55' | dd of="$T/flip.gwm" bs=1 seek=$((size - 50)) conv=notrunc 2>/dev/null
expect_error 1 sample "$T/c/model.gwm" -o "$T/x1" --class tom
grep -q "knows hat, kick" "$T/err" || fail "unknown class does not list the classes: $(cat "$T/err")"
expect_error 1 sample "$T/u/model.gwm" -o "$T/x2" --class kick
expect_error 2 sample "$T/c/model.gwm" -o "$T/x3" --truncation 1
expect_error 2 sample "$T/c/model.gwm" -o "$T/x4" --temperature -1
for m in junk trunc trunc2 flip; do
    expect_error 1 sample "$T/$m.gwm" -o "$T/x5"
    expect_error 1 info "$T/$m.gwm"
    expect_error 1 eval "$T/$m.gwm" --data "$T/data"
    expect_error 1 complete "$T/$m.gwm" "$T/long.wav" --keep-frames 4 -o "$T/x6.wav"
    grep -q "$m.gwm" "$T/err" || fail "the error does not name the file: $(cat "$T/err")"
done
expect_error 1 complete "$T/c/model.gwm" "$T/short.wav" --keep-frames 8 --class hat -o "$T/x7.wav"
grep -q "needs" "$T/err" || fail "too-short reference: $(cat "$T/err")"
expect_error 1 complete "$T/c/model.gwm" "$T/long.wav" --keep-frames 40 --class hat -o "$T/x8.wav"
expect_error 1 complete "$T/c/model.gwm" "$T/long.wav" --keep-frames 8 -o "$T/x9.wav"
expect_error 2 complete "$T/c/model.gwm" "$T/long.wav" --fill 6-3 --class hat -o "$T/x10.wav"
expect_error 2 complete "$T/c/model.gwm" "$T/long.wav" --fill 2-5 --keep-frames 2 --class hat \
    -o "$T/x11.wav"
expect_error 1 complete "$T/c/model.gwm" "$T/long.wav" --fill 2-32 --class hat -o "$T/x12.wav"
grep -q "gap must end before the last" "$T/err" || fail "fill to the end: $(cat "$T/err")"
expect_error 1 complete "$T/c/model.gwm" "$T/short.wav" --fill 1-8 --class hat -o "$T/x13.wav"
grep -q -- "--fill 1-8 needs 9 frames" "$T/err" || fail "fill past a short sound: $(cat "$T/err")"
expect_error 1 complete "$T/c/model.gwm" "$T/long.wav" --keep-frames 8 --class hat -o "$T/nodir/x.wav"
expect_error 2 complete "$T/c/model.gwm" "$T/long.wav" -o "$T/x10.wav"
expect_error 2 complete "$T/c/model.gwm" "$T/long.wav" --keep-frames 0 -o "$T/x10.wav"
expect_error 1 eval "$T/c/model.gwm" --data "$T/other"
grep -q "class 'tom'" "$T/err" || fail "eval on an unknown class: $(cat "$T/err")"
expect_error 1 render "$T/c/model.gwm" --note 60 --seconds 1 -o "$T/x11.wav"
expect_error 1 play "$T/c/model.gwm" --note 60 --seconds 1
expect_error 1 interpolate "$T/c/model.gwm" --seeds 1 2 -o "$T/x12"
expect_error 1 complete "$T/u/log.csv" "$T/long.wav" --keep-frames 4 -o "$T/x13.wav"
expect_error 1 train pixelcnn --data "$T/data" --preset specvae-tiny --out "$T/x14"
grep -q "'specvae', not 'pixelcnn'" "$T/err" || fail "another kind's preset: $(cat "$T/err")"
expect_error 1 train pixelcnn --data "$T/data" --preset "$T/cond1.json" --out "$T/x15"
grep -q "2 classes (hat, kick) where the preset allows 1" "$T/err" || fail "class cap: $(cat "$T/err")"
# a resume on data whose classes changed says so
cp -r "$T/data" "$T/data2" && wav "$T/data2/snare_1.wav" 16000 6000 /dev/urandom
expect_error 1 train pixelcnn --data "$T/data2" --preset "$T/cond.json" --out "$T/c" --steps 6 --resume
grep -q "trained on classes" "$T/err" || fail "resume with other classes: $(cat "$T/err")"
for x in x1 x2 x3 x4 x5 x6.wav x7.wav x8.wav x9.wav nodir x10.wav x11.wav x12 x13.wav x14 x15; do
    [ ! -e "$T/$x" ] || fail "a refused command left $x behind"
done
echo "pixelcnn CLI: ok"
