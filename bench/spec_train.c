/* bench_spec_train - training examples/s of the reference spectrogram models
 * (shared/spec/reference-models.md) with the exact step of the PyTorch peer
 * (shared/peers/spec_peer.py), at batch 64 on random [-1, 1] images (the
 * timing does not depend on the data):
 *   specgan-small  G(z) once; one D update on [real; fake] (BCE on logits);
 *                  one G update, non-saturating, on the same fakes scored by
 *                  the updated D with D's weights frozen; Adam 2e-4 (0.5, 0.999)
 *                  (plus the generator EMA update genwave does in training)
 *   specvae-small  sum-over-pixels squared error + KL, reparameterised
 *                  sample; Adam 1e-3
 *
 *   bench_spec_train [steps=10] [threads=1,2] [gan|vae|both=both] [f32|bf16=f32]
 *
 * bf16: the convolutions' products in bf16 (`train gan|vae --precision
 * bf16`, docs/nn.md "bf16 products") where the CPU has AVX512_BF16.
 *
 * Prints the median (and best) ms/step and examples/s per model and thread
 * count, and the ratio to the peer's medians measured on this machine
 * (shared/peers/README.md: GAN 114 / 162, VAE 146 / 215 examples/s at 1 / 2
 * threads). Run `bash ../shared/peers/run_peers.sh` beside it for same-hour
 * peer figures: the machine is shared and busy spells move both by 30%.
 * The CPU time per step (per thread) is printed too: with other tenants on
 * the cores it is the step's own cost, which the wall clock is not. */
#include "models/specgan.h"
#include "models/specvae.h"
#include "nn/blas.h"
#include "nn/im2col.h"
#include "bench_util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 64, MAX_STEPS = 200 };

/* peer medians, examples/s, from shared/peers/README.md (threads 1, 2) */
static const double peer_gan[2] = {114, 162}, peer_vae[2] = {146, 215};

static int run(int vae, int threads, int steps, int bf16) {
    gw_blas_setup(threads); /* denormals off in every thread, as training runs */
    gw_error err = {0};
    gw_rng rng;
    gw_rng_seed(&rng, 1234);
    gw_specgan *g = NULL;
    gw_specvae *v = NULL;
    float *real = malloc((size_t)BATCH * 4096 * sizeof(float));
    if (!real) return 1;
    gw_rng_fill_uniform(&rng, real, (size_t)BATCH * 4096, -1, 1);
    if (vae) {
        gw_specvae_config c;
        gw_specvae_config_default(&c);
        if (gw_specvae_create(&v, &c, BATCH, &rng, &err) || gw_specvae_train_begin(v, &err))
            goto fail;
        v->enc.bf16 = v->dec.bf16 = bf16;
    } else {
        gw_specgan_config c;
        gw_specgan_config_default(&c);
        if (gw_specgan_create(&g, &c, BATCH, &rng, &err) || gw_specgan_train_begin(g, &err))
            goto fail;
        g->G.bf16 = g->D.bf16 = bf16;
    }
    double t[MAX_STEPS], ct[MAX_STEPS];
    for (int s = -3; s < steps; s++) { /* 3 warm-up steps, as the peer */
        double t0 = bench_now(), c0 = bench_cpu_now();
        if (vae) {
            gw_specvae_stats st;
            if (gw_specvae_train_step(v, &st, real, BATCH, 1.0f, &rng, &err)) goto fail;
        } else {
            gw_specgan_stats st;
            if (gw_specgan_d_step(g, &st, real, BATCH, &rng, &err) || gw_specgan_g_step(g, &st, &err))
                goto fail;
        }
        if (s >= 0) t[s] = bench_now() - t0, ct[s] = (bench_cpu_now() - c0) / threads;
    }
    bench_sort(t, steps);
    bench_sort(ct, steps);
    double med = t[steps / 2], best = t[0], cmed = ct[steps / 2];
    double peer = (vae ? peer_vae : peer_gan)[threads > 1];
    printf("%-14s %-4s threads %d: %7.1f ms/step (best %.1f), %6.1f examples/s (best %.1f); "
           "PyTorch %3.0f -> ratio %.2f; CPU time per thread %.1f ms/step = %.1f examples/s\n",
           vae ? "specvae-small" : "specgan-small", bf16 ? "bf16" : "f32", threads, 1e3 * med,
           1e3 * best, BATCH / med, BATCH / best, peer, BATCH / med / peer, 1e3 * cmed,
           BATCH / cmed);
    fflush(stdout);
    gw_specgan_free(g);
    gw_specvae_free(v);
    free(real);
    return 0;
fail:
    fprintf(stderr, "bench_spec_train: %s\n", err.msg);
    gw_specgan_free(g);
    gw_specvae_free(v);
    free(real);
    return 1;
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 10;
    if (steps < 1 || steps > MAX_STEPS) steps = 10;
    int threads[2] = {1, 2}, nt = 2;
    if (argc > 2) threads[0] = atoi(argv[2]), nt = 1;
    if (threads[0] < 1) threads[0] = 1;
    const char *which = argc > 3 ? argv[3] : "both";
    int both = !strcmp(which, "both");
    int gan = both || !strcmp(which, "gan"), vae = both || !strcmp(which, "vae");
    if (!gan && !vae) {
        fprintf(stderr, "bench_spec_train: model '%s' is not gan, vae or both\n", which);
        return 2;
    }
    const char *prec = argc > 4 ? argv[4] : "f32";
    if (strcmp(prec, "f32") && strcmp(prec, "bf16")) {
        fprintf(stderr, "bench_spec_train: precision '%s' is not f32 or bf16\n", prec);
        return 2;
    }
    const int bf16 = !strcmp(prec, "bf16") && gw_conv_bf16_ok();
    if (!strcmp(prec, "bf16") && !bf16) printf("no AVX512_BF16 on this CPU: bf16 runs f32\n");
    printf("batch %d, median of %d steps after 3 warm-up steps\n", BATCH, steps);
    for (int i = 0; i < nt; i++)
        if ((gan && run(0, threads[i], steps, bf16)) || (vae && run(1, threads[i], steps, bf16)))
            return 1;
    return 0;
}
