/* biquad.c - Butterworth high-pass sections (gw_dsp.h).
 *
 * Each section is the high-pass of R. Bristow-Johnson's "Cookbook formulae
 * for audio EQ biquad filter coefficients" (the bilinear transform of
 * H(s) = s^2 / (s^2 + s/Q + 1), prewarped so the cutoff lands on fc):
 *   w0 = 2 pi fc / rate, alpha = sin(w0) / (2 Q)
 *   b0 = b2 = (1 + cos w0) / 2, b1 = -(1 + cos w0)
 *   a0 = 1 + alpha, a1 = -2 cos w0, a2 = 1 - alpha
 * An order-N Butterworth is the product of N/2 such sections whose analog
 * poles sit at angles pi (2k+1) / (2N) from the negative real axis, i.e.
 * Q_k = 1 / (2 cos(pi (2k+1) / (2N))). Every section has gain Q_k at w0,
 * and the Q_k multiply to 1/sqrt(2): -3.01 dB at fc, and the analog
 * |H|^2 = 1 / (1 + (wc/w)^(2N)) at the prewarped frequencies elsewhere.
 */
#include "dsp/gw_dsp.h"

#include <math.h>
#include <string.h>

gw_status gw_biquad_highpass(gw_biquad *s, int order, double fc, double rate) {
    if (order < 2 || order > GW_BIQUAD_MAX_ORDER || order % 2 || !(rate > 0.0) ||
        !(fc > 0.0 && fc < 0.5 * rate))
        return GW_ERR_ARG;
    const double w0 = 2.0 * M_PI * fc / rate, c = cos(w0), sn = sin(w0);
    for (int k = 0; k < order / 2; k++) {
        const double q = 1.0 / (2.0 * cos(M_PI * (2 * k + 1) / (2.0 * order)));
        const double alpha = sn / (2.0 * q), a0 = 1.0 + alpha;
        gw_biquad *b = &s[k];
        b->b0 = b->b2 = 0.5 * (1.0 + c) / a0;
        b->b1 = -(1.0 + c) / a0;
        b->a1 = -2.0 * c / a0;
        b->a2 = (1.0 - alpha) / a0;
    }
    return GW_OK;
}

void gw_biquad_reset(gw_biquad *s, int n) {
    for (int k = 0; k < n; k++)
        s[k].x1 = s[k].x2 = s[k].y1 = s[k].y2 = 0.0;
}
