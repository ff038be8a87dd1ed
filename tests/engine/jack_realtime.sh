#!/usr/bin/env bash
# Real-time proof under a real audio server (issue 5): a private JACK server
# with the dummy driver (48 kHz, GW_JACK_PERIOD frames: 1024 by default,
# synchronous mode, realtime scheduling where permitted: jack_server.bash
# says why) runs `genwave play` through PortAudio's JACK host API for 20 s
# per mode (callback, then thread) with three voices, while our own libjack
# client (gw_jack_record) records genwave's output port. Asserts: zero xruns
# reported by JACK (the recorder's xrun callback and the server log) and by
# genwave (engine + PortAudio flags), the recording is not silent, and its
# pitch is the held note's. GW_JACK_PERIOD=256 runs it at the issue's
# example period (on a quiet machine).
#
# The model is the hand-set Karplus-Strong WaveNet of string_model.h
# (written by gw_string_model): no trained model ships with the repository,
# and this one's pitch follows its conditioning by construction.
#
# Installs nothing: jackd2 and libjack-jackd2-dev come from
# scripts/packages.txt (scripts/setup.sh). The server is killed on any exit.
#   usage: jack_realtime.sh /path/to/genwave
set -euo pipefail
genwave=$1
bin=$(dirname "$genwave")
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v jackd >/dev/null || fail "jackd not installed (scripts/setup.sh installs jackd2)"
[[ -x $bin/gw_jack_record && -x $bin/gw_string_model ]] ||
  fail "helpers gw_jack_record / gw_string_model not built next to $genwave"

# shellcheck source=tests/engine/jack_server.bash
source "$(dirname "${BASH_SOURCE[0]}")/jack_server.bash"
jack_setup jack_rt

# 8 kHz, notes 57..69: cheap enough to leave the cores to the rest of ctest
"$bin/gw_string_model" "$tmp/string.gwm" 8000 57 69
note=57   # A3, 220 Hz; 69 is its octave, so the mix's pitch is still 220 Hz
expect=$(awk -v n=$note 'BEGIN { printf "%.3f", 440 * 2 ^ ((n - 69) / 12) }')

# one 20 s run; prints why it failed and returns 1 on any xrun, silence or
# wrong pitch
run_once() {
  local mode=$1
  local before
  before=$(jack_log_xruns)
  "$bin/gw_jack_record" "$tmp/rec-$mode.wav" 20 '^genwave:out_0$' 30 >"$tmp/rec.out" 2>&1 &
  child=$!
  timeout 90 "$genwave" play "$tmp/string.gwm" --host-api JACK --buffer "$period" --voices 4 \
    --mode "$mode" --note $note,$note,69 --velocity 110 --seconds 23 --quiet \
    >"$tmp/play.out" 2>"$tmp/play.err" || { cat "$tmp/play.err"; fail "$mode: genwave play failed"; }
  wait "$child" || { cat "$tmp/rec.out"; fail "$mode: recorder failed"; }
  child=
  cat "$tmp/play.out" "$tmp/rec.out"
  # genwave's own worst callback, in % of the period ("load L% (peak P%)")
  peak=$(sed -n 's/.*(peak \([0-9.]*\)%).*/\1/p' "$tmp/play.out")
  # genwave: "played S s: ... xruns X, underruns U, dropped events D (host-reported xruns H)"
  local xr ur played jx rms f0 cents after
  read -r xr ur < <(sed -n 's/.*xruns \([0-9]*\), underruns \([0-9]*\).*/\1 \2/p' "$tmp/play.out")
  [[ -n ${xr:-} ]] || fail "$mode: no summary line from genwave play"
  played=$(sed -n 's/^played \([0-9.]*\) s.*/\1/p' "$tmp/play.out")
  awk -v p="$played" 'BEGIN { exit !(p >= 20) }' || fail "$mode: played only $played s"
  # silence or a wrong pitch is a real failure, never retried
  rms=$(sed -n 's/.*rms \([0-9.]*\),.*/\1/p' "$tmp/rec.out")
  f0=$(sed -n 's/.*f0 \([0-9.]*\) Hz.*/\1/p' "$tmp/rec.out")
  awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || fail "$mode: recording is silent (rms $rms)"
  cents=$(awk -v f="$f0" -v e="$expect" 'BEGIN { if (f <= 0) print 9999; else printf "%.1f", 1200 * log(f / e) / log(2) }')
  awk -v c="$cents" 'BEGIN { exit !(c < 30 && c > -30) }' ||
    fail "$mode: recorded pitch $f0 Hz is $cents cents from note $note ($expect Hz)"
  # xruns: genwave's own count (late blocks + PortAudio's flags), the
  # recorder's xrun callback, and the server's log
  jx=$(sed -n 's/.*xruns \([0-9]*\), rms.*/\1/p' "$tmp/rec.out")
  after=$(jack_log_xruns)
  if [[ $xr != 0 || $ur != 0 || $jx != 0 || $after != "$before" ]]; then
    echo "$mode: xruns: genwave $xr (underruns $ur), JACK to the recorder $jx, server log $((after - before))"
    jack_log_xrun_kinds "$before"
    return 1
  fi
  echo "$mode: 20 s recorded through JACK ($period-frame period), 0 xruns, genwave's peak load" \
    "${peak}%, rms $rms, f0 $f0 Hz ($cents cents from $expect Hz)"
}

