#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "io/json.h"

static void expect_parse_error(const char *text, const char *want) {
    cJSON *root = NULL;
    gw_error err = {0};
    assert_int_equal(gw_json_parse(&root, text, "presets/x.json", &err), GW_ERR_FORMAT);
    assert_null(root);
    if (!strstr(err.msg, want)) fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, want);
    assert_non_null(strstr(err.msg, want));
}

/* the message points at line and column of the mistake */
static void test_parse_errors_name_line_and_column(void **state) {
    expect_parse_error("{\n  \"a\": 1,\n  \"b\": 2,\n}\n",
                       "presets/x.json:4:1: syntax error at '}' (trailing comma?)");
    expect_parse_error("{\n  \"a\": 1\n  \"b\": 2\n}", "presets/x.json:3:3:");
    expect_parse_error("{\n  \"a\": 1\n  \"b\": 2\n}", "missing comma");
    expect_parse_error("{\"a\": [1, 2,", "presets/x.json:1:");
    expect_parse_error("{\"a\": [1, 2,", "end of file");
    expect_parse_error("{\"a\": 1} x", "presets/x.json:1:10: unexpected text after");
    expect_parse_error("{'a': 1}", "double quotes");
    expect_parse_error("", "presets/x.json:1:1:");
}

/* a preset cut at every length is an error with a position, never a crash
 * or a silently shorter preset */
static void test_truncated_everywhere(void **state) {
    const char *text =
        "{\"name\": \"small\", \"layers\": [1, 2, 4],\n \"train\": {\"lr\": 1e-3, \"ema\": true}}";
    size_t n = strlen(text);
    char buf[256];
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(buf, text, cut);
        buf[cut] = 0;
        cJSON *root = NULL;
        gw_error err = {0};
        assert_int_equal(gw_json_parse(&root, buf, "p.json", &err), GW_ERR_FORMAT);
        assert_null(root);
        assert_true(!strncmp(err.msg, "p.json:", 7));
    }
}

static void test_typed_getters(void **state) {
    cJSON *root = NULL;
    gw_error err = {0};
    const char *text = "{\"residual_channels\": 32, \"lr\": 0.001, \"name\": \"small\",\n"
                       " \"train\": {\"steps\": 100, \"ema\": true, \"dil\": [1, 2, 4]},\n"
                       " \"bad\": 3.5, \"neg\": -2, \"s\": \"x\"}";
    assert_int_equal(gw_json_parse(&root, text, "p.json", &err), GW_OK);
    int v = 0;
    assert_int_equal(gw_json_int(&v, root, "residual_channels", 1, INT_MAX, 0, 0, "p.json", &err),
                     GW_OK);
    assert_int_equal(v, 32);
    assert_int_equal(gw_json_int(&v, root, "train.steps", 1, INT_MAX, 0, 0, "p.json", &err), GW_OK);
    assert_int_equal(v, 100);
    assert_int_equal(gw_json_int(&v, root, "absent", 1, 9, 1, 7, "p.json", &err), GW_OK);
    assert_int_equal(v, 7);
    assert_int_equal(gw_json_int(&v, root, "train.absent", 1, 9, 0, 7, "p.json", &err),
                     GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: key 'train.absent' is missing");
    assert_int_equal(gw_json_int(&v, root, "bad", 1, INT_MAX, 0, 0, "p.json", &err), GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: key 'bad' must be a positive integer (got 3.5)");
    assert_int_equal(gw_json_int(&v, root, "neg", 1, 8, 0, 0, "p.json", &err), GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: key 'neg' must be an integer in [1, 8] (got -2)");
    assert_int_equal(gw_json_int(&v, root, "s", 0, INT_MAX, 0, 0, "p.json", &err), GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: key 's' must be a non-negative integer (got \"x\")");

    double d = 0;
    assert_int_equal(gw_json_num(&d, root, "lr", 0, 1, 0, 0, "p.json", &err), GW_OK);
    assert_true(d == 0.001);
    assert_int_equal(gw_json_num(&d, root, "name", 0, 1, 0, 0, "p.json", &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "key 'name' must be a number"));

    int b = 0;
    assert_int_equal(gw_json_bool(&b, root, "train.ema", 0, 0, "p.json", &err), GW_OK);
    assert_int_equal(b, 1);
    assert_int_equal(gw_json_bool(&b, root, "lr", 0, 0, "p.json", &err), GW_ERR_FORMAT);

    const char *s = NULL;
    assert_int_equal(gw_json_str(&s, root, "name", 0, NULL, "p.json", &err), GW_OK);
    assert_string_equal(s, "small");
    assert_int_equal(gw_json_str(&s, root, "lr", 0, NULL, "p.json", &err), GW_ERR_FORMAT);

    int arr[4], n = 0;
    assert_int_equal(gw_json_int_array(arr, &n, 4, root, "train.dil", 1, 512, "p.json", &err),
                     GW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(arr[2], 4);
    assert_int_equal(gw_json_int_array(arr, &n, 2, root, "train.dil", 1, 512, "p.json", &err),
                     GW_ERR_FORMAT);
    assert_int_equal(gw_json_int_array(arr, &n, 4, root, "train.dil", 3, 512, "p.json", &err),
                     GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "key 'train.dil[0]' must be an integer in [3, 512]"));

    const char *top[] = {"residual_channels", "lr", "name", "train", "bad", "neg", "s"};
    assert_int_equal(gw_json_check_keys(root, NULL, top, 7, "p.json", &err), GW_OK);
    assert_int_equal(gw_json_check_keys(root, NULL, top, 6, "p.json", &err), GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: unknown key 's'");
    const char *tr[] = {"steps", "ema"};
    assert_int_equal(gw_json_check_keys(root, "train", tr, 2, "p.json", &err), GW_ERR_FORMAT);
    assert_string_equal(err.msg, "p.json: unknown key 'train.dil'");
    cJSON_Delete(root);
}

static void test_files(void **state) {
    char dir[4096], p[8192];
    gw_test_tmpdir(dir, sizeof dir, "io_json");
    snprintf(p, sizeof p, "%s/a.json", dir);
    gw_error err = {0};
    cJSON *root = NULL;
    assert_int_equal(gw_json_load(&root, p, &err), GW_ERR_IO);
    assert_non_null(strstr(err.msg, p));

    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "x", 3);
    assert_int_equal(gw_json_save(p, obj, &err), GW_OK);
    cJSON_Delete(obj);
    assert_int_equal(gw_json_load(&root, p, &err), GW_OK);
    int v = 0;
    assert_int_equal(gw_json_int(&v, root, "x", 0, 10, 0, 0, p, &err), GW_OK);
    assert_int_equal(v, 3);
    cJSON_Delete(root);

    FILE *f = fopen(p, "wb");
    fwrite("{\"x\":\0 1}", 1, 9, f);
    fclose(f);
    assert_int_equal(gw_json_load(&root, p, &err), GW_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "NUL"));
    f = fopen(p, "wb");
    fputs("{\n\"x\": [1,\n2,\n", f);
    fclose(f);
    assert_int_equal(gw_json_load(&root, p, &err), GW_ERR_FORMAT);
    char want[8300];
    snprintf(want, sizeof want, "%s:4:1: unexpected end of file", p);
    assert_non_null(strstr(err.msg, want));
    remove(p);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors_name_line_and_column),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_typed_getters),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
