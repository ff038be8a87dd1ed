#!/usr/bin/env bash
# The one-command demo. On a fresh Debian 12 machine: installs the Debian
# packages genwave needs (scripts/setup.sh, only those missing), builds,
# then with the shipped models
#   - renders presets/demo/phrase.mid (a ten-second phrase, made by
#     scripts/make-demo-midi.py) with models/default.gwm to demo.wav,
#   - draws demo.wav's spectrogram (demo.png),
#   - samples new drum hits from the GAN and the VAE (models/drums-gan.gwm,
#     models/drums-vae.gwm) with a spectrogram grid of each,
# prints where everything is, and plays demo.wav when an audio device is
# there (aplay -l or pactl finds one). A model not shipped yet is named and
# its part skipped; the rest still runs.
#
#   scripts/demo.sh [OUT_DIR]      (default: out/demo/ in the repository, git-ignored)
# Environment: GW_DEMO_NO_BUILD=1 uses an existing build/ as is,
#              GENWAVE=path/to/genwave uses that binary (and builds nothing),
#              GW_DEMO_NO_PLAY=1 never plays.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/demo}
cd "$root"

say() { printf '\n== %s\n' "$*"; }

if [[ ${GW_DEMO_NO_BUILD:-0} != 1 && -z ${GENWAVE:-} ]]; then
  say "installing what is missing and building (scripts/setup.sh)"
  scripts/setup.sh
fi
gw=${GENWAVE:-$root/build/genwave}
[[ -x $gw ]] || { echo "demo: $gw not built (run scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$out"
made=() skipped=()

# ---- the default model plays a phrase ----
midi=presets/demo/phrase.mid
[[ -f $midi ]] || python3 scripts/make-demo-midi.py "$midi" >/dev/null
if [[ -f models/default.gwm ]]; then
  say "rendering $midi with models/default.gwm"
  "$gw" render models/default.gwm --midi "$midi" -o "$out/demo.wav" --seed 1
  "$gw" spectrogram "$out/demo.wav" -o "$out/demo.png" --n-fft 512 --mels 80 --scale 2
  made+=("$out/demo.wav  the phrase played by the default model (card: models/default.md)"
         "$out/demo.png  its log-mel spectrogram")
  # each note alone, for listening to the model's range
  "$gw" render models/default.gwm --note 60 --seconds 2 -o "$out/note-c4.wav" --seed 2
  made+=("$out/note-c4.wav  middle C, two seconds")
else
  skipped+=("models/default.gwm is not shipped yet: no demo.wav (scripts/train-models.sh default builds it)")
fi

# ---- a drum GAN and a drum VAE invent new hits ----
for kind in gan vae; do
  model=models/drums-$kind.gwm
  if [[ -f $model ]]; then
    say "sampling 8 new drum hits from $model"
    rm -rf "$out/$kind"
    "$gw" sample "$model" -n 8 -o "$out/$kind" --seed 1
    "$gw" spectrogram "$out/$kind/sample-000.wav" -o "$out/$kind-sample.png" --n-fft 512 --mels 64 --scale 3
    made+=("$out/$kind/sample-000.wav ... sample-007.wav  new drum hits from the ${kind^^} (card: models/drums-$kind.md)"
           "$out/$kind/sample-grid.png  the spectrograms of all eight"
           "$out/$kind-sample.png  the first one's spectrogram, larger")
  else
    skipped+=("$model is not shipped yet: no ${kind^^} samples (scripts/train-models.sh drums-$kind builds it)")
  fi
done

say "done"
for m in "${made[@]}"; do echo "  $m"; done
for s in "${skipped[@]}"; do echo "  skipped: $s"; done

# ---- play demo.wav when there is somewhere to play it ----
if [[ -f $out/demo.wav && ${GW_DEMO_NO_PLAY:-0} != 1 ]]; then
  if command -v paplay >/dev/null && command -v pactl >/dev/null &&
     pactl list short sinks 2>/dev/null | grep -q .; then
    say "playing demo.wav (paplay)"
    paplay "$out/demo.wav" || echo "demo: paplay could not play it; the file is $out/demo.wav"
  elif command -v aplay >/dev/null && aplay -l 2>/dev/null | grep -q '^card'; then
    say "playing demo.wav (aplay)"
    aplay -q "$out/demo.wav" || echo "demo: aplay could not play it; the file is $out/demo.wav"
  else
    echo "  (no audio device found: not playing; listen to $out/demo.wav elsewhere," \
         "or run build/genwave play models/default.gwm --note 60 where there is one)"
  fi
fi
