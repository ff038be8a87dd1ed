/* The training data order (train/batcher.h): determinism, permutations,
 * and (epoch, pos) as the whole resumable state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "gw_test.h"
#include "train/batcher.h"

static void test_batcher(void **state) {
    size_t pool[10];
    for (int i = 0; i < 10; i++)
        pool[i] = 100 + i;
    gw_batcher *a = NULL, *b = NULL;
    gw_error err = {0};
    assert_int_equal(gw_batcher_create(&a, pool, 10, 5, &err), GW_OK);
    assert_int_equal(gw_batcher_create(&b, pool, 10, 5, &err), GW_OK);
    size_t x[30], y[30];
    gw_batcher_next(a, x, 30);
    gw_batcher_next(b, y, 30);
    assert_memory_equal(x, y, sizeof x);
    /* each epoch is a permutation of the pool, and epochs differ */
    for (int e = 0; e < 3; e++) {
        int seen[10] = {0};
        for (int k = 0; k < 10; k++)
            seen[x[e * 10 + k] - 100]++;
        for (int k = 0; k < 10; k++)
            assert_int_equal(seen[k], 1);
    }
    assert_true(memcmp(x, x + 10, 10 * sizeof *x) != 0);
    assert_int_equal(a->epoch, 2);
    /* (epoch, pos) is the whole state: seek and continue identically */
    size_t p1[7], p2[7];
    gw_batcher_seek(b, 1, 4);
    gw_batcher_next(b, p1, 7);
    assert_memory_equal(p1, x + 14, sizeof p1);
    gw_batcher_seek(a, 1, 4);
    gw_batcher_next(a, p2, 7);
    assert_memory_equal(p1, p2, sizeof p1);
    /* the state at the end of an epoch, before the wrap, continues into the
     * next epoch: a checkpoint taken there must not replay the epoch */
    gw_batcher_seek(a, 0, 6);
    gw_batcher_next(a, p1, 4);
    assert_int_equal(a->epoch, 0);
    assert_int_equal(a->pos, 10);
    gw_batcher_seek(b, a->epoch, a->pos);
    gw_batcher_next(b, p2, 7);
    assert_memory_equal(p2, x + 10, sizeof p2);
    gw_batcher_free(a);
    gw_batcher_free(b);
    assert_int_equal(gw_batcher_create(&a, pool, 10, 6, &err), GW_OK);
    gw_batcher_next(a, y, 10);
    assert_true(memcmp(x, y, 10 * sizeof *x) != 0); /* another seed, another order */
    gw_batcher_free(a);
    gw_batcher_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
