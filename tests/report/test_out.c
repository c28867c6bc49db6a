/* Tests for report/out: shortest round-trip doubles, the JSON writer's exact layout, escaping
 * and misuse errors, CSV quoting, atomic output files (nothing at the final path before
 * commit, the right bytes after, nothing at all after abort, a full disk reported with the
 * file), paths never cut short, and output folder locking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "report/out.h"

/* ---- helpers ---- */

/* Output captured in memory through a tmpfile (portable, unlike open_memstream's ownership). */
typedef struct capture {
    FILE *f;
    char *text;
} capture;

static FILE *cap_open(capture *c)
{
    memset(c, 0, sizeof *c);
    c->f = tmpfile();
    assert_non_null(c->f);
    return c->f;
}

static const char *cap_text(capture *c)
{
    fflush(c->f);
    long n = ftell(c->f);
    assert_true(n >= 0);
    free(c->text);
    c->text = malloc((size_t)n + 1);
    assert_non_null(c->text);
    rewind(c->f);
    assert_int_equal(fread(c->text, 1, (size_t)n, c->f), (size_t)n);
    c->text[n] = '\0';
    fseek(c->f, 0, SEEK_END);
    return c->text;
}

static void cap_close(capture *c)
{
    fclose(c->f);
    free(c->text);
    memset(c, 0, sizeof *c);
}

static const char *fmt(double v)
{
    static char buf[IFB_DOUBLE_BUFSZ];
    int n = ifb_fmt_double(buf, v);
    assert_int_equal((size_t)n, strlen(buf));
    return buf;
}

/* snprintf into a PATH_BUF buffer, failing the test on truncation. */
#define PATH_BUF 4096
static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, PATH_BUF, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && n < PATH_BUF);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* ---- doubles ---- */

static void test_double_known(void **state)
{
    (void)state;
    assert_string_equal(fmt(0.1), "0.1");
    assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(fmt(1.0 / 3.0), "0.3333333333333333");
    assert_string_equal(fmt(100), "100");
    assert_string_equal(fmt(20), "20");
    assert_string_equal(fmt(-2.5), "-2.5");
    assert_string_equal(fmt(123.456), "123.456");
    assert_string_equal(fmt(0), "0");
    assert_string_equal(fmt(-0.0), "-0");
    assert_string_equal(fmt(1e20), "100000000000000000000");
    assert_string_equal(fmt(1e21), "1e+21");
    assert_string_equal(fmt(1.5e300), "1.5e+300");
    assert_string_equal(fmt(0.000001), "0.000001");
    assert_string_equal(fmt(1e-7), "1e-7");
    assert_string_equal(fmt(1.5e-7), "1.5e-7");
    assert_string_equal(fmt(9007199254740992.0), "9007199254740992");
    assert_string_equal(fmt(9007199254740993.0), "9007199254740992"); /* the literal rounds */
    assert_string_equal(fmt(DBL_MAX), "1.7976931348623157e+308");
    assert_string_equal(fmt(DBL_MIN), "2.2250738585072014e-308");
    assert_string_equal(fmt(5e-324), "5e-324");
    assert_string_equal(fmt(-1e-310), "-1e-310");
    assert_string_equal(fmt(2.2250738585072e-308), "2.2250738585072e-308"); /* subnormal */
    assert_string_equal(fmt(0.30000000000000004 - 0.1), "0.20000000000000004");
    assert_string_equal(fmt(123456789012345.0), "123456789012345");
    assert_string_equal(fmt(1234567890123456.0), "1234567890123456");
    assert_string_equal(fmt(12345678901234567.0), "12345678901234568");
    assert_string_equal(fmt(0.1f), "0.10000000149011612");
    assert_string_equal(fmt(83560.0 / 1e6), "0.08356");
    assert_string_equal(fmt(NAN), "nan");
    assert_string_equal(fmt(INFINITY), "inf");
    assert_string_equal(fmt(-INFINITY), "-inf");
}

