#!/bin/bash
# genwave train wavenet / render / info: a few-step model renders a note and a
# MIDI file (at the model rate and resampled); bad input - missing or corrupt
# model, a GAN model, an unparsable MIDI file, notes outside the model's
# range, an unwritable output - gives one "genwave: " line, exit 1, and leaves
# no output file (nor a temporary one) behind.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_render.XXXXXX")
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT

# no output file and no temporary file left in the output folder
nothing_written() {
    [ ! -e "$1" ] || fail "$1 was written"
    local d
    d=$(dirname "$1")
    [ ! -d "$d" ] || ! ls "$d" | grep -q '\.tmp\.' || fail "temporary file left beside $1"
}
# expect_error LABEL PATTERN OUT -- command...: exit 1, one line matching PATTERN
expect_error() {
    local label=$1 pattern=$2 out=$3
    shift 4
    "$@" >/dev/null 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "$label: exit $rc (want 1): $(cat "$T/err")"
    one_line_error "$T/err"
    grep -q -- "$pattern" "$T/err" || fail "$label: message '$(cat "$T/err")' lacks '$pattern'"
    nothing_written "$out"
}

mkdir -p "$T/data" "$T/out"
for n in 57 60 64 67; do wav "$T/data/tone_n${n}_v100.wav" 8000 6000 /dev/urandom; done
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/run" --steps 3 \
    --val-every 3 >"$T/log" 2>&1 || fail "train: $(tail -3 "$T/log")"
M=$T/run/model.gwm
[ -s "$M" ] || fail "no model.gwm"
for f in checkpoint.gwm log.csv; do [ -s "$T/run/$f" ] || fail "no $f"; done

# info: architecture, size, receptive field, cost, provenance, metrics
"$GW" info "$M" >"$T/info" 2>"$T/err" || fail "info: $(cat "$T/err")"
for k in "WaveNet 'wavenet-tiny-pitch'" "8000 Hz" "receptive field:  63 samples (7.9 ms)" \
    "MAC per generated sample" "parameters:" "steps                    3" "commit" \
    "note_min                 57" "val_bits_per_sample"; do
    grep -q "$k" "$T/info" || fail "info lacks '$k': $(cat "$T/info")"
done

# a note, at the model rate and resampled
"$GW" render "$M" -o "$T/out/note.wav" --note 60 --seconds 0.3 --seed 3 2>"$T/err" >/dev/null ||
    fail "render note: $(cat "$T/err")"
"$GW" info "$T/out/note.wav" >/dev/null 2>&1 && fail "info accepted a WAV file"
"$GW" render "$M" -o "$T/out/note48.wav" --note 64 --seconds 0.3 --rate 48000 >"$T/msg" 2>"$T/err" ||
    fail "render --rate: $(cat "$T/err")"
grep -q "at 48000 Hz" "$T/msg" || fail "render --rate: $(cat "$T/msg")"
# the key-tracked low cut: the same note and seed, changed; 0 is the default, bit for bit
"$GW" render "$M" -o "$T/out/hp.wav" --note 60 --seconds 0.3 --seed 3 --highpass 0.7 >/dev/null 2>"$T/err" ||
    fail "render --highpass 0.7: $(cat "$T/err")"
cmp -s "$T/out/note.wav" "$T/out/hp.wav" && fail "--highpass 0.7 changed nothing"
"$GW" render "$M" -o "$T/out/hp0.wav" --note 60 --seconds 0.3 --seed 3 --highpass 0 >/dev/null 2>&1
cmp -s "$T/out/note.wav" "$T/out/hp0.wav" || fail "--highpass 0 is not the default"
# same seed, same sound; another seed, another sound
"$GW" render "$M" -o "$T/out/again.wav" --note 60 --seconds 0.3 --seed 3 >/dev/null 2>&1
cmp -s "$T/out/note.wav" "$T/out/again.wav" || fail "same seed rendered differently"

# a MIDI file: a chord of two notes then a third (format 0, 96 ticks per beat)
printf 'MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x1c'\
'\x00\x90\x3c\x64\x00\x90\x40\x64\x60\x80\x3c\x00\x00\x80\x40\x00'\
'\x00\x90\x43\x64\x60\x80\x43\x00\x00\xff\x2f\x00' >"$T/song.mid"
"$GW" render "$M" --midi "$T/song.mid" -o "$T/out/song.wav" >"$T/msg" 2>"$T/err" ||
    fail "render midi: $(cat "$T/err")"
grep -q "3 notes" "$T/msg" || fail "midi notes: $(cat "$T/msg")"
[ -s "$T/out/song.wav" ] || fail "no song.wav"

# ---- bad input ----
expect_error "missing model" "missing.gwm" "$T/out/x.wav" -- \
    "$GW" render "$T/missing.gwm" -o "$T/out/x.wav" --note 60
