/* Tests for the GPU catalogue (workload/gpu.c): lookup and its error, datasheet figures of H20 and
 * H800 against the hardware reference, roofline times at the compute and memory bounds and their
 * rounding, rejection of invalid efficiencies, dtype names, and the HBM fit check with DeepSeek-R1
 * FP8 weights spread over 16 and over 4 H20s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "workload/gpu.h"
#include "workload/model.h"

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

static void test_lookup(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    const ifb_gpu *h20 = ifb_gpu_find("h20", &e);
    assert_non_null(h20);
    assert_string_equal(h20->name, "H20");
    assert_true(h20->fp8_tflops == 296 && h20->bf16_tflops == 148);
    assert_true(h20->hbm_gb == 96 && h20->hbm_tbps == 4.0);
    assert_true(h20->nvlink_gbps_bidir == 900 && h20->sms == 78);
    assert_true(h20->hbm_bytes == 97871.0 * 1024 * 1024);
    assert_true(ifb_gpu_nvlink_bw_per_dir(h20) == 450e9);
    const ifb_gpu *h800 = ifb_gpu_find("H800", &e);
    assert_non_null(h800);
    assert_true(h800->fp8_tflops == 1979 && h800->bf16_tflops == 989);
    assert_true(h800->hbm_gb == 80 && h800->hbm_tbps == 3.35);
    assert_true(h800->nvlink_gbps_bidir == 400 && h800->sms == 132);
    const char *names[] = {"H100-SXM", "H100", "H200", "B200", "H20-3e"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const ifb_gpu *g = ifb_gpu_find(names[i], &e);
        assert_non_null(g);
        /* Dense FP8 is twice dense BF16 on all of these (datasheets round: 1979 vs 989);
         * every entry cites a source. */
        assert_true(fabs(g->fp8_tflops - 2 * g->bf16_tflops) <= 0.001 * g->fp8_tflops);
        assert_true(g->source && strlen(g->source) > 10);
        assert_true(g->hbm_bytes >= 0.9 * g->hbm_gb * 1e9);
    }
    assert_true(ifb_gpu_count() >= 5);
    assert_null(ifb_gpu_at(ifb_gpu_count()));

    assert_null(ifb_gpu_find("A100", &e));
    assert_contains(e.msg, "A100");
    for (size_t i = 0; i < ifb_gpu_count(); i++)
        assert_contains(e.msg, ifb_gpu_at(i)->name);
    assert_null(ifb_gpu_find(NULL, &e));
}

static void test_roofline(void **state)
{
    (void)state;
    const ifb_gpu *g = ifb_gpu_find("H20", NULL);
    /* 296e12 FP8 FLOPs at full peak: exactly one second; BF16 runs at half the rate. */
    assert_true(ifb_gpu_op_time(g, 296e12, 0, IFB_DTYPE_FP8, 1, 1) == IFB_SEC);
    assert_true(ifb_gpu_op_time(g, 296e12, 0, IFB_DTYPE_BF16, 1, 1) == 2 * IFB_SEC);
    /* 4e12 bytes at 4 TB/s: one second; the slower bound wins. */
    assert_true(ifb_gpu_op_time(g, 0, 4e12, IFB_DTYPE_FP8, 1, 1) == IFB_SEC);
    assert_true(ifb_gpu_op_time(g, 296e12, 8e12, IFB_DTYPE_FP8, 1, 1) == 2 * IFB_SEC);
    assert_true(ifb_gpu_op_time(g, 2 * 296e12, 4e12, IFB_DTYPE_FP8, 1, 1) == 2 * IFB_SEC);
    /* Efficiencies scale each bound separately. */
    assert_true(ifb_gpu_op_time(g, 296e12, 4e12, IFB_DTYPE_FP8, 0.5, 1) == 2 * IFB_SEC);
    assert_true(ifb_gpu_op_time(g, 296e12, 4e12, IFB_DTYPE_FP8, 1, 0.25) == 4 * IFB_SEC);
    /* Rounded up to a whole picosecond, never down to zero. */
    assert_true(ifb_gpu_op_time(g, 1, 0, IFB_DTYPE_FP8, 1, 1) == 1);
    assert_true(ifb_gpu_op_time(g, 0, 0, IFB_DTYPE_FP8, 1, 1) == 0);
    /* Invalid arguments */
    assert_true(ifb_gpu_op_time(g, 1, 1, IFB_DTYPE_FP8, 0, 1) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(g, 1, 1, IFB_DTYPE_FP8, 1.5, 1) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(g, 1, 1, IFB_DTYPE_FP8, 1, NAN) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(g, -1, 1, IFB_DTYPE_FP8, 1, 1) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(g, 1, 0, IFB_DTYPE_FP32, 1, 1) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(g, 1e40, 0, IFB_DTYPE_FP8, 1, 1) == IFB_TIME_NEVER);
    assert_true(ifb_gpu_op_time(NULL, 1, 1, IFB_DTYPE_FP8, 1, 1) == IFB_TIME_NEVER);
    /* H800 computes 1979/296 = 6.7x faster in FP8. */
    const ifb_gpu *h800 = ifb_gpu_find("H800", NULL);
    ifb_time a = ifb_gpu_op_time(g, 1e15, 0, IFB_DTYPE_FP8, 1, 1);
    ifb_time b = ifb_gpu_op_time(h800, 1e15, 0, IFB_DTYPE_FP8, 1, 1);
    assert_true(fabs((double)a / (double)b - 1979.0 / 296.0) < 1e-6);
}

