/* spectral_norm.c - spectral normalisation of a weight matrix (Miyato et
 * al. 2018, algorithm 1): one power iteration per training step refines the
 * persistent estimate u of the top left singular vector, so sigma tracks the
 * largest singular value of W as W drifts slowly during training. */
#include "nn/conv2d.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* as torch.nn.utils.spectral_norm: keeps a zero vector from dividing by 0 */
#define SN_EPS 1e-12f

static void normalize(float *x, int n) {
    float nrm = cblas_snrm2(n, x, 1);
    cblas_sscal(n, 1.0f / (nrm > SN_EPS ? nrm : SN_EPS), x, 1);
}

gw_status gw_spectral_norm_create(gw_spectral_norm **out, int rows, int cols, gw_rng *rng,
                                  gw_error *err) {
    *out = NULL;
    if (rows < 1 || cols < 1)
        return gw_fail(err, GW_ERR_ARG, "spectral_norm: weight matrix %d x %d is empty", rows,
                       cols);
    gw_spectral_norm *sn = calloc(1, sizeof(*sn));
    if (!sn) goto fail;
    sn->rows = rows;
    sn->cols = cols;
    sn->u = gw_alloc(sizeof(float) * (size_t)rows);
    sn->v = gw_alloc(sizeof(float) * (size_t)cols);
    if (!sn->u || !sn->v) goto fail;
    gw_rng_fill_normal(rng, sn->u, (size_t)rows, 0.0f, 1.0f);
    normalize(sn->u, rows);
    sn->sigma = 1.0f;
    *out = sn;
    return GW_OK;
fail:
    gw_spectral_norm_free(sn);
    return gw_fail(err, GW_ERR_NOMEM, "spectral_norm: cannot allocate u, v for %d x %d", rows,
                   cols);
}

void gw_spectral_norm_free(gw_spectral_norm *sn) {
    if (!sn) return;
    gw_free(sn->u);
    gw_free(sn->v);
    free(sn);
}

void gw_spectral_norm_forward(float *w_sn, gw_spectral_norm *sn, const float *w,
                              int power_iters) {
    const int R = sn->rows, C = sn->cols;
    /* v is all zero until the first iteration: evaluating before any
     * training step still needs one */
    if (power_iters < 1 && !(cblas_snrm2(C, sn->v, 1) > 0.0f)) power_iters = 1;
    for (int it = 0; it < power_iters; it++) {
        // v = W^T u / ||W^T u||, u = W v / ||W v||
        cblas_sgemv(CblasRowMajor, CblasTrans, R, C, 1.0f, w, C, sn->u, 1, 0.0f, sn->v, 1);
        normalize(sn->v, C);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, R, C, 1.0f, w, C, sn->v, 1, 0.0f, sn->u, 1);
        normalize(sn->u, R);
    }
    // sigma = u^T W v, in double: it divides every weight
    double sigma = 0.0;
    for (int r = 0; r < R; r++) {
        const float *row = w + (size_t)r * C;
        double acc = 0.0;
        for (int c = 0; c < C; c++) acc += (double)row[c] * sn->v[c];
        sigma += acc * sn->u[r];
    }
    if (!(fabs(sigma) > SN_EPS)) sigma = SN_EPS;
    sn->sigma = (float)sigma;
    const float inv = (float)(1.0 / sigma);
    for (size_t i = 0; i < (size_t)R * C; i++) w_sn[i] = w[i] * inv;
}

void gw_spectral_norm_backward(float *dw, const float *dw_sn, const float *w_sn,
                               const gw_spectral_norm *sn) {
    /* W_sn = W / sigma(W) with dsigma/dW = u v^T (u, v fixed), so
     * dL/dW = (dL/dW_sn - <dL/dW_sn, W_sn> u v^T) / sigma (Miyato eq. 12) */
    const int R = sn->rows, C = sn->cols;
    const size_t n = (size_t)R * C;
    double dot = 0.0;
    for (size_t i = 0; i < n; i++) dot += (double)dw_sn[i] * w_sn[i];
    const float inv = 1.0f / sn->sigma, k = (float)(dot / sn->sigma);
    for (int r = 0; r < R; r++) {
        const float ku = k * sn->u[r];
        float *d = dw + (size_t)r * C;
        const float *g = dw_sn + (size_t)r * C;
        for (int c = 0; c < C; c++) d[c] += g[c] * inv - ku * sn->v[c];
    }
}
