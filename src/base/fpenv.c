/* Denormal floats off, per thread.
 *
 * x86's MXCSR holds two bits that make the SSE/AVX units treat subnormal
 * floats as zero: FTZ (bit 15, results that would be subnormal become 0) and
 * DAZ (bit 6, subnormal inputs read as 0). Without them, Intel cores take a
 * microcode assist of ~100 cycles for each operation that meets one; AMD's
 * Zen cores handle most of them at full speed, which is why a test on one
 * vendor hides the cost (a resumed WaveNet run fell from 60k to 17k samples/s
 * on an Ice Lake Xeon, with identical losses once both bits were set).
 * Adam's second moments and the decaying tails of audio are where they
 * appear. The bits are per thread: every thread that computes sets them. */
#include "base/gw_base.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

enum { GW_MXCSR_FTZ_DAZ = 0x8040u };

unsigned gw_denormals_flush(void) {
#if defined(__SSE__)
    const unsigned old = _mm_getcsr();
    _mm_setcsr(old | GW_MXCSR_FTZ_DAZ);
    return old;
#else
    return 0;
#endif
}

void gw_denormals_restore(unsigned old) {
#if defined(__SSE__)
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

int gw_denormals_flushed(void) {
#if defined(__SSE__)
    return (_mm_getcsr() & GW_MXCSR_FTZ_DAZ) == GW_MXCSR_FTZ_DAZ;
#else
    return 1; /* nothing to flush on this architecture's default FP mode */
#endif
}
