#!/usr/bin/env bash
# One path from a note to sound: `genwave render --midi` is the engine fed
# the song's stamped events. gw_render_blocks drives the engine as a host
# would (every message through the engine's MIDI map, stamped to its frame,
# processed in odd, changing block sizes 1, 37, 509, 256, 3, ...) and the two
# outputs must be identical, byte for byte (32-bit float WAV), at the model's
# rate and resampled to 48 and 44.1 kHz. The song exercises every MIDI
# meaning the engine gives: a chord, sustain pedal holding released keys, a
# key retriggered under the pedal, pitch bend, CC7 volume, a percussion-
# channel note (ignored), ten notes at once, all-notes-off, a note after it.
# Then render's MIDI options: --transpose, --fit, their errors.
#   usage: render_engine.sh /path/to/genwave
set -uo pipefail
GW=$1
bin=$(dirname "$GW")
src=${GW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/render_engine.XXXXXX")
trap 'rm -rf "$T"' EXIT
M=$src/models/default.gwm

# vlq-free song: every delta below 128 ticks (96 per beat, 120 bpm)
# delta, status, data1, data2 ...
song() {
    local hex="" b
    for b in "$@"; do hex+=$(printf '\\x%02x' "$b"); done
    hex+='\x00\xff\x2f\x00'
    local len=$(( ($(printf "$hex" | wc -c)) ))
    printf "MThd$(le32be 6)\x00\x00\x00\x01\x00\x60MTrk$(le32be "$len")$hex"
}
le32be() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((($1 >> 24) & 255)) $((($1 >> 16) & 255)) $((($1 >> 8) & 255)) $(($1 & 255)); }
events=(0 0x90 60 100  0 0x90 64 90  48 0x90 67 80
        48 0xB0 64 127  0 0x80 60 0  0 0x80 64 0
        48 0x90 60 70  24 0xE0 0 0x50  24 0xB0 7 64  24 0xB0 64 0  0 0x99 36 100
        48 0xE0 0 0x40)
for k in 0 1 2 3 4 5 6 7 8 9; do events+=(2 0x90 $((55 + k)) $((60 + k))); done
events+=(96 0xB0 123 0  48 0x90 62 100  96 0x80 62 0)
song "${events[@]}" >"$T/song.mid"

for rate in 8000 48000 44100; do
    "$GW" render "$M" --midi "$T/song.mid" --seed 5 --rate $rate --format wavf32 \
        -o "$T/render.wav" >"$T/msg" 2>"$T/err" || fail "render at $rate: $(cat "$T/err")"
    grep -q "at $rate Hz, 15 notes" "$T/msg" || fail "render at $rate: $(cat "$T/msg")"
    "$bin/gw_render_blocks" "$M" "$T/song.mid" "$T/host.wav" 5 $rate >"$T/msg" 2>"$T/err" ||
        fail "gw_render_blocks at $rate: $(cat "$T/err")"
    grep -q " 0 events dropped" "$T/msg" || fail "gw_render_blocks dropped events: $(cat "$T/msg")"
    cmp "$T/render.wav" "$T/host.wav" || fail "render and the engine in odd blocks differ at $rate Hz"
    echo "ok: render == engine in odd blocks at $rate Hz"
done
# every weight format, the same byte for byte (i8 rounds each product's
# inputs per voice: the blocks must not change what a step sees)
for p in f32 f16 bf16 i8; do
    "$GW" render "$M" --midi "$T/song.mid" --seed 5 --rate 48000 --format wavf32 --precision $p \
        -o "$T/render.wav" >/dev/null 2>"$T/err" || fail "render --precision $p: $(cat "$T/err")"
    "$bin/gw_render_blocks" "$M" "$T/song.mid" "$T/host.wav" 5 48000 $p >/dev/null 2>"$T/err" ||
        fail "gw_render_blocks $p: $(cat "$T/err")"
    cmp "$T/render.wav" "$T/host.wav" || fail "$p: render and the engine in odd blocks differ"
    echo "ok: $p: render == engine in odd blocks at 48000 Hz"
done
# the same for a 48 kHz model in 6 PQMF bands (a step makes 6 samples, so
# blocks, notes and steals fall inside a step's frame): random weights
"$bin/gw_string_model" --bands "$T/bands.gwm" || fail "gw_string_model --bands"
for rate in 48000 44100; do
    "$GW" render "$T/bands.gwm" --midi "$T/song.mid" --seed 5 --rate $rate --format wavf32 \
        -o "$T/render.wav" >"$T/msg" 2>"$T/err" || fail "bands render at $rate: $(cat "$T/err")"
    "$bin/gw_render_blocks" "$T/bands.gwm" "$T/song.mid" "$T/host.wav" 5 $rate >"$T/msg" 2>"$T/err" ||
        fail "bands gw_render_blocks at $rate: $(cat "$T/err")"
    cmp "$T/render.wav" "$T/host.wav" || fail "bands: render and the engine in odd blocks differ at $rate Hz"
    echo "ok: 6-band model: render == engine in odd blocks at $rate Hz"