head -c 300 "$M" >"$T/trunc.gwm"
expect_error "truncated model" "trunc.gwm" "$T/out/x.wav" -- \
    "$GW" render "$T/trunc.gwm" -o "$T/out/x.wav" --note 60
echo "definitely not a model" >"$T/junk.gwm"
expect_error "junk model" "junk.gwm" "$T/out/x.wav" -- "$GW" render "$T/junk.gwm" -o "$T/out/x.wav"
expect_error "info of junk" "junk.gwm" "$T/out/x.wav" -- "$GW" info "$T/junk.gwm"
mkdir -p "$T/gandata"
for n in 1 2 3 4; do wav "$T/gandata/hit$n.wav" 16000 20000 /dev/urandom; done
"$GW" train gan --data "$T/gandata" --preset specgan-tiny --out "$T/gan" --steps 1 >"$T/log" 2>&1
if [ -s "$T/gan/model.gwm" ]; then
    expect_error "GAN model" "not a WaveNet" "$T/out/x.wav" -- \
        "$GW" render "$T/gan/model.gwm" -o "$T/out/x.wav" --note 60
else
    fail "could not make a GAN model to test with: $(tail -2 "$T/log")"
fi
echo "MThd garbage" >"$T/bad.mid"
expect_error "bad MIDI" "bad.mid" "$T/out/x.wav" -- \
    "$GW" render "$M" --midi "$T/bad.mid" -o "$T/out/x.wav"
expect_error "missing MIDI" "nope.mid" "$T/out/x.wav" -- \
    "$GW" render "$M" --midi "$T/nope.mid" -o "$T/out/x.wav"
# the same song two octaves up: notes 84.. are outside 57..67
printf 'MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0c'\
'\x00\x90\x54\x64\x60\x80\x54\x00\x00\xff\x2f\x00' >"$T/high.mid"
expect_error "MIDI note out of range" "outside the model's range" "$T/out/x.wav" -- \
    "$GW" render "$M" --midi "$T/high.mid" -o "$T/out/x.wav"
expect_error "note out of range" "outside the model's range" "$T/out/x.wav" -- \
    "$GW" render "$M" --note 100 -o "$T/out/x.wav"
expect_error "no such folder" "no/such/dir" "$T/no/such/dir/x.wav" -- \
    "$GW" render "$M" --note 60 -o "$T/no/such/dir/x.wav"
mkdir -p "$T/ro"
chmod a-w "$T/ro"
if [ "$(id -u)" != 0 ]; then # root writes anywhere
    expect_error "read-only folder" "ro/x.wav" "$T/ro/x.wav" -- \
        "$GW" render "$M" --note 60 -o "$T/ro/x.wav"
fi
# an output path that is a folder: the write fails at the end, nothing left
expect_error "output is a folder" "out" "$T/nothing.wav" -- \
    "$GW" render "$M" --note 60 --seconds 0.1 -o "$T/out"

# bad usage: exit 2
"$GW" render "$M" --note 60 >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing -o: want exit 2"
"$GW" render "$M" -o "$T/out/y.wav" --temperature abc >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad number: want exit 2"
# --highpass is 0..1: outside, one line naming the option, exit 2, nothing written
for r in 1.5 -0.1; do
    "$GW" render "$M" -o "$T/out/y.wav" --note 60 --highpass $r >/dev/null 2>"$T/err"
    [ $? -eq 2 ] || fail "--highpass $r: want exit 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "--highpass $r: unknown option or value out of range" "$T/err" ||
        fail "--highpass $r: $(cat "$T/err")"
done
"$GW" render "$M" -o "$T/out/y.wav" --note 60 --precision f64 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad precision: want exit 2"
grep -q "'f64' is not one of f32, f16, bf16" "$T/err" || fail "bad precision: $(cat "$T/err")"
nothing_written "$T/out/y.wav"

# every weight precision renders, each the same for the same seed (i8 on
# the byte-product kernels where the CPU has AVX512_VNNI, else their
# scalar twin); the default is bf16 from 65536 MAC per sample on, f32 below
for p in f32 f16 bf16 i8; do
    for k in 1 2; do
        "$GW" render "$M" -o "$T/out/$p$k.wav" --note 60 --seconds 0.3 --seed 3 --precision $p \
            >/dev/null 2>"$T/err" || fail "render --precision $p: $(cat "$T/err")"
    done
    cmp -s "$T/out/${p}1.wav" "$T/out/${p}2.wav" || fail "--precision $p: same seed rendered differently"
done
macs=$(sed -n 's/^cost: *\([0-9]*\) MAC.*/\1/p' "$T/info")
[ -n "$macs" ] || fail "info: no MAC count"
want=f32
[ "$macs" -ge 65536 ] && want=bf16
cmp -s "$T/out/note.wav" "$T/out/${want}1.wav" || fail "the default precision ($macs MAC) is not $want"
echo "render.sh: ok"
