#!/usr/bin/env bash
# Rebuilds the shipped models from scratch: builds each dataset from Debian
# packages (scripts/datasets/), trains with the exact command recorded in the
# model's card, evaluates it, and writes models/NAME.gwm and models/NAME.md
# (data and how to rebuild it, command, seed, steps, wall time, commit,
# figures). Bounded by wall time, not steps, so a run fits a known budget;
# on a slower or busier machine the same budget gives fewer steps (the card
# records how many).
#
#   scripts/train-models.sh [all | default | drums-gan | drums-vae]... [--work DIR]
#       [--minutes M] [--threads T] [--cards-only]
#
#   default    pitch-conditioned WaveNet (presets/wavenet-default-harmonic.json) on
#              General MIDI clarinet notes 48-72 at velocities 40-127 (the
#              first 0.75 s of each), 60 minutes on one thread; evaluated
#              with `genwave pitch`
#   drums-gan  spectrogram GAN (presets/specgan-tiny.json) on the
#              hydrogen-drumkits one-shots; evaluated with `genwave eval`
#   drums-vae  spectrogram VAE (presets/specvae-tiny.json), same data
#
# --minutes overrides every model's budget (for a quick smoke run; the card
# shows the budget in its command). --cards-only re-evaluates the models in
# models/ and rewrites their cards without training: the command, seed,
# steps and wall time come from the model file's own provenance (recorded by
# the trainer), so a card always describes the file beside it. Work files (datasets, run folders with checkpoints, logs and
# loss curves) go to --work (default: build/train-models); a run interrupted
# by Ctrl-C continues where it stopped when the script is run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$root/build/train-models
minutes="" threads=1 want=() cards_only=0
while (($#)); do
  case $1 in
    --work) work=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --cards-only) cards_only=1; shift ;;
    all) want+=(default drums-gan drums-vae); shift ;;
    default|drums-gan|drums-vae) want+=("$1"); shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "train-models.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
