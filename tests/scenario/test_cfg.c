/* Tests for the configuration tree (scenario/cfg.h): unit parsing, typed getters and their
 * messages, --set overrides, unknown-key detection, YAML error reporting, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario/cfg.h"

#define DATA IFB_TEST_DIR "/scenario/data/"

/* Fails the test (with the message) unless every needle occurs in the error message. */
static void expect_msg(const ifb_err *e, ...)
{
    va_list ap;
    va_start(ap, e);
    const char *needle;
    while ((needle = va_arg(ap, const char *))) {
        if (!strstr(e->msg, needle))
            fail_msg("message \"%s\" lacks \"%s\"", e->msg, needle);
    }
    va_end(ap);
}

static ifb_cfg *load_ok(const char *text, const char *name)
{
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(text, name, &e);
    if (!c)
        fail_msg("load failed: %s", e.msg);
    return c;
}

/* ---- Units ---------------------------------------------------------------------------------- */

typedef struct {
    const char *s;
    uint64_t v;
} uv;

static void test_rate_units(void **state)
{
    (void)state;
    static const uv ok[] = {
        {"400Gbps", 400000000000ull},   {"400G", 400000000000ull},
        {"400 Gb/s", 400000000000ull},  {"100Mbps", 100000000ull},
        {"1.6Tbps", 1600000000000ull},  {"25GB/s", 200000000000ull},
        {"25GBps", 200000000000ull},    {"10kbps", 10000ull},
        {"10Kb/s", 10000ull},           {"1bps", 1ull},
        {"1GiB/s", 8ull << 30},         {"2.5e2G", 250000000000ull},
        {" 800Gbps ", 800000000000ull}, {"0.1Kbps", 100ull},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 0;
        if (ifb_parse_rate(ok[i].s, &v) != 0 || v != ok[i].v)
            fail_msg("rate '%s' -> %llu, want %llu", ok[i].s, (unsigned long long)v,
                     (unsigned long long)ok[i].v);
    }
    static const char *const bad[] = {"400",       "",         "Gbps",   "-5Gbps",  "0Gbps",
                                      "0 G",       "1e30Gbps", "400Gbs", "400gbps", "abc",
                                      "400Gbps x", "0.5bps",   "4KiB",   "1..2G",   "1e400G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 77;
        if (ifb_parse_rate(bad[i], &v) == 0)
            fail_msg("rate '%s' accepted as %llu", bad[i], (unsigned long long)v);
        assert_int_equal(v, 77);
    }
}

static void test_time_units(void **state)
{
    (void)state;
    static const uv ok[] = {
        {"560ns", 560000ull},       {"1us", 1000000ull},      {"1\xc2\xb5s", 1000000ull},
        {"1\xce\xbcs", 1000000ull}, {"2.5ms", 2500000000ull}, {"3s", 3000000000000ull},
        {"100ps", 100ull},          {"2.5us", 2500000ull},    {"0ns", 0ull},
        {"1e3ns", 1000000ull},      {"0.001us", 1000ull},     {"1.000000ns", 1000ull},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ifb_time v = 0;
        if (ifb_parse_time(ok[i].s, &v) != 0 || v != ok[i].v)
            fail_msg("time '%s' -> %llu, want %llu", ok[i].s, (unsigned long long)v,
                     (unsigned long long)ok[i].v);
    }
    static const char *const bad[] = {
        "560",  "-1ns",  "0.5ps", "1e-13s", "5 min",
        "5KiB", "1e30s", "ns",    "",       "1.0000000000000000000001s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ifb_time v = 77;
        if (ifb_parse_time(bad[i], &v) == 0)
            fail_msg("time '%s' accepted as %llu", bad[i], (unsigned long long)v);
    }
}

