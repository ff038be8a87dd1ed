/* Proof that the spectrogram VAE learns: on a synthetic folder of three
 * kinds of drum-like hits, a short `train vae` run (specvae-tiny) raises the
 * held-out ELBO well above the untrained model's, keeps several latent dims
 * active, and reconstructs held-out clips far better (log-spectral distance)
 * than an untrained model of the same shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "models/specvae.h"
#include "spec_learn.h"

static void test_vae_learns(void **state) {
    gw_spec_learn L;
    gw_spec_learn_setup(&L, "vae_learns", 12, "specvae-tiny", 600, 4);
    gw_spec_trainer_result res;
    gw_spec_learn_train(&L, gw_vae_trainer_run, &res);
    gw_error err = {0};
    fprintf(stderr, "held-out ELBO untrained %.1f -> trained %.1f nats/clip, %d active dims\n",
            res.elbo_first, res.elbo_last, res.active);
    /* the ELBO is negative; "well above" = the gap to the untrained model is
     * more than half of the untrained model's magnitude */
    assert_true(res.elbo_last - res.elbo_first > 0.5 * fabs(res.elbo_first));
    assert_true(res.active >= 2);

    /* reconstruction: trained vs untrained (same shape, same feature
     * statistics) on the held-out clips */
    gw_gwm *f = NULL;
    assert_int_equal(gw_gwm_open(&f, res.model_path, &err), GW_OK);
    gw_specvae *m = NULL, *u = NULL;
    assert_int_equal(gw_specvae_from_gwm(&m, f, 32, &err), GW_OK);
    gw_rng r;
    gw_rng_seed(&r, 9);
    assert_int_equal(gw_specvae_create(&u, &m->cfg, 32, &r, &err), GW_OK);
    memcpy(gw_specfeat_mean(u->feat), gw_specfeat_mean(m->feat), m->cfg.feat.n_mels * sizeof(float));
    memcpy(gw_specfeat_std(u->feat), gw_specfeat_std(m->feat), m->cfg.feat.n_mels * sizeof(float));
    gw_spec_data *d = NULL;
    assert_int_equal(gw_spec_data_load(&d, L.data, NULL, m->feat, 0, L.o.seed, &err), GW_OK);
    gw_specvae_eval em, eu;
    assert_int_equal(gw_specvae_evaluate(m, &em, NULL, d->val, d->n_val, 1, &err), GW_OK);
    assert_int_equal(gw_specvae_evaluate(u, &eu, NULL, d->val, d->n_val, 1, &err), GW_OK);
    fprintf(stderr, "reconstruction LSD: trained %.2f dB, untrained %.2f dB\n", em.lsd_db,
            eu.lsd_db);
    assert_true(em.lsd_db < 0.5 * eu.lsd_db);
    gw_spec_data_free(d);
    gw_specvae_free(u);
    gw_specvae_free(m);
    gw_gwm_free(f);
    gw_spec_learn_cleanup(&L);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
