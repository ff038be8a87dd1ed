/* threads.c - fork-join over an array of jobs (gw_base.h). Threads are made
 * per call: the callers' jobs run for milliseconds (a training shard's pass,
 * a block of a convolution's columns), next to which a thread's creation
 * (tens of microseconds) is small, and no pool outlives a call. */
#include "base/gw_base.h"

#include <pthread.h>

enum { MAX_JOBS = 64 };

void gw_run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, int n) {
    pthread_t th[MAX_JOBS];
    int started[MAX_JOBS] = {0};
    char *base = jobs;
    const int threaded = n < MAX_JOBS ? n : MAX_JOBS;
    for (int i = 1; i < threaded; i++)
        started[i] = pthread_create(&th[i], NULL, fn, base + (size_t)i * job_size) == 0;
    if (n > 0) fn(base);
    for (int i = threaded; i < n; i++) fn(base + (size_t)i * job_size); /* past the threads */
    for (int i = 1; i < threaded; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            fn(base + (size_t)i * job_size); /* no thread to be had: run it here */
    }
}
