/* dist.c - the MPI side of data-parallel training (dist.h). Everything MPI
 * lives in this file; without GW_HAVE_MPI it is a one-process world. */
#include "train/dist.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef GW_HAVE_MPI
#include <mpi.h>
#include <pthread.h>
#include <unistd.h>
#endif

struct gw_dist {
    int rank, size;
#ifdef GW_HAVE_MPI
    double timeout_s;
    _Atomic int64_t waiting_since_ms; /* 0 = not inside a collective */
    atomic_int quit;
    pthread_t watchdog;
    int have_watchdog;
#endif
};

int gw_dist_compiled(void) {
#ifdef GW_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

const char *gw_dist_library(char *buf, size_t cap) {
#ifdef GW_HAVE_MPI
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, ",\n")] = 0; /* "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4" */
    snprintf(buf, cap, "%s", v);
#else
    snprintf(buf, cap, "none");
#endif
    return buf;
}

int gw_dist_rank(const gw_dist *d) {
    return d ? d->rank : 0;
}

int gw_dist_size(const gw_dist *d) {
    return d ? d->size : 1;
}

#ifdef GW_HAVE_MPI
static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A rank whose peer vanished without closing its sockets (a host off the
 * network) can wait in a collective forever; MPI notices a dead process on
 * a live host by itself. The watchdog only reads the clock and an atomic:
 * with MPI_THREAD_FUNNELED it may not call MPI, so it ends this process and
 * mpirun ends the rest of the job. */
static void *watchdog(void *arg) {
    gw_dist *d = arg;
    const struct timespec tick = {0, 200 * 1000 * 1000};
    while (!atomic_load(&d->quit)) {
        nanosleep(&tick, NULL);
        int64_t t = atomic_load(&d->waiting_since_ms);
        if (t && (double)(now_ms() - t) > d->timeout_s * 1000.0) {
            fprintf(stderr,
                    "genwave: rank %d waited %.0f s for the other ranks (a rank or host is gone?); "
                    "stopping the job, the last checkpoint is intact\n",
                    d->rank, d->timeout_s);
            fflush(stderr);
            _exit(3);
        }
    }
    return NULL;
}

static void enter(gw_dist *d) {
    atomic_store(&d->waiting_since_ms, now_ms());
}

static void leave(gw_dist *d) {
    atomic_store(&d->waiting_since_ms, 0);
}

static gw_status mpi_fail(int rc, const char *what, gw_error *err) {
    char msg[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(rc, msg, &n);
    return gw_fail(err, GW_ERR_IO, "MPI %s failed: %s", what, msg);
}
#endif

gw_status gw_dist_init(gw_dist **out, int *argc, char ***argv, double timeout_s, gw_error *err) {
    *out = NULL;
    gw_dist *d = calloc(1, sizeof *d);
    if (!d) return gw_fail(err, GW_ERR_NOMEM, "MPI: out of memory");
    d->size = 1;
#ifdef GW_HAVE_MPI
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        free(d);
        return gw_fail(err, GW_ERR_IO, "MPI_Init failed (is this job started by mpirun?)");
    }
    /* errors come back as codes and become gw_status; the job is then
     * ended by gw_dist_abort, with the message printed first */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    d->timeout_s = timeout_s;
    if (timeout_s > 0 && d->size > 1) {
        if (pthread_create(&d->watchdog, NULL, watchdog, d) != 0) {
            MPI_Finalize();
            free(d);
            return gw_fail(err, GW_ERR_IO, "MPI: cannot start the watchdog thread");
        }
        d->have_watchdog = 1;
    }
#else
    (void)argc, (void)argv, (void)timeout_s;
#endif
    *out = d;
    return GW_OK;
}

void gw_dist_finalize(gw_dist *d) {
    if (!d) return;
#ifdef GW_HAVE_MPI
    atomic_store(&d->quit, 1);
    if (d->have_watchdog) pthread_join(d->watchdog, NULL);
    MPI_Finalize();
#endif
    free(d);
}

void gw_dist_abort(gw_dist *d, int code) {
#ifdef GW_HAVE_MPI
    if (d && d->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)d, (void)code;
}

