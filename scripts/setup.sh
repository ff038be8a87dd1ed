#!/usr/bin/env bash
# Installs the Debian packages genwave needs (only those missing), then
# configures and builds a Release build into build/. Idempotent: a second run
# installs nothing and rebuilds only what changed.
#   scripts/setup.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."

# build tools and libraries of the library, CLI, plugin and tests
pkgs=(build-essential cmake pkg-config
      libopenblas-dev libfftw3-dev libsndfile1-dev libsoxr-dev libpng-dev
      libcjson-dev portaudio19-dev libcmocka-dev
      libcairo2-dev fonts-dejavu-core)
# extra packages later parts need are listed in scripts/packages.txt
if [[ -f scripts/packages.txt ]]; then
  while read -r p _; do [[ -n $p && $p != \#* ]] && pkgs+=("$p"); done < scripts/packages.txt
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#pkgs[@]} required Debian packages are installed"
fi

echo "setup: configuring and building build/ (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: done; the CLI is build/genwave"
