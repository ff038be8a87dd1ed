/* mulaw.c - 8-bit mu-law companding (mu = 255).
 *
 * The mapping is the one WaveNet (van den Oord et al. 2016, eq. 2) and the
 * PyTorch peer use: y = sign(x) ln(1 + mu |x|) / ln(1 + mu), then y in [-1, 1]
 * is quantised uniformly to 256 levels with round-half-up,
 * q = floor((y + 1) / 2 * mu + 0.5). The decoder maps q back to the centre of
 * its level, y = 2 q / mu - 1, and expands. Levels are symmetric about zero
 * (decode(255 - q) == -decode(q)); zero encodes to 128, the peer's SILENCE.
 */
#include "dsp/gw_dsp.h"

#include <math.h>

enum { MULAW_MU = 255 };

uint8_t gw_mulaw_encode(float x) {
    if (!(x > -1.0f)) x = -1.0f; /* also maps NaN to -1 rather than UB */
    if (x > 1.0f) x = 1.0f;
    /* double keeps the level boundaries exact enough that decode levels
     * re-encode to themselves (tested exhaustively) */
    double ax = fabs((double)x);
    double y = log1p(MULAW_MU * ax) / log1p((double)MULAW_MU);
    if (x < 0) y = -y;
    double q = floor((y + 1.0) * 0.5 * MULAW_MU + 0.5);
    if (q < 0) q = 0;
    if (q > MULAW_MU) q = MULAW_MU;
    return (uint8_t)q;
}

float gw_mulaw_decode(uint8_t q) {
    double y = 2.0 * q / MULAW_MU - 1.0;
    double ax = expm1(fabs(y) * log1p((double)MULAW_MU)) / MULAW_MU;
    return (float)(y < 0 ? -ax : ax);
}

void gw_preemphasis(float *x, size_t n, float a) {
    for (size_t i = n; i-- > 1;) x[i] -= a * x[i - 1];
}
