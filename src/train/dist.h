/* dist.h - data-parallel training across processes on MPI (OpenMPI), see
 * docs/distributed-training.md.
 *
 * `mpirun -np N genwave train ...` starts N processes (ranks). Each draws
 * the same global batch from the same seeded data order, computes the
 * gradients of its own slice of it (B/N examples), and the gradients are
 * averaged with one MPI_Allreduce per parameter group (one flat buffer:
 * nn/params.h keeps a group's gradients in one allocation) inside the
 * optimiser step (gw_adam.reduce), so every rank takes the identical step
 * and holds bit-identical parameters. Rank 0 alone prints, validates and
 * writes; the trainer loop (trainer.h) broadcasts its decisions (stop,
 * time up, early stop) so all ranks leave the loop at the same step.
 *
 * A gw_dist of one process (NULL, or a build without MPI, or a program not
 * started by mpirun) makes every call here a no-op: genwave without mpirun
 * runs exactly as before.
 *
 * Faults: MPI's own error handler stops the job when a rank dies, and a
 * watchdog thread ends a rank that has waited in one collective for longer
 * than the timeout (a host that dropped off the network without closing its
 * sockets), with a one-line message.
 */
#ifndef GW_TRAIN_DIST_H
#define GW_TRAIN_DIST_H

#include "base/gw_base.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gw_dist gw_dist;

/* 1 when genwave was built with MPI */
int gw_dist_compiled(void);
/* "Open MPI v4.1.4" or "none", into buf; returns buf */
const char *gw_dist_library(char *buf, size_t cap);

/* Starts MPI (MPI_Init_thread, funneled: only the calling thread talks to
 * MPI) and a watchdog of timeout_s seconds per collective (0 = none). A
 * build without MPI gives a one-process world. Call once per process. */
gw_status gw_dist_init(gw_dist **out, int *argc, char ***argv, double timeout_s, gw_error *err);
/* MPI_Finalize after a clean run; NULL is fine */
void gw_dist_finalize(gw_dist *d);
/* ends the whole job (every rank) with exit code `code`: after an error on
 * one rank the others would wait for it forever */
void gw_dist_abort(gw_dist *d, int code);

int gw_dist_rank(const gw_dist *d); /* 0 for NULL */
int gw_dist_size(const gw_dist *d); /* 1 for NULL */

/* in-place sums and means over all ranks */
gw_status gw_dist_sum_f64(gw_dist *d, double *x, size_t n, gw_error *err);
gw_status gw_dist_mean_f32(gw_dist *d, float *x, size_t n, gw_error *err);
gw_status gw_dist_mean_f64(gw_dist *d, double *x, size_t n, gw_error *err);
/* rank 0's values to every rank */
gw_status gw_dist_bcast_u64(gw_dist *d, uint64_t *x, size_t n, gw_error *err);
/* the gw_adam.reduce hook (nn/optim.h): ctx is the gw_dist */
gw_status gw_dist_reduce_grads(void *ctx, float *grad, size_t n, gw_error *err);

/* Checks that every rank holds the same value of each of n hashes (what[i]
 * names it: "preset", "data", ...); a rank that differs is refused with
 * "ranks disagree on the <what> (rank 0 has ..., rank K has ...)". The same
 * result on every rank. */
gw_status gw_dist_agree(gw_dist *d, const uint64_t *hash, const char *const *what, int n,
                        gw_error *err);

#endif
