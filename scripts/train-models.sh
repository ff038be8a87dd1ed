#!/usr/bin/env bash
# Rebuilds the shipped models from scratch: builds each dataset from Debian
# packages (scripts/datasets/), trains with the exact command recorded in the
# model's card, evaluates it, and writes models/NAME.gwm and models/NAME.md
# (data and how to rebuild it, command, seed, steps, wall time, commit,
# figures). The GAN and VAE are bounded by wall time, so a run fits a known
# budget (on a slower or busier machine the same budget gives fewer steps;
# the card records how many); the default WaveNet by steps, because its
# learning-rate schedule is in steps (about 75 min on one quiet core here).
#
#   scripts/train-models.sh [all | default | clarinet-48k | drums-gan | drums-vae |
#       drums-pixelcnn]...
#       [--work DIR]
#       [--minutes M] [--threads T] [--cards-only]
#
#   default    pitch-conditioned WaveNet (presets/wavenet-default-harmonic.json) on
#              General MIDI clarinet notes 48-72 at 7 velocities 32-127 (the
#              first 0.99 s of each), 50,000 steps on one thread; evaluated
#              with `genwave pitch`
#   clarinet-48k  the 48 kHz recipe (presets/wavenet-48k-bands-wide.json) on
#              the clarinet of three soundfonts (one held out), notes 50-86
#              at 4 velocities, 50,000 steps; evaluated with `genwave quality`
#   drums-gan  spectrogram GAN (presets/specgan-tiny.json) on the
#              hydrogen-drumkits one-shots; evaluated with `genwave eval`
#   drums-vae  spectrogram VAE (presets/specvae-tiny.json), same data
#   drums-pixelcnn  Gated PixelCNN (presets/pixelcnn-drums.json: the drum
#              models' 32 x 32 feature), same data, same 12 minutes
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
    all) want+=(default clarinet-48k drums-gan drums-vae drums-pixelcnn); shift ;;
    default|clarinet-48k|drums-gan|drums-vae|drums-pixelcnn) want+=("$1"); shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "train-models.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
