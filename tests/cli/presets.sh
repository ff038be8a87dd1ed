#!/bin/bash
# genwave presets: every shipped preset (presets/*.json, presets/synth/*.json)
# parses with the parser that uses it and gets one line; a malformed preset
# is named with file:line:col (syntax) or file and key (bad value, unknown
# key), makes the exit code 1, and does not hide the good ones.
set -u
GW=$1
. "$(dirname "$0")/../io/wavgen.inc"
T=$(mktemp -d "${GW_TEST_TMP:-/tmp}/cli_presets.XXXXXX")
trap 'rm -rf "$T"' EXIT
SRC=${GW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
P=$SRC/presets

# ---- the shipped presets: one line each, exit 0, nothing on stderr ----
"$GW" presets --dir "$P" >"$T/out" 2>"$T/err" || fail "shipped presets: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "shipped presets wrote to stderr: $(cat "$T/err")"
want=$(find "$P" -maxdepth 2 -name '*.json' \( -path "$P/*.json" -o -path "$P/synth/*.json" \) | wc -l)
[ "$want" -gt 0 ] || fail "no presets found in $P"
[ "$(wc -l <"$T/out")" -eq "$want" ] || fail "expected $want lines, got: $(cat "$T/out")"
for f in "$P"/*.json "$P"/synth/*.json; do
    [ -e "$f" ] || continue
    stem=$(basename "$f" .json)
    grep -Eq "^$stem +(wavenet|specgan|specvae|pixelcnn|synth) +[^ ]" "$T/out" ||
        fail "no line for $f in: $(cat "$T/out")"
done
# every architecture the issue names is shipped
for ref in wavenet-small wavenet-medium specgan-small specvae-small; do
    grep -q "^$ref " "$T/out" || fail "reference preset $ref missing"
done
grep -q "^default  *synth  *model default" "$T/out" || fail "synth preset 'default' missing"
# a key-tracked low cut is shown where a preset sets one, and only there
grep -q "^clarinet-48k  *synth  *model clarinet-48k, .*, 16 voices, highpass 0.7 x f0: " "$T/out" ||
    fail "clarinet-48k's highpass not shown: $(grep clarinet-48k "$T/out")"
grep "highpass" "$T/out" | grep -qv "^clarinet-48k " && fail "highpass shown where off: $(cat "$T/out")"
# the default search finds the same folder from the source tree
(cd "$SRC" && "$GW" presets >"$T/out2" 2>&1) || fail "presets from the source dir: $(cat "$T/out2")"
cmp -s "$T/out" "$T/out2" || fail "presets from the source dir differ"

# ---- malformed presets ----
mkdir -p "$T/bad/synth"
cp "$P/wavenet-small.json" "$T/bad/"
# a missing comma on line 4, column 3
printf '{\n  "kind": "synth",\n  "model": "default"\n  "gain_db": 0\n}\n' >"$T/bad/synth/nocomma.json"
"$GW" presets "$T/bad/synth/nocomma.json" >"$T/out" 2>"$T/err" && fail "missing comma accepted"
one_line_error "$T/err"
grep -q "nocomma.json:4:" "$T/err" || fail "syntax error without file:line: $(cat "$T/err")"

# a typo in an architecture key is reported by the model's own parser
sed 's/"residual_channels"/"resdual_channels"/' "$P/wavenet-small.json" >"$T/typo.json"
"$GW" presets "$T/typo.json" >"$T/out" 2>"$T/err" && fail "unknown wavenet key accepted"
one_line_error "$T/err"
grep -q "typo.json" "$T/err" && grep -q "resdual_channels" "$T/err" ||
    fail "unknown key not named: $(cat "$T/err")"

# out-of-range synth values name the key
printf '{"kind": "synth", "model": "default", "temperature": 9}\n' >"$T/hot.json"
"$GW" presets "$T/hot.json" >"$T/out" 2>"$T/err" && fail "temperature 9 accepted"
one_line_error "$T/err"
grep -q "hot.json.*temperature" "$T/err" || fail "bad temperature not named: $(cat "$T/err")"
printf '{"kind": "synth", "model": "default", "highpass": 1.2}\n' >"$T/lowcut.json"
"$GW" presets "$T/lowcut.json" >"$T/out" 2>"$T/err" && fail "highpass 1.2 accepted"
one_line_error "$T/err"
grep -q "lowcut.json.*highpass" "$T/err" || fail "bad highpass not named: $(cat "$T/err")"
printf '{"kind": "synth", "temperature": 1}\n' >"$T/nomodel.json"
"$GW" presets "$T/nomodel.json" >/dev/null 2>"$T/err" && fail "synth preset without model accepted"
grep -q "nomodel.json.*'model'" "$T/err" || fail "missing model not named: $(cat "$T/err")"
printf '{"kind": "synth", "model": "default", "envelope": {"atack_ms": 3}}\n' >"$T/env.json"
"$GW" presets "$T/env.json" >/dev/null 2>"$T/err" && fail "unknown envelope key accepted"
grep -q "env.json.*atack_ms" "$T/err" || fail "envelope typo not named: $(cat "$T/err")"
printf '{"model": "transformer"}\n' >"$T/kind.json"
"$GW" presets "$T/kind.json" >/dev/null 2>"$T/err" && fail "unknown model accepted"
grep -q "kind.json.*transformer" "$T/err" || fail "unknown model not named: $(cat "$T/err")"
printf '[1, 2]\n' >"$T/array.json"
"$GW" presets "$T/array.json" >/dev/null 2>"$T/err" && fail "a JSON array accepted as preset"
one_line_error "$T/err"
: >"$T/empty.json"
"$GW" presets "$T/empty.json" >/dev/null 2>"$T/err" && fail "an empty file accepted"
one_line_error "$T/err"
"$GW" presets "$T/missing.json" >/dev/null 2>"$T/err" && fail "a missing file accepted"
one_line_error "$T/err"

# a folder with one bad preset still lists the good one, and exits 1
"$GW" presets --dir "$T/bad" >"$T/out" 2>"$T/err" && fail "folder with a bad preset: exit 0"
grep -q "^wavenet-small  *wavenet" "$T/out" || fail "good preset hidden by a bad one: $(cat "$T/out")"
one_line_error "$T/err"

# usage errors
"$GW" presets --frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: exit code not 2"
"$GW" presets --dir "$T/nowhere" >/dev/null 2>"$T/err" && fail "missing --dir accepted"
one_line_error "$T/err"
mkdir -p "$T/none"
"$GW" presets --dir "$T/none" >/dev/null 2>"$T/err" && fail "empty folder accepted"
one_line_error "$T/err"
echo "presets: ok"
