#!/bin/bash
# The spectrogram GAN and VAE commands end to end on a tiny noise folder
# (train gan|vae, sample, interpolate, encode, reconstruct, eval), and their
# bad-input paths: one "genwave: " line (or usage, exit 2), no crash, no
# half-written output.
set -u
GW=$1
. "$(dirname "$0")/cli.inc"
cli_setup cli_gan_vae

noise_clips "$T/data" 12
wav "$T/long.wav" 16000 40000 /dev/urandom

# ---- training (a few steps) ----
"$GW" train gan --data "$T/data" --preset "$P/specgan-tiny.json" --out "$T/gan" --steps 3 \
    --sample-every 2 --batch 4 >"$T/out" 2>"$T/err" || fail "train gan: $(tail -3 "$T/err")"
[ -f "$T/gan/model.gwm" ] || fail "train gan wrote no model"
[ -f "$T/gan/samples/step-0000002.png" ] || fail "train gan wrote no sample grid"
grep -q "Frechet distance" "$T/out" || fail "train gan summary: $(cat "$T/out")"
"$GW" train vae --data "$T/data" --preset specvae-tiny --out "$T/vae" --steps 3 \
    --sample-every 2 --batch 4 >"$T/out" 2>"$T/err" || fail "train vae: $(tail -3 "$T/err")"
[ -f "$T/vae/samples/recon-0000002.png" ] || fail "train vae wrote no reconstruction grid"
[ -f "$T/vae/samples/kl_per_dim.csv" ] || fail "train vae wrote no KL per dim"
# precision: the model records it; auto is bf16 where the CPU has
# AVX512_BF16 and differs from --precision f32 (to the last digit logged)
for kind in gan vae; do
    "$GW" info "$T/$kind/model.gwm" | grep -q -E "^ +(train\.)?precision +(bf16|f32)" ||
        fail "the $kind model records no precision"
    "$GW" train $kind --data "$T/data" --preset spec$kind-tiny --out "$T/${kind}32" --steps 3 \
        --sample-every 2 --batch 4 --precision f32 >/dev/null 2>"$T/err" ||
        fail "train $kind --precision f32: $(tail -3 "$T/err")"
    "$GW" info "$T/${kind}32/model.gwm" | grep -q -E "^ +(train\.)?precision +f32" ||
        fail "--precision f32 recorded: $("$GW" info "$T/${kind}32/model.gwm" | grep precision)"
    if "$GW" info "$T/$kind/model.gwm" | grep -q -E "^ +(train\.)?precision +bf16"; then
        [ "$(cut -d, -f3 "$T/$kind/log.csv")" != "$(cut -d, -f3 "$T/${kind}32/log.csv")" ] ||
            fail "$kind: auto (bf16) trained the f32 run"
    fi
done
# the same run directory again without --resume is refused
"$GW" train vae --data "$T/data" --preset specvae-tiny --out "$T/vae" --steps 3 >/dev/null 2>"$T/err" &&
    fail "train into a run with a checkpoint without --resume succeeded"
one_line_error "$T/err"
"$GW" train vae --data "$T/data" --preset specvae-tiny --out "$T/vae" --steps 5 --resume \
    >/dev/null 2>"$T/err" || fail "resume: $(tail -2 "$T/err")"

# resume continues bit for bit: 4 steps straight == 2 steps + resume to 4
# (compared through the sounds the two models sample with the same seed)
for kind in gan vae; do
    preset=spec$kind-tiny
    common=(--data "$T/data" --preset $preset --sample-every 2 --batch 4 --seed 7)
    "$GW" train $kind "${common[@]}" --out "$T/r4$kind" --steps 4 >/dev/null 2>"$T/err" || fail "$kind 4 steps"
    "$GW" train $kind "${common[@]}" --out "$T/r2$kind" --steps 2 >/dev/null 2>"$T/err" || fail "$kind 2 steps"
    "$GW" train $kind "${common[@]}" --out "$T/r2$kind" --steps 4 --resume >/dev/null 2>"$T/err" ||
        fail "$kind resume: $(tail -2 "$T/err")"
    "$GW" sample "$T/r4$kind/model.gwm" -n 1 -o "$T/s4$kind" --gl-iters 2 >/dev/null 2>&1 || fail "sample r4"
    "$GW" sample "$T/r2$kind/model.gwm" -n 1 -o "$T/s2$kind" --gl-iters 2 >/dev/null 2>&1 || fail "sample r2"
    cmp -s "$T/s4$kind/sample-000.wav" "$T/s2$kind/sample-000.wav" || fail "$kind: resumed run differs"
done

# ---- the model commands ----
"$GW" sample "$T/gan/model.gwm" -n 3 -o "$T/s" --seed 4 --truncation 1.5 --gl-iters 4 >/dev/null 2>"$T/err" ||
    fail "sample gan: $(cat "$T/err")"
[ -f "$T/s/sample-002.wav" ] && [ -f "$T/s/sample-grid.png" ] || fail "sample gan outputs missing"
"$GW" sample "$T/vae/model.gwm" -n 2 -o "$T/sv" --gl-iters 4 >/dev/null 2>"$T/err" || fail "sample vae"
"$GW" interpolate "$T/gan/model.gwm" --seeds 1 2 --steps 3 -o "$T/i" --gl-iters 4 >/dev/null 2>"$T/err" ||
    fail "interpolate gan: $(cat "$T/err")"
