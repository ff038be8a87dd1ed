/* spec_metrics.h - measuring spectrogram models without pretrained networks
 * (the GAN and VAE evaluations of docs/gan.md and docs/vae.md).
 *
 * Clip embedding (fixed, documented): for a normalised log-mel image
 * (n_mels, frames), the mean and the standard deviation over frames of each
 * band: 2 n_mels values (128 for the 64-band models). It captures the
 * spectral envelope and how much each band moves over time, which is what
 * separates kinds of drum hits, and needs no trained network.
 *
 * Frechet distance (Heusel et al. 2017, as in FID) between Gaussian fits
 * (mean m, covariance S) of two sets of embeddings:
 *   FD = |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
 * with tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2))), both
 * symmetric eigenproblems solved by cyclic Jacobi rotations in double.
 *
 * Distances between images are RMS differences per pixel of the normalised
 * log-mel images (so 0 = identical, ~0.5 = unrelated images in [-1, 1]).
 */
#ifndef GW_MODELS_SPEC_METRICS_H
#define GW_MODELS_SPEC_METRICS_H

#include "base/gw_base.h"

#include <stddef.h>

/* emb (n, 2 M) from images (n, M, T) */
void gw_spec_embed(float *emb, const float *img, size_t n, int M, int T);

/* Frechet distance between the Gaussian fits of a (na, d) and b (nb, d);
 * needs na, nb >= 2. GW_ERR_NOMEM on allocation failure. */
gw_status gw_spec_frechet(double *fd, const float *a, size_t na, const float *b, size_t nb, int d,
                          gw_error *err);

/* eigenvalues of the symmetric a (n, n) by cyclic Jacobi; a is destroyed;
 * vecs (n, n) row i = eigenvector i, may be NULL. Exposed for tests. */
void gw_spec_jacobi_eig(double *eval, double *vecs, double *a, int n);

/* RMS per-pixel distance of two images of d values */
float gw_spec_image_dist(const float *a, const float *b, size_t d);
/* mean over pairs i < j of the distance: the diversity of a set (n >= 2) */
double gw_spec_mean_pairwise(const float *img, size_t n, size_t d);
/* mean over a of the distance to its nearest neighbour in b; when b == a the
 * element itself is excluded (nearest other member) */
double gw_spec_mean_nn(const float *a, size_t na, const float *b, size_t nb, size_t d);

/* log-spectral distance in dB between two log-mel images (natural-log mel
 * magnitudes, (M, T)): mean over frames of the RMS over bands of
 * 20 log10(e) (x - y) */
double gw_spec_lsd_db(const float *x, const float *y, int M, int T);

#endif
