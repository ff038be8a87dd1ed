#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/gw_base.h"
#include "gw_test.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: every missing parent is made, an existing tree is fine, a
 * trailing slash is fine */
static void touch(const char *dir, const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static int exists(const char *dir, const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* D7: a temp file whose writer was killed is removed at the next start; one
 * a live process may be writing, and anything else, stays */
static void test_stale_temp_files(void **state) {
    char dir[4096], dead[64], live[64];
    gw_test_tmpdir(dir, sizeof dir, "stale");
    pid_t child = fork(); /* a pid that existed and is gone */
    if (child == 0) _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    snprintf(dead, sizeof dead, "checkpoint.gwm.tmp.%ld", (long)child);
    snprintf(live, sizeof live, "checkpoint.gwm.tmp.%ld", (long)getpid());
    touch(dir, dead);
    touch(dir, live);
    touch(dir, "notes.tmp.txt");
    touch(dir, "model.gwm");
    assert_int_equal(gw_afile_clean_stale(dir), 1);
    assert_false(exists(dir, dead));
    assert_true(exists(dir, live) && exists(dir, "notes.tmp.txt") && exists(dir, "model.gwm"));
    const char *names[] = {live, "notes.tmp.txt", "model.gwm"};
    char p[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    assert_int_equal(gw_afile_clean_stale("/nonexistent/dir"), 0);
}

static void test_mkdirs_nested(void **state) {
    char tmp[512], p[1024];
    gw_test_tmpdir(tmp, sizeof tmp, "fs");
    gw_error err = {0};
    snprintf(p, sizeof p, "%s/a/b/c", tmp);
    assert_int_equal(gw_mkdirs(p, "run directory", &err), GW_OK);
    assert_true(is_dir(p));
    assert_int_equal(gw_mkdirs(p, "run directory", &err), GW_OK);
    snprintf(p, sizeof p, "%s/a/d/", tmp);
    assert_int_equal(gw_mkdirs(p, "run directory", &err), GW_OK);
    assert_true(is_dir(p));
    const char *rm[] = {"a/b/c", "a/b", "a/d", "a"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, rm[i]);
        assert_int_equal(rmdir(p), 0);
    }
    rmdir(tmp);
}

/* a file in the way, a file as a parent, an empty path: one line naming it */
static void test_mkdirs_errors(void **state) {
    char tmp[512], f[1024], p[1100];
    gw_test_tmpdir(tmp, sizeof tmp, "fs");
    snprintf(f, sizeof f, "%s/file", tmp);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fclose(fp);
    gw_error err = {0};
    assert_int_equal(gw_mkdirs(f, "cache folder", &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "not a directory"));
    assert_non_null(strstr(err.msg, f));
    snprintf(p, sizeof p, "%s/sub", f);
    assert_int_equal(gw_mkdirs(p, "cache folder", &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot create directory"));
    assert_int_equal(gw_mkdirs("", "cache folder", &err), GW_ERR_ARG);
    assert_string_equal(err.msg, ": bad cache folder");
    unlink(f);
    rmdir(tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdirs_nested),
        cmocka_unit_test(test_stale_temp_files),
        cmocka_unit_test(test_mkdirs_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
