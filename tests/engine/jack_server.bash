# jack_server.bash - sourced by the JACK tests of tests/engine (jack_realtime.sh,
# jack_midi.sh; not itself a test: ctest runs *.sh only). A private JACK
# server on the dummy driver, its xrun count, and the control run that tells
# a machine that cannot hold deadlines from a late genwave.
#
# The settings, from the control runs measured on the project's 2-core VM
# (docs/performance.md, "JACK on the dummy driver: control runs"):
#   48 kHz, GW_JACK_PERIOD frames (default 1024 = 21.3 ms), realtime
#   scheduling (-R) where permitted, synchronous mode (-S).
# The dummy driver is a timer: it counts an xrun when its own thread wakes up
# for a cycle after that cycle's deadline (JackTimedDriver), and in the
# default asynchronous mode also when a client has not finished the previous
# cycle when the next one starts (JackEngine, "client ... was not finished").
# On this VM's kernel (PREEMPT_NONE, two shared vCPUs) a woken realtime
# thread waits out whatever kernel path the other processes are in: wake-ups
# late by 5-70 ms were measured under a load of 10, so at 256 frames (5.3 ms)
# even a recorder that only copies samples gets tens of xruns in 20 s. In
# synchronous mode the server waits for every client within the cycle, so a
# client that overruns still makes the driver late (an xrun every client
# hears), but a client woken a little late within the period costs nothing.
# Both the period and the mode are the server's; genwave's work per frame is
# the same, so a callback too slow for real time overruns at any period: its
# load is the share of the period it used.
#
# Needs: $bin (where the helpers are). jack_setup NAME makes $tmp (a scratch
# directory), starts the server (JACK_DEFAULT_SERVER exported, jpid) and sets
# $period; on exit the server, the process in $child if any, and $tmp go.

GW_JACK_PERIOD=${GW_JACK_PERIOD:-1024}
jpid=
child=

jack_setup() {
  tmp=$(mktemp -d "${GW_TEST_TMP:-/tmp}/$1.XXXXXX")
  trap jack_exit EXIT
  jack_start
  period=$GW_JACK_PERIOD
}

jack_exit() {
  [[ -n $child ]] && kill "$child" 2>/dev/null || true
  jack_cleanup
  rm -rf "$tmp"
}

# jack_start: starts the server, waits until it answers (10 s), or fails
jack_start() {
  export JACK_DEFAULT_SERVER=gw_test_$$ JACK_NO_START_SERVER=1 JACK_NO_AUDIO_RESERVATION=1
  local rt=(--no-realtime) try
  # realtime scheduling when allowed (root in a container usually is)
  chrt -f 10 true 2>/dev/null && rt=(-R -P 80)
  for try in 1 2; do
    jackd -n "$JACK_DEFAULT_SERVER" "${rt[@]}" -S -d dummy -r 48000 -p "$GW_JACK_PERIOD" \
      >"$tmp/jackd.log" 2>&1 &
    jpid=$!
    for _ in $(seq 100); do
      jack_lsp >/dev/null 2>&1 && return 0
      kill -0 "$jpid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$jpid" 2>/dev/null && { echo "FAIL: jackd did not come up in 10 s" >&2; exit 1; }
    wait "$jpid" 2>/dev/null || true
    jpid=
    ((try == 1)) && jack_reclaim_registry || break
  done
  cat "$tmp/jackd.log" >&2
  echo "FAIL: jackd exited" >&2
  exit 1
}

# jack_reclaim_registry: JACK 2 keeps its servers' names in a shared-memory
# registry (/dev/shm/jack-shm-registry) of 8 slots. A server that dies
# without unregistering (killed, or crashed) keeps its slot, and a slot is
# reclaimed only by a new server of the same name, so once 8 dead servers of
# other names are listed every new one fails: "Too many servers already
# active". When that is the failure and no JACK server runs on the machine,
# the registry and the segments it lists are stale: remove them (JACK
# creates them anew) and say so. Returns 1 when there is nothing to reclaim.
jack_reclaim_registry() {
  grep -q "Too many servers already active" "$tmp/jackd.log" || return 1
  if pgrep -x 'jackd|jackdbus|jackdmp' >/dev/null; then
    echo "jack_server: the JACK registry is full and a JACK server is running: $(pgrep -ax 'jackd|jackdbus|jackdmp' | head -3 | tr '\n' ';')" >&2
    return 1
  fi
  local uid
  uid=$(id -u)
  echo "jack_server: the JACK registry listed $(strings -n 3 /dev/shm/jack-shm-registry 2>/dev/null | grep -c '^jack-') dead servers and none runs: removing the stale registry" >&2
  rm -rf /dev/shm/jack-shm-registry /dev/shm/jack-"$uid"-* /dev/shm/jack_sem."$uid"_* /dev/shm/jack_db-"$uid"
}

jack_cleanup() {
  if [[ -n $jpid ]]; then
    kill "$jpid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$jpid" 2>/dev/null || true
    wait "$jpid" 2>/dev/null || true
    jpid=
  fi
}

# xrun lines in the server's log so far
jack_log_xruns() {
  grep -ci xrun "$tmp/jackd.log" || true
}

# the server's xrun lines after line $1, most frequent first
jack_log_xrun_kinds() {
  grep -i xrun "$tmp/jackd.log" | tail -n +$(($1 + 1)) | sed 's/[0-9]\+ usec/N usec/' |
    sort | uniq -c | sort -rn | head -5
}

# jack_control_xruns SECONDS: a recorder whose callback is one memcpy records
# system:capture_1 with genwave not running; prints the xruns JACK reported
# (to it, and in the server log) meanwhile
jack_control_xruns() {
  local before after jx
  before=$(jack_log_xruns)
  "$bin/gw_jack_record" "$tmp/control.wav" "$1" '^system:capture_1$' 10 >"$tmp/control.out" 2>&1 ||
    { echo "FAIL: control recorder failed: $(cat "$tmp/control.out")" >&2; exit 1; }
  after=$(jack_log_xruns)
  jx=$(sed -n 's/.*xruns \([0-9]*\), rms.*/\1/p' "$tmp/control.out")
  echo $((${jx:-0} + after - before))
}
