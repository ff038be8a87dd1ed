/* Output levels (gw_dsp.h). */
#include "dsp/gw_dsp.h"

#include <math.h>

float gw_fit_peak(float *x, size_t n, float ceiling) {
    float peak = 0.0f;
    for (size_t i = 0; i < n; i++)
        peak = fmaxf(peak, fabsf(x[i]));
    if (!(peak > ceiling)) return 1.0f;
    const float g = ceiling / peak;
    for (size_t i = 0; i < n; i++)
        x[i] *= g;
    return g;
}