((${#want[@]})) || want=(default clarinet-48k drums-gan drums-vae drums-pixelcnn)
gw=${GENWAVE:-$root/build/genwave}   # GENWAVE=path/to/genwave uses another build
if [[ ! -x $gw ]]; then
  scripts/setup.sh
fi
mkdir -p "$work" models
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
# a bare "AMD EPYC" names no generation: add the family and model numbers
cpu+=" (family $(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
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
  wall+=" on $machine"
  # a card rewritten without training keeps the time and machine it
  # recorded when the model was trained (the model file holds neither)
  local old
  if ((cards_only)) && [[ -f models/$name.md ]] &&
    old=$(sed -n 's/^| wall time | \(.*\) |$/\1/p' "models/$name.md") && [[ -n $old ]]; then
    wall=${old%%; *target samples/s}
  fi
}

# train KIND NAME PRESET DATA BUDGET SEED: runs (or resumes) the training
# and copies the model to models/NAME.gwm (and its loss curve beside it);
# BUDGET is minutes, or a step count as "steps:N" (--minutes still caps it)
train() {
  local kind=$1 name=$2 preset=$3 data=$4 budget=$5 seed=$6
  local extra=("${@:7}") # more training options
  local limit=(--minutes "$budget" --steps 1000000)
  if [[ $budget == steps:* ]]; then
    limit=(--steps "${budget#steps:}")
    [[ -z $minutes ]] || limit+=(--minutes "$minutes")
    budget="${budget#steps:} steps"
  else
    budget="$budget minutes"
  fi
  ((cards_only)) && return 0
  local run=$work/runs/$name
  local resume=()
  mkdir -p "$work/runs"
  [[ -f $run/checkpoint.gwm ]] && resume=(--resume)
  # a run begun without --val-data resumes without it (the log's columns
  # are the run's own): the training is the same either way
  if ((${#resume[@]})) && ! head -1 "$run/log.csv" 2>/dev/null | grep -q ',val_data_bits'; then
    local keep=() i
    for ((i = 0; i < ${#extra[@]}; i++)); do
      if [[ ${extra[i]} == --val-data ]]; then
        i=$((i + 1))
        echo "train-models: $name resumes a run begun without --val-data; it goes on without it"
      else
        keep+=("${extra[i]}")
      fi
    done
    extra=("${keep[@]}")
  fi
  echo "train-models: training $name ($budget, log in $run.log)"
  local t0=$SECONDS
  "$gw" train "$kind" --data "$data" --preset "$preset" --out "$run" "${limit[@]}" \
    --threads "$threads" --seed "$seed" "${resume[@]}" "${extra[@]}" 2>"$run.log" ||
    { echo "train-models: training $name failed; see $run.log:" >&2; tail -3 "$run.log" >&2; exit 1; }
  echo $((SECONDS - t0)) >"$run.wall"
  cp "$run/model.gwm" "models/$name.gwm.tmp" && mv "models/$name.gwm.tmp" "models/$name.gwm"
  cp "$run/loss.png" "models/$name-loss.png" 2>/dev/null || true
}

default_velocities="32 48 64 80 96 112 127" default_steps=50000
model_default() {
  local data=$work/data/clarinet-notes
  ((cards_only)) || [[ -f $data/manifest.csv ]] ||
    scripts/datasets/instrument-notes.sh "$data" --programs 71 --notes 48-72 --velocities "$default_velocities" --rate 16000 --hold 1.2 --cut 0.99 --fade 0
  train wavenet default presets/wavenet-default-harmonic.json "$data" steps:$default_steps 1
  local m=models/default.gwm
  provenance "$m" default
  "$gw" pitch "$m" --velocity 100 --velocity 64 --csv models/default-pitch.csv >"$work/default-pitch.txt"
  "$gw" pitch "$m" --velocity 100 --velocity 64 --temperature 0.7 >"$work/default-pitch-t07.txt"
  # other takes: sampling is stochastic, so one seed's figure is one draw
  local seeds="" k
  for k in 2 3 4 5; do
    seeds+="$("$gw" pitch "$m" --velocity 100 --velocity 64 --seed $k | sed -n 's/^in tune.*= \([0-9.]*%\).*/\1/p') (seed $k), "
  done
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
| data | FluidR3 GM (Debian \`fluid-soundfont-gm\`), program 71 (Clarinet), every MIDI note 48-72 at velocities $default_velocities, rendered by fluidsynth at 16 kHz mono and cut hard (no fade) after 0.99 s, while the note is still held (175 files, 173 s; short files so that about a seventh of the training windows start in the silence before a note, where the pitch must come from the conditioning alone; no fade, because a model with no clock learns from a fade that a held note may die away at any moment), resampled to 8 kHz by the loader; split by file: $(meta $m files) |
| rebuild the data | \`scripts/datasets/instrument-notes.sh DIR --programs 71 --notes 48-72 --velocities "$default_velocities" --rate 16000 --hold 1.2 --cut 0.99 --fade 0\` |
| command | \`genwave train wavenet --data DIR --preset presets/wavenet-default-harmonic.json --out RUN --steps $default_steps --threads 1 --seed 1\` (what \`scripts/train-models.sh default\` runs). The file's own record: \`$cmd\` |
| seed | $seed |
| steps | $steps (batch $(meta $m batch), Adam lr $(meta $m lr)) |
| wall time | $wall; $(meta $m samples_per_second) target samples/s |
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
- the same at other sampling seeds: ${seeds%, }
- temperature 0.7 (the \`clean\` synth preset): $acc07

\`\`\`
$(cat "$work/default-pitch.txt")
\`\`\`

Training curve: [default-loss.png](default-loss.png).

## Limits

8 kHz audio: nothing above 4 kHz, so it sounds darker than the soundfont.
Trained on one instrument and 25 notes only; notes outside 48-72 are refused
by \`render\`. It learnt the first second of each note: a longer note goes on
as the model continues its own waveform (it sees 128 ms of the past and no
clock), and the release is the synth envelope's, not the clarinet's.
Sampling is stochastic: another --seed gives another take, and a few notes
(at seeds 1-5: note 65 at velocity 64, which barely starts, and the top
note, 72, most often) do not come out in tune in every take.

## How this recipe was chosen

Runs of 2026-11-24 on this 2-core machine, one thread each, every model
evaluated as above at sampling seeds 1-4 (% of the 50 notes in tune):

| data | training | steps | in tune, seeds 1-4 |
| --- | --- | --- | --- |
| clarinet, 5 velocities (40-127), 0.75 s with a 10 ms fade | lr 0.002 throughout (the previous default), notes started from zeroed rings | 21,830 | 60, 68, 62, - |
| the same model | notes started from a silent history (docs/wavenet.md, "Starting a note") | 21,830 | 84, 82, 80, 80 |
| the same run | continued at lr 0.0005 | 32,000 | 92, 86, 86, 86 |
| the same run | the same | 43,500 | 86, 90, 90, 88 |
| clarinet, 7 velocities (32-127), 1 s with a 10 ms fade | lr 0.002 | 25,000 | 78, 80, 80, 78 |
| the same run | x 0.25 from 25,000 | 32,000 | 88, 90, 86, 88 |
| the same run | x 0.25 again from 40,000 | 45,000 | 84, 88, 86, 86 |
| the same run | the same | 50,000 | 86, 84, 84, 86 |
| clarinet, 7 velocities, 0.99 s cut hard (this model's data) | lr 0.002 | 20,000 | 82, 80, 78, 80 |
| the same run (this model) | x 0.25 from 25,000 | 33,500 | 92, 92, 90, 90 |
| the same run (this model) | x 0.25 again from 40,000 | 50,000 | 94, 96, 96, 92 |

Three things moved the figure. (1) How a note starts: the stream used to
start a voice from zeroed rings, a history the model never saw in training
(its windows start in silence, which is not zero inside the network); a
voice now starts from the history silence gives, and the same weights went
from 60-68% to 80-84%. (2) The learning rate: at a constant 0.002 the
weights jump between minibatches, and a quarter of it after the first
25,000 steps settles them. (3) The fade: every cut file ended in a 10 ms
fade to silence, and a model with no clock learns from it that a held note
may die away at any moment; the misses of the faded runs were mostly notes
that died into quiet noise. Cutting hard while the note is still held
removes that. More data (7 velocities of 1 s against 5 of 0.75 s) improved
held-out bits/sample (3.8-3.9 against 4.3-4.6) but not pitch by itself.

Earlier pilots (the same day, before the note-start fix, so their pitch
figures are low; held-out bits/sample are unaffected):

| instrument, data | model, budget | held-out bits/sample | in tune |
| --- | --- | --- | --- |
| piano (program 0), 48-72 x 2 velocities, 1.25 s | wavenet-default, batch 4 x 2048, 35 min, 20,705 steps | 6.34 | 30% |
| clarinet (71), 48-72 x 5 velocities, 2 s | wavenet-default, batch 4 x 2048, 24 min, 5,072 steps | 4.70 | 28% |
| clarinet, 48-72 x 5 velocities, 0.75 s | wavenet-default, batch 4 x 2048, 13 min, 4,977 steps | 4.59 | 34% |
| the same | wavenet-default, batch 8 x 1024, 3,000 steps | 3.99 | 44% |
| the same | wavenet-default-harmonic (19 pitch features, "harmonic"), batch 8 x 1024, 3,000 steps | 4.34 | 60% |
| the same | wavenet-default, batch 8 x 1024, 60 min, 19,624 steps | 3.99 | 54%, 52%, 60% (seeds 1, 2, 3) |
| clarinet, 48-72 x 5 velocities, 2 s | wavenet-small-pitch (16 kHz, 2 x 10 layers), 30 min, 3,622 steps (docs/performance.md, "wavenet-small on real notes") | 4.06 | 10% |

A clarinet is steady and strongly periodic after a short attack, so every
sample of a note says the same thing about its pitch; the piano's decay
does not. With the "octave" pitch encoding most misses were a neighbouring
semitone or an octave (it turns one feature pair by only 30 degrees per
semitone); the "harmonic" encoding gives every note gate biases of its own
and was ahead at every budget tried.
EOF
  echo "train-models: models/default.gwm ($size), $acc"
}

# clarinet-48k: the 48 kHz recipe (issue "Studio-grade sound"): the clarinet
# of two soundfonts for training and a third held out, notes 50-86 (three
# octaves) at 4 velocities, PQMF sub-bands and a mixture of logistics
c48_notes=50-86 c48_velocities="40 64 90 115" c48_steps=50000 c48_new_velocities="52 77 102"
c48_data() {
  c48=$work/data/clarinet-48k
  ((cards_only)) || [[ -f $c48/manifest.csv ]] || {
    local sf split
    rm -rf "$c48.tmp" && mkdir -p "$c48.tmp/all"
    echo "file,note,velocity,split" >"$c48.tmp/all/manifest.csv"
    for sf in fluid musescore timgm; do
      split=train && [[ $sf == timgm ]] && split=val
      scripts/datasets/instrument-notes.sh "$c48.tmp/$sf" --programs 71 --notes $c48_notes \
        --velocities "$c48_velocities" --rate 48000 --hold 1.2 --cut 0.99 --fade 0 \
        --soundfont $sf --prefix "${sf}_" --split $split
      mv "$c48.tmp/$sf"/*.wav "$c48.tmp/all/"
      tail -n +2 "$c48.tmp/$sf/manifest.csv" >>"$c48.tmp/all/manifest.csv"
    done
    mv "$c48.tmp/all" "$c48" && rm -rf "$c48.tmp"
  }
  # new velocities of the two training clarinets, never trained on: the run
  # validates on them as well (--val-data), so best.gwm follows the
  # instrument being learnt, not the held-out soundfont's timbre
  c48vd=$work/data/clarinet-48k-new-velocities
  ((cards_only)) || [[ -f $c48vd/manifest.csv ]] || {
    local sf
    rm -rf "$c48vd.tmp" && mkdir -p "$c48vd.tmp/all"
    echo "file,note,velocity" >"$c48vd.tmp/all/manifest.csv"
    for sf in fluid musescore; do
      scripts/datasets/instrument-notes.sh "$c48vd.tmp/$sf" --programs 71 --notes $c48_notes \
        --velocities "$c48_new_velocities" --rate 48000 --hold 1.2 --cut 0.99 --fade 0 \
        --soundfont $sf --prefix "${sf}_"
      mv "$c48vd.tmp/$sf"/*.wav "$c48vd.tmp/all/"
      tail -n +2 "$c48vd.tmp/$sf/manifest.csv" >>"$c48vd.tmp/all/manifest.csv"
    done
    mv "$c48vd.tmp/all" "$c48vd" && rm -rf "$c48vd.tmp"
  }
  # the reference recordings the card measures against: FluidR3's notes at
  # the issue's two velocities, held 1.5 s
  c48ref=$work/data/clarinet-48k-reference
  ((cards_only)) || [[ -f $c48ref/manifest.csv ]] ||
    scripts/datasets/instrument-notes.sh "$c48ref" --programs 71 --notes $c48_notes \
      --velocities "64 100" --rate 48000 --hold 1.5 --cut 1.2 --fade 0
}

model_clarinet48() {
  local name=clarinet-48k
  c48_data
  train wavenet $name presets/wavenet-48k-bands-wide.json "$c48" steps:$c48_steps 1 --val-data "$c48vd"
  local m=models/$name.gwm
  # the held-out figures (genwave eval): the held-out soundfont, and the new
  # velocities of the training clarinets
  local ev_sf="(folder not built)" ev_vd="(folder not built)"
  [[ -f $c48/manifest.csv ]] && ev_sf=$("$gw" eval "$m" --data "$c48" | awk '/bits per/ {print $NF}')
  [[ -f $c48vd/manifest.csv ]] &&
    ev_vd=$("$gw" eval "$m" --data "$c48vd" --all | awk '/bits per/ {print $NF}')
  provenance "$m" $name
  "$gw" quality "$m" --reference "$c48ref" --notes $c48_notes --velocity 64 --velocity 100 \
    --seeds 1,2,3 --csv "models/$name-quality.csv" --png "models/$name-ltas.png" \
    >"$work/$name-quality.txt"
  # as the synth preset plays it: its key-tracked low cut (docs/engine.md)
  local hp
  hp=$(sed -n 's/.*"highpass": *\([0-9.]*\).*/\1/p' "presets/synth/$name.json")
  "$gw" quality "$m" --reference "$c48ref" --notes $c48_notes --velocity 64 --velocity 100 \
    --seeds 1,2,3 --highpass "${hp:-0}" >"$work/$name-quality-hp.txt"
  local size
  size=$(du -h "$m" | cut -f1)
  cat >"models/$name.md" <<EOF
# models/$name.gwm - a 48 kHz clarinet

A pitch-conditioned WaveNet that plays a clarinet (General MIDI program 71)
at 48 kHz over three octaves, MIDI notes $c48_notes: the recipe of issue
"Studio-grade sound" (docs/fidelity.md). \`genwave render $m --note 60\`,
\`genwave play $m\`, or choose it in the LV2 plugin. Built by
\`scripts/train-models.sh $name\`.

| | |
| --- | --- |
| architecture | \`presets/wavenet-48k-bands-wide.json\`: 48 kHz in 6 PQMF sub-bands stepped at 8 kHz, each band's sample from a mixture of 4 discretised logistics over 16-bit levels; one stack of 10 dilated layers (1..512), 48 residual / 48 gate / 96 skip / 192 head channels; conditioned on pitch (19 features, "harmonic") and velocity; receptive field $("$gw" info $m | sed -n 's/^receptive field: *//p') |
| parameters | $("$gw" info $m | awk '/^parameters:/ {print $2}') ($size on disk) |
| data | the clarinet of FluidR3 (\`fluid-soundfont-gm\`) and MuseScore General (\`musescore-general-soundfont-lossless\`) for training, TimGM6mb (\`timgm6mb-soundfont\`) held out, so the held-out figure is a clarinet the model never heard; every note $c48_notes at velocities $c48_velocities, rendered by fluidsynth at 48 kHz and cut hard after 0.99 s; split: $(meta $m files) |
| rebuild the data | \`scripts/datasets/instrument-notes.sh DIR --programs 71 --notes $c48_notes --velocities "$c48_velocities" --rate 48000 --hold 1.2 --cut 0.99 --fade 0 --soundfont S --prefix S_ --split train\|val\` for S = fluid, musescore (train) and timgm (val), merged into one folder and one manifest.csv (what the script does) |
| command | \`genwave train wavenet --data DIR --preset presets/wavenet-48k-bands-wide.json --out RUN --steps $c48_steps --threads 1 --seed 1 --val-data NEWVEL\` (NEWVEL: the same notes of the two training soundfonts at velocities $c48_new_velocities, rendered as the data is; \`--val-data\` only validates, the training is the same without it). The file's own record: \`$cmd\` (a \`--resume\` there means the run was continued from its checkpoint, which is bit for bit the run that never stopped: docs/training.md) |
| seed | $seed |
| steps | $steps (batch $(meta $m batch), Adam lr $(meta $m lr)) |
| wall time | $wall; $(meta $m samples_per_second) target samples/s |
| commit | $(meta $m commit) (card written at $commit) |
| validation | $(meta $m val_bits_first) bits/sample untrained -> $(meta $m val_bits_per_sample) bits/sample (the held-out soundfont) |

## Measured (\`genwave quality\`)

Every note $c48_notes at velocities 64 and 100, sampling seeds 1-3,
temperature 1, rendered at 48 kHz through the engine and compared with
FluidR3's recording of the same note and velocity (per-note figures in
[$name-quality.csv]($name-quality.csv); the long-term spectra of the median
note in [$name-ltas.png]($name-ltas.png)):

\`\`\`
$(sed -n '/^summary/,$p' "$work/$name-quality.txt")
\`\`\`

As the synth preset \`$name\` plays it (the plugin's "Clarinet 48 kHz";
\`genwave render\` or \`play\` with \`--highpass ${hp:-0}\`), with its key-tracked low cut at ${hp:-0} x each
note's fundamental (an 8th-order high-pass that removes the model's noise
below the note, where a clarinet has none: docs/engine.md,
docs/fidelity.md):

\`\`\`
$(sed -n '/^summary/,$p' "$work/$name-quality-hp.txt")
\`\`\`

Training curve: [$name-loss.png]($name-loss.png).

Held-out figures (\`genwave eval\`, bits per band value, the trainer's own
validation windows): the held-out soundfont (TimGM6mb) $ev_sf; new
velocities ($c48_new_velocities) of the two training clarinets, never
trained on, $ev_vd. The first is a third clarinet's timbre, the second the
instrument being learnt (docs/fidelity.md, "Unseen velocities").

## Limits

The issue's targets are a 95% in tune (25 cents), a floor within 6 dB of the
real note's and a long-term spectrum within 6 dB; the summary above says
how far each is. The held-out figure is the likelihood of another
soundfont's clarinet: it rises as the learning rate falls and the model
grows sure of its two training clarinets (docs/fidelity.md), so best.gwm by
that figure is an early model; this card ships the last one, chosen by the
figures above. Notes outside $c48_notes are refused by \`render\`; a note
held longer than the training notes (0.99 s) goes on as the model continues
its own waveform.
EOF
  echo "train-models: $m ($size)"
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
  "$gw" eval "$m" --data "$drums" -n 256 >"$work/$name-eval.txt" 2>&1
  local size
  size=$(du -h "$m" | cut -f1)
  local what figures
  if [[ $kind == gan ]]; then
    what="A spectrogram GAN (DCGAN-style generator and discriminator on log-mel images, docs/gan.md) that invents drum hits; \`genwave sample\` turns its spectrograms into sound with Griffin-Lim."
  elif [[ $kind == pixelcnn ]]; then
    what="A Gated PixelCNN (docs/pixelcnn.md) of drum hits: an exact likelihood of their log-mel images, frame by frame in time order; \`genwave sample\` draws new ones and \`genwave complete\` continues the first frames of your own. The three drum models side by side: docs/pixelcnn.md, \"Three models of the same drums\"."
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
| wall time | $wall |
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
    clarinet-48k) model_clarinet48 ;;
    drums-gan) model_spec gan drums-gan presets/specgan-tiny.json ;;
    drums-vae) model_spec vae drums-vae presets/specvae-tiny.json ;;
    drums-pixelcnn) model_spec pixelcnn drums-pixelcnn presets/pixelcnn-drums.json ;;
  esac
done