static void test_bytes_and_distance_units(void **state)
{
    (void)state;
    static const uv bytes[] = {
        {"4KiB", 4096ull},      {"4KB", 4000ull},
        {"4kB", 4000ull},       {"16MB", 16000000ull},
        {"16MiB", 16ull << 20}, {"64KiB", 65536ull},
        {"1GiB", 1ull << 30},   {"200MB", 200000000ull},
        {"4096B", 4096ull},     {"1.5KiB", 1536ull},
        {"0B", 0ull},           {"18446744073709551615B", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        uint64_t v = 0;
        if (ifb_parse_bytes(bytes[i].s, &v) != 0 || v != bytes[i].v)
            fail_msg("bytes '%s' -> %llu", bytes[i].s, (unsigned long long)v);
    }
    static const char *const badb[] = {"4096", "1.5B", "18446744073709551616B", "16EB", "4Kb",
                                       "-1B",  "KiB"};
    for (size_t i = 0; i < sizeof badb / sizeof badb[0]; i++) {
        uint64_t v;
        if (ifb_parse_bytes(badb[i], &v) == 0)
            fail_msg("bytes '%s' accepted", badb[i]);
    }
    static const uv dist[] = {
        {"5m", 5000ull},     {"300m", 300000ull}, {"40cm", 400ull},
        {"1km", 1000000ull}, {"2mm", 2ull},       {"1.5m", 1500ull},
    };
    for (size_t i = 0; i < sizeof dist / sizeof dist[0]; i++) {
        uint64_t v = 0;
        if (ifb_parse_distance(dist[i].s, &v) != 0 || v != dist[i].v)
            fail_msg("distance '%s' -> %llu", dist[i].s, (unsigned long long)v);
    }
    static const char *const badd[] = {"5", "1.2345m", "-5m", "5M", "5 ft"};
    for (size_t i = 0; i < sizeof badd / sizeof badd[0]; i++) {
        uint64_t v;
        if (ifb_parse_distance(badd[i], &v) == 0)
            fail_msg("distance '%s' accepted", badd[i]);
    }
}

/* ---- Getters -------------------------------------------------------------------------------- */

static const char GOOD[] = "fabric:\n"             /* 1 */
                           "  rate: 400Gbps\n"     /* 2 */
                           "  delay: 560ns\n"      /* 3 */
                           "  cable: 5m\n"         /* 4 */
                           "  buffer: 64KiB\n"     /* 5 */
                           "  ecn: on\n"           /* 6 */
                           "  routing: adaptive\n" /* 7 */
                           "  ports: 64\n"         /* 8 */
                           "  load: 0.75\n"        /* 9 */
                           "  name: 'rack one'\n"; /* 10 */

static void test_getters_values_and_defaults(void **state)
{
    (void)state;
    ifb_cfg *c = load_ok(GOOD, "good.yaml");
    ifb_err e = {{0}};
    uint64_t u = 0;
    ifb_time t = 0;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    const char *s = NULL;
    int en = -1;
    static const char *const modes[] = {"ecmp", "adaptive", "spray", NULL};

    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 1, &u, &e), 0);
    assert_int_equal(u, 400000000000ull);
    assert_int_equal(ifb_cfg_get_time(c, "fabric.delay", 1, &t, &e), 0);
    assert_int_equal(t, 560000);
    assert_int_equal(ifb_cfg_get_distance(c, "fabric.cable", 1, &u, &e), 0);
    assert_int_equal(u, 5000);
    assert_int_equal(ifb_cfg_get_bytes(c, "fabric.buffer", 1, &u, &e), 0);
    assert_int_equal(u, 65536);
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.ecn", false, &b, &e), 0);
    assert_true(b);
    assert_int_equal(ifb_cfg_get_enum(c, "fabric.routing", modes, 0, &en, &e), 0);
    assert_int_equal(en, 1);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.ports", 0, 1, 1024, &i, &e), 0);
    assert_int_equal(i, 64);
    assert_int_equal(ifb_cfg_get_double(c, "fabric.load", 0, 0, 1, &d, &e), 0);
    assert_true(d == 0.75);
    assert_int_equal(ifb_cfg_get_string(c, "fabric.name", NULL, &s, &e), 0);
    assert_string_equal(s, "rack one");

    /* Absent: default, return 0, no error. */
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.uplink", 123, &u, &e), 0);
    assert_int_equal(u, 123);
    assert_int_equal(ifb_cfg_get_time(c, "timing.slot", 7, &t, &e), 0);
    assert_int_equal(t, 7);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.spines", -3, -10, 10, &i, &e), 0);
    assert_int_equal(i, -3);
    assert_int_equal(ifb_cfg_get_enum(c, "fabric.mode", modes, 2, &en, &e), 0);
    assert_int_equal(en, 2);
    assert_int_equal(ifb_cfg_get_string(c, "fabric.x", "dflt", &s, &e), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.pfc", true, &b, &e), 0);
    assert_true(b);

    assert_int_equal(ifb_cfg_check_unused(c, &e), 0);
    ifb_cfg_free(c);
}

