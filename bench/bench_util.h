/* bench_util.h - the clocks and sorting every benchmark in bench/ uses. */
#ifndef GW_BENCH_UTIL_H
#define GW_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* seconds on clock id: CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID
 * or CLOCK_THREAD_CPUTIME_ID for CPU time (on a shared machine wall time also
 * counts other tenants' time slices; CPU time is the work's own cost) */
static inline double bench_clock(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double bench_now(void) {
    return bench_clock(CLOCK_MONOTONIC);
}

/* CPU time of the whole process, all threads */
static inline double bench_cpu_now(void) {
    return bench_clock(CLOCK_PROCESS_CPUTIME_ID);
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sorts x (n) ascending in place; medians are read off the sorted runs */
static inline void bench_sort(double *x, int n) {
    qsort(x, (size_t)n, sizeof *x, bench_cmp_double);
}

#endif
