#!/usr/bin/env bash
# Builds a pitched-instrument training folder from Debian packages only:
# General MIDI program(s) of the FluidR3 soundfont (fluid-soundfont-gm),
# rendered note by note by fluidsynth, mono 16 kHz 16-bit WAV, with a
# manifest.csv (file,note,velocity) that genwave's dataset loader reads.
#
#   scripts/datasets/instrument-notes.sh OUT_DIR [--programs "0"] [--notes 48-72]
#       [--velocities "64 100"] [--rate 16000] [--hold 1.5] [--tail 0.5] [--cut S]
#       [--fade MS] [--soundfont NAME|PATH] [--prefix P] [--split train|val]
#
# --soundfont picks another General MIDI soundfont Debian ships: fluid
# (FluidR3_GM, the default), musescore (MuseScore_General, from
# musescore-general-soundfont-lossless) or timgm (TimGM6mb, from
# timgm6mb-soundfont), or a path. The same instrument from several
# soundfonts is varied data; holding one soundfont out for validation makes
# "held-out" mean unseen recordings. --prefix P starts every file name with
# P (so folders from several soundfonts can be merged), and --split val
# (or train) writes a 4th manifest column that puts every file of this run
# on that side of the training split (docs/training-your-own-sounds.md).
#
# fluidsynth renders each note until its release has died away (about 4.4 s
# for the piano), so a file ends in seconds of near-silence. --cut S keeps
# only the first S seconds, with a linear fade-out of --fade MS (default 10;
# 0 = a hard cut): a WaveNet trained on cut notes never sees a long silence
# that stays silent, which would teach it that silence is where it should
# stay when it starts a note from silence. A hard cut also keeps the end of
# the note out of the data: the fade would teach the model that a held note
# may die away at any moment (it has no clock), and the synth's envelope
# does the release anyway.
#
# Installs (when missing): fluidsynth, the soundfont's package (fluid-soundfont-gm is
# ~145 MB), python3.
# Deterministic: the same options give byte-identical WAVs (fluidsynth's
# rendering to file is sample-exact; reverb and chorus are off).
# Size: notes x velocities x programs files; the default 25 notes x 2
# velocities at 16 kHz is about 6.6 MB uncut, 2 MB with --cut 1.25.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: instrument-notes.sh OUT_DIR [options]}
shift
programs="0" notes="48-72" vels="64 100" rate=16000 hold=1.5 tail=0.5 cut=0 fade=10
soundfont=fluid prefix= split=
while (($#)); do
  case $1 in
    --programs) programs=$2; shift 2 ;;
    --notes) notes=$2; shift 2 ;;
    --velocities) vels=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --tail) tail=$2; shift 2 ;;
    --cut) cut=$2; shift 2 ;;
    --fade) fade=$2; shift 2 ;;
    --soundfont) soundfont=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --split) split=$2; shift 2
      [[ $split == train || $split == val ]] || { echo "instrument-notes.sh: --split is train or val" >&2; exit 2; } ;;
    *) echo "instrument-notes.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

case $soundfont in
  fluid) sf2=/usr/share/sounds/sf2/FluidR3_GM.sf2 sfpkg=fluid-soundfont-gm ;;
  musescore) sf2=/usr/share/sounds/sf2/MuseScore_General_Full.sf2 sfpkg=musescore-general-soundfont-lossless ;;
  timgm) sf2=/usr/share/sounds/sf2/TimGM6mb.sf2 sfpkg=timgm6mb-soundfont ;;
  *) sf2=$soundfont sfpkg= ;;
esac
need=()
for p in fluidsynth python3 $sfpkg; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "instrument-notes: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ -f $sf2 ]] || { echo "instrument-notes: $sf2 not found after install" >&2; exit 1; }

lo=${notes%-*} hi=${notes#*-}
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [[ -n $split ]]; then echo "file,note,velocity,split"; else echo "file,note,velocity"; fi > "$out/manifest.csv.tmp"
count=0
for prog in $programs; do
  for ((n = lo; n <= hi; n++)); do
    for v in $vels; do
      name=$(printf "%sgm%03d_n%03d_v%03d.wav" "$prefix" "$prog" "$n" "$v")
      python3 "$here/midi_note.py" "$tmp/note.mid" "$prog" "$n" "$v" "$hold" "$tail"
      fluidsynth -q -n -i -R 0 -C 0 -g 1.5 -r "$rate" -O s16 -T wav \
        -F "$tmp/stereo.wav" "$sf2" "$tmp/note.mid" >/dev/null 2>&1
      # downmix to mono with the project's own reader later; keep stereo
      # here would double the size, so fold channels with python's wave module
      python3 - "$tmp/stereo.wav" "$out/$name" "$cut" "$fade" <<'PY'
import sys, wave, array
src = wave.open(sys.argv[1], "rb")
ch, w, fr = src.getnchannels(), src.getsampwidth(), src.getframerate()
data = array.array("h", src.readframes(src.getnframes()))
mono = array.array("h", ((data[i] + data[i + 1]) // 2 for i in range(0, len(data) - 1, 2))) if ch == 2 else data
cut = round(float(sys.argv[3]) * fr)
if 0 < cut < len(mono):
    fade = round(float(sys.argv[4]) * fr / 1000)  # integer arithmetic: the same bytes everywhere
    mono = mono[:cut]
    for k in range(fade):
        i = cut - fade + k
        mono[i] = mono[i] * (fade - 1 - k) // fade
dst = wave.open(sys.argv[2], "wb")
dst.setnchannels(1); dst.setsampwidth(2); dst.setframerate(fr)
dst.writeframes(mono.tobytes()); dst.close()
PY
      echo "$name,$n,$v${split:+,$split}" >> "$out/manifest.csv.tmp"
      count=$((count + 1))
    done
  done
done
mv "$out/manifest.csv.tmp" "$out/manifest.csv"
echo "instrument-notes: wrote $count notes to $out ($(du -sh "$out" | cut -f1)), manifest.csv lists note and velocity"
