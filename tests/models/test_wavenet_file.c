/* The WaveNet model file's hostile cases (models/wavenet_file.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gw_test.h"
#include "models/wavenet.h"
#include "models/wavenet_file.h"
#include "nn/gwm.h"

static long max_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* D6 of the hostile-input issue: a small file whose config claims 512
 * channels x 64 layers (about 850 MB of weights) is refused by checking
 * its tensors against the config before anything that size is allocated */
static void test_config_checked_against_tensors_first(void **state) {
    char dir[4096], path[4200];
    gw_test_tmpdir(dir, sizeof dir, "wnfile");
    snprintf(path, sizeof path, "%s/big-claim.gwm", dir);
    const char *cfg = "{\"model\": \"wavenet\", \"name\": \"huge\", \"sample_rate\": 16000, "
                      "\"residual_channels\": 512, \"gate_channels\": 512, \"skip_channels\": 512, "
                      "\"head_channels\": 512, \"stacks\": 4, \"layers_per_stack\": 16, "
                      "\"dilations\": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1, 2, 4, 8, 16, 32]}";
    gw_gwm_writer *w = NULL;
    gw_error err = {0};
    float tiny[16] = {0};
    assert_int_equal(gw_gwm_writer_create(&w, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(w, "model", GW_WAVENET_KIND, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_meta(w, "wavenet.config", cfg, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_add(w, "embed", GW_GWM_F32, 1, (int[]){16}, tiny, &err), GW_OK);
    assert_int_equal(gw_gwm_writer_commit(w, path, &err), GW_OK);
    gw_gwm_writer_free(w);
    const long before = max_rss_kb();
    gw_wavenet *m = NULL;
    gw_status st = gw_wavenet_load(&m, path, &err);
    assert_int_equal(st, GW_ERR_FORMAT);
    assert_null(m);
    assert_non_null(strstr(err.msg, "big-claim.gwm"));
    /* not a byte of the claimed size was touched */
    assert_true(max_rss_kb() - before < 100 * 1024);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_checked_against_tensors_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