# The assertion is a clean 20 s run per mode. A run with any xrun never
# passes; it is repeated (at most 3 runs per mode), each time after a 20 s
# control run that records system:capture_1 with genwave not running at all.
# If JACK misses deadlines even then (the dummy driver, or a recorder whose
# callback is one memcpy), the machine cannot hold real-time deadlines now
# and xruns prove nothing about genwave: the test reports them and exits 77
# (ctest: skipped) once pitch and level have been checked. It never passes
# then. Xruns in all 3 runs with clean control runs fail: genwave is late.
skipped=
for mode in callback thread; do
  ok=0
  for attempt in 1 2 3; do
    if run_once "$mode"; then ok=1; break; fi
    echo "$mode: run $attempt had xruns (load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores); genwave's worst callback took ${peak:-?}% of the period"
    cx=$(jack_control_xruns 20)
    echo "$mode: control run without genwave (recorder only, 20 s, as long as a run): $cx xruns"
    if ((cx > 0)); then skipped="$skipped $mode"; ok=2; break; fi
  done
  ((ok)) || fail "$mode: xruns in all 3 runs of 20 s, none in the control runs between them"
done
# errors and the MIDI-file path against the live server: a rate JACK does
# not run at is refused in one line; a 2 s Standard MIDI File (format 0,
# 480 ticks per quarter at 120 bpm: A3, E4, A4 entering every 0.5 s, all
# off at 2 s, then a pitch bend) plays to its end and exits 0
timeout 30 "$genwave" play "$tmp/string.gwm" --host-api JACK --rate 44100 --note 57 \
  >"$tmp/out" 2>"$tmp/err" && fail "--rate 44100 on a 48 kHz JACK server was accepted"
grep -q "does not support 44100 Hz" "$tmp/err" || fail "--rate 44100: $(cat "$tmp/err")"
echo "unsupported rate: $(tail -n 1 "$tmp/err")"
# write_midi TRACK OUT: a format-0 file of one track (printf escapes, under
# 256 bytes), 480 ticks per quarter
write_midi() {
  local len
  len=$(printf "$1" | wc -c)
  { printf 'MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00'
    printf "\\x$(printf %02x "$len")"; printf "$1"; } >"$2"
}
write_midi '\x00\xff\x51\x03\x07\xa1\x20\x00\x90\x39\x64\x83\x60\x90\x40\x5a\x83\x60\x90\x45\x50\x00\x80\x39\x00\x83\x60\x80\x40\x00\x83\x60\x80\x45\x00\x00\xe0\x00\x50\x00\xff\x2f\x00' "$tmp/song.mid"
timeout 60 "$genwave" play "$tmp/string.gwm" --host-api JACK --midi "$tmp/song.mid" --quiet \
  >"$tmp/out" 2>"$tmp/err" || fail "--midi: $(cat "$tmp/err")"
