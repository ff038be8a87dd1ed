#!/bin/bash
# RUNDIR/report.html (src/train/report.h): written by every trainer at each
# checkpoint, self-contained (every image and sound a data: URI), updated on
# --resume; and in a real browser, headless Chromium (Debian's chromium), it
# loads without a console error, and every image decodes and every sound
# loads (the page's own check counts what cannot be shown in
# <body data-broken>, which must be 0).
set -u
GW=$1
. "$(dirname "$0")/cli.inc"
cli_setup cli_report

noise_clips "$T/data" 12
"$GW" train pixelcnn --data "$T/data" --preset "$P/pixelcnn-tiny.json" --out "$T/run" --steps 4 \
    --sample-every 2 --batch 4 >/dev/null 2>"$T/err" || fail "train pixelcnn: $(tail -3 "$T/err")"
R=$T/run/report.html
[ -f "$R" ] || fail "no report.html"
# every curve, the samples and the sounds are inside the page
n_png=$(grep -o 'src="data:image/png;base64,' "$R" | wc -l)
n_wav=$(grep -o 'src="data:audio/wav;base64,' "$R" | wc -l)
[ "$n_png" -ge 5 ] || fail "report.html embeds $n_png images (3 curves + sample grids expected)"
[ "$n_wav" -ge 1 ] || fail "report.html embeds no sound"
for s in "4 of 4" "val_bits_per_dim" "grad_norm (log scale)" "best.gwm" "Samples over the run" \
    "Listen"; do
    grep -q "$s" "$R" || fail "report.html lacks '$s'"
done
! grep -q 'src="[^d]' "$R" || fail "report.html refers to a file outside itself"
# a resumed run rewrites it
"$GW" train pixelcnn --data "$T/data" --preset "$P/pixelcnn-tiny.json" --out "$T/run" --steps 6 \
    --sample-every 2 --batch 4 --resume >/dev/null 2>"$T/err" || fail "resume: $(tail -3 "$T/err")"
grep -q "6 of 6" "$R" && grep -q "from step 4" "$R" || fail "report.html not rewritten on resume"
# a WaveNet run writes one too
"$GW" train wavenet --data "$T/data" --preset wavenet-tiny-pitch --out "$T/wn" --steps 3 \
    --val-every 2 >/dev/null 2>"$T/err" || fail "train wavenet: $(tail -3 "$T/err")"
grep -q "val_bits" "$T/wn/report.html" || fail "wavenet report.html lacks its held-out curve"
# its previews: one per checkpoint interval, from the first validation on
[ -f "$T/wn/samples/step-0000000.wav" ] || fail "train wavenet wrote no preview: $(ls "$T/wn")"
grep -q 'src="data:audio/wav;base64,' "$T/wn/report.html" || fail "wavenet report.html has no preview"

# ---- in a browser ----
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    echo "report_html: chromium not installed (scripts/packages.txt lists it); browser check skipped"
    exit 77
fi
for page in "$R" "$T/wn/report.html"; do
    timeout 120 "$CHROME" --headless=new --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
        --user-data-dir="$T/chrome" --virtual-time-budget=5000 --dump-dom "file://$page" \
        >"$T/dom.html" 2>"$T/console.txt" || fail "chromium failed on $page: $(tail -5 "$T/console.txt")"
    body=$(grep -o '<body[^>]*>' "$T/dom.html")
    echo "$page: $body"
    [[ $body == *'data-checked="1"'* ]] || fail "the page's check did not run: $body"
    [[ $body == *'data-broken="0"'* ]] || fail "the browser could not show everything: $body"
    imgs=$(sed -n 's/.*data-images="\([0-9]*\)".*/\1/p' <<<"$body")
    [ "${imgs:-0}" -ge 3 ] || fail "the browser sees $imgs images: $body"
    if grep -E "CONSOLE|Uncaught" "$T/console.txt" | grep -v "^$" >"$T/errs"; then
        fail "console messages: $(cat "$T/errs")"
    fi
done
# the page's check can fail: a copy with one image's and one sound's bytes
# damaged must count both as broken
python3 - "$R" "$T/bad.html" <<'PY' || fail "could not make the damaged copy"
import sys
s = open(sys.argv[1]).read()
for mime in ("image/png", "audio/wav"):
    i = s.index("data:%s;base64," % mime) + len("data:%s;base64," % mime)
    s = s[:i] + "AAAAAAAA" + s[i + 8:]
open(sys.argv[2], "w").write(s)
PY
timeout 120 "$CHROME" --headless=new --no-sandbox --disable-gpu --user-data-dir="$T/chrome" \
    --virtual-time-budget=5000 --dump-dom "file://$T/bad.html" >"$T/bad-dom.html" 2>/dev/null
[[ $(grep -o '<body[^>]*>' "$T/bad-dom.html") == *'data-broken="2"'* ]] ||
    fail "the page's check missed damage: $(grep -o '<body[^>]*>' "$T/bad-dom.html")"
# (the WaveNet page, the last one dumped above, holds its one preview)
[[ $(grep -o '<body[^>]*>' "$T/dom.html") == *'data-sounds="1"'* ]] ||
    fail "the WaveNet report holds no preview: $(grep -o '<body[^>]*>' "$T/dom.html")"
exit 0
