#!/bin/bash
# genwave quality on the shipped clarinet model (8 kHz, notes 48-72) against
# FluidR3 recordings of notes 60-62 at 48 kHz: a row per note, velocity and
# seed, a summary with the recordings' own figures, a CSV row per note and a
# PNG; the model cannot reach 4 kHz while the recordings do; a note missing
# from the reference is one error line; --audio measures a recording alone
# and reads what the reference figures said; bad usage exits 2.
#
# The recordings are the harpsichord (GM program 6), not the clarinet: at
# notes 60-62 FluidR3's clarinet (71) and piano (0) keep 99% of their energy
# below 3.1 kHz (the soundfont's velocity-controlled low-pass), which the
# 8 kHz model also does, so only a brighter instrument shows the bandwidth
# figure telling a band-limited model from a full-band recording.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
: "${GW_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
M=$GW_SOURCE_DIR/models/default.gwm
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_quality.XXXXXX")
trap 'rm -rf "$T"' EXIT

[ -f "$M" ] || fail "no shipped model at $M"
bash "$GW_SOURCE_DIR/scripts/datasets/instrument-notes.sh" "$T/ref" --programs 6 --notes 60-62 \
    --velocities "64 100" --rate 48000 --cut 1.2 --fade 0 >"$T/log" 2>&1 ||
    fail "instrument-notes.sh: $(tail -3 "$T/log")"

# 3 notes x 2 velocities (the defaults 64 and 100) x 1 seed
"$GW" quality "$M" --notes 60-62 --seconds 1.2 --reference "$T/ref" --csv "$T/a.csv" \
    --png "$T/a.png" >"$T/out" 2>"$T/err" || fail "quality: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "quality wrote to stderr: $(cat "$T/err")"
grep -q "notes 60-62, 2 velocities, 1 seed, 1.2 s each, rendered at 48000 Hz" "$T/out" ||
    fail "header: $(head -1 "$T/out")"
grep -q "^note  vel  seed     f0 Hz    cents  noise dB   HNR dB    bw Hz  LTAS dB$" "$T/out" ||
    fail "column header: $(cat "$T/out")"
rows=$(grep -Ec '^ +6[012] +(64|100) +1 ' "$T/out")
[ "$rows" -eq 6 ] || fail "expected 6 note rows, got $rows: $(cat "$T/out")"
grep -Eq '^  61  100     1 +[0-9.]+ +[-+][0-9.]+ +-[0-9.]+ +[-0-9.]+ +[0-9]+ +[0-9.]+$' "$T/out" ||
    fail "row of note 61 velocity 100: $(cat "$T/out")"
for s in "summary of 6 notes: +model +reference" "within 25 cents \(%\)" "median \|cents\|" \
    "median noise floor \(dB\)" "median HNR \(dB\)" "median bandwidth \(Hz\)" \
    "LTAS distance \(dB\) +median [0-9.]+, mean [0-9.]+" "above 4.5 kHz \(dB\) +median [0-9.]+"; do
    grep -Eq "^ *$s" "$T/out" || fail "summary line '$s' missing: $(cat "$T/out")"
done
[ "$(head -1 "$T/a.csv")" = "note,velocity,seed,f0_hz,cents,noise_db,hnr_db,bandwidth_hz,ltas_distance_db,ref_f0_hz,ref_cents,ref_noise_db,ref_hnr_db,ref_bandwidth_hz,ltas_above_4k5_db" ] ||
    fail "csv header: $(head -1 "$T/a.csv")"
[ "$(($(wc -l <"$T/a.csv") - 1))" -eq 6 ] || fail "csv rows: $(cat "$T/a.csv")"
[ -s "$T/a.png" ] && [ "$(head -c 4 "$T/a.png" | tail -c 3)" = PNG ] || fail "no PNG written"

# the model, rendered at 8 kHz, has nothing above 4 kHz; the recordings have
awk -F, 'NR > 1 && !($8 > 0 && $8 < 4100) { exit 1 }' "$T/a.csv" ||
    fail "model bandwidth not below 4.1 kHz: $(cut -d, -f1-3,8 "$T/a.csv")"
awk -F, 'NR > 1 && !($14 > 4100) { exit 1 }' "$T/a.csv" ||
    fail "reference bandwidth not above 4.1 kHz: $(cut -d, -f1-3,14 "$T/a.csv")"
read -r model ref < <(awk '/median bandwidth/ { print $4, $5 }' "$T/out")
awk -v m="$model" -v r="$ref" 'BEGIN { exit !(m < 4100 && r > 4100) }' ||
    fail "summary bandwidths: model $model, reference $ref"
# every LTAS distance is a positive number; the rows' mean is the summary's
awk -F, 'NR > 1 && !($9 > 0) { exit 1 }' "$T/a.csv" || fail "LTAS distance column"
mean=$(awk -F, 'NR > 1 { s += $9; n++ } END { printf "%.2f", s / n }' "$T/a.csv")
grep -Eq "mean ${mean%?}[0-9]" "$T/out" || fail "mean LTAS distance: CSV $mean, $(tail -2 "$T/out")"
# above 4.5 kHz the 8 kHz model has nothing and the recordings have partials:
# that distance is larger than the whole spectrum's
awk -F, 'NR > 1 && !($15 > $9) { exit 1 }' "$T/a.csv" ||
    fail "distance above 4.5 kHz not above the whole one: $(cut -d, -f1-3,9,15 "$T/a.csv")"

# the same seed measures the same figures
"$GW" quality "$M" --notes 60-62 --reference "$T/ref" --csv "$T/b.csv" >/dev/null || fail "rerun"
cmp -s "$T/a.csv" "$T/b.csv" || fail "the same seed measured differently"