/* Every finite double reads back to itself bit for bit, and no shorter precision would. */
static void test_double_round_trip(void **state)
{
    (void)state;
    ifb_rng r;
    ifb_rng_seed(&r, 2024, 0);
    for (int i = 0; i < 300000; i++) {
        double v;
        if (i % 3 == 0) {
            uint64_t bits = ifb_rng_next(&r);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else if (i % 3 == 1) {
            v = ifb_rng_double(&r) * pow(10, (double)ifb_rng_below(&r, 40) - 20);
        } else {
            v = (double)ifb_rng_below(&r, 1000000) / 1000.0; /* typical report values */
        }
        const char *s = fmt(v);
        char *end;
        double back = strtod(s, &end);
        assert_true(*end == '\0');
        if (memcmp(&back, &v, sizeof v) != 0) {
            print_error("%.17g printed as %s reads back as %.17g\n", v, s, back);
            fail();
        }
        /* shortest: count significant digits, check one fewer does not round-trip */
        int digits = 0, leading = 1;
        for (const char *p = s; *p && *p != 'e'; p++) {
            if (*p >= '1' && *p <= '9')
                leading = 0;
            if (*p >= '0' && *p <= '9' && !leading)
                digits++;
        }
        /* trailing zeros of an integer part are not significant */
        if (!strchr(s, '.') && !strchr(s, 'e'))
            for (const char *p = s + strlen(s) - 1; p > s && *p == '0'; p--)
                digits--;
        /* no precision below `digits` reads back (all of them now and then, as the spec
         * says: try 1..17 in turn) */
        for (int p = (i % 16 == 0) ? 1 : digits - 1; p < digits; p++) {
            if (p < 1)
                continue;
            char shorter[64];
            snprintf(shorter, sizeof shorter, "%.*e", p - 1, v);
            if (strtod(shorter, NULL) == v) {
                print_error("%s is not the shortest form: %s reads back too\n", s, shorter);
                fail();
            }
        }
    }
}

/* ---- JSON ---- */

static void test_json_layout(void **state)
{
    (void)state;
    capture c;
    ifb_json j;
    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "name", "fat-tree k=4");
    ifb_json_kuint(&j, "seed", UINT64_MAX);
    ifb_json_kint(&j, "delta", INT64_MIN);
    ifb_json_kdouble(&j, "load", 0.1);
    ifb_json_kdouble(&j, "nan", NAN);
    ifb_json_kdouble(&j, "inf", -INFINITY);
    ifb_json_kbool(&j, "ok", true);
    ifb_json_knull(&j, "none");
    ifb_json_kobj_begin(&j, "empty_obj");
    ifb_json_obj_end(&j);
    ifb_json_karr_begin(&j, "empty_arr");
    ifb_json_arr_end(&j);
    ifb_json_karr_begin(&j, "list");
    ifb_json_int(&j, 1);
    ifb_json_double(&j, 2.5);
    ifb_json_str(&j, NULL);
    ifb_json_obj_begin(&j);
    ifb_json_kbool(&j, "x", false);
    ifb_json_obj_end(&j);
    ifb_json_arr_begin(&j);
    ifb_json_arr_end(&j);
    ifb_json_arr_end(&j);
    ifb_json_key(&j, "nested");
    ifb_json_obj_begin(&j);
    ifb_json_kdouble(&j, "p99", 83.56);
    ifb_json_obj_end(&j);
    ifb_json_obj_end(&j);
    ifb_err err = {{0}};
    assert_int_equal(ifb_json_finish(&j, &err), 0);
    const char *want = "{\n"
                       "  \"name\": \"fat-tree k=4\",\n"
                       "  \"seed\": 18446744073709551615,\n"
                       "  \"delta\": -9223372036854775808,\n"
                       "  \"load\": 0.1,\n"
                       "  \"nan\": null,\n"
                       "  \"inf\": null,\n"
                       "  \"ok\": true,\n"
                       "  \"none\": null,\n"
                       "  \"empty_obj\": {},\n"
                       "  \"empty_arr\": [],\n"
                       "  \"list\": [\n"
                       "    1,\n"
                       "    2.5,\n"
                       "    null,\n"
                       "    {\n"
                       "      \"x\": false\n"
                       "    },\n"
                       "    []\n"
                       "  ],\n"
                       "  \"nested\": {\n"
                       "    \"p99\": 83.56\n"
                       "  }\n"
                       "}\n";
    assert_string_equal(cap_text(&c), want);

    /* and a JSON parser agrees it is JSON */
    json_error_t jerr;
    json_t *root = json_loads(c.text, 0, &jerr);
    /* jansson's integers are long long: it rejects the uint64 seed (readers beware) */
    assert_null(root);
    assert_non_null(strstr(jerr.text, "too big"));
    root = json_loads(c.text, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root)
        print_error("jansson: %s at line %d\n", jerr.text, jerr.line);
    assert_non_null(root);
    assert_true(json_real_value(json_object_get(root, "load")) == 0.1);
    assert_true(json_real_value(json_object_get(root, "seed")) == 18446744073709551615.0);
    json_decref(root);
    cap_close(&c);
}

