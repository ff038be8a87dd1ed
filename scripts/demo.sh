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
#   scripts/demo.sh [--out DIR] [--models DIR] [--no-build] [--no-play]
#     --out DIR      where everything goes (default: out/demo/ in the
#                    repository, git-ignored; a bare DIR argument works too)
#     --models DIR   take default.gwm, drums-gan.gwm and drums-vae.gwm from DIR
#                    (default: models/, the shipped ones; your own models
#                    under these names work too)
#     --no-build     use an existing build/ as is (no package install, no build)
#     --no-play      never play
# Environment: GENWAVE=path/to/genwave uses that binary (and installs and
# builds nothing, as scripts/train-models.sh); GW_DEMO_NO_BUILD=1 and
# GW_DEMO_NO_PLAY=1 are --no-build and --no-play. tests/cli/demo.sh runs
# this script with GENWAVE and --out into a scratch folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/out/demo
models=$root/models
no_build=${GW_DEMO_NO_BUILD:-0} no_play=${GW_DEMO_NO_PLAY:-0}
while (($#)); do
  case $1 in
    --out|--models)
      (($# >= 2)) || { echo "demo: $1 needs a folder (try --help)" >&2; exit 2; }
      if [[ $1 == --out ]]; then out=$2; else models=$2; fi
      shift 2 ;;
    --no-build) no_build=1; shift ;;
    --no-play) no_play=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
# relative folders are the caller's, not the repository's
[[ $out == /* ]] || out=$PWD/$out
[[ $models == /* ]] || models=$PWD/$models
gw=${GENWAVE:-$root/build/genwave}
case $gw in
  /*) ;;
  */*) gw=$PWD/$gw ;;
  *) gw=$(command -v "$gw" || echo "$gw") ;; # a bare name: from PATH
esac
cd "$root"
[[ -d $models ]] || { echo "demo: $models: no such folder" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }

if [[ $no_build != 1 && -z ${GENWAVE:-} ]]; then
  say "installing what is missing and building (scripts/setup.sh)"
  scripts/setup.sh
fi
if [[ ! -x $gw ]]; then
  if [[ -n ${GENWAVE:-} ]]; then echo "demo: GENWAVE=$GENWAVE: not an executable" >&2
  else echo "demo: $gw not built (run scripts/setup.sh)" >&2; fi
  exit 1
fi
mkdir -p "$out"
made=() skipped=()

# ---- the default model plays a phrase ----
midi=presets/demo/phrase.mid
[[ -f $midi ]] || python3 scripts/make-demo-midi.py "$midi" >/dev/null
if [[ -f $models/default.gwm ]]; then
  say "rendering $midi with $models/default.gwm"
  "$gw" render "$models/default.gwm" --midi "$midi" -o "$out/demo.wav" --seed 1
  "$gw" spectrogram "$out/demo.wav" -o "$out/demo.png" --n-fft 512 --mels 80 --scale 2
  made+=("$out/demo.wav  the phrase played by the default model (card: $models/default.md)"
         "$out/demo.png  its log-mel spectrogram")
  # each note alone, for listening to the model's range
  "$gw" render "$models/default.gwm" --note 60 --seconds 2 -o "$out/note-c4.wav" --seed 2
  made+=("$out/note-c4.wav  middle C, two seconds")
else
  skipped+=("$models/default.gwm is not shipped yet: no demo.wav (scripts/train-models.sh default builds it)")
fi

# ---- a drum GAN and a drum VAE invent new hits ----
for kind in gan vae; do
  model=$models/drums-$kind.gwm
  if [[ -f $model ]]; then
    say "sampling 8 new drum hits from $model"
    rm -rf "${out:?}/$kind"
    "$gw" sample "$model" -n 8 -o "$out/$kind" --seed 1
    "$gw" spectrogram "$out/$kind/sample-000.wav" -o "$out/$kind-sample.png" --n-fft 512 --mels 64 --scale 3
    made+=("$out/$kind/sample-000.wav ... sample-007.wav  new drum hits from the ${kind^^} (card: $models/drums-$kind.md)"
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
if [[ -f $out/demo.wav && $no_play != 1 ]]; then
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
