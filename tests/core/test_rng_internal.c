/* tests/core/test_rng_internal.c - contrl__rng_normals (lib/core/internal.h),
 * the agents' batch of normals, against contrl_rng_normal one call at a
 * time: the same bits in the same order, the spare included. Internal. */
#include <check.h>
#include <string.h>

#include "internal.h"

/* n normals both ways from the same state, after `pre` single draws (an
 * odd pre leaves a spare pending); the states must end equal too. */
static void compare(uint64_t seed, unsigned pre, size_t n)
{
    contrl_rng one, batch;
    contrl_rng_seed(&one, seed);
    for (unsigned i = 0; i < pre; i++)
        (void)contrl_rng_normal(&one);
    batch = one;
    float want[64], got[64 + 1];
    for (size_t i = 0; i < n; i++)
        want[i] = contrl_rng_normal(&one);
    got[n] = 12345.0f; /* canary: nothing past n is written */
    contrl__rng_normals(&batch, got, n);
    ck_assert_msg(memcmp(want, got, n * sizeof(float)) == 0, "seed %llu, pre %u, n %zu",
                  (unsigned long long)seed, pre, n);
    ck_assert_float_eq(got[n], 12345.0f);
    ck_assert_msg(memcmp(one.s, batch.s, sizeof one.s) == 0, "state: pre %u, n %zu", pre, n);
    ck_assert_uint_eq(one.has_spare, batch.has_spare);
    if (one.has_spare)
        ck_assert_msg(memcmp(&one.spare, &batch.spare, sizeof one.spare) == 0, "spare");
    /* and the next single draws agree */
    for (int i = 0; i < 3; i++) {
        float a = contrl_rng_normal(&one), b = contrl_rng_normal(&batch);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "draw %d after: pre %u, n %zu", i, pre, n);
    }
}

START_TEST(batch_normals_are_the_single_draws_bit_for_bit)
{
    for (uint64_t seed = 1; seed <= 5; seed++)
        for (unsigned pre = 0; pre <= 3; pre++)
            for (size_t n = 0; n <= 64; n++)
                compare(seed, pre, n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng-internal");
    TCase *tc = tcase_create("normals");
    tcase_add_test(tc, batch_normals_are_the_single_draws_bit_for_bit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
