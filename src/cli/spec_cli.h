/* spec_cli.h - what the spectrogram-model commands (sample, interpolate,
 * encode, reconstruct, eval, train gan|vae) share: opening a GAN or VAE
 * model file, clip-by-clip audio, sets of generated sounds. */
#ifndef GW_CLI_SPEC_CLI_H
#define GW_CLI_SPEC_CLI_H

#include "base/gw_base.h"
#include "cli/args.h"
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

/* writes DIR/NAME-KKK.wav for n images and DIR/NAME-grid.png; prints errors */
int gw_spec_write_set(const char *dir, const char *name, gw_spec_model *m, const float *img, int n,
                      int gl_iters, uint64_t seed);

/* `genwave train gan|vae ...` (argv[0] = "gan" or "vae"): the spectrogram
 * branches of `genwave train`; returns the exit code */
int gw_cli_train_spec(int argc, char **argv);

#endif