static void test_json_pctl(void **state)
{
    (void)state;
    capture c;
    ifb_json j;
    ifb_json_init(&j, cap_open(&c), 0);
    ifb_json_obj_begin(&j);
    ifb_pctl p = {4, 2500000, 1000000, 2000000, 3000000, 3900000, 4000000};
    ifb_json_kpctl(&j, "lat_us", &p, 1e-6);
    ifb_pctl none = {0, NAN, NAN, NAN, NAN, NAN, NAN};
    ifb_json_kpctl(&j, "empty", &none, 1.0);
    ifb_json_obj_end(&j);
    assert_int_equal(ifb_json_finish(&j, NULL), 0);
    assert_string_equal(cap_text(&c),
                        "{\"lat_us\":{\"n\":4,\"mean\":2.5,\"min\":1,\"p50\":2,\"p90\":3,"
                        "\"p99\":3.9,\"max\":4},\"empty\":{\"n\":0,\"mean\":null,\"min\":null,"
                        "\"p50\":null,\"p90\":null,\"p99\":null,\"max\":null}}\n");
    cap_close(&c);
}

static void test_json_compact_and_top_level(void **state)
{
    (void)state;
    capture c;
    ifb_json j;
    ifb_json_init(&j, cap_open(&c), 0);
    ifb_json_obj_begin(&j);
    ifb_json_kint(&j, "a", 1);
    ifb_json_karr_begin(&j, "b");
    ifb_json_int(&j, 2);
    ifb_json_int(&j, 3);
    ifb_json_arr_end(&j);
    ifb_json_obj_end(&j);
    ifb_json_obj_begin(&j); /* a second line: JSON Lines */
    ifb_json_obj_end(&j);
    ifb_json_double(&j, 1e-7);
    assert_int_equal(ifb_json_finish(&j, NULL), 0);
    assert_string_equal(cap_text(&c), "{\"a\":1,\"b\":[2,3]}\n{}\n1e-7\n");
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    assert_int_equal(ifb_json_finish(&j, NULL), 0);
    assert_string_equal(cap_text(&c), "");
    cap_close(&c);
}