done
"$GW" render "$T/bands.gwm" --midi "$T/song.mid" --seed 6 --rate 44100 --format wavf32 -o "$T/other.wav" >/dev/null 2>&1
cmp -s "$T/render.wav" "$T/other.wav" && fail "bands: seeds 5 and 6 rendered the same at 44.1 kHz"

# and a seed changes the sound (the comparison is not of two silences)
"$GW" render "$M" --midi "$T/song.mid" --seed 6 --format wavf32 -o "$T/other.wav" >/dev/null 2>&1
"$GW" render "$M" --midi "$T/song.mid" --seed 5 --format wavf32 -o "$T/render.wav" >/dev/null 2>&1
cmp -s "$T/render.wav" "$T/other.wav" && fail "seeds 5 and 6 rendered the same"

# --transpose: two octaves up is outside the model's range 48..72; --fit
# brings notes 79..91 down by one octave or two
song 0 0x90 79 100 96 0x80 79 0 0 0x90 91 100 96 0x80 91 0 >"$T/high.mid"
"$GW" render "$M" --midi "$T/high.mid" -o "$T/x.wav" >/dev/null 2>"$T/err" && fail "high notes rendered"
one_line_error "$T/err"
grep -q "note 79 at 0.00 s is outside the model's range 48..72 (try --transpose N or --fit)" "$T/err" ||
    fail "out of range: $(cat "$T/err")"
"$GW" render "$M" --midi "$T/high.mid" --transpose -24 -o "$T/t.wav" >"$T/msg" 2>"$T/err" ||
    fail "--transpose -24: $(cat "$T/err")"
grep -q "(transposed)" "$T/msg" || fail "--transpose: $(cat "$T/msg")"
"$GW" render "$M" --midi "$T/high.mid" --fit -o "$T/f.wav" >"$T/msg" 2>"$T/err" ||
    fail "--fit: $(cat "$T/err")"
grep -q "(fitted by octaves)" "$T/msg" || fail "--fit: $(cat "$T/msg")"
cmp -s "$T/t.wav" "$T/f.wav" || fail "--fit did not move 79..91 by -24 (the one octave shift that fits)"
song 0 0x90 30 100 96 0x80 30 0 0 0x90 90 100 96 0x80 90 0 >"$T/wide.mid"
"$GW" render "$M" --midi "$T/wide.mid" --fit -o "$T/x.wav" >/dev/null 2>"$T/err" && fail "too wide fitted"
one_line_error "$T/err"
grep -q "notes 30..90 span more than the model's range 48..72" "$T/err" || fail "wide: $(cat "$T/err")"
"$GW" render "$M" --midi "$T/high.mid" --fit --transpose 2 -o "$T/x.wav" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--fit with --transpose: want exit 2"
# D1 of the hostile-input issue: MIDI files libsmf read past the end of
for f in d1-truncated-31 d1-length-ffffffff; do
    "$GW" render "$M" --midi "$src/tests/fuzz/corpus/midi/$f.mid" -o "$T/x.wav" >/dev/null 2>"$T/err" &&
        fail "$f.mid rendered"
    one_line_error "$T/err"
    grep -q "$f.mid: truncated: the chunk at byte 14 declares" "$T/err" || fail "$f: $(cat "$T/err")"
    [ ! -e "$T/x.wav" ] || fail "$f: x.wav written"
done
# D4: 100,000 notes (all at time 0, each retriggering the one before)
# render without a quadratic voice count: the engine takes them through its
# ring and voice stealing; the time is not asserted, the run must end
{
    printf 'MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk'
    printf "$(le32be $((100000 * 8 + 4)))"
    for ((i = 0; i < 100000; i++)); do printf '\x00\x90\x3c\x40\x00\x80\x3c\x00'; done
    printf '\x00\xff\x2f\x00'
} >"$T/many.mid" 2>/dev/null
"$GW" render "$M" --midi "$T/many.mid" -o "$T/many.wav" >"$T/msg" 2>"$T/err" || fail "100,000 notes: $(cat "$T/err")"
grep -q "100000 notes" "$T/msg" || fail "100,000 notes: $(cat "$T/msg")"
# an output name genwave cannot write, and a rate out of reach
"$GW" render "$M" --note 60 -o "$T/x.mp3" >/dev/null 2>"$T/err" && fail "wrote an .mp3"
grep -q "x.mp3: genwave writes .wav and .flac files, not 'mp3'" "$T/err" || fail "mp3: $(cat "$T/err")"
[ ! -e "$T/x.mp3" ] || fail "x.mp3 written"
"$GW" render "$M" --note 60 --rate 96000 -o "$T/x.wav" >/dev/null 2>"$T/err" && fail "rendered at 96 kHz"
one_line_error "$T/err"
grep -q "default.gwm plays at 8000 Hz and is resampled by at most 8x" "$T/err" || fail "rate: $(cat "$T/err")"
echo "render_engine.sh: ok"
