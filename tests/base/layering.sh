#!/usr/bin/env bash
# Lower layers never include higher ones. Ranks: base 0; nn, dsp 1; io 2;
# models 3; train, engine 4; cli 5. A file may include its own layer, lower
# layers, and system headers only. (nn and dsp are siblings: neither may
# include the other.)
set -u
src="${GW_SOURCE_DIR:-$(dirname "$0")/../..}/src"
declare -A rank=([base]=0 [nn]=1 [dsp]=1 [io]=2 [models]=3 [train]=4 [engine]=4 [cli]=5)
bad=0
for f in "$src"/*/*.[ch]; do
  layer=$(basename "$(dirname "$f")")
  [[ -n ${rank[$layer]+x} ]] || { echo "layering: $f is in unknown layer '$layer'"; bad=1; continue; }
  while IFS= read -r inc; do
    dep=${inc%%/*}
    [[ -n ${rank[$dep]+x} ]] || continue
    if [[ $dep != "$layer" ]] && { (( ${rank[$dep]} >= ${rank[$layer]} )); }; then
      echo "layering: ${f#$src/} includes \"$inc\" from a layer that is not below it"
      bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
((bad)) && exit 1
echo "layering: ok ($(ls "$src"/*/*.[ch] | wc -l) files)"
