/* Embeddings, Frechet distance and image distances: see spec_metrics.h. */
#include "models/spec_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gw_spec_embed(float *emb, const float *img, size_t n, int M, int T) {
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < M; b++) {
            const float *row = img + (i * M + b) * T;
            double s = 0, s2 = 0;
            for (int t = 0; t < T; t++)
                s += row[t], s2 += (double)row[t] * row[t];
            double m = s / T;
            emb[i * 2 * M + b] = (float)m;
            emb[i * 2 * M + M + b] = (float)sqrt(fmax(s2 / T - m * m, 0));
        }
}

/* Cyclic Jacobi (Golub and Van Loan, Matrix Computations, 8.5): rotations
 * zero the off-diagonal entries one by one until their norm is negligible. */
void gw_spec_jacobi_eig(double *eval, double *vecs, double *a, int n) {
    if (vecs)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                vecs[i * n + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j)
                    off += a[i * n + j] * a[i * n + j];
                else
                    diag += a[i * n + i] * a[i * n + i];
        if (off <= 1e-22 * (diag + 1e-300)) break;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                if (vecs)
                    for (int k = 0; k < n; k++) {
                        double vp = vecs[p * n + k], vq = vecs[q * n + k];
                        vecs[p * n + k] = c * vp - s * vq;
                        vecs[q * n + k] = s * vp + c * vq;
                    }
            }
    }
    for (int i = 0; i < n; i++)
        eval[i] = a[i * n + i];
}

static void fit(double *mean, double *cov, const float *x, size_t n, int d) {
    memset(mean, 0, sizeof(double) * d);
    memset(cov, 0, sizeof(double) * d * d);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double xj = x[i * d + j] - mean[j];
            for (int k = j; k < d; k++)
                cov[j * d + k] += xj * (x[i * d + k] - mean[k]);
        }
    for (int j = 0; j < d; j++)
        for (int k = j; k < d; k++)
            cov[k * d + j] = cov[j * d + k] /= (double)(n - 1);
}

gw_status gw_spec_frechet(double *fd, const float *a, size_t na, const float *b, size_t nb, int d,
                          gw_error *err) {
    if (na < 2 || nb < 2)
        return gw_fail(err, GW_ERR_ARG, "Frechet distance needs >= 2 clips per set (got %zu, %zu)",
                       na, nb);
    size_t dd = (size_t)d * d;
    double *m1 = malloc(sizeof(double) * d), *m2 = malloc(sizeof(double) * d);
    double *s1 = malloc(sizeof(double) * dd), *s2 = malloc(sizeof(double) * dd);
    double *v = malloc(sizeof(double) * dd), *r = malloc(sizeof(double) * dd);
    double *t = malloc(sizeof(double) * dd), *ev = malloc(sizeof(double) * d);
    gw_status st = GW_OK;
    if (!m1 || !m2 || !s1 || !s2 || !v || !r || !t || !ev) {
        st = gw_fail(err, GW_ERR_NOMEM, "Frechet distance: out of memory");
        goto done;
    }
    fit(m1, s1, a, na, d);
    fit(m2, s2, b, nb, d);
    double dist = 0, tr = 0;
    for (int j = 0; j < d; j++) {
        dist += (m1[j] - m2[j]) * (m1[j] - m2[j]);
        tr += s1[j * d + j] + s2[j * d + j];
    }
    /* r = S1^(1/2) = V diag(sqrt(l)) V^T */
    memcpy(t, s1, sizeof(double) * dd);
    gw_spec_jacobi_eig(ev, v, t, d);
    for (int i = 0; i < d; i++)
        ev[i] = sqrt(fmax(ev[i], 0));
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++)
                s += v[k * d + i] * ev[k] * v[k * d + j];
            r[i * d + j] = s;
        }
    /* t = r S2 r */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++)
                s += r[i * d + k] * s2[k * d + j];
            v[i * d + j] = s;
        }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++)
                s += v[i * d + k] * r[k * d + j];
            t[i * d + j] = s;
        }
    gw_spec_jacobi_eig(ev, NULL, t, d);
    double trsq = 0;
    for (int i = 0; i < d; i++)
        trsq += sqrt(fmax(ev[i], 0));
    *fd = fmax(dist + tr - 2 * trsq, 0);
done:
    free(m1), free(m2), free(s1), free(s2), free(v), free(r), free(t), free(ev);
    return st;
}

float gw_spec_image_dist(const float *a, const float *b, size_t d) {
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return (float)sqrt(s / (double)d);
}

double gw_spec_mean_pairwise(const float *img, size_t n, size_t d) {
    double s = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, pairs++)
            s += gw_spec_image_dist(img + i * d, img + j * d, d);
    return pairs ? s / (double)pairs : 0;
}

double gw_spec_mean_nn(const float *a, size_t na, const float *b, size_t nb, size_t d) {
    double s = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < na; i++) {
        float best = INFINITY;
        for (size_t j = 0; j < nb; j++) {
            if (a == b && i == j) continue;
            float x = gw_spec_image_dist(a + i * d, b + j * d, d);
            if (x < best) best = x;
        }
        if (isfinite(best)) s += best, cnt++;
    }
    return cnt ? s / (double)cnt : 0;
}

double gw_spec_lsd_db(const float *x, const float *y, int M, int T) {
    const double db = 8.685889638065035; /* 20 / ln 10 */
    double s = 0;
    for (int t = 0; t < T; t++) {
        double f = 0;
        for (int b = 0; b < M; b++) {
            double e = db * (x[b * T + t] - y[b * T + t]);
            f += e * e;
        }
        s += sqrt(f / M);
    }
    return s / T;
}
