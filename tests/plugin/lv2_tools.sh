#!/usr/bin/env bash
# The LV2 tools Debian ships agree with genwave.lv2 in the build tree:
#   lv2info      describes it: an instrument, its ports, its presets, no error
#   lv2_validate (lv2-dev, with sord_validate from sordi) finds 0 errors in
#                the bundle's turtle, presets included
#   lv2bench     (lilv-utils) instantiates and runs it (a host without
#                work:schedule: the plugin loads in instantiate)
# $1 is the genwave binary; the bundle sits beside it.
set -euo pipefail
build=$(cd "$(dirname "$1")" && pwd)
bundle=$build/genwave.lv2
uri=urn:genwave:synth
fail() { echo "lv2_tools: $*" >&2; exit 1; }

for t in lv2info lv2_validate sord_validate lv2bench; do
  command -v "$t" >/dev/null || fail "$t missing (scripts/setup.sh installs lilv-utils, lv2-dev, sordi)"
done
[[ -f $bundle/genwave.so && -f $bundle/manifest.ttl ]] || fail "no bundle at $bundle (build the genwave_lv2 target)"
# the build tree's bundle first, then the system's LV2 specs
export LV2_PATH=$build/lv2:/usr/lib/lv2

info=$(lv2info "$uri" 2>&1) || fail "lv2info failed: $info"
grep -q "error" <<<"$info" && fail "lv2info reports an error: $(grep error <<<"$info")"
grep -q "Bundle: *file://$build/lv2/genwave.lv2/" <<<"$info" || fail "lv2info: not the build tree's bundle: $(grep Bundle <<<"$info")"
grep -q "Class: *Instrument Plugin" <<<"$info" || fail "lv2info: not an instrument"
grep -q "Has latency: *yes, reported by port 9" <<<"$info" || fail "lv2info: no latency port"
for sym in control notify out gain temperature attack release voices bend_range latency load; do
  grep -q "Symbol: *$sym\$" <<<"$info" || fail "lv2info: no port $sym"
done
echo "lv2_tools: lv2info ok"

presets=()
shopt -s nullglob
presets=("$bundle"/presets/*.ttl)
val=$(lv2_validate "$bundle"/manifest.ttl "$bundle"/genwave.ttl "${presets[@]}" 2>&1 | grep -v '^Skipping') ||
  fail "lv2_validate failed: $val"
grep -q "Found 0 errors" <<<"$val" || fail "lv2_validate: $val"
echo "lv2_tools: lv2_validate: $(tail -1 <<<"$val")"

# a user preset from `genwave lv2-preset` is listed and valid
user=$(mktemp -d "${GW_TEST_TMP:-/tmp}/lv2user.XXXXXX")
"$1" lv2-preset "${GW_SOURCE_DIR:-$build/..}/models/default.gwm" --name "Lv2 tools test" --dir "$user" >/dev/null ||
  fail "genwave lv2-preset failed"
grep -q "Lv2 tools test" <<<"$(LV2_PATH=$LV2_PATH:$user lv2info "$uri" 2>&1)" || fail "lv2info does not list the user preset"
val=$(lv2_validate "$bundle"/manifest.ttl "$bundle"/genwave.ttl "${presets[@]}" "$user"/*/*.ttl 2>&1 | grep -v "^Skipping") ||
  fail "lv2_validate of the user preset failed: $val"
grep -q "Found 0 errors" <<<"$val" || fail "lv2_validate (user preset): $val"
rm -rf "$user"
echo "lv2_tools: genwave lv2-preset: listed by lv2info, $(tail -1 <<<"$val")"

bench=$(lv2bench -b 256 -n 48000 "$uri" 2>&1) || fail "lv2bench failed: $bench"
grep -q "$uri" <<<"$bench" || fail "lv2bench did not run the plugin: $bench"
echo "lv2_tools: lv2bench: $(grep "$uri" <<<"$bench")"
echo "lv2_tools: 3 passed, 0 failed"
