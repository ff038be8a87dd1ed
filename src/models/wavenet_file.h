/* wavenet_file.h - WaveNet models in .gwm files (format: nn/gwm.h,
 * docs/model-format.md).
 *
 * A WaveNet file holds every tensor of wavenet.h under its own name
 * ("wavenet.embed", "wavenet.layer07.dil.w", ...) and metadata:
 *   model          "wavenet" (other models write their own kind here; a file
 *                  of another kind is refused with a message naming it)
 *   wavenet.config the configuration as preset JSON (gw_wavenet_config_to_json)
 *   sample_rate    Hz, decimal
 *   receptive_field, parameters   decimal, for readers that do not parse JSON
 * plus whatever provenance keys the writer adds (train.command, train.data,
 * train.seed, train.steps, train.commit, metric.*: see docs/wavenet.md).
 */
#ifndef GW_MODELS_WAVENET_FILE_H
#define GW_MODELS_WAVENET_FILE_H

#include "base/gw_base.h"
#include "models/wavenet.h"
#include "nn/gwm.h"

#define GW_WAVENET_KIND "wavenet"

/* adds the model's metadata and tensors to a writer the caller commits (so
 * it can add provenance, or optimiser state for a checkpoint) */
gw_status gw_wavenet_write(const gw_wavenet *m, gw_gwm_writer *w, gw_error *err);
/* the model alone, atomically */
gw_status gw_wavenet_save(const gw_wavenet *m, const char *path, gw_error *err);

/* a WaveNet from an opened file: checks the kind, parses and validates the
 * config, and reads every tensor with its expected shape */
gw_status gw_wavenet_from_gwm(gw_wavenet **out, const gw_gwm *f, gw_error *err);
/* open + from_gwm; errors name the path ("m.gwm: is a 'specgan' model, not a
 * WaveNet", "m.gwm: tensor wavenet.out.w: shape ...", truncation, checksum) */
gw_status gw_wavenet_load(gw_wavenet **out, const char *path, gw_error *err);

#endif