static const char BAD[] = "fabric:\n"            /* 1 */
                          "  rate: 400\n"        /* 2 */
                          "  uplink: -5Gbps\n"   /* 3 */
                          "  spine: 0Gbps\n"     /* 4 */
                          "  huge: 1e30Gbps\n"   /* 5 */
                          "  typo: 400Gbs\n"     /* 6 */
                          "  delay: 0.5ps\n"     /* 7 */
                          "  wait: soon\n"       /* 8 */
                          "  buffer: 4096\n"     /* 9 */
                          "  cable: 5\n"         /* 10 */
                          "  ports: 2.5\n"       /* 11 */
                          "  count: 5000\n"      /* 12 */
                          "  load: 1.5\n"        /* 13 */
                          "  ecn: maybe\n"       /* 14 */
                          "  routing: adaptiv\n" /* 15 */
                          "  empty:\n"           /* 16 */
                          "  nested: {a: 1}\n"   /* 17 */
                          "  list: [1, 2]\n"     /* 18 */
                          "scalar: 5\n";         /* 19 */

static void test_getter_errors_name_file_line_key_found(void **state)
{
    (void)state;
    ifb_cfg *c = load_ok(BAD, "bad.yaml");
    ifb_err e = {{0}};
    uint64_t u = 99;
    ifb_time t = 99;
    int64_t i = 99;
    double d = 99;
    bool b = false;
    const char *s = NULL;
    int en = 99;
    static const char *const modes[] = {"ecmp", "adaptive", "spray", NULL};

    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:2:", "fabric.rate", "'400'", "missing unit", "400Gbps", NULL);
    assert_int_equal(u, 99);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.uplink", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:3:", "fabric.uplink", "'-5Gbps'", "negative", NULL);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.spine", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:4:", "fabric.spine", "'0Gbps'", "above zero", NULL);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.huge", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:5:", "fabric.huge", "'1e30Gbps'", "too large", NULL);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.typo", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:6:", "fabric.typo", "'400Gbs'", "unknown unit 'Gbs'", NULL);
    assert_int_equal(ifb_cfg_get_time(c, "fabric.delay", 1, &t, &e), -1);
    expect_msg(&e, "bad.yaml:7:", "fabric.delay", "'0.5ps'", "whole number of picoseconds", NULL);
    assert_int_equal(ifb_cfg_get_time(c, "fabric.wait", 1, &t, &e), -1);
    expect_msg(&e, "bad.yaml:8:", "fabric.wait", "'soon'", "560ns", NULL);
    assert_int_equal(t, 99);
    assert_int_equal(ifb_cfg_get_bytes(c, "fabric.buffer", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:9:", "fabric.buffer", "'4096'", "missing unit", "4KiB", NULL);
    assert_int_equal(ifb_cfg_get_distance(c, "fabric.cable", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:10:", "fabric.cable", "'5'", "missing unit", NULL);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.ports", 1, 1, 64, &i, &e), -1);
    expect_msg(&e, "bad.yaml:11:", "fabric.ports", "'2.5'", "integer from 1 to 64", NULL);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.count", 1, 1, 64, &i, &e), -1);
    expect_msg(&e, "bad.yaml:12:", "fabric.count", "'5000'", "out of range", NULL);
    assert_int_equal(i, 99);
    assert_int_equal(ifb_cfg_get_double(c, "fabric.load", 0, 0, 1, &d, &e), -1);
    expect_msg(&e, "bad.yaml:13:", "fabric.load", "'1.5'", "out of range", NULL);
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.ecn", false, &b, &e), -1);
    expect_msg(&e, "bad.yaml:14:", "fabric.ecn", "'maybe'", "true or false", NULL);
    assert_int_equal(ifb_cfg_get_enum(c, "fabric.routing", modes, 0, &en, &e), -1);
    expect_msg(&e, "bad.yaml:15:", "fabric.routing", "'adaptiv'", "ecmp, adaptive, spray",
               "did you mean 'adaptive'?", NULL);
    assert_int_equal(en, 99);
    /* A key with nothing after it is not silently the default. */
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.empty", 1, &u, &e), -1);
    expect_msg(&e, "bad.yaml:16:", "fabric.empty", "empty value", NULL);
    assert_int_equal(ifb_cfg_get_string(c, "fabric.empty", "x", &s, &e), -1);
    /* Wrong shapes. */
    assert_int_equal(ifb_cfg_get_string(c, "fabric.nested", NULL, &s, &e), -1);
    expect_msg(&e, "bad.yaml:17:", "fabric.nested", "a map", NULL);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.list", 0, 0, 9, &i, &e), -1);
    expect_msg(&e, "bad.yaml:18:", "fabric.list", "a sequence", NULL);
    assert_int_equal(ifb_cfg_get_int(c, "scalar.sub", 0, 0, 9, &i, &e), -1);
    expect_msg(&e, "bad.yaml:19:", "scalar", "expected a map", "'5'", NULL);
    assert_int_equal(ifb_cfg_get_int(c, "fabric.rate[0]", 0, 0, 9, &i, &e), -1);
    expect_msg(&e, "bad.yaml:2:", "fabric.rate", "sequence", NULL);
    int n = 5;
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.nested", &n, &e), -1);
    expect_msg(&e, "bad.yaml:17:", "fabric.nested", "expected a sequence", "found a map", NULL);
    assert_int_equal(ifb_cfg_map_len(c, "fabric.list", &n, &e), -1);
    expect_msg(&e, "bad.yaml:18:", "expected a map", "found a sequence", NULL);
    ifb_cfg_free(c);
}

static void test_errf_locates_missing_key_at_parent(void **state)
{
    (void)state;
    ifb_cfg *c = load_ok("a: 1\nfabric:\n  rate: 1G\n", "r.yaml");
    ifb_err e = {{0}};
    assert_int_equal(ifb_cfg_errf(c, "fabric.leaves", &e, "a number of leaves", "nothing"), -1);
    expect_msg(&e, "r.yaml:2:", "fabric.leaves", "expected a number of leaves", "found nothing",
               NULL);
    const char *file = NULL;
    assert_int_equal(ifb_cfg_where(c, "fabric.rate", &file), 3);
    assert_string_equal(file, "r.yaml");
    assert_int_equal(ifb_cfg_where(c, "fabric.nope", NULL), -1);
    ifb_cfg_free(c);
}

/* ---- Structure ------------------------------------------------------------------------------ */

static void test_file_sequences_and_maps(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_file(DATA "cfg_basic.yaml", &e);
    if (!c)
        fail_msg("%s", e.msg);
    int n = 0;
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.links", &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.nolinks", &n, &e), 0);
    assert_int_equal(n, -1);
    uint64_t u;
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.links[0].rate", 0, &u, &e), 0);
    assert_int_equal(u, 800000000000ull);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.links[1].rate", 0, &u, &e), 0);
    assert_int_equal(u, 400000000000ull);
    assert_int_equal(ifb_cfg_get_distance(c, "fabric.links[1].length", 0, &u, &e), 0);
    assert_int_equal(u, 400);
    assert_int_equal(ifb_cfg_where(c, "fabric.links[1].length", NULL), 10);
    assert_int_equal(ifb_cfg_where(c, "fabric.links[0].rate", NULL), 6);
    assert_int_equal(ifb_cfg_where(c, "fabric.links", NULL), 5);
    assert_int_equal(ifb_cfg_type(c, "fabric.links[1]"), IFB_CFG_MAP);
    assert_int_equal(ifb_cfg_type(c, "fabric.links[2]"), IFB_CFG_ABSENT);
    assert_int_equal(ifb_cfg_type(c, "workload.sizes"), IFB_CFG_SEQ);
    assert_true(ifb_cfg_has(c, "workload.concurrency"));
    assert_int_equal(ifb_cfg_seq_len(c, "workload.sizes", &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ifb_cfg_get_bytes(c, "workload.sizes[2]", 0, &u, &e), 0);
    assert_int_equal(u, 1u << 20);

    /* Map iteration in document order with key lines. */
    assert_int_equal(ifb_cfg_map_len(c, "classes", &n, &e), 0);
    assert_int_equal(n, 2);
    int line = 0;
    assert_string_equal(ifb_cfg_map_key(c, "classes", 0, &line), "gold");
    assert_int_equal(line, 16);
    assert_string_equal(ifb_cfg_map_key(c, "classes", 1, &line), "bronze");
    assert_int_equal(line, 17);
    assert_null(ifb_cfg_map_key(c, "classes", 2, &line));
    assert_null(ifb_cfg_map_key(c, "workload.sizes", 0, &line));
    assert_int_equal(ifb_cfg_map_len(c, "", &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ifb_cfg_map_key(c, "", 2, NULL), "classes");
    for (int i = 0; i < 2; i++) {
        char p[64];
        int64_t prio;
        snprintf(p, sizeof p, "classes.%s.prio", ifb_cfg_map_key(c, "classes", i, NULL));
        assert_int_equal(ifb_cfg_get_int(c, p, -1, 0, 7, &prio, &e), 0);
        assert_int_equal(prio, i == 0 ? 3 : 1);
    }
    ifb_cfg_free(c);
}

/* ---- --set ---------------------------------------------------------------------------------- */

static void test_set_overrides_and_creates(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_file(DATA "cfg_basic.yaml", &e);
    if (!c)
        fail_msg("%s", e.msg);
    uint64_t u;
    int64_t i;
    int n;
    const char *s, *file;
    assert_int_equal(ifb_cfg_set(c, "fabric.rate=800Gbps", &e), 0);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 0, &u, &e), 0);
    assert_int_equal(u, 800000000000ull);
    assert_int_equal(ifb_cfg_where(c, "fabric.rate", &file), 0);
    assert_string_equal(file, "--set");
    /* Replacing keeps the key's position. */
    assert_string_equal(ifb_cfg_map_key(c, "fabric", 1, NULL), "rate");

    assert_int_equal(ifb_cfg_set(c, " timing.slot.width = 2.5us ", &e), 0);
    ifb_time t;
    assert_int_equal(ifb_cfg_get_time(c, "timing.slot.width", 0, &t, &e), 0);
    assert_int_equal(t, 2500000);

    assert_int_equal(ifb_cfg_set(c, "fabric.links[1].rate=100G", &e), 0);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.links[1].rate", 0, &u, &e), 0);
    assert_int_equal(u, 100000000000ull);
    assert_int_equal(ifb_cfg_set(c, "fabric.links[2].rate=1Tbps", &e), 0); /* append */
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.links", &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ifb_cfg_set(c, "new.list[0]=x", &e), 0);
    assert_int_equal(ifb_cfg_get_string(c, "new.list[0]", NULL, &s, &e), 0);
    assert_string_equal(s, "x");

    assert_int_equal(ifb_cfg_set(c, "workload.concurrency=[1, 2, 4]", &e), 0);
    assert_int_equal(ifb_cfg_seq_len(c, "workload.concurrency", &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ifb_cfg_get_int(c, "workload.concurrency[2]", 0, 0, 99, &i, &e), 0);
    assert_int_equal(i, 4);
    /* Sweep lists without brackets stay one string for the caller. */
    assert_int_equal(ifb_cfg_set(c, "workload.sweep=20,40,60", &e), 0);
    assert_int_equal(ifb_cfg_get_string(c, "workload.sweep", NULL, &s, &e), 0);
    assert_string_equal(s, "20,40,60");
    assert_int_equal(ifb_cfg_set(c, "workload.label='a: b'", &e), 0);
    assert_int_equal(ifb_cfg_get_string(c, "workload.label", NULL, &s, &e), 0);
    assert_string_equal(s, "a: b");

    /* Errors from --set values say "--set key.path". */
    assert_int_equal(ifb_cfg_set(c, "fabric.rate=fast", &e), 0);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 0, &u, &e), -1);
    expect_msg(&e, "--set fabric.rate", "'fast'", "400Gbps", NULL);
    assert_null(strstr(e.msg, "cfg_basic.yaml"));
    assert_int_equal(ifb_cfg_set(c, "workload.concurrency=[1, x]", &e), 0);
    assert_int_equal(ifb_cfg_get_int(c, "workload.concurrency[1]", 0, 0, 99, &i, &e), -1);
    expect_msg(&e, "--set workload.concurrency[1]", "'x'", NULL);
    ifb_cfg_free(c);
}

