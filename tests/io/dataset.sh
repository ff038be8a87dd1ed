#!/bin/bash
# genwave dataset: the report on a mixed folder, and one-line errors with a
# non-zero exit on bad input.
set -u
GW=$1
. "$(dirname "$0")/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_dataset.XXXXXX")
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/ds/sub" "$T/empty" "$T/junk" "$T/quiet"
wav "$T/ds/a_n60_v100.wav" 16000 16000 /dev/urandom
wav "$T/ds/sub/b.wav" 22050 11025 /dev/urandom
wav "$T/ds/silent.wav" 16000 8000 /dev/zero
wav "$T/ds/short.wav" 16000 80 /dev/urandom
echo "not audio" >"$T/ds/corrupt.wav"
echo "notes" >"$T/ds/readme.txt"

"$GW" dataset "$T/ds" --min-seconds 0.1 >"$T/out" 2>"$T/err" || fail "exit $? on a good folder: $(cat "$T/err")"
grep -q "audio files      5 (1 other files ignored)" "$T/out" || fail "file count: $(cat "$T/out")"
grep -q "usable           2, 1.5 s" "$T/out" || fail "usable: $(cat "$T/out")"
grep -q "16000 Hz x 3, 22050 Hz x 1" "$T/out" || fail "rates: $(cat "$T/out")"
grep -q "labelled         1 of 2" "$T/out" || fail "labels: $(cat "$T/out")"
grep -q "1 unreadable, 1 silent, 1 too short" "$T/out" || fail "skips: $(cat "$T/out")"
grep -q "corrupt.wav: unreadable" "$T/out" || fail "corrupt file not named"
grep -q "short.wav: skipped: too short" "$T/out" || fail "short file not named"

# per-file listing
"$GW" dataset "$T/ds" --min-seconds 0.1 --list >"$T/out" 2>"$T/err" || fail "--list failed"
grep -Eq "^  ok +1\.000 .* 16000 +1 +60 (train|val) +a_n60_v100.wav$" "$T/out" || fail "--list ok row: $(cat "$T/out")"
grep -Eq "^  too-short .* short.wav$" "$T/out" || fail "--list short row"
grep -Eq "^  unreadable .* corrupt.wav$" "$T/out" || fail "--list unreadable row"

# clip padding report needs a rate
"$GW" dataset "$T/ds" --rate 16000 --clip-samples 20000 >"$T/out" 2>"$T/err" || fail "clip report failed"
grep -q "padded           2 shorter than one clip" "$T/out" || fail "padding: $(cat "$T/out")"

# bad input: one line naming the problem, exit 1; bad usage exit 2
"$GW" dataset "$T/missing" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "missing folder: wrong exit"
one_line_error "$T/err"
grep -q "$T/missing" "$T/err" || fail "missing folder not named"

"$GW" dataset "$T/empty" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "empty folder: wrong exit"
one_line_error "$T/err"
grep -q "no audio files" "$T/err" || fail "empty folder message: $(cat "$T/err")"

echo junk >"$T/junk/x.wav"
echo junk >"$T/junk/y.flac"
"$GW" dataset "$T/junk" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "unreadable folder: wrong exit"
one_line_error "$T/err"
grep -q "none of the 2 audio files could be read" "$T/err" || fail "unreadable message: $(cat "$T/err")"

wav "$T/quiet/a.wav" 16000 8000 /dev/zero
"$GW" dataset "$T/quiet" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "silent-only folder should fail"
one_line_error "$T/err"
grep -q "no usable audio" "$T/err" || fail "silent-only message"

"$GW" dataset "$T/ds" --rate abc >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "bad --rate: wrong exit"
one_line_error "$T/err"
"$GW" dataset >/dev/null 2>&1
[ $? -eq 2 ] || fail "no folder: wrong exit"
"$GW" dataset "$T/ds" --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: wrong exit"
# D9: a 1 Hz WAV and a float WAV of 1e30 samples are rejected by name (they
# stopped whole runs later, unnamed); the good file is still used
mkdir -p "$T/d9"
wav "$T/d9/onehz.wav" 1 100 /dev/urandom
wav "$T/d9/good.wav" 16000 8000 /dev/urandom
{
    printf "RIFF$(le32 $((36 + 3200)))WAVEfmt $(le32 16)$(le16 3)$(le16 1)$(le32 8000)$(le32 32000)$(le16 4)$(le16 32)data$(le32 3200)"
    for ((i = 0; i < 800; i++)); do printf '\xca\xf2\x49\x71'; done
} >"$T/d9/huge.wav"
"$GW" dataset "$T/d9" >"$T/d9.out" 2>&1 || fail "d9: $(cat "$T/d9.out")"
grep -q "onehz.wav: unreadable, skipped: rejected: a sample rate of 1 Hz" "$T/d9.out" || fail "1 Hz: $(cat "$T/d9.out")"
grep -q "huge.wav: unreadable, skipped: rejected: samples up to 1e+30" "$T/d9.out" || fail "1e30: $(cat "$T/d9.out")"
grep -q "usable *1," "$T/d9.out" || fail "the good file: $(cat "$T/d9.out")"
# D5: info and spectrogram on a FIFO say so at once instead of waiting
mkfifo "$T/fifo.wav" "$T/fifo.gwm"
timeout 10 "$GW" info "$T/fifo.gwm" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "info on a FIFO: want exit 1 (124 = hung)"
grep -q "fifo.gwm: not a regular file" "$T/err" || fail "info on a FIFO: $(cat "$T/err")"
timeout 10 "$GW" spectrogram "$T/fifo.wav" -o "$T/x.png" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "spectrogram on a FIFO: want exit 1 (124 = hung)"
grep -q "fifo.wav: not a regular file" "$T/err" || fail "spectrogram on a FIFO: $(cat "$T/err")"
rm -f "$T/fifo.wav" "$T/fifo.gwm"
# D11: a file name with an escape sequence or a newline is printed escaped:
# no terminal control runs, no row splits
mkdir -p "$T/names"
wav "$T/names/a"$'\033'"[31mred.wav" 16000 8000 /dev/urandom
wav "$T/names/two"$'\n'"lines.wav" 16000 8000 /dev/urandom
"$GW" dataset "$T/names" --list >"$T/names.out" 2>&1 || fail "names: $(cat "$T/names.out")"
grep -q $'\033' "$T/names.out" && fail "a raw ESC byte reached the terminal"
grep -qF 'a\x1b[31mred.wav' "$T/names.out" || fail "ESC not escaped: $(cat -A "$T/names.out")"
grep -qF 'two\x0alines.wav' "$T/names.out" || fail "newline not escaped: $(cat -A "$T/names.out")"
echo "dataset CLI ok"