static void test_dtype(void **state)
{
    (void)state;
    ifb_dtype d;
    ifb_err e = {{0}};
    assert_int_equal(ifb_dtype_parse("BFloat16", NULL, &d, &e), 0);
    assert_int_equal(d, IFB_DTYPE_BF16);
    assert_int_equal(ifb_dtype_parse("e4m3", NULL, &d, &e), 0);
    assert_int_equal(d, IFB_DTYPE_FP8);
    assert_int_equal(ifb_dtype_bytes(IFB_DTYPE_FP8), 1);
    assert_int_equal(ifb_dtype_bytes(IFB_DTYPE_BF16), 2);
    assert_int_equal(ifb_dtype_bytes(IFB_DTYPE_FP32), 4);
    assert_string_equal(ifb_dtype_name(IFB_DTYPE_FP16), "fp16");
    assert_int_equal(ifb_dtype_parse("int4", "kv_dtype", &d, &e), -1);
    assert_non_null(strstr(e.msg, "kv_dtype"));
    assert_non_null(strstr(e.msg, "int4"));
}

static void test_memory_check(void **state)
{
    (void)state;
    ifb_model m;
    ifb_err e = {{0}};
    assert_int_equal(ifb_model_load(&m, IFB_SOURCE_DIR "/data/models/deepseek-r1-config.json", &e),
                     0);
    ifb_weight_bytes w;
    ifb_model_weight_bytes(&m, IFB_DTYPE_FP8, 0, &w);
    const ifb_gpu *g = ifb_gpu_find("H20", NULL);
    /* 16 H20: 42 GB of weights each, room for 40 GB of KV cache and 5 GB of activations. */
    assert_int_equal(ifb_gpu_memory_check(g, w.total / 16, 40e9, 5e9, &e), 0);
    /* 4 H20: 168 GB of weights each cannot fit in 102.6 GB. */
    assert_int_equal(ifb_gpu_memory_check(g, w.total / 4, 0, 0, &e), -1);
    char expect[64];
    snprintf(expect, sizeof expect, "misses by %.2f GB", (w.total / 4 - g->hbm_bytes) / 1e9);
    assert_non_null(strstr(e.msg, expect));
    assert_non_null(strstr(e.msg, "H20"));
    double miss = (w.total / 4 - g->hbm_bytes) / 1e9;
    assert_true(miss > 60 && miss < 70);
    /* The KV cache and activations count too. */
    assert_int_equal(ifb_gpu_memory_check(g, w.total / 16, 60e9, 1e9, &e), -1);
    assert_non_null(strstr(e.msg, "60.00 GB KV cache"));
    assert_int_equal(ifb_gpu_memory_check(g, -1, 0, 0, &e), -1);
    assert_int_equal(ifb_gpu_memory_check(NULL, 1, 0, 0, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_roofline),
        cmocka_unit_test(test_dtype),
        cmocka_unit_test(test_memory_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
