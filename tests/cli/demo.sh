#!/bin/bash
# scripts/demo.sh end to end with the build under test (GENWAVE: no package
# install, no build) into a scratch folder (--out), on a snapshot of the
# shipped models (--models: a model replaced while the test runs does not
# tear its read):
#   - demo.wav is a valid PCM WAV as long as the phrase (last note-off of
#     presets/demo/phrase.mid at 9.575 s plus the renderer's 60 ms release)
#     with sound in every second of it; note-c4.wav is 2 s + release;
#   - demo.png is a valid PNG as wide as demo.wav's frames (hop 128, scale 2);
#   - the GAN and the VAE each wrote 8 valid, equally long, non-silent WAVs
#     and valid grid and spectrogram PNGs;
# and its other paths: without models each part is named and skipped (exit
# 0, nothing written), bad options exit 2, a missing binary exits 1.
# The checks read the files with od/awk, not with genwave.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_demo.XXXXXX")
trap 'rm -rf "$T"' EXIT
SRC=${GW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DEMO=$SRC/scripts/demo.sh

# u32 FILE OFFSET, u16 FILE OFFSET: little-endian integers
u32() { od -An -v -t u4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '; }
u16() { od -An -v -t u2 --endian=little -j "$2" -N 2 "$1" | tr -d ' '; }
# bytes FILE OFFSET N: N bytes as text (chunk ids, signatures)
bytes() { od -An -v -c -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# wav FILE: checks that FILE is a RIFF/WAVE file of 16-bit PCM whose chunks
# add up to its size, and sets RATE, CHANNELS, FRAMES, DATA (data offset)
wav_check() {
    local f=$1 size pos id len fmt=0
    [ -f "$f" ] || fail "$f: missing"
    size=$(stat -c %s "$f")
    [ "$size" -ge 44 ] || fail "$f: $size bytes, too short for a WAV"
    [ "$(bytes "$f" 0 4)" = RIFF ] && [ "$(bytes "$f" 8 4)" = WAVE ] || fail "$f: not RIFF/WAVE"
    [ $(($(u32 "$f" 4) + 8)) -eq "$size" ] || fail "$f: RIFF size $(u32 "$f" 4) + 8 != file size $size"
    DATA=0 pos=12
    while [ $((pos + 8)) -le "$size" ]; do
        id=$(bytes "$f" $pos 4) len=$(u32 "$f" $((pos + 4)))
        [ $((pos + 8 + len)) -le "$size" ] || fail "$f: chunk '$id' of $len bytes runs past the end"
        case $id in
        fmt)
            [ "$(u16 "$f" $((pos + 8)))" -eq 1 ] || fail "$f: not PCM (format $(u16 "$f" $((pos + 8))))"
            CHANNELS=$(u16 "$f" $((pos + 10))) RATE=$(u32 "$f" $((pos + 12)))
            [ "$(u16 "$f" $((pos + 22)))" -eq 16 ] || fail "$f: not 16-bit"
            fmt=1
            ;;
        data) DATA=$((pos + 8)) FRAMES=$((len / 2 / CHANNELS)) ;;
        esac
        pos=$((pos + 8 + len + (len & 1)))
    done
    [ $fmt -eq 1 ] && [ $DATA -gt 0 ] || fail "$f: no fmt or data chunk"
    [ "$RATE" -ge 8000 ] && [ "$RATE" -le 96000 ] || fail "$f: sample rate $RATE"
    [ "$CHANNELS" -eq 1 ] || fail "$f: $CHANNELS channels, the models are mono"
    [ "$FRAMES" -gt 0 ] || fail "$f: no samples"
}

# "not silent": RMS above -70 dBFS (10 LSB of 16 bits); the shipped models
# play at -35 to -50 dBFS (the drum VAE's quietest hit: -53)
QUIET=0.0003
# levels FILE SECONDS: the RMS (full scale = 1) of the whole file, then of
# each whole SECONDS-long stretch (after wav_check)
levels() {
    od -An -v -t d2 --endian=little -j "$DATA" -N $((FRAMES * 2)) "$1" |
        awk -v per=$(($2 * RATE)) '{ for (i = 1; i <= NF; i++) {
                x = $i / 32768; s += x * x; b += x * x; n++
                if (n % per == 0) { blk = blk " " sqrt(b / per); b = 0 } } }
            END { printf "%.6f%s\n", sqrt(s / n), blk }'
}

