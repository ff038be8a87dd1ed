/* gemm.h - the neural core's own matrix products: one interface, the kernels
 * chosen once for the CPU, one reference.
 *
 * The dispatch is the rnnoise/Opus pattern (x86_dnn_map.c): a const table of
 * function pointers picked by cpuid, which the caller takes once (at create)
 * and keeps, so no product asks which CPU it runs on. Two AVX-512 kernels,
 * each the faster on its own shapes (docs/nn.md, "Matrix products"):
 *
 *   packed   BLIS-style (Van Zee and van de Geijn 2015, "BLIS: a framework
 *            for rapidly instantiating BLAS functionality"): A packed in
 *            MC x KC blocks (L2), B in KC x NR panels (L1), a 12 x 32
 *            register tile. For products large on every side: the
 *            convolutions of the GAN, VAE and PixelCNN (conv_gemm.c, whose
 *            fused driver packs straight from the images) and dense layers
 *            over many rows. Needs gw_gemm_pack_size() floats of scratch.
 *   strided  unpacked: a 6 x 64 register tile reads A in either layout and
 *            B row-major where they lie. For the WaveNet trainer's tall thin
 *            products (24,000 rows, 32..256 columns, inner 32..640), where
 *            packing the long operand costs more than it saves.
 *
 * Without AVX-512 the table is the portable one: OpenBLAS for packed, plain
 * loops for strided. Both kernels run on the calling thread; threading is
 * the caller's (conv_gemm.c splits columns, the WaveNet trainer batches). */
#ifndef GW_NN_GEMM_H
#define GW_NN_GEMM_H

#include <stddef.h>

typedef struct gw_gemm_kernels {
    const char *name; /* "avx512" or "portable" */
    int simd;         /* 1 where the kernels are the AVX-512 ones */
    /* C (M, N) = op(A) op(B) + beta C, row-major, op(X) = X^T when trans_x */
    void (*packed)(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, float *pack);
    /* C (M, N) = [C +] sum_k a(m, k) B[k, n], a(m, k) = A[m sam + k sak]
     * (either layout of A), B (K, N) row-major with ldb */
    void (*strided)(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B,
                    int ldb, int M, int N, int K, int accumulate);
} gw_gemm_kernels;

/* the fastest table this CPU runs, and the portable one (tests, and what a
 * CPU without AVX-512 gets) */
const gw_gemm_kernels *gw_gemm_kernels_cpu(void);
const gw_gemm_kernels *gw_gemm_kernels_portable(void);
/* floats of scratch the packed kernel needs */
size_t gw_gemm_pack_size(void);

/* The one reference, in double: C (M, N) = sum_k a(m, k) b(k, n) + beta C
 * with a(m, k) = A[m sam + k sak], b(k, n) = B[k sbk + n sbn] (any layout
 * of either operand), C row-major with ldc. */
void gw_gemm_ref(float *C, int ldc, const float *A, size_t sam, size_t sak, const float *B,
                 size_t sbk, size_t sbn, int M, int N, int K, float beta);

#endif
