#!/bin/bash
# genwave pitch on a few-step model: one line and one CSV row per note and
# velocity over the trained range (from the model's metadata) or --notes;
# the same seed measures the same figures; --wav-dir writes what was
# measured; an untrained model is nowhere near 100% in tune, so
# --min-accuracy 100 fails with one line; bad input gives one "genwave: "
# line (or usage and exit 2).
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_pitch.XXXXXX")
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/data"
for n in 57 60 64 67; do wav "$T/data/tone_n${n}_v100.wav" 8000 6000 /dev/urandom; done
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/run" --steps 3 \
    --val-every 3 >"$T/log" 2>&1 || fail "train: $(tail -3 "$T/log")"
M=$T/run/model.gwm

# the trained range 57..67 at two velocities: 22 notes
"$GW" pitch "$M" --velocity 100 --velocity 40 --seconds 0.5 --skip 0.1 --csv "$T/a.csv" \
    --wav-dir "$T/wav" >"$T/out" 2>"$T/err" || fail "pitch: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "pitch wrote to stderr: $(cat "$T/err")"
[ "$(grep -c '^  note ' "$T/out")" -eq 22 ] || fail "expected 22 note lines: $(cat "$T/out")"
head -1 "$T/out" | grep -q "notes 57-67, 2 velocities" || fail "header: $(head -1 "$T/out")"
grep -q "^  note  57 vel  40  target  220.00 Hz" "$T/out" || fail "note 57 line: $(cat "$T/out")"
grep -q "^  note  67 vel 100  target  392.00 Hz" "$T/out" || fail "note 67 line: $(cat "$T/out")"
grep -Eq "^in tune \(within 50 cents\): [0-9]+ of 22 notes = [0-9.]+%" "$T/out" ||
    fail "summary: $(tail -1 "$T/out")"
[ "$(head -1 "$T/a.csv")" = "note,velocity,target_hz,f0_hz,cents,rms,in_tune" ] || fail "csv header"
[ "$(($(wc -l <"$T/a.csv") - 1))" -eq 22 ] || fail "csv rows: $(cat "$T/a.csv")"
# the summary counts what the rows say
good=$(awk -F, 'NR > 1 && $7 == 1' "$T/a.csv" | wc -l)
grep -q "): $good of 22 notes" "$T/out" || fail "summary disagrees with the CSV ($good in tune)"
# a row is in tune exactly when it is voiced and within 50 cents
awk -F, 'NR > 1 { c = $5 < 0 ? -$5 : $5; want = ($4 > 0 && c < 50); if (want != $7) exit 1 }' \
    "$T/a.csv" || fail "in_tune column inconsistent with f0 and cents"
[ "$(ls "$T/wav" | wc -l)" -eq 22 ] && [ -s "$T/wav/n057_v040.wav" ] || fail "--wav-dir files"

# the same seed gives the same figures; another seed other ones
"$GW" pitch "$M" --velocity 100 --velocity 40 --seconds 0.5 --skip 0.1 --csv "$T/b.csv" >/dev/null ||
    fail "second run"
cmp -s "$T/a.csv" "$T/b.csv" || fail "same seed measured differently"
"$GW" pitch "$M" --velocity 100 --velocity 40 --seconds 0.5 --skip 0.1 --seed 9 --csv "$T/c.csv" >/dev/null
cmp -s "$T/a.csv" "$T/c.csv" && fail "another seed rendered the same notes"

# --notes overrides the range
"$GW" pitch "$M" --notes 60-62 --seconds 0.5 --skip 0.1 >"$T/out" || fail "--notes"
[ "$(grep -c '^  note ' "$T/out")" -eq 3 ] || fail "--notes 60-62: $(cat "$T/out")"

# an untrained model is not 100% in tune
"$GW" pitch "$M" --seconds 0.5 --skip 0.1 --min-accuracy 100 >/dev/null 2>"$T/err" &&
    fail "--min-accuracy 100 passed on a 3-step model"
one_line_error "$T/err"
grep -q "below --min-accuracy 100" "$T/err" || fail "min-accuracy message: $(cat "$T/err")"
"$GW" pitch "$M" --seconds 0.5 --skip 0.1 --min-accuracy 0 >/dev/null 2>&1 || fail "--min-accuracy 0"

# bad input
"$GW" pitch "$T/none.gwm" >/dev/null 2>"$T/err" && fail "missing model accepted"
one_line_error "$T/err"
"$GW" pitch "$T/data/tone_n57_v100.wav" >/dev/null 2>"$T/err" && fail "a WAV accepted as model"
one_line_error "$T/err"
"$GW" pitch "$T/run/checkpoint.gwm" >/dev/null 2>"$T/err" && fail "a checkpoint accepted as model"
one_line_error "$T/err"
"$GW" pitch "$M" --seconds 0.1 >/dev/null 2>"$T/err" && fail "0.1 s notes accepted"
"$GW" pitch "$M" --notes 70-60 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--notes 70-60: exit code not 2"
"$GW" pitch "$M" --velocity 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--velocity 0: exit code not 2"
"$GW" pitch >/dev/null 2>&1
[ $? -eq 2 ] || fail "no model: exit code not 2"
"$GW" pitch "$M" --csv "$T/no/such/dir/x.csv" --seconds 0.5 --skip 0.1 >/dev/null 2>"$T/err" &&
    fail "unwritable CSV accepted"
one_line_error "$T/err"
echo "pitch: ok"