[ -f "$T/i/interp-002.wav" ] || fail "interpolate gan outputs missing"
"$GW" interpolate "$T/vae/model.gwm" "$T/data/n1.wav" "$T/data/n2.wav" --steps 3 --linear -o "$T/iv" \
    --gl-iters 4 >/dev/null 2>"$T/err" || fail "interpolate vae: $(cat "$T/err")"
"$GW" encode "$T/vae/model.gwm" "$T/long.wav" >"$T/enc.csv" 2>"$T/err" || fail "encode: $(cat "$T/err")"
# 40000 samples in clips of 8192: 5 clips + header
[ "$(wc -l <"$T/enc.csv")" -eq 6 ] || fail "encode rows: $(wc -l <"$T/enc.csv")"
head -1 "$T/enc.csv" | grep -q "^clip,start_s,mu_0," || fail "encode header"
"$GW" encode "$T/vae/model.gwm" "$T/long.wav" --format json -o "$T/enc.json" 2>"$T/err" || fail "encode json"
grep -q '"clips"' "$T/enc.json" || fail "encode json content"
"$GW" reconstruct "$T/vae/model.gwm" "$T/long.wav" -o "$T/rec.wav" --gl-iters 4 >"$T/out" 2>"$T/err" ||
    fail "reconstruct: $(cat "$T/err")"
grep -q "log-spectral distance" "$T/out" || fail "reconstruct summary"
[ "$(stat -c %s "$T/rec.wav")" -gt 80000 ] || fail "reconstruction shorter than the input"
"$GW" eval "$T/gan/model.gwm" --data "$T/data" -n 8 >"$T/out" 2>"$T/err" || fail "eval gan: $(cat "$T/err")"
grep -q "ceiling: untrained generator" "$T/out" || fail "eval gan output: $(cat "$T/out")"
"$GW" eval "$T/vae/model.gwm" --data "$T/data" >"$T/out" 2>"$T/err" || fail "eval vae: $(cat "$T/err")"
grep -q "active dims" "$T/out" || fail "eval vae output: $(cat "$T/out")"
grep -q "ceiling: untrained decoder" "$T/out" || fail "eval vae samples: $(cat "$T/out")"
# the discretised bound: finite bits per dimension, the fitted variance's
# below the untrained model's
b=$(awk '/model, variance fitted/ {print $NF}' "$T/out")
bu=$(awk '/untrained model \(fitted/ {print $NF}' "$T/out")
awk -v b="$b" -v u="$bu" 'BEGIN { exit !(b > 0 && b < u) }' ||
    fail "eval vae bits/dim $b vs untrained $bu: $(cat "$T/out")"

# ---- bad input: one error line, non-zero exit ----
echo "junk" >"$T/junk.gwm"
head -c 300 "$T/vae/model.gwm" >"$T/trunc.gwm"
expect_error 1 sample "$T/missing.gwm" -o "$T/x"
expect_error 1 sample "$T/junk.gwm" -o "$T/x"
expect_error 1 sample "$T/trunc.gwm" -o "$T/x"
expect_error 2 sample "$T/gan/model.gwm"
expect_error 2 sample "$T/gan/model.gwm" -o "$T/x" -n 0
expect_error 2 sample "$T/gan/model.gwm" -o "$T/x" --truncation abc
expect_error 1 encode "$T/gan/model.gwm" "$T/long.wav"
expect_error 1 reconstruct "$T/gan/model.gwm" "$T/long.wav" -o "$T/x.wav"
expect_error 1 encode "$T/vae/model.gwm" "$T/junk.gwm"
expect_error 2 encode "$T/vae/model.gwm" "$T/long.wav" --format xml
expect_error 2 interpolate "$T/gan/model.gwm" "$T/data/n1.wav" "$T/data/n2.wav" -o "$T/x"
expect_error 2 interpolate "$T/vae/model.gwm" --seeds 1 2 -o "$T/x"
expect_error 1 reconstruct "$T/vae/model.gwm" "$T/long.wav" -o "$T/nodir/sub/out.wav"
[ ! -e "$T/nodir" ] || fail "reconstruct created an output directory"
expect_error 1 eval "$T/vae/model.gwm" --data "$T/nothere"
expect_error 2 eval "$T/vae/model.gwm"
expect_error 2 train gan --data "$T/data" --out "$T/g2"
expect_error 1 train gan --data "$T/nothere" --preset specgan-tiny --out "$T/g3"
expect_error 1 train gan --data "$T/data" --preset specvae-tiny --out "$T/g4"
expect_error 1 train gan --data "$T/data" --preset no-such-preset --out "$T/g5"
expect_error 1 train gan --data "$T/data" --preset specgan-tiny --loss wgan --out "$T/g6"
expect_error 2 train vae --data "$T/data" --preset specvae-tiny --out "$T/g7" --beta -1
echo "gan_vae CLI: ok"