# png_check FILE: the PNG signature, an IHDR first with a non-zero size, an
# IEND last; sets WIDTH, HEIGHT
png_check() {
    local f=$1 size
    [ -f "$f" ] || fail "$f: missing"
    size=$(stat -c %s "$f")
    [ "$size" -ge 57 ] || fail "$f: $size bytes, too short for a PNG"
    [ "$(od -An -v -t x1 -N 8 "$f" | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$f: no PNG signature"
    [ "$(bytes "$f" 12 4)" = IHDR ] || fail "$f: first chunk is not IHDR"
    WIDTH=$(od -An -v -t u4 --endian=big -j 16 -N 4 "$f" | tr -d ' ')
    HEIGHT=$(od -An -v -t u4 --endian=big -j 20 -N 4 "$f" | tr -d ' ')
    [ "$WIDTH" -gt 0 ] && [ "$HEIGHT" -gt 0 ] || fail "$f: ${WIDTH}x$HEIGHT"
    [ "$(bytes "$f" $((size - 8)) 4)" = IEND ] || fail "$f: does not end with IEND"
}

# ---- the demo on the shipped models ----
mkdir -p "$T/models"
for m in default drums-gan drums-vae; do
    cp "$SRC/models/$m.gwm" "$T/models/" || fail "models/$m.gwm is not in the repository"
done
GENWAVE=$GW bash "$DEMO" --out "$T/out" --models "$T/models" --no-play >"$T/log" 2>&1 ||
    fail "demo.sh exited $?: $(tail -5 "$T/log")"
grep -q "skipped" "$T/log" && fail "demo.sh skipped a part: $(grep skipped "$T/log")"
grep -q "playing" "$T/log" && fail "demo.sh played despite --no-play"
O=$T/out

wav_check "$O/demo.wav"
# 9.575 s + 60 ms release (src/cli/cmd_render.c); 10 ms for the rounding
awk -v n="$FRAMES" -v r="$RATE" 'BEGIN { d = n / r; exit !(d > 9.625 && d < 9.645) }' ||
    fail "demo.wav lasts $FRAMES / $RATE s, want 9.635 s"
demo_frames=$FRAMES
read -r rms blocks <<<"$(levels "$O/demo.wav" 1)"
awk -v x="$rms" -v q=$QUIET 'BEGIN { exit !(x > q) }' || fail "demo.wav is silent (RMS $rms)"
set -- $blocks
[ $# -eq 9 ] || fail "demo.wav: $# whole seconds, want 9"
for b in "$@"; do # the phrase never rests: every second has sound
    awk -v x="$b" -v q=$QUIET 'BEGIN { exit !(x > q) }' || fail "demo.wav has a silent second: RMS per second $blocks"
done
png_check "$O/demo.png"
# one column per hop of 128 samples, scaled 2x
want=$((2 * demo_frames / 128))
[ "$WIDTH" -ge $((want - 4)) ] && [ "$WIDTH" -le $((want + 8)) ] ||
    fail "demo.png is $WIDTH wide, demo.wav's spectrogram is $want"
wav_check "$O/note-c4.wav"
awk -v n="$FRAMES" -v r="$RATE" 'BEGIN { d = n / r; exit !(d > 2.05 && d < 2.07) }' ||
    fail "note-c4.wav lasts $FRAMES / $RATE s, want 2.06 s"
read -r rms _ <<<"$(levels "$O/note-c4.wav" 1)"
awk -v x="$rms" -v q=$QUIET 'BEGIN { exit !(x > q) }' || fail "note-c4.wav is silent (RMS $rms)"

for kind in gan vae; do
    clip=""
    for i in 0 1 2 3 4 5 6 7; do
        f=$O/$kind/sample-00$i.wav
        wav_check "$f"
        [ -z "$clip" ] || [ "$FRAMES" -eq "$clip" ] || fail "$f: $FRAMES frames, sample-000 has $clip"
        clip=$FRAMES
        read -r rms _ <<<"$(levels "$f" 1)"
        awk -v x="$rms" -v q=$QUIET 'BEGIN { exit !(x > q) }' || fail "$f is silent (RMS $rms)"
    done
    [ ! -e "$O/$kind/sample-008.wav" ] || fail "$kind: more than 8 samples"
    png_check "$O/$kind/sample-grid.png"
    png_check "$O/$kind-sample.png"
    grep -q "$O/$kind/sample-grid.png" "$T/log" || fail "demo.sh does not list $kind/sample-grid.png"
done
grep -q "$O/demo.wav  the phrase" "$T/log" || fail "demo.sh does not list demo.wav: $(cat "$T/log")"

# ---- no models: every part named and skipped, nothing written ----
mkdir -p "$T/none"
GENWAVE=$GW bash "$DEMO" --out "$T/empty" --models "$T/none" --no-play >"$T/log" 2>&1 ||
    fail "demo.sh without models exited $?: $(tail -5 "$T/log")"
for m in default drums-gan drums-vae; do
    grep -q "skipped: $T/none/$m.gwm is not shipped" "$T/log" || fail "no model $m: $(cat "$T/log")"
done
[ -z "$(ls -A "$T/empty")" ] || fail "demo.sh without models wrote: $(ls "$T/empty")"

# ---- bad usage and a missing binary ----
GENWAVE=$GW bash "$DEMO" --out "$T/x" --no-such >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "demo.sh --no-such: want exit 2"
grep -q "unknown option --no-such" "$T/err" || fail "demo.sh --no-such: $(cat "$T/err")"
GENWAVE=$GW bash "$DEMO" --out >/dev/null 2>&1
[ $? -eq 2 ] || fail "demo.sh --out without a folder: want exit 2"
GENWAVE=$T/nope bash "$DEMO" --out "$T/x" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "demo.sh with a missing binary: want exit 1"
grep -q "GENWAVE=$T/nope: not an executable" "$T/err" || fail "missing binary: $(cat "$T/err")"
GENWAVE=$GW bash "$DEMO" --out "$T/x" --models "$T/nothere" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "demo.sh --models of a missing folder: want exit 1"
[ ! -e "$T/x" ] || fail "demo.sh wrote output after a usage error"
echo "demo.sh: ok ($RATE Hz drums, demo.wav $demo_frames frames)"
