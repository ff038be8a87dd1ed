#!/usr/bin/env bash
# Builds a drum one-shot training folder from Debian's hydrogen-drumkits:
# every sample of every kit, copied as-is (FLAC/WAV; genwave's loader decodes,
# downmixes and resamples), into OUT_DIR/<kit>/<sample>, in a fixed order.
#
#   scripts/datasets/drum-one-shots.sh OUT_DIR [--kits "KIT,KIT,..."]
#
# --kits takes kit folder names separated by commas (some names hold
# spaces: "Gimme A Hand 1.0"); each kit lands in OUT_DIR/<kit name with
# spaces as underscores>/. Debian 12's package ships 14 kits, among them
# Audiophob, ColomboAcousticDrumkit, ElectricEmpireKit, HardElectro1,
# Millo-Drums_v.1, The Black Pearl 1.0 (ls /usr/share/hydrogen/data/drumkits).
# Installs (when missing): hydrogen-drumkits (~220 MB installed).
# Deterministic: files are copied byte for byte; the listing is sorted.
# Size: all kits together are about 200 MB; --kits picks some by folder name.
set -euo pipefail
out=${1:?usage: drum-one-shots.sh OUT_DIR [--kits "KIT,KIT,..."]}
shift
kits=""
while (($#)); do
  case $1 in
    --kits) kits=$2; shift 2 ;;
    *) echo "drum-one-shots.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if ! dpkg-query -W -f='${Status}' hydrogen-drumkits 2>/dev/null | grep -q "install ok installed"; then
  echo "drum-one-shots: installing hydrogen-drumkits"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends hydrogen-drumkits >/dev/null
fi
root=/usr/share/hydrogen/data/drumkits
[[ -d $root ]] || { echo "drum-one-shots: $root not found after install" >&2; exit 1; }
kit_list=()
if [[ -n $kits ]]; then
  IFS=, read -r -a kit_list <<<"$kits"
else
  while IFS= read -r k; do kit_list+=("$k"); done < <(cd "$root" && ls -1 | LC_ALL=C sort)
fi
count=0
for kit in "${kit_list[@]}"; do
  [[ -d $root/$kit ]] || { echo "drum-one-shots: no kit '$kit' in $root (see ls $root)" >&2; exit 1; }
  dest=$out/${kit// /_}
  mkdir -p "$dest"
  while IFS= read -r f; do
    cp "$f" "$dest/"
    count=$((count + 1))
  done < <(find "$root/$kit" -maxdepth 1 -type f \( -iname '*.flac' -o -iname '*.wav' \) | LC_ALL=C sort)
done
echo "drum-one-shots: copied $count samples to $out ($(du -sh "$out" | cut -f1))"