((${#want[@]})) || want=(default drums-gan drums-vae)
gw=${GENWAVE:-$root/build/genwave}   # GENWAVE=path/to/genwave uses another build
if [[ ! -x $gw ]]; then
  scripts/setup.sh
fi
mkdir -p "$work" models
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
machine="$(nproc) cores ($cpu), shared with other jobs while training"

# meta FILE KEY: a provenance/metric value from `genwave info`
# (WaveNet files list keys without their train./metric. prefix, others with)
meta() {
  "$gw" info "$1" | awk -v k="$2" '$1 == k || $1 == "train." k || $1 == "metric." k {
    $1 = ""; sub(/^ +/, ""); print; exit }'
}
# the model's own record of how it was made
# (wall time: the model's metric.seconds, else what train() measured)
provenance() {
  local m=$1 name=$2 secs
  cmd=$(meta "$m" command) seed=$(meta "$m" seed) steps=$(meta "$m" steps)
  secs=$(meta "$m" seconds)
  [[ -n $secs ]] || secs=$(cat "$work/runs/$name.wall" 2>/dev/null || true)
  secs=${secs%.*}
  if [[ -n $secs ]]; then wall="$((secs / 60)) min $((secs % 60)) s"; else wall="not recorded"; fi
}

# train KIND NAME PRESET DATA BUDGET_MIN SEED: runs (or resumes) the training
# and copies the model to models/NAME.gwm (and its loss curve beside it)
train() {
  local kind=$1 name=$2 preset=$3 data=$4 budget=$5 seed=$6
  ((cards_only)) && return 0
  local run=$work/runs/$name
  local resume=()
  mkdir -p "$work/runs"
  [[ -f $run/checkpoint.gwm ]] && resume=(--resume)
  echo "train-models: training $name ($budget minutes, log in $run.log)"
  local t0=$SECONDS
  "$gw" train "$kind" --data "$data" --preset "$preset" --out "$run" --minutes "$budget" \
    --threads "$threads" --seed "$seed" --steps 1000000 "${resume[@]}" 2>"$run.log" ||
    { echo "train-models: training $name failed; see $run.log:" >&2; tail -3 "$run.log" >&2; exit 1; }
  echo $((SECONDS - t0)) >"$run.wall"
  cp "$run/model.gwm" "models/$name.gwm.tmp" && mv "models/$name.gwm.tmp" "models/$name.gwm"
  cp "$run/loss.png" "models/$name-loss.png" 2>/dev/null || true
}

model_default() {
  local data=$work/data/instrument-notes
  ((cards_only)) || [[ -f $data/manifest.csv ]] ||
    scripts/datasets/instrument-notes.sh "$data" --programs 71 --notes 48-72 --velocities "40 64 88 112 127" --rate 16000 --hold 1 --cut 0.75
  train wavenet default presets/wavenet-default-harmonic.json "$data" "${minutes:-55}" 1
  local m=models/default.gwm
  provenance "$m" default
  "$gw" pitch "$m" --velocity 100 --velocity 64 --csv models/default-pitch.csv >"$work/default-pitch.txt"
  "$gw" pitch "$m" --velocity 100 --velocity 64 --temperature 0.7 >"$work/default-pitch-t07.txt"
  local acc acc07 size
  acc=$(grep '^in tune' "$work/default-pitch.txt")
  acc07=$(grep '^in tune' "$work/default-pitch-t07.txt")
  size=$(du -h "$m" | cut -f1)
  local verdict="meets"
  local pct
  pct=$(sed -n 's/.*= \([0-9.]*\)%.*/\1/p' <<<"$acc")
  awk -v p="$pct" 'BEGIN { exit !(p >= 90) }' || verdict="DOES NOT meet"
  cat >models/default.md <<EOF
# models/default.gwm - the default model

A pitch-conditioned WaveNet that plays a clarinet (General MIDI program 71): what
\`genwave render\`, \`genwave play\` and the LV2 plugin use when no model is
named. Built by \`scripts/train-models.sh default\`.

**Pitch accuracy: $pct% of the trained notes within 50 cents** ($verdict the
issue's 90% target), measured as below.

| | |
| --- | --- |
| architecture | \`presets/wavenet-default-harmonic.json\`: 8 kHz, 256 mu-law classes, one stack of 10 dilated layers (1..512), 32 residual / 32 gate / 64 skip / 128 head channels, conditioned on pitch (19 features, "harmonic" encoding, docs/wavenet.md) and velocity; receptive field $("$gw" info $m | sed -n 's/^receptive field: *//p') |
| parameters | $("$gw" info $m | awk '/^parameters:/ {print $2}') ($size on disk) |
| data | FluidR3 GM (Debian \`fluid-soundfont-gm\`), program 71 (Clarinet), every MIDI note 48-72 at velocities 40, 64, 88, 112 and 127, rendered by fluidsynth at 16 kHz mono and cut to the first 0.75 s with a 10 ms fade (125 files, 94 s; short files so that a fifth of the training windows start in the silence before a note: starting a note from silence at the right pitch is what the model must learn, continuing a period is easy), resampled to 8 kHz by the loader; split by file: $(meta $m files) |
| rebuild the data | \`scripts/datasets/instrument-notes.sh DIR --programs 71 --notes 48-72 --velocities "40 64 88 112 127" --rate 16000 --hold 1 --cut 0.75\` |
| command | \`$cmd\` |
| seed | $seed |
| steps | $steps (batch $(meta $m batch), Adam lr $(meta $m lr)) |
| wall time | $wall on $machine; $(meta $m samples_per_second) target samples/s |
| commit | $(meta $m commit) (card written at $commit) |
| validation | $(meta $m val_bits_first) bits/sample untrained -> $(meta $m val_bits_per_sample) bits/sample (held-out files) |
| final training loss | $(meta $m train_loss_nats) nats/sample |

## Pitch accuracy

Every trained note (48-72) at velocities 100 and 64 rendered from silence for
1 s at temperature 1 (as \`render\` and \`play\` do by default); the first
0.25 s are skipped and the fundamental of the rest measured with the
project's YIN; in tune = within 50 cents (\`genwave pitch models/default.gwm
--velocity 100 --velocity 64\`; per-note figures in
[default-pitch.csv](default-pitch.csv)):

- temperature 1: $acc
- temperature 0.7 (the \`clean\` synth preset): $acc07

\`\`\`
$(cat "$work/default-pitch.txt")
\`\`\`

Training curve: [default-loss.png](default-loss.png).

## Limits

8 kHz audio: nothing above 4 kHz, so it sounds darker than the soundfont.
Trained on one instrument and 25 notes only; notes outside 48-72 are refused
by \`render\`. It learnt the first 0.75 s of each note: a longer note goes on
as the model continues its own waveform (it sees 128 ms of the past and no
clock), and the release is the synth envelope's, not the clarinet's.
Sampling is stochastic: another --seed gives another take.

## How this recipe was chosen (measured 2026-11-24)

Pilot runs on the same shared 2-core machine, one thread each, evaluated as
above (the figures use \`gw_yin_f0\` as fixed on that day: before, YIN
thresholded d' at integer lags and measured many in-tune notes with strong
upper partials at 8 kHz an octave low, which halved the earlier figures):

| instrument, data | model, budget | held-out bits/sample | in tune |
| --- | --- | --- | --- |
| piano (program 0), 48-72 x 2 velocities, 1.25 s (the previous default) | wavenet-default, batch 4 x 2048, 35 min, 20,705 steps | 6.34 | 30% (26% by the old YIN) |
| clarinet (71), 48-72 x 5 velocities, 2 s | wavenet-default, batch 4 x 2048, 12 min, 2,391 steps | 4.84 | 28% |
| the same | the same, 24 min, 5,072 steps | 4.70 | 28% |
| clarinet, 48-72 x 5 velocities, 0.75 s | wavenet-default, batch 4 x 2048, 13 min, 4,977 steps | 4.59 | 34% |
| the same | wavenet-default, batch 8 x 1024, 3,000 steps | 3.99 | 44% |
| the same | wavenet-default-harmonic (19 pitch features, "harmonic"), batch 8 x 1024, 3,000 steps | 4.34 | 60% |
| the same | wavenet-default, batch 8 x 1024, 60 min, 19,624 steps | 3.99 | 54%, 52%, 60% (seeds 1, 2, 3) |
| the same | wavenet-default-harmonic, batch 8 x 1024, 55 min, 21,830 steps (this model) | 4.55 | 60%, 68%, 62% (seeds 1, 2, 3) |
| clarinet, 48-72 x 5 velocities, 2 s | wavenet-small-pitch (16 kHz, 2 x 10 layers), 30 min, 3,622 steps (docs/performance.md, "wavenet-small on real notes") | 4.06 | 10% |

A clarinet is steady and strongly periodic after a short attack, so every
sample of a note says the same thing about its pitch; the piano's decay
does not. Short files put more of the training on the attack (starting a
note from silence is where pitch must come from the conditioning alone; once
a period is playing the model continues it), and 8 items per batch show the
model twice as many notes per step as 4. With the "octave" pitch encoding
most misses were a neighbouring semitone or an octave (it turns one feature
pair by only 30 degrees per semitone); the "harmonic" encoding gives every
note gate biases of its own and was ahead at every budget tried, although
its held-out bits/sample (notes and velocities it never saw) are worse. The
misses that remain are notes that never settle: a few start a high whistle
(~1.1 kHz) or noise instead of the tone, which is the gap between teacher-
forced training and free-running generation (exposure bias), not the
conditioning.
EOF
  echo "train-models: models/default.gwm ($size), $acc"
}

# drum one-shots: five small kits of hydrogen-drumkits, acoustic and electronic
drum_data() {
  drums=$work/data/drum-one-shots
  ((cards_only)) || [[ -d $drums ]] || scripts/datasets/drum-one-shots.sh "$drums" --kits "Audiophob,ColomboAcousticDrumkit,ElectricEmpireKit,HardElectro1,Millo-Drums_v.1"
}

model_spec() {
  local kind=$1 name=$2 preset=$3
  drum_data
  train "$kind" "$name" "$preset" "$drums" "${minutes:-12}" 1
  local m=models/$name.gwm
  provenance "$m" "$name"
  "$gw" eval "$m" --data "$drums" >"$work/$name-eval.txt" 2>&1
  local size
  size=$(du -h "$m" | cut -f1)
  local what figures
  if [[ $kind == gan ]]; then
    what="A spectrogram GAN (DCGAN-style generator and discriminator on log-mel images, docs/gan.md) that invents drum hits; \`genwave sample\` turns its spectrograms into sound with Griffin-Lim."
  else
    what="A spectrogram VAE (docs/vae.md) of drum hits: \`genwave sample\` draws new ones from the prior, \`encode\`/\`reconstruct\`/\`interpolate\` work on your own."
  fi
  cat >"models/$name.md" <<EOF
# models/$name.gwm

$what Built by \`scripts/train-models.sh $name\`.

| | |
| --- | --- |
| architecture | \`$preset\` |
| size | $size |
| data | Debian \`hydrogen-drumkits\`: five kits (Audiophob, ColomboAcousticDrumkit, ElectricEmpireKit, HardElectro1, Millo-Drums_v.1: 107 samples, 82 s), every sample as shipped (decoded, mono, resampled by the loader) |
| rebuild the data | \`scripts/datasets/drum-one-shots.sh DIR --kits "Audiophob,ColomboAcousticDrumkit,ElectricEmpireKit,HardElectro1,Millo-Drums_v.1"\` |
| command | \`$cmd\` |
| seed | $seed |
| steps | $steps |
| wall time | $wall on $machine |
| commit | $(meta $m commit) (card written at $commit) |

## Evaluation (\`genwave eval $m --data DIR\`)

\`\`\`
$(cat "$work/$name-eval.txt")
\`\`\`

Training curve: [$name-loss.png]($name-loss.png).
EOF
  echo "train-models: $m ($size)"
}

for w in "${want[@]}"; do
  case $w in
    default) model_default ;;
    drums-gan) model_spec gan drums-gan presets/specgan-tiny.json ;;
    drums-vae) model_spec vae drums-vae presets/specvae-tiny.json ;;
  esac
done
