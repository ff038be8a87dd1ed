/* spec_cli.h - what the spectrogram-model commands (sample, interpolate,
 * encode, reconstruct, eval, complete, train gan|vae|pixelcnn) share:
 * opening a GAN, VAE or PixelCNN model file, clip-by-clip audio, sets of
 * generated sounds, a PixelCNN's --class. */
#ifndef GW_CLI_SPEC_CLI_H
#define GW_CLI_SPEC_CLI_H

#include "cli/train_args.h"

#include "base/gw_base.h"
#include "cli/args.h"
#include "models/pixelcnn_file.h"
#include "models/specgan.h"
#include "models/specvae.h"
#include "nn/gwm.h"

#include <stdio.h>

typedef struct gw_spec_model {
    gw_gwm *file;
    gw_specgan *gan; /* exactly one of gan, vae is set */
    gw_specvae *vae;
    gw_specfeat *feat;
    int M, T, z_dim, sample_rate, clip_samples;
    size_t img;
} gw_spec_model;

/* opens PATH as a spectrogram GAN or VAE (batches up to B_max); on failure
 * prints "genwave: ..." and returns 1 */
int gw_spec_model_open(gw_spec_model *m, const char *path, int B_max);
/* the same from an opened file, which m owns from here (closed with m,
 * also on failure) */
int gw_spec_model_from(gw_spec_model *m, gw_gwm *f, int B_max);
/* gw_spec_model_open for `genwave CMD`, which needs a VAE: a GAN is refused
 * with "genwave: PATH: is a spectrogram GAN; CMD needs a VAE" (returns 1) */
int gw_spec_vae_open(gw_spec_model *m, const char *path, int B_max, const char *cmd);
void gw_spec_model_close(gw_spec_model *m);
/* images (n, M, T) of the model's generator / decoder at z (n, z_dim) */
void gw_spec_model_decode(gw_spec_model *m, float *img, const float *z, int n);

/* A sound file cut into the model's clips: decoded, mono, resampled to the
 * model rate, zero padded at both ends by pad samples and to a whole number
 * of hops; clip i starts at i * hop of the padded signal. */
typedef struct gw_spec_clips {
    float *audio;       // (padded_n) padded signal
    size_t padded_n, n; /* padded length, original length (model rate) */
    size_t pad, hop, count;
} gw_spec_clips;
int gw_spec_clips_read(gw_spec_clips *c, const char *path, const gw_spec_model *m, size_t hop,
                       size_t pad);
void gw_spec_clips_free(gw_spec_clips *c);

/* writes DIR/NAME-KKK.wav for n images (n, n_mels, frames) of feat and
 * DIR/NAME-grid.png; prints errors */
int gw_spec_write_set(const char *dir, const char *name, gw_specfeat *feat, const float *img, int n,
                      int gl_iters, uint64_t seed);

/* a PixelCNN from an opened model file (the caller keeps f); prints
 * "genwave: ..." and returns 1 on failure */
int gw_spec_pixelcnn_load(gw_pixelcnn_model *m, const gw_gwm *f);
/* --class NAME of a PixelCNN command (path names the model): *label = its
 * label, -1 for no name; an unknown name (the known ones listed) or a name
 * for an unconditioned model prints one line and returns 1 */
int gw_spec_pixelcnn_label(int *label, const gw_pixelcnn_model *m, const char *name,
                           const char *path);

/* `genwave train gan|vae|pixelcnn ...` (argv[0] = the kind): the
 * spectrogram branches of `genwave train`; returns the exit code */
int gw_cli_train_spec(int argc, char **argv, gw_cli_dist *dist);

#endif
