/* embedding.c - table lookup (the WaveNet input layer: a 1x1 conv over a
 * one-hot class vector is exactly a column lookup, see
 * /work/shared/spec/reference-models.md) and its scatter-add backward.
 * Indices come from data, so each is checked before it addresses memory. */
#include "nn/layers.h"

#include <string.h>

static gw_status check_index(const int32_t *idx, int n, int V, gw_error *err) {
    if (idx[n] < 0 || idx[n] >= V)
        return gw_fail(err, GW_ERR_ARG, "embedding: index %ld at position %d is outside [0, %d)",
                       (long)idx[n], n, V);
    return GW_OK;
}

gw_status gw_embedding_forward(float *out,         // (N, C)
                               const float *table, // (V, C)
                               const int32_t *idx, // (N)
                               int N, int V, int C, gw_error *err) {
    for (int n = 0; n < N; n++) {
        gw_status st = check_index(idx, n, V, err);
        if (st) return st;
        memcpy(out + (size_t)n * C, table + (size_t)idx[n] * C, (size_t)C * sizeof(float));
    }
    return GW_OK;
}

gw_status gw_embedding_backward(float *dtable,      // (V, C)
                                const float *dout,  // (N, C)
                                const int32_t *idx, // (N)
                                int N, int V, int C, gw_error *err) {
    for (int n = 0; n < N; n++) {
        gw_status st = check_index(idx, n, V, err);
        if (st) return st;
        float *row = dtable + (size_t)idx[n] * C;
        const float *g = dout + (size_t)n * C;
        for (int c = 0; c < C; c++) row[c] += g[c];
    }
    return GW_OK;
}
