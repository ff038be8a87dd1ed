#!/bin/bash
# genwave spectrogram: PNG of the right size, one-line errors and no file on
# bad input.
set -u
GW=$1
. "$(dirname "$0")/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_spectrogram.XXXXXX")
trap 'rm -rf "$T"' EXIT

# width and height from a PNG's IHDR chunk (bytes 16..23, big-endian)
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'; }

wav "$T/a.wav" 16000 16000 /dev/urandom
"$GW" spectrogram "$T/a.wav" -o "$T/a.png" >"$T/out" 2>"$T/err" || fail "exit $?: $(cat "$T/err")"
[ "$(head -c 4 "$T/a.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "not a PNG"
# frames = 1 + n / hop = 1 + 16000 / 256 = 63; 128 mel bands
[ "$(png_size "$T/a.png")" = "63 128" ] || fail "log-mel size $(png_size "$T/a.png")"

"$GW" spectrogram "$T/a.wav" -o "$T/l.png" --linear --n-fft 512 --hop 100 --scale 2 >/dev/null 2>"$T/err" ||
    fail "linear: $(cat "$T/err")"
# 1 + 16000 / 100 = 161 frames, 257 bins, each 2 x 2 pixels
[ "$(png_size "$T/l.png")" = "322 514" ] || fail "linear size $(png_size "$T/l.png")"

# --axes: a figure (axes, colour bar, title) around the same cells, wider
# and taller than the bare image and not its size
"$GW" spectrogram "$T/a.wav" -o "$T/ax.png" --axes >/dev/null 2>"$T/err" || fail "axes: $(cat "$T/err")"
read -r aw ah <<<"$(png_size "$T/ax.png")"
[ "$aw" -gt 63 ] && [ "$ah" -gt 128 ] || fail "--axes size $aw x $ah, bare 63 x 128"
"$GW" spectrogram "$T/a.wav" -o "$T/axl.png" --axes --linear --n-fft 512 >/dev/null 2>"$T/err" ||
    fail "axes linear: $(cat "$T/err")"
"$GW" spectrogram "$T/a.wav" -o "$T/m.png" --mels 40 --rate 8000 >/dev/null 2>"$T/err" || fail "mels: $(cat "$T/err")"
[ "$(png_size "$T/m.png")" = "32 40" ] || fail "resampled size $(png_size "$T/m.png")"

# bad input: exit 1, one line, no output file
echo "words" >"$T/bad.wav"
"$GW" spectrogram "$T/bad.wav" -o "$T/bad.png" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "non-audio input: wrong exit"
one_line_error "$T/err"
grep -q "$T/bad.wav" "$T/err" || fail "bad input not named"
[ ! -e "$T/bad.png" ] || fail "output written for bad input"

"$GW" spectrogram "$T/none.wav" -o "$T/x.png" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing input: wrong exit"
one_line_error "$T/err"

"$GW" spectrogram "$T/a.wav" -o "$T/no/such/dir.png" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "unwritable output: wrong exit"
one_line_error "$T/err"
ls "$T" | grep -q tmp && fail "temp file left behind"

"$GW" spectrogram "$T/a.wav" >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing -o: wrong exit"
"$GW" spectrogram "$T/a.wav" -o "$T/x.png" --n-fft 7 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad --n-fft: wrong exit"
one_line_error "$T/err"
"$GW" spectrogram "$T/a.wav" -o "$T/x.png" --n-fft 256 --hop 512 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "hop > n_fft: wrong exit"
one_line_error "$T/err"
"$GW" spectrogram "$T/a.wav" -o "$T/x.png" --cmap rainbow >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad cmap: wrong exit"
[ ! -e "$T/x.png" ] || fail "output written on bad usage"
echo "spectrogram CLI ok"
