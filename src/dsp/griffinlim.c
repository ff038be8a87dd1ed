/* griffinlim.c - phase reconstruction from an STFT magnitude.
 *
 * Fast Griffin-Lim (Perraudin, Balazs and Sondergaard 2013, "A fast
 * Griffin-Lim algorithm", Algorithm 2): with P_C1 the projection onto
 * consistent spectrograms (STFT of the iSTFT) and P_C2 the projection onto
 * spectrograms with the target magnitude S (keep the phase, replace the
 * modulus),
 *     c_n = P_C1(P_C2(t_{n-1})),   t_n = c_n + alpha (c_n - c_{n-1}).
 * alpha = 0 is classic Griffin-Lim (Griffin and Lim 1984); the paper
 * recommends alpha = 0.99. Only the phase of t_n is used by the next P_C2.
 *
 * Iteration n synthesises x_n = iSTFT(S e^{i angle t_{n-1}}), computes
 * c_n = STFT(x_n) and reports the spectral convergence of x_n,
 * ||S - |c_n| ||_F / ||S||_F; the returned signal is the last x_n, so the
 * last reported value is the returned signal's own.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_status gw_griffin_lim(gw_stft *s, float *x, const float *mag, int frames, size_t n_samples,
                         int iters, float alpha, uint64_t seed, float *spectral_convergence,
                         gw_error *err) {
    // x (n_samples,), mag (frames, bins), spectral_convergence (iters,)
    if (frames != gw_stft_frames(s, n_samples))
        return gw_fail(err, GW_ERR_ARG, "griffin-lim: %d frames given, %zu samples need %d", frames,
                       n_samples, gw_stft_frames(s, n_samples));
    if (iters < 1) return gw_fail(err, GW_ERR_ARG, "griffin-lim: iters %d < 1", iters);
    if (!(alpha >= 0.0f && alpha < 1.0f))
        return gw_fail(err, GW_ERR_ARG, "griffin-lim: alpha %g outside [0, 1)", (double)alpha);
    const int bins = gw_stft_bins(s);
    const size_t n = (size_t)frames * bins;
    double norm_s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(mag[i]) || mag[i] < 0)
            return gw_fail(err, GW_ERR_NUMERIC,
                           "griffin-lim: magnitude[%zu] = %g is not finite and >= 0", i,
                           (double)mag[i]);
        norm_s += (double)mag[i] * mag[i];
    }
    norm_s = sqrt(norm_s);
    float *t = malloc(sizeof(float) * 2 * n);    // (frames, bins, 2) t_{n-1}, then S e^{i.}
    float *c = malloc(sizeof(float) * 2 * n);    // (frames, bins, 2) c_n
    float *cprev = calloc(2 * n, sizeof(float)); // (frames, bins, 2) c_{n-1}
    if (!t || !c || !cprev) {
        free(t), free(c), free(cprev);
        return gw_fail(err, GW_ERR_NOMEM, "griffin-lim: out of memory for %d frames", frames);
    }
    gw_rng rng;
    gw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        float ph = 2.0f * (float)M_PI * gw_rng_uniform(&rng);
        t[2 * i] = cosf(ph);
        t[2 * i + 1] = sinf(ph);
    }
    for (int it = 0; it < iters; it++) {
        /* P_C2: target modulus, phase of t (unit phase where t vanishes) */
        for (size_t i = 0; i < n; i++) {
            float re = t[2 * i], im = t[2 * i + 1];
            float a = hypotf(re, im);
            if (a > 1e-20f) {
                t[2 * i] = mag[i] * re / a;
                t[2 * i + 1] = mag[i] * im / a;
            } else {
                t[2 * i] = mag[i];
                t[2 * i + 1] = 0;
            }
        }
        /* P_C1 */
        gw_stft_inverse(s, x, t, frames, n_samples);
        gw_stft_forward(s, c, x, n_samples);
        double diff = 0;
        for (size_t i = 0; i < n; i++) {
            double d = mag[i] - hypotf(c[2 * i], c[2 * i + 1]);
            diff += d * d;
        }
        if (spectral_convergence)
            spectral_convergence[it] = norm_s > 0 ? (float)(sqrt(diff) / norm_s) : 0.0f;
        /* momentum (Perraudin et al. eq. 7) */
        for (size_t i = 0; i < 2 * n; i++) {
            t[i] = c[i] + alpha * (c[i] - cprev[i]);
            cprev[i] = c[i];
        }
    }
    free(t);
    free(c);
    free(cprev);
    return GW_OK;
}