static void test_json_escaping(void **state)
{
    (void)state;
    capture c;
    ifb_json j;
    ifb_json_init(&j, cap_open(&c), 0);
    ifb_json_arr_begin(&j);
    ifb_json_str(&j, "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f bell\a esc\x1b");
    ifb_json_strn(&j, "nul\0end", 7);
    ifb_json_str(&j, "utf8: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* invalid: lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF */
    ifb_json_str(&j, "bad: \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xff");
    ifb_json_str(&j, "");
    ifb_json_arr_end(&j);
    assert_int_equal(ifb_json_finish(&j, NULL), 0);
    const char *want =
        "[\"quote\\\" backslash\\\\ slash/ tab\\t nl\\n cr\\r bs\\b ff\\f bell\\u0007 "
        "esc\\u001b\",\"nul\\u0000end\",\"utf8: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
        "\"bad: \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
        "\\ufffd\\ufffd\\ufffd\\ufffd \\ufffd\",\"\"]\n";
    assert_string_equal(cap_text(&c), want);
    json_error_t jerr;
    json_t *root = json_loads(c.text, JSON_ALLOW_NUL, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_array_get(root, 2)),
                        "utf8: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_int_equal(json_string_length(json_array_get(root, 1)), 7);
    json_decref(root);
    cap_close(&c);
}

/* Misuse is caught, reported once with a clear message, and stops further output. */
static void test_json_errors(void **state)
{
    (void)state;
    capture c;
    ifb_json j;
    ifb_err err;

    ifb_json_init(&j, cap_open(&c), 2);
    for (int i = 0; i < IFB_JSON_MAX_DEPTH; i++)
        assert_int_equal(ifb_json_arr_begin(&j), 0);
    assert_int_equal(ifb_json_arr_begin(&j), -1);
    assert_int_equal(ifb_json_int(&j, 1), -1); /* sticky */
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "nesting deeper than 64"));
    cap_close(&c);

    /* exactly the limit is fine */
    ifb_json_init(&j, cap_open(&c), 0);
    for (int i = 0; i < IFB_JSON_MAX_DEPTH; i++)
        ifb_json_arr_begin(&j);
    for (int i = 0; i < IFB_JSON_MAX_DEPTH; i++)
        ifb_json_arr_end(&j);
    assert_int_equal(ifb_json_finish(&j, &err), 0);
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_obj_begin(&j);
    assert_int_equal(ifb_json_int(&j, 1), -1);
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "value without a key"));
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_arr_begin(&j);
    assert_int_equal(ifb_json_key(&j, "k"), -1);
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "key \"k\" outside an object"));
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_arr_begin(&j);
    assert_int_equal(ifb_json_obj_end(&j), -1);
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "object closed but an array is open"));
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_obj_begin(&j);
    ifb_json_key(&j, "a");
    assert_int_equal(ifb_json_key(&j, "b"), -1);
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_obj_begin(&j);
    ifb_json_key(&j, "a");
    assert_int_equal(ifb_json_obj_end(&j), -1);
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    ifb_json_obj_begin(&j);
    ifb_json_karr_begin(&j, "a");
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "2 container(s) left open"));
    cap_close(&c);

    ifb_json_init(&j, cap_open(&c), 2);
    assert_int_equal(ifb_json_arr_end(&j), -1);
    assert_int_equal(ifb_json_finish(&j, &err), -1);
    assert_non_null(strstr(err.msg, "nothing is open"));
    cap_close(&c);
}

/* ---- CSV ---- */

static void test_csv(void **state)
{
    (void)state;
    capture c;
    ifb_csv w;
    ifb_csv_init(&w, cap_open(&c));
    const char *cols[] = {"flow", "name", "fct_us", "bytes", "delta"};
    assert_int_equal(ifb_csv_header(&w, cols, 5), 0);
    ifb_csv_uint(&w, 1);
    ifb_csv_str(&w, "plain");
    ifb_csv_double(&w, 0.1);
    ifb_csv_uint(&w, 4096);
    ifb_csv_int(&w, -3);
    assert_int_equal(ifb_csv_end_row(&w), 0);
    ifb_csv_uint(&w, 2);
    ifb_csv_str(&w, "a,b");
    ifb_csv_double(&w, NAN);
    ifb_csv_uint(&w, 0);
    ifb_csv_double(&w, INFINITY);
    ifb_csv_end_row(&w);
    ifb_csv_uint(&w, 3);
    ifb_csv_str(&w, "say \"hi\"");
    ifb_csv_double(&w, 1e21);
    ifb_csv_str(&w, NULL);
    ifb_csv_double(&w, -INFINITY);
    ifb_csv_end_row(&w);
    ifb_csv_uint(&w, 4);
    ifb_csv_str(&w, "two\nlines");
    ifb_csv_double(&w, 1.0 / 3.0);
    ifb_csv_str(&w, "cr\r");
    ifb_csv_str(&w, "");
    ifb_csv_end_row(&w);
    assert_int_equal(w.rows, 4);
    assert_int_equal(ifb_csv_finish(&w, NULL), 0);
    assert_string_equal(cap_text(&c), "flow,name,fct_us,bytes,delta\n"
                                      "1,plain,0.1,4096,-3\n"
                                      "2,\"a,b\",,0,inf\n"
                                      "3,\"say \"\"hi\"\"\",1e+21,,-inf\n"
                                      "4,\"two\nlines\",0.3333333333333333,\"cr\r\",\n");
    cap_close(&c);

    ifb_err err;
    /* too few fields, too many fields, field before header, unfinished row */
    ifb_csv_init(&w, cap_open(&c));
    ifb_csv_header(&w, cols, 2);
    ifb_csv_int(&w, 1);
    assert_int_equal(ifb_csv_end_row(&w), -1);
    assert_int_equal(ifb_csv_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "row 1 has 1 fields, the header has 2"));
    cap_close(&c);

    ifb_csv_init(&w, cap_open(&c));
    ifb_csv_header(&w, cols, 1);
    ifb_csv_int(&w, 1);
    assert_int_equal(ifb_csv_int(&w, 2), -1);
    assert_int_equal(ifb_csv_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "more than 1 fields"));
    cap_close(&c);

    ifb_csv_init(&w, cap_open(&c));
    assert_int_equal(ifb_csv_int(&w, 1), -1);
    assert_int_equal(ifb_csv_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "before the header"));
    cap_close(&c);

    ifb_csv_init(&w, cap_open(&c));
    ifb_csv_header(&w, cols, 2);
    ifb_csv_int(&w, 1);
    assert_int_equal(ifb_csv_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "unfinished"));
    cap_close(&c);
}