secs=$(sed -n 's/^played \([0-9.]*\) s.*/\1/p' "$tmp/out")
awk -v p="$secs" 'BEGIN { exit !(p >= 2.0 && p < 4.0) }' || fail "--midi played $secs s of a 2 s song"
echo "midi file: $(cat "$tmp/out")"
# MIDI-file events are stamped to the frame: A3 at 0 s and again at 1 s (each
# held 0.5 s, silence between) start exactly 48000 frames apart in the
# recording (to one model sample, 6 frames), whenever the main thread woke
write_midi '\x00\xff\x51\x03\x07\xa1\x20\x00\x90\x39\x64\x83\x60\x80\x39\x00\x83\x60\x90\x39\x64\x83\x60\x80\x39\x00\x00\xff\x2f\x00' "$tmp/gaps.mid"
"$bin/gw_jack_record" "$tmp/gaps.wav" 2.5 '^genwave:out_0$' 30 >"$tmp/rec.out" 2>&1 &
child=$!
timeout 60 "$genwave" play "$tmp/string.gwm" --host-api JACK --buffer "$period" --midi "$tmp/gaps.mid" \
  --quiet >"$tmp/out" 2>"$tmp/err" || fail "--midi gaps.mid: $(cat "$tmp/err")"
wait "$child" || fail "recorder: $(cat "$tmp/rec.out")"
child=
read -r s1 s2 _ < <(sed -n 's/.*, starts \(.*\)/\1/p' "$tmp/rec.out")
[[ ${s1:-} =~ ^[0-9]+$ && ${s2:-} =~ ^[0-9]+$ ]] || fail "two note starts expected: $(cat "$tmp/rec.out")"
((s2 - s1 >= 47994 && s2 - s1 <= 48006)) ||
  fail "MIDI-file notes 1 s apart started $((s2 - s1)) frames apart, not 48000"
echo "midi file timing: notes 1 s apart start at frames $s1 and $s2 ($((s2 - s1)) apart)"

# The same settings catch a callback that overruns: 32 voices of a 48 kHz
# string model with 64 layers need several times the period on the machine
# this was written on (peak load 477%), so 3 s of them must show xruns in
# the server's log and in genwave's own count. A server too lenient to see
# that would make every pass above meaningless.
"$bin/gw_string_model" "$tmp/heavy.gwm" 48000 48 79
before=$(jack_log_xruns)
timeout 60 "$genwave" play "$tmp/heavy.gwm" --host-api JACK --buffer "$period" --voices 32 \
  --note "$(seq -s, 48 79)" --seconds 3 --quiet >"$tmp/out" 2>"$tmp/err" ||
  fail "overload run: $(cat "$tmp/err")"
xr=$(sed -n 's/.*xruns \([0-9]*\), underruns.*/\1/p' "$tmp/out")
peak=$(sed -n 's/.*(peak \([0-9.]*\)%).*/\1/p' "$tmp/out")
lx=$(($(jack_log_xruns) - before))
echo "overload (32 voices at 48 kHz): genwave's peak load $peak%, xruns: genwave $xr, server log $lx"
awk -v p="$peak" 'BEGIN { exit !(p > 120) }' || fail "the overload run was not an overload (peak $peak%)"
((xr > 0 && lx > 0)) || fail "an overrunning callback went unnoticed: genwave $xr xruns, server $lx"

if [[ -n $skipped ]]; then
  echo "SKIPPED: xruns in$skipped, but JACK missed deadlines without genwave too: this machine cannot hold real-time deadlines now; pitch and level passed"
  exit 77
fi
echo "jack_realtime: passed"
