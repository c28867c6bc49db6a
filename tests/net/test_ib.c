/* InfiniBand VL arbitration and credit arithmetic against hand-computed sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/link/ib.h"

static void test_blocks(void **state)
{
    (void)state;
    assert_int_equal(ifb_ib_blocks(0), 0);
    assert_int_equal(ifb_ib_blocks(1), 1);
    assert_int_equal(ifb_ib_blocks(64), 1);
    assert_int_equal(ifb_ib_blocks(65), 2);
    assert_int_equal(ifb_ib_blocks(4096 + 8 + 12 + 4 + 2), 65); /* 4122 B */
}

/* Low table VL0 weight 3 x 64 B, VL1 weight 1 x 64 B, 64-byte packets: the byte share is 3:1. */
static void test_weighted_share(void **state)
{
    (void)state;
    ifb_vlarb_cfg c = {0};
    c.low[0] = (ifb_vlarb_entry){0, 3};
    c.low[1] = (ifb_vlarb_entry){1, 1};
    c.nlow = 2;
    c.high_limit = 255;
    ifb_vlarb st = {0};
    uint32_t head[IFB_IB_MAX_VLS] = {64, 64};
    int count[2] = {0};
    for (int i = 0; i < 400; i++)
        count[ifb_vlarb_pick(&st, &c, 0x3, head)]++;
    assert_int_equal(count[0], 300);
    assert_int_equal(count[1], 100);
    /* only VL1 eligible: it gets every slot */
    assert_int_equal(ifb_vlarb_pick(&st, &c, 0x2, head), 1);
    assert_int_equal(ifb_vlarb_pick(&st, &c, 0x2, head), 1);
    assert_int_equal(ifb_vlarb_pick(&st, &c, 0x0, head), -1);
}

/* High table always wins unless the high limit lets one low packet through. */
static void test_high_limit(void **state)
{
    (void)state;
    ifb_vlarb_cfg c = {0};
    c.high[0] = (ifb_vlarb_entry){2, 255};
    c.nhigh = 1;
    c.low[0] = (ifb_vlarb_entry){0, 64};
    c.nlow = 1;
    uint32_t head[IFB_IB_MAX_VLS] = {[0] = 1024, [2] = 1024};
    ifb_vlarb st = {0};
    c.high_limit = 255; /* unlimited: low starves while high has data */
    for (int i = 0; i < 100; i++)
        assert_int_equal(ifb_vlarb_pick(&st, &c, 0x5, head), 2);
    c.high_limit = 1; /* 4096 bytes of high, then one low */
    st = (ifb_vlarb){0};
    int seq[10];
    for (int i = 0; i < 10; i++)
        seq[i] = ifb_vlarb_pick(&st, &c, 0x5, head);
    const int want[10] = {2, 2, 2, 2, 0, 2, 2, 2, 2, 0};
    assert_memory_equal(seq, want, sizeof want);
    /* low alone goes whenever high is idle */
    assert_int_equal(ifb_vlarb_pick(&st, &c, 0x1, head), 0);
}

static void test_default(void **state)
{
    (void)state;
    ifb_vlarb_cfg c;
    ifb_vlarb_cfg_default(&c, 4);
    assert_int_equal(c.nlow, 4);
    assert_int_equal(c.nhigh, 0);
    ifb_vlarb st = {0};
    uint32_t head[IFB_IB_MAX_VLS] = {4096, 4096, 4096, 4096};
    /* 4096-byte packets use an entry's 64 x 64 B in one go: plain round robin */
    for (int i = 0; i < 8; i++)
        assert_int_equal(ifb_vlarb_pick(&st, &c, 0xf, head), i % 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_weighted_share),
        cmocka_unit_test(test_high_limit),
        cmocka_unit_test(test_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