/* ---- atomic files ---- */

/* 20000 rows of two fields: far more than a stdio buffer. */
static void csv_rows_many(ifb_csv *c, const void *ctx)
{
    (void)ctx;
    for (int i = 0; i < 20000; i++) {
        ifb_csv_int(c, i);
        ifb_csv_str(c, "row");
        ifb_csv_end_row(c);
    }
}

static int setup_tmpdir(void **state)
{
    char *dir = malloc(PATH_BUF);
    if (!dir)
        return -1;
    snprintf(dir, PATH_BUF, "%s/test_out.XXXXXX", IFB_BIN_DIR);
    if (!mkdtemp(dir)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -1;
        struct dirent *e;
        char sub[PATH_BUF];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            pathf(sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
    }
    return remove(path);
}

static int teardown_tmpdir(void **state)
{
    remove_tree(*state);
    free(*state);
    return 0;
}

static void test_ofile_commit(void **state)
{
    const char *dir = *state;
    char path[PATH_BUF], tmp[PATH_BUF], sub[PATH_BUF];
    pathf(sub, "%s/a/b/c", dir);
    pathf(path, "%s/summary.json", sub);
    pathf(tmp, "%s.tmp.%ld", path, (long)getpid());
    ifb_ofile o;
    ifb_err err = {{0}};
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    assert_true(exists(sub)); /* parents created */
    assert_true(exists(tmp));
    fputs("{\"ok\": true}\n", o.f);
    fflush(o.f);
    assert_false(exists(path)); /* not visible before commit */
    assert_int_equal(ifb_ofile_commit(&o, &err), 0);
    assert_true(exists(path));
    assert_false(exists(tmp));
    char *got = slurp(path);
    assert_string_equal(got, "{\"ok\": true}\n");
    free(got);
    assert_null(o.f);
    ifb_ofile_abort(&o); /* no-op after commit */
    assert_true(exists(path));
    assert_int_equal(ifb_ofile_commit(&o, &err), -1); /* twice */
    assert_non_null(strstr(err.msg, "committed twice"));

    /* replacing: the old content stays until commit */
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    fputs("new", o.f);
    fflush(o.f);
    got = slurp(path);
    assert_string_equal(got, "{\"ok\": true}\n");
    free(got);
    assert_int_equal(ifb_ofile_commit(&o, &err), 0);
    got = slurp(path);
    assert_string_equal(got, "new");
    free(got);
    assert_int_equal(count_entries(sub), 1); /* no temp files left behind */

    /* a relative path without a directory part */
    char cwd[PATH_BUF];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(ifb_ofile_open(&o, "plain.csv", &err), 0);
    fputs("x\n", o.f);
    assert_int_equal(ifb_ofile_commit(&o, &err), 0);
    assert_int_equal(chdir(cwd), 0);
    pathf(path, "%s/plain.csv", dir);
    assert_true(exists(path));
}

static void test_ofile_abort(void **state)
{
    const char *dir = *state;
    char path[PATH_BUF], sub[PATH_BUF];
    pathf(sub, "%s/abort", dir);
    pathf(path, "%s/flows.csv", sub);
    ifb_ofile o;
    ifb_err err;
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    fputs("half a fil", o.f);
    ifb_ofile_abort(&o);
    assert_false(exists(path));
    assert_int_equal(count_entries(sub), 0);
    ifb_ofile_abort(&o); /* twice is harmless */
}

static void test_ofile_errors(void **state)
{
    const char *dir = *state;
    char file[PATH_BUF], path[PATH_BUF];
    pathf(file, "%s/regular", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);

    /* a parent that is a regular file */
    pathf(path, "%s/sub/out.json", file);
    ifb_ofile o;
    ifb_err err = {{0}};
    assert_int_equal(ifb_ofile_open(&o, path, &err), -1);
    assert_non_null(strstr(err.msg, file));
    assert_non_null(strstr(err.msg, strerror(ENOTDIR)));
    assert_null(o.f);
    ifb_ofile_abort(&o); /* safe after a failed open */

    assert_int_equal(ifb_mkdirs(file, &err), -1);
    assert_non_null(strstr(err.msg, strerror(ENOTDIR)));
    assert_int_equal(ifb_mkdirs(dir, &err), 0); /* existing directory */
    pathf(path, "%s//x/./y/", dir);
    assert_int_equal(ifb_mkdirs(path, &err), 0);
    pathf(path, "%s/x/y", dir);
    assert_true(exists(path));
    assert_int_equal(ifb_mkdirs("", &err), -1);
    assert_int_equal(ifb_ofile_open(&o, "", &err), -1);

    /* a directory where the file should go: open succeeds (temp name), rename fails */
    pathf(path, "%s/x", dir);
    if (ifb_ofile_open(&o, path, &err) == 0) {
        fputs("data", o.f);
        assert_int_equal(ifb_ofile_commit(&o, &err), -1);
        assert_non_null(strstr(err.msg, path));
        pathf(file, "%s.tmp.%ld", path, (long)getpid());
        assert_false(exists(file));
    }

    /* unwritable directory (skipped as root, who can write anywhere) */
    if (geteuid() != 0) {
        pathf(path, "%s/ro", dir);
        assert_int_equal(mkdir(path, 0555), 0);
        pathf(file, "%s/ro/out.json", dir);
        assert_int_equal(ifb_ofile_open(&o, file, &err), -1);
        assert_non_null(strstr(err.msg, file));
        assert_non_null(strstr(err.msg, strerror(EACCES)));
        chmod(path, 0755);
    }
}

/* A full disk: the temporary file is a link to /dev/full, so every write fails with ENOSPC
 * (the test knows the pid the temporary name carries). The error names the file and the
 * system error, whichever writer was used, and nothing is left behind. */
static int link_full(const char *path)
{
    char tmp[PATH_BUF];
    pathf(tmp, "%s.tmp.%ld", path, (long)getpid());
    return symlink("/dev/full", tmp);
}

static void test_ofile_disk_full(void **state)
{
    const char *dir = *state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char path[PATH_BUF], want[PATH_BUF + 64];
    ifb_err err = {{0}};
    ifb_ofile o;

    /* raw writes, error at commit */
    pathf(path, "%s/raw.json", dir);
    assert_int_equal(link_full(path), 0);
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    for (int i = 0; i < 20000; i++)
        fputs("0123456789", o.f);
    assert_int_equal(ifb_ofile_commit(&o, &err), -1);
    snprintf(want, sizeof want, "cannot write output file '%s': %s", path, strerror(ENOSPC));
    assert_string_equal(err.msg, want);
    assert_false(exists(path));
    assert_int_equal(count_entries(dir), 0);

    /* the CSV writer: its own "write error" becomes the file's */
    static const char *const cols[] = {"a", "b"};
    pathf(path, "%s/t.csv", dir);
    assert_int_equal(link_full(path), 0);
    assert_int_equal(ifb_csv_write_file(path, cols, 2, csv_rows_many, NULL, &err), -1);
    snprintf(want, sizeof want, "cannot write output file '%s': %s", path, strerror(ENOSPC));
    assert_string_equal(err.msg, want);
    assert_int_equal(count_entries(dir), 0);

    /* a writer that fails on a small file (still in the buffer): ifb_ofile_fail flushes */
    pathf(path, "%s/small.html", dir);
    assert_int_equal(link_full(path), 0);
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    fputs("<html>", o.f);
    ifb_err_msg(&err, "writing the HTML report: output error");
    assert_int_equal(ifb_ofile_fail(&o, &err), -1);
    snprintf(want, sizeof want, "cannot write output file '%s': %s", path, strerror(ENOSPC));
    assert_string_equal(err.msg, want);
    assert_int_equal(count_entries(dir), 0);

    /* a writer failing for its own reason keeps its message */
    pathf(path, "%s/fine.json", dir);
    assert_int_equal(ifb_ofile_open(&o, path, &err), 0);
    ifb_err_msg(&err, "JSON writer: 1 container(s) left open");
    assert_int_equal(ifb_ofile_fail(&o, &err), -1);
    assert_string_equal(err.msg, "JSON writer: 1 container(s) left open");
    assert_int_equal(count_entries(dir), 0);
}

static void test_path_printf(void **state)
{
    (void)state;
    ifb_err err = {{0}};
    char *big = malloc(PATH_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', PATH_MAX);
    big[PATH_MAX - 8] = '\0';
    char *p = ifb_path_printf(&err, "%s/%s", big, "1234567"); /* PATH_MAX bytes: one too many */
    assert_null(p);
    assert_non_null(strstr(err.msg, "PATH_MAX"));
    p = ifb_path_printf(&err, "%s/%s", big, "123456"); /* PATH_MAX - 1: fits */
    assert_non_null(p);
    assert_int_equal(strlen(p), PATH_MAX - 1);
    assert_int_equal(p[PATH_MAX - 2], '6'); /* nothing cut */
    free(p);
    free(big);
}

static void test_outdir(void **state)
{
    const char *dir = *state;
    char path[PATH_BUF];
    ifb_err err = {{0}};
    ifb_outdir a, b;
    assert_int_equal(ifb_outdir_open(&a, "", 10, &err), -1);
    assert_non_null(strstr(err.msg, "empty path"));
    ifb_outdir_close(&a); /* safe after a failure */

    pathf(path, "%s/o/p", dir);
    assert_int_equal(ifb_outdir_open(&a, path, 10, &err), 0);
    assert_true(exists(path));
    pathf(path, "%s/o/p/%s", dir, IFB_OUTDIR_LOCK);
    char *pid = slurp(path);
    assert_int_equal(atol(pid), (long)getpid());
    free(pid);
    /* a second holder (another open of the lock file, as another process would) is refused */
    pathf(path, "%s/o/p", dir);
    assert_int_equal(ifb_outdir_open(&b, path, 10, &err), -2);
    assert_non_null(strstr(err.msg, "is in use by another infabric command"));
    ifb_outdir_close(&a);
    assert_int_equal(ifb_outdir_open(&b, path, 10, &err), 0); /* free again */
    ifb_outdir_close(&b);
    ifb_outdir_close(&b); /* twice is harmless */

    /* a regular file, and a path the files under it would push past PATH_MAX */
    pathf(path, "%s/o/p/%s", dir, IFB_OUTDIR_LOCK);
    assert_int_equal(ifb_outdir_open(&a, path, 10, &err), -1);
    assert_non_null(strstr(err.msg, strerror(ENOTDIR)));
    pathf(path, "%s/o", dir);
    size_t room = PATH_MAX - strlen(path) - 1;
    assert_int_equal(ifb_outdir_open(&a, path, room + 1, &err), -1);
    assert_non_null(strstr(err.msg, "PATH_MAX"));
    assert_int_equal(ifb_outdir_open(&a, path, room, &err), 0);
    ifb_outdir_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_known),
        cmocka_unit_test(test_double_round_trip),
        cmocka_unit_test(test_json_layout),
        cmocka_unit_test(test_json_pctl),
        cmocka_unit_test(test_json_compact_and_top_level),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_csv),
        cmocka_unit_test_setup_teardown(test_ofile_commit, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_ofile_abort, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_ofile_errors, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_ofile_disk_full, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test(test_path_printf),
        cmocka_unit_test_setup_teardown(test_outdir, setup_tmpdir, teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
