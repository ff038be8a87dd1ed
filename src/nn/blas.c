/* OpenBLAS's threads and their floating-point mode (blas.h). */
#include "nn/blas.h"

#include "base/gw_base.h"

#include <cblas.h>

/* Not part of OpenBLAS's documented API but exported by every pthreads
 * build since 0.2 (its own pthread_atfork handler): it stops the worker
 * threads; the next threaded call starts them again from the caller. Weak,
 * so a BLAS without it (the OpenMP or serial builds, whose workers are
 * OpenMP's or none) links and simply skips the restart. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

unsigned gw_blas_setup(int threads) {
    const unsigned old = gw_denormals_flush();
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    if (threads > 0) openblas_set_num_threads(threads);
    return old;
}

int gw_blas_threads(void) {
    const int t = openblas_get_num_threads();
    return t < 1 ? 1 : t;
}
