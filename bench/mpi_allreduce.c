/* bench_mpi_allreduce - the cost of averaging one model's gradients across
 * ranks: MPI_Allreduce (in place, float sum) of each size given, as the
 * trainer does it once per parameter group and step (train/dist.h).
 * Run under mpirun; rank 0 prints one line per size:
 *
 *   mpirun -np 2 build/bench_mpi_allreduce 65296 1200000 ...       (shared memory)
 *   mpirun -np 2 --mca btl tcp,self build/bench_mpi_allreduce ...  (TCP loopback)
 *
 * RESULT floats=F bytes=B us_median=M us_min=m bus_GBps=G per size: the
 * median and the minimum over --reps timed calls (after 5 warm-up calls),
 * and the bus bandwidth 2(N-1)/N x bytes / time, the figure a ring
 * allreduce's cost model divides by (docs/distributed-training.md). */
#include "bench_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size, reps = 50;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
            continue;
        }
        long n = atol(argv[i]);
        if (n < 1 || reps < 1) {
            if (!rank) fprintf(stderr, "usage: bench_mpi_allreduce [--reps R] FLOATS...\n");
            MPI_Finalize();
            return 2;
        }
        float *x = malloc((size_t)n * sizeof *x);
        double *t = malloc((size_t)reps * sizeof *t);
        if (!x || !t) MPI_Abort(MPI_COMM_WORLD, 1);
        for (long k = 0; k < n; k++)
            x[k] = 1e-3f * (float)(k % 1000);
        for (int r = -5; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = bench_now();
            MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double dt = bench_now() - t0;
            /* the slowest rank's time is the collective's */
            MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (r >= 0) t[r] = dt;
            for (long k = 0; k < n; k++) /* keep the values finite across repeats */
                x[k] *= 1.0f / (float)size;
        }
        bench_sort(t, reps);
        double med = t[reps / 2], bytes = (double)n * sizeof(float);
        if (!rank)
            printf("RESULT ranks=%d floats=%ld bytes=%.0f us_median=%.1f us_min=%.1f "
                   "bus_GBps=%.3f\n",
                   size, n, bytes, med * 1e6, t[0] * 1e6,
                   2.0 * (size - 1) / size * bytes / med / 1e9);
        free(x), free(t);
    }
    MPI_Finalize();
    return 0;
}
