#!/usr/bin/env bash
# genwave play: the errors a user meets end with one line "genwave: ..." and
# a non-zero exit, never a crash or a hang: bad usage (2), a missing or
# corrupt model file (1), a host API with no device (no JACK server running
# under a name nobody uses) (1), JACK MIDI input with no JACK server (1);
# --list-devices works without any device.
#   usage: play_errors.sh /path/to/genwave
set -uo pipefail
genwave=$1
bin=$(dirname "$genwave")
tmp=$(mktemp -d "${GW_TEST_TMP:-/tmp}/play_err.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# a JACK server name no one runs: the JACK host API must find nothing there
export JACK_DEFAULT_SERVER=gw_nobody_$$ JACK_NO_START_SERVER=1
bad=0
# expect CODE REGEX -- ARGS: exit code and one stderr line matching REGEX
expect() {
  local code=$1 pat=$2
  shift 3
  timeout 30 "$genwave" play "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local last
  last=$(tail -n 1 "$tmp/err")
  # usage text is several lines: any line may match; errors: the last one
  [[ $code == 2 && $pat == usage* ]] && last=$(grep -m1 -- "$pat" "$tmp/err")
  if [[ $rc != "$code" ]] || ! grep -Eq -- "$pat" <<<"$last"; then
    echo "FAIL: play $*: exit $rc (want $code), last stderr line: '$last' (want /$pat/)"
    bad=1
  else
    echo "ok: play $* -> $rc: $last"
  fi
}
expect 2 "usage: genwave play" -- 
expect 2 "--mode fast: expected callback or thread" -- m.gwm --mode fast
expect 2 "--precision: .*f64" -- m.gwm --precision f64
expect 2 "--note 200: notes 0..127" -- m.gwm --note 200
expect 2 "--buffer 3: unknown option or value out of range" -- m.gwm --buffer 3
expect 2 "use one of --note, --midi and --midi-in" -- m.gwm --note 60 --midi x.mid
expect 1 "genwave: $tmp/none.gwm: cannot open" -- "$tmp/none.gwm"
head -c 300 /dev/urandom >"$tmp/junk.gwm"
expect 1 "genwave: $tmp/junk.gwm" -- "$tmp/junk.gwm"
if [[ -x $bin/gw_string_model ]]; then
  "$bin/gw_string_model" "$tmp/s.gwm" 8000 57 69
  # where PortAudio finds no device at all (a container), that is the error
expect 1 "genwave: (host API 'JACK' has no output device|no audio device)" -- "$tmp/s.gwm" --host-api JACK --note 60 --seconds 1
  expect 1 "genwave: $tmp/none.mid: cannot open" -- "$tmp/s.gwm" --midi "$tmp/none.mid"
  # D1 of the hostile-input issue: the 31-byte file libsmf read past the end of
  fuzz=${GW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fuzz/corpus/midi
  expect 1 "d1-truncated-31.mid: truncated: the chunk at byte 14 declares 100 bytes, 9 are left" -- \
    "$tmp/s.gwm" --midi "$fuzz/d1-truncated-31.mid"
  expect 1 "d1-length-ffffffff.mid: truncated: the chunk at byte 14 declares 4294967295 bytes" -- \
    "$tmp/s.gwm" --midi "$fuzz/d1-length-ffffffff.mid"
  # live JACK MIDI with no server: said before any audio device is looked for
  expect 1 "^genwave: --midi-in jack: no JACK server running" -- "$tmp/s.gwm" --midi-in jack
  expect 1 "^genwave: --midi-in jack:a2j:x: no JACK server running" -- "$tmp/s.gwm" --midi-in jack:a2j:x
  expect 1 "(--device 99: no output device with that index|no audio device)" -- "$tmp/s.gwm" --device 99
fi
timeout 30 "$genwave" play --list-devices >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: --list-devices exit $?"; bad=1; }
grep -q "^host APIs:" "$tmp/out" || { echo "FAIL: --list-devices printed no host APIs"; bad=1; }
((bad)) && exit 1
echo "play_errors: ok"