#ifdef GW_HAVE_MPI
static gw_status allreduce(gw_dist *d, void *x, size_t n, MPI_Datatype t, gw_error *err) {
    /* MPI counts are int: a group of more than 2^31 floats goes in pieces */
    const size_t chunk = (size_t)1 << 30, sz = t == MPI_FLOAT ? 4 : 8;
    for (size_t i = 0; i < n; i += chunk) {
        int c = (int)(n - i < chunk ? n - i : chunk);
        enter(d);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)x + i * sz, c, t, MPI_SUM, MPI_COMM_WORLD);
        leave(d);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "allreduce", err);
    }
    return GW_OK;
}
#endif

gw_status gw_dist_sum_f64(gw_dist *d, double *x, size_t n, gw_error *err) {
    if (!d || d->size == 1) return GW_OK;
#ifdef GW_HAVE_MPI
    return allreduce(d, x, n, MPI_DOUBLE, err);
#else
    (void)x, (void)n, (void)err;
    return GW_OK;
#endif
}

gw_status gw_dist_mean_f64(gw_dist *d, double *x, size_t n, gw_error *err) {
    gw_status st = gw_dist_sum_f64(d, x, n, err);
    if (st || !d || d->size == 1) return st;
    for (size_t i = 0; i < n; i++)
        x[i] /= d->size;
    return GW_OK;
}

gw_status gw_dist_mean_f32(gw_dist *d, float *x, size_t n, gw_error *err) {
    if (!d || d->size == 1) return GW_OK;
#ifdef GW_HAVE_MPI
    gw_status st = allreduce(d, x, n, MPI_FLOAT, err);
    if (st) return st;
    /* the sum is the same on every rank (MPI reduces in one order for all),
     * so the scaled values are too */
    const float s = 1.0f / (float)d->size;
    for (size_t i = 0; i < n; i++)
        x[i] *= s;
    return GW_OK;
#else
    (void)x, (void)n, (void)err;
    return GW_OK;
#endif
}

gw_status gw_dist_reduce_grads(void *ctx, float *grad, size_t n, gw_error *err) {
    return gw_dist_mean_f32(ctx, grad, n, err);
}

gw_status gw_dist_bcast_u64(gw_dist *d, uint64_t *x, size_t n, gw_error *err) {
    if (!d || d->size == 1) return GW_OK;
#ifdef GW_HAVE_MPI
    enter(d);
    int rc = MPI_Bcast(x, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    leave(d);
    return rc == MPI_SUCCESS ? GW_OK : mpi_fail(rc, "broadcast", err);
#else
    (void)x, (void)n, (void)err;
    return GW_OK;
#endif
}

gw_status gw_dist_agree(gw_dist *d, const uint64_t *hash, const char *const *what, int n,
                        gw_error *err) {
    if (!d || d->size == 1 || n <= 0) return GW_OK;
#ifdef GW_HAVE_MPI
    uint64_t *all = malloc((size_t)d->size * (size_t)n * sizeof *all);
    if (!all) return gw_fail(err, GW_ERR_NOMEM, "MPI: out of memory for the agreement check");
    enter(d);
    int rc = MPI_Allgather(hash, n, MPI_UINT64_T, all, n, MPI_UINT64_T, MPI_COMM_WORLD);
    leave(d);
    if (rc != MPI_SUCCESS) {
        free(all);
        return mpi_fail(rc, "agreement check", err);
    }
    gw_status st = GW_OK;
    for (int i = 0; i < n && !st; i++)
        for (int k = 1; k < d->size && !st; k++)
            if (all[(size_t)k * n + i] != all[i])
                st = gw_fail(err, GW_ERR_ARG,
                             "ranks disagree on the %s (rank 0 has %016" PRIx64 ", rank %d has "
                             "%016" PRIx64 "): give every rank the same command, preset and data",
                             what[i], all[i], k, all[(size_t)k * n + i]);
    free(all);
    return st;
#else
    (void)hash, (void)what, (void)err;
    return GW_OK;
#endif
}
