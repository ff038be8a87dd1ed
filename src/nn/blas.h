/* blas.h - how the neural core's BLAS (OpenBLAS) runs: its thread count and
 * its workers' floating-point mode.
 *
 * OpenBLAS starts its worker threads when the library loads, before main, so
 * they keep the default MXCSR whatever the caller sets later: a product that
 * OpenBLAS splits across threads computes part of its output with
 * denormals on, on the very machines (Intel) where they are slow.
 * gw_blas_setup is called once, by the program (the CLI's train and
 * bench entry points, tests), before any BLAS work and with no other thread
 * inside BLAS: it flushes denormals on the calling thread, sets the thread
 * count, and restarts OpenBLAS's pool so that its workers, created again
 * from this thread at the next call, inherit the mode. (OpenBLAS built with
 * CONSISTENT_FPCSR=1 copies the caller's mode into its workers at each call
 * itself; Debian's pthread build does not.)
 */
#ifndef GW_NN_BLAS_H
#define GW_NN_BLAS_H

/* threads >= 1 sets OpenBLAS's thread count; 0 keeps it. Returns the
 * floating-point mode the calling thread had (gw_denormals_restore). */
unsigned gw_blas_setup(int threads);
/* OpenBLAS's thread count */
int gw_blas_threads(void);

#endif
