/* pixelcnn_file.h - a PixelCNN as a model of sounds: the network
 * (pixelcnn.h), the log-mel feature its images come from (spec_features.h,
 * with the band statistics fitted on the training clips) and, for a
 * class-conditioned model, the class names; its .gwm file (nn/gwm.h,
 * docs/model-format.md); and whole feature images sampled from it.
 *
 * Model file:
 *   metadata  model             "pixelcnn"
 *             pixelcnn.config   the preset JSON (gw_pixelcnn_config_to_json)
 *             pixelcnn.classes  conditioned models only: a JSON array of the
 *                               class names in label order, as many as the
 *                               config's classes (label k = names[k])
 *             sample_rate, parameters   decimal, for readers without JSON
 *             plus the trainer's train.* provenance and metric.* figures
 *   tensors   every tensor of pixelcnn.h under its own name, and
 *             "features.mean", "features.std" (n_mels)
 * The loader checks the kind, parses and validates the config, finds every
 * tensor the config implies with its shape before allocating anything the
 * size of the model (a small file whose config claims a huge model is
 * refused, not allocated), then the band statistics and the class names.
 * Errors name the file.
 */
#ifndef GW_MODELS_PIXELCNN_FILE_H
#define GW_MODELS_PIXELCNN_FILE_H

#include "base/gw_base.h"
#include "models/pixelcnn.h"
#include "models/spec_features.h"
#include "nn/gwm.h"

#include <stddef.h>
#include <stdint.h>

enum { GW_PIXELCNN_CLASS_NAME_MAX = 64 }; /* bytes of a class name, with its NUL */

typedef struct gw_pixelcnn_model {
    gw_pixelcnn *net;  /* owned */
    gw_specfeat *feat; /* owned: the image's feature and its band statistics */
    char (*classes)[GW_PIXELCNN_CLASS_NAME_MAX]; /* (net->cfg.classes) owned; NULL unconditioned */
} gw_pixelcnn_model;

/* frees the members and zeroes *m (a zeroed struct is fine) */
void gw_pixelcnn_model_free(gw_pixelcnn_model *m);

/* copies n class names, label order; n must be net->cfg.classes and every
 * name non-empty, shorter than GW_PIXELCNN_CLASS_NAME_MAX, without control
 * characters and unique (source names the origin in errors) */
gw_status gw_pixelcnn_model_set_classes(gw_pixelcnn_model *m, const char *const *names, int n,
                                        const char *source, gw_error *err);
/* the label of class name, or -1 (also for an unconditioned model) */
int gw_pixelcnn_model_class(const gw_pixelcnn_model *m, const char *name);
/* "hat, kick, snare" (truncated to cap), for messages; returns buf */
char *gw_pixelcnn_model_class_list(const gw_pixelcnn_model *m, char *buf, size_t cap);

/* metadata and tensors into a writer the caller commits (after adding its
 * provenance) */
gw_status gw_pixelcnn_model_write(const gw_pixelcnn_model *m, gw_gwm_writer *w, gw_error *err);
/* a model from an opened file (see the top of this file); *m is zeroed first
 * and holds nothing on failure */
gw_status gw_pixelcnn_model_from_gwm(gw_pixelcnn_model *m, const gw_gwm *f, gw_error *err);

/* n feature images img (n, n_mels, frames), in spec_features.h's layout
 * (gw_pixelcnn_dequantise of each), from the cached sampler at temperature,
 * drawing from rng; labels (n) for a conditioned net, NULL otherwise.
 * Allocates its sampler. */
gw_status gw_pixelcnn_generate(float *img, const gw_pixelcnn *net, int n, const int32_t *labels,
                               float temperature, gw_rng *rng, gw_error *err);

#endif