# --precision renders with render's weights: i8 measures, an unknown one is
# a one-line error and exit 2
"$GW" quality "$M" --notes 61-61 --velocity 100 --precision i8 --csv "$T/i8.csv" >/dev/null \
    2>"$T/err" || fail "quality --precision i8: $(cat "$T/err")"
[ "$(($(wc -l <"$T/i8.csv") - 1))" -eq 1 ] || fail "i8 csv rows: $(cat "$T/i8.csv")"
"$GW" quality "$M" --notes 61-61 --precision f64 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "quality --precision f64: want exit 2"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "'f64' is not one of f32, f16, bf16, i8" "$T/err" ||
    fail "quality --precision f64: $(cat "$T/err")"

# without --reference: four figures, no distance column
"$GW" quality "$M" --notes 61-61 --velocity 100 --seeds 1,2 --csv "$T/c.csv" >"$T/out" ||
    fail "quality without a reference"
grep -q "LTAS" "$T/out" && fail "LTAS column without a reference: $(cat "$T/out")"
[ "$(grep -Ec '^  61  100     [12] ' "$T/out")" -eq 2 ] || fail "two seeds: $(cat "$T/out")"
[ "$(head -1 "$T/c.csv")" = "note,velocity,seed,f0_hz,cents,noise_db,hnr_db,bandwidth_hz" ] ||
    fail "csv header without a reference: $(head -1 "$T/c.csv")"

# --audio on a recording gives the figures the reference columns showed
f=$(awk -F, '$2 == 61 && $3 == 100 { print $1 }' "$T/ref/manifest.csv")
"$GW" quality --audio "$T/ref/$f" --note 61 --csv "$T/d.csv" >"$T/out" 2>"$T/err" ||
    fail "--audio: $(cat "$T/err")"
grep -Eq '^  61    -     - +[0-9.]+ ' "$T/out" || fail "--audio row: $(cat "$T/out")"
want=$(awk -F, '$1 == 61 && $2 == 100 { print $10 "," $11 "," $12 "," $13 "," $14 }' "$T/a.csv")
got=$(awk -F, 'NR == 2 { print $4 "," $5 "," $6 "," $7 "," $8 }' "$T/d.csv")
[ -n "$want" ] && [ "$want" = "$got" ] || fail "--audio measured $got, the reference column $want"

# a note the reference lacks: one line naming the folder, note and velocity
"$GW" quality "$M" --notes 60-63 --reference "$T/ref" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing reference note: exit code not 1"
one_line_error "$T/err"
grep -qF "$T/ref: no reference recording for note 63 velocity 64 in manifest.csv" "$T/err" ||
    fail "missing note message: $(cat "$T/err")"
"$GW" quality "$M" --notes 60-62 --velocity 80 --reference "$T/ref" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing reference velocity: exit code not 1"
grep -qF "no reference recording for note 60 velocity 80" "$T/err" || fail "$(cat "$T/err")"
# without a manifest, labels come from the file names (as for training)
mkdir "$T/named"
cp "$T/ref/$f" "$T/named/harpsichord_n61_v100.wav"
"$GW" quality "$M" --notes 61-61 --velocity 100 --reference "$T/named" >"$T/out" 2>"$T/err" ||
    fail "labels from file names: $(cat "$T/err")"
"$GW" quality "$M" --notes 61-62 --velocity 100 --reference "$T/named" >/dev/null 2>"$T/err" &&
    fail "a folder without note 62 accepted"
one_line_error "$T/err"
grep -qF "note 62 velocity 100 (no manifest.csv" "$T/err" || fail "$(cat "$T/err")"

# other errors: one line, exit 1; bad usage: exit 2
"$GW" quality "$T/none.gwm" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing model: exit code not 1"
one_line_error "$T/err"
"$GW" quality --audio "$T/none.wav" --note 60 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing audio: exit code not 1"
one_line_error "$T/err"
"$GW" quality "$M" --notes 30-40 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "notes outside the model's range: exit code not 1"
one_line_error "$T/err"
for args in "" "--audio $T/ref/$f" "$M --audio $T/ref/$f --note 61" "$M --png $T/x.png" \
    "$M --notes 62-60" "$M --velocity 0" "$M --seeds 1,x" "$M --seconds 0.2" "$M --bogus 1" \
    "$M --highpass 1.5" "$M --highpass -1" "--audio $T/ref/$f --note 61 --highpass 0.7"; do
    # shellcheck disable=SC2086
    "$GW" quality $args >/dev/null 2>"$T/err"
    [ $? -eq 2 ] || fail "'quality $args': exit code not 2"
    grep -q "^usage: genwave quality" "$T/err" || fail "'quality $args': no usage: $(cat "$T/err")"
done
# an out-of-range --highpass is named on the first line
"$GW" quality "$M" --highpass 1.5 >/dev/null 2>"$T/err"
[ "$(head -1 "$T/err")" = "genwave quality: bad or unknown argument '--highpass' with value 1.5" ] ||
    fail "--highpass 1.5: $(head -1 "$T/err")"
# --highpass renders through the low cut and says so; 0.7 x f0 takes the
# energy below the fundamental (every partial is kept: the same pitch)
"$GW" quality "$M" --notes 61-61 --velocity 100 --highpass 0.7 --csv "$T/h.csv" >"$T/out" 2>"$T/err" ||
    fail "quality --highpass: $(cat "$T/err")"
grep -q "rendered at 48000 Hz through a high-pass at 0.7 x f0;" "$T/out" || fail "header: $(head -1 "$T/out")"
cmp -s <(cut -d, -f1-3 "$T/c.csv" | head -2) <(cut -d, -f1-3 "$T/h.csv") || fail "rows: $(cat "$T/h.csv")"
echo "quality: ok"