static void test_set_errors_leave_tree_untouched(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_cfg *c = load_ok("fabric:\n  rate: 400G\n  links: [a]\n", "s.yaml");
    char *before = ifb_cfg_dump(c);
    assert_non_null(before);
    assert_int_equal(ifb_cfg_set(c, "fabric.rate", &e), -1);
    expect_msg(&e, "--set", "KEY.PATH=VALUE", "'fabric.rate'", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric..rate=1", &e), -1);
    expect_msg(&e, "--set", "'fabric..rate'", NULL);
    assert_int_equal(ifb_cfg_set(c, "=1", &e), -1);
    assert_int_equal(ifb_cfg_set(c, "fabric.rate.x.y=1", &e), -1);
    expect_msg(&e, "--set fabric.rate.x.y", "fabric.rate is '400G'", "s.yaml:2", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.links[5]=b", &e), -1);
    expect_msg(&e, "--set fabric.links[5]", "[5] with 1 elements", NULL);
    assert_int_equal(ifb_cfg_set(c, "a.b.c[3]=1", &e), -1);
    expect_msg(&e, "--set a.b.c[3]", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.links=[1, 2", &e), -1);
    expect_msg(&e, "--set fabric.links", "'[1, 2'", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.x=[*a]", &e), -1);
    char *after = ifb_cfg_dump(c);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ifb_cfg_free(c);
}

/* --set into element i of a sequence of maps that is shorter or absent (`fabric.queues[3].
 * lossless=true` where the scenario lists no queues): the elements before it become empty maps
 * (every key at its default); the new element holds only the key set. A scalar element past the
 * end has no such neutral filler and stays an error; so does an absurd index. */
static void test_set_pads_sequence_of_maps(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_cfg *c = load_ok("fabric:\n  mtu: 4096B\n  links: [{rate: 1G}]\n", "s.yaml");
    int n;
    bool b;
    uint64_t u;
    assert_int_equal(ifb_cfg_set(c, "fabric.queues[3].lossless=true", &e), 0);
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.queues", &n, &e), 0);
    assert_int_equal(n, 4);
    for (int i = 0; i < 3; i++) {
        char k[64];
        snprintf(k, sizeof k, "fabric.queues[%d]", i);
        assert_int_equal(ifb_cfg_type(c, k), IFB_CFG_MAP);
        assert_int_equal(ifb_cfg_map_len(c, k, &n, &e), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.queues[3].lossless", false, &b, &e), 0);
    assert_true(b);
    assert_int_equal(ifb_cfg_where(c, "fabric.queues[3].lossless", NULL), 0); /* --set line */
    /* an existing shorter list: padded after its last element, which is kept */
    assert_int_equal(ifb_cfg_set(c, "fabric.links[3].rate=4G", &e), 0);
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.links", &n, &e), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.links[0].rate", 0, &u, &e), 0);
    assert_int_equal(u, 1000000000ull);
    assert_int_equal(ifb_cfg_map_len(c, "fabric.links[2]", &n, &e), 0);
    assert_int_equal(n, 0);
    /* an element already there is edited in place, the others untouched */
    assert_int_equal(ifb_cfg_set(c, "fabric.queues[1].ecn=true", &e), 0);
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.queues", &n, &e), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.queues[3].lossless", false, &b, &e), 0);
    assert_true(b);
    /* the padded tree dumps as YAML that loads back to the same tree */
    char *d = ifb_cfg_dump(c);
    assert_non_null(d);
    ifb_cfg *c2 = load_ok(d, "dump.yaml");
    char *d2 = ifb_cfg_dump(c2);
    assert_string_equal(d, d2);
    free(d);
    free(d2);
    ifb_cfg_free(c2);
    /* refused, tree untouched: a scalar past the end, an index of 1024 or more */
    char *before = ifb_cfg_dump(c);
    assert_int_equal(ifb_cfg_set(c, "fabric.list[2]=x", &e), -1);
    expect_msg(&e, "--set fabric.list[2]", "index [0] for a new sequence", "[2]", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.links[9]=x", &e), -1);
    expect_msg(&e, "[9] with 4 elements", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.queues[1024].lossless=true", &e), -1);
    expect_msg(&e, "below 1024", "[1024]", NULL);
    assert_int_equal(ifb_cfg_set(c, "fabric.x[2][0].y=1", &e), -1);
    char *after = ifb_cfg_dump(c);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ifb_cfg_free(c);
}

/* ---- Unknown keys --------------------------------------------------------------------------- */

static void read_typo_fixture(ifb_cfg *c)
{
    ifb_err e = {{0}};
    uint64_t u;
    const char *s;
    int n;
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 0, &u, &e), 0);
    assert_int_equal(ifb_cfg_get_string(c, "fabric.switch", "x", &s, &e), 0);
    assert_int_equal(ifb_cfg_seq_len(c, "fabric.links", &n, &e), 0);
    for (int i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "fabric.links[%d].rate", i);
        assert_int_equal(ifb_cfg_get_rate(c, p, 1, &u, &e), 0);
    }
}

static void test_unknown_keys(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_file(DATA "cfg_typo.yaml", &e);
    if (!c)
        fail_msg("%s", e.msg);
    read_typo_fixture(c);
    assert_int_equal(ifb_cfg_check_unused(c, &e), -1);
    expect_msg(&e, "cfg_typo.yaml:3:", "fabric.swich", "unknown key 'swich'",
               "did you mean 'switch'?", "docs/scenario.md", "(and 1 more)", NULL);
    /* Once the first is dealt with, the one inside a sequence element is next. */
    ifb_cfg_mark_used(c, "fabric.swich");
    assert_int_equal(ifb_cfg_check_unused(c, &e), -1);
    expect_msg(&e, "cfg_typo.yaml:6:", "fabric.links[1].rat", "did you mean 'rate'?", NULL);
    assert_null(strstr(e.msg, "more"));
    ifb_cfg_mark_used(c, "fabric.links");
    assert_int_equal(ifb_cfg_check_unused(c, &e), 0);
    ifb_cfg_free(c);

    /* A whole unknown section, and an unknown key added by --set. */
    c = load_ok("fabric:\n  rate: 1G\nworkloda:\n  x: 1\n", "u.yaml");
    uint64_t u;
    assert_int_equal(ifb_cfg_get_rate(c, "fabric.rate", 0, &u, &e), 0);
    assert_int_equal(ifb_cfg_get_int(c, "workload.x", 0, 0, 9, &(int64_t){0}, &e), 0);
    assert_int_equal(ifb_cfg_check_unused(c, &e), -1);
    expect_msg(&e, "u.yaml:3:", "workloda", "did you mean 'workload'?", NULL);
    ifb_cfg_mark_used(c, "workloda");
    assert_int_equal(ifb_cfg_set(c, "fabric.rte=2G", &e), 0);
    assert_int_equal(ifb_cfg_check_unused(c, &e), -1);
    expect_msg(&e, "--set fabric.rte", "did you mean 'rate'?", NULL);
    ifb_cfg_free(c);
}

/* ---- Loading errors ------------------------------------------------------------------------- */

static void test_load_errors(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    assert_null(ifb_cfg_load_file(DATA "cfg_malformed.yaml", &e));
    expect_msg(&e, "cfg_malformed.yaml:4:", "column", "valid YAML", "starts at line 3", NULL);
    assert_null(ifb_cfg_load_string("a:\n\tb: 1\n", "tab.yaml", &e));
    expect_msg(&e, "tab.yaml:2:", "column 1", "not tabs", NULL);

    assert_null(ifb_cfg_load_file(DATA "no_such_file.yaml", &e));
    expect_msg(&e, "cannot open", "no_such_file.yaml", "No such file", NULL);

    assert_null(ifb_cfg_load_string("a: 1\nb: 2\na: 3\n", "dup.yaml", &e));
    expect_msg(&e, "dup.yaml:3:", "'a' a second time", "first at line 1", NULL);
    assert_null(ifb_cfg_load_string("x:\n  - {p: 1, p: 2}\n", "dup2.yaml", &e));
    expect_msg(&e, "dup2.yaml:2:", "x[0].p", NULL);

    assert_null(ifb_cfg_load_string("a: &anc 1\nb: *anc\n", "anchor.yaml", &e));
    expect_msg(&e, "anchor.yaml:1:", "anchor '&anc'", "not supported", NULL);
    assert_null(ifb_cfg_load_string("b: *anc\n", "alias.yaml", &e));
    expect_msg(&e, "alias.yaml:1:", NULL);

    assert_null(ifb_cfg_load_string("a: 1\n---\nb: 2\n", "multi.yaml", &e));
    expect_msg(&e, "multi.yaml:2:", "single YAML document", NULL);

    assert_null(ifb_cfg_load_string("- a\n- b\n", "list.yaml", &e));
    expect_msg(&e, "list.yaml:1:", "map of settings", "a sequence", NULL);

    assert_null(ifb_cfg_load_string("fabric:\n  a.b: 1\n", "dot.yaml", &e));
    expect_msg(&e, "dot.yaml:2:", "fabric", "'a.b'", NULL);

    assert_null(ifb_cfg_load_string("? [a]\n: 1\n", "ckey.yaml", &e));
    expect_msg(&e, "ckey.yaml:1:", "sequence used as a key", NULL);

    /* Deep nesting is an error, not a stack overflow. */
    char deep[2 * 200 + 8] = "a: ";
    for (int i = 0; i < 200; i++)
        strcat(deep, "[");
    for (int i = 0; i < 200; i++)
        strcat(deep, "]");
    assert_null(ifb_cfg_load_string(deep, "deep.yaml", &e));
    expect_msg(&e, "deep.yaml:1:", "nesting", NULL);

    /* Empty inputs are empty maps. */
    ifb_cfg *c = load_ok("", "<empty>");
    int n;
    assert_int_equal(ifb_cfg_map_len(c, "", &n, &e), 0);
    assert_int_equal(n, 0);
    assert_string_equal(ifb_cfg_name(c), "<empty>");
    assert_int_equal(ifb_cfg_check_unused(c, &e), 0);
    ifb_cfg_free(c);
    c = load_ok("# only a comment\n", "<embedded reference>");
    ifb_cfg_free(c);
}

/* ---- Determinism ---------------------------------------------------------------------------- */

/* Appends "path@line kind text" for every node, to compare two trees including lines. */
static void walk(ifb_cfg *c, const char *path, char *out, size_t cap)
{
    int line = ifb_cfg_where(c, path, NULL);
    ifb_cfg_kind k = ifb_cfg_type(c, path);
    const char *s = "";
    if (k == IFB_CFG_SCALAR)
        ifb_cfg_get_string(c, path, "", &s, NULL);
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s@%d %d %s\n", path, line, (int)k, s);
    int n = 0;
    char sub[256];
    if (k == IFB_CFG_SEQ && !ifb_cfg_seq_len(c, path, &n, NULL))
        for (int i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
            walk(c, sub, out, cap);
        }
    if (k == IFB_CFG_MAP && !ifb_cfg_map_len(c, path, &n, NULL))
        for (int i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "",
                     ifb_cfg_map_key(c, path, i, NULL));
            walk(c, sub, out, cap);
        }
}

static void test_determinism(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    static char w1[16384], w2[16384];
    ifb_cfg *a = ifb_cfg_load_file(DATA "cfg_basic.yaml", &e);
    ifb_cfg *b = ifb_cfg_load_file(DATA "cfg_basic.yaml", &e);
    assert_non_null(a);
    assert_non_null(b);
    w1[0] = w2[0] = '\0';
    walk(a, "", w1, sizeof w1);
    walk(b, "", w2, sizeof w2);
    assert_string_equal(w1, w2);
    assert_non_null(strstr(w1, "fabric.links[1].length@10 1 40cm\n"));
    char *d1 = ifb_cfg_dump(a), *d2 = ifb_cfg_dump(b);
    assert_non_null(d1);
    assert_string_equal(d1, d2);
    /* The dump reads back to the same values. */
    ifb_cfg *r = load_ok(d1, "<dump>");
    char *d3 = ifb_cfg_dump(r);
    assert_string_equal(d1, d3);
    uint64_t u;
    assert_int_equal(ifb_cfg_get_rate(r, "fabric.links[1].rate", 0, &u, &e), 0);
    assert_int_equal(u, 400000000000ull);
    free(d1);
    free(d2);
    free(d3);
    ifb_cfg_free(a);
    ifb_cfg_free(b);
    ifb_cfg_free(r);
}

/* The paths looked up (check --list-keys, completion): present or absent, every getter's path
 * once, sorted; indexes as written. */
static void test_asked_paths(void **state)
{
    (void)state;
    ifb_cfg *c = load_ok("fabric:\n  mtu: 4096B\nlist: [{a: 1}]\n", "asked.yaml");
    ifb_err e = {{0}};
    uint64_t b;
    int64_t v;
    bool f;
    assert_int_equal(ifb_cfg_get_bytes(c, "fabric.mtu", 0, &b, &e), 0);
    assert_int_equal(ifb_cfg_get_bytes(c, "fabric.mtu", 0, &b, &e), 0);
    assert_int_equal(ifb_cfg_get_bool(c, "fabric.vlan", false, &f, &e), 0); /* absent */
    assert_int_equal(ifb_cfg_get_int(c, "list[0].a", 0, 0, 9, &v, &e), 0);
    assert_int_equal(ifb_cfg_get_int(c, "zz.deep.key", 3, 0, 9, &v, &e), 0); /* no such map */
    const char *const *k;
    size_t n = ifb_cfg_asked(c, &k);
    assert_int_equal(n, 4);
    assert_string_equal(k[0], "fabric.mtu");
    assert_string_equal(k[1], "fabric.vlan");
    assert_string_equal(k[2], "list[0].a");
    assert_string_equal(k[3], "zz.deep.key");
    ifb_cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_units),
        cmocka_unit_test(test_time_units),
        cmocka_unit_test(test_bytes_and_distance_units),
        cmocka_unit_test(test_getters_values_and_defaults),
        cmocka_unit_test(test_getter_errors_name_file_line_key_found),
        cmocka_unit_test(test_errf_locates_missing_key_at_parent),
        cmocka_unit_test(test_file_sequences_and_maps),
        cmocka_unit_test(test_set_overrides_and_creates),
        cmocka_unit_test(test_set_errors_leave_tree_untouched),
        cmocka_unit_test(test_set_pads_sequence_of_maps),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_asked_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
