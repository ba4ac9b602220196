/* tests/her/test_normalizer.c - the running normaliser of contrl/her.h:
 * statistics against values worked out by hand and against a two-pass
 * double reference written here, clipping, the eps floor, the no-data
 * identity, state round trips, refused input leaving everything as it was,
 * the size-versioned config, and allocation only at create. Public API. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/her.h"

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

/* |got - want| <= tol * max(1, |want|). */
static void assert_close(double got, double want, double tol, const char *what, int i)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= tol * scale, "%s[%d] = %.9g, want %.9g", what, i, got,
                  want);
}

static contrl_normalizer *make(uint32_t dim, float clip, float eps)
{
    contrl_normalizer_config cfg = contrl_normalizer_config_default();
    cfg.dim = dim;
    cfg.clip = clip;
    cfg.eps = eps;
    contrl_normalizer *nm = NULL;
    contrl_status st = contrl_normalizer_create(&cfg, &nm);
    ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
    ck_assert_ptr_nonnull(nm);
    return nm;
}

/* Deterministic test data: rows of dim values, column j has mean about j
 * and spread about (j + 1) / 2. */
static float *make_data(uint64_t rows, uint32_t dim, uint64_t seed)
{
    float *x = malloc(rows * dim * sizeof *x);
    ck_assert_ptr_nonnull(x);
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    for (uint64_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < dim; j++)
            x[r * dim + j] = (float)j + (float)(j + 1) * (contrl_rng_uniform(&rng) - 0.5f);
    return x;
}

/* ---- Tests --------------------------------------------------------------- */

START_TEST(normalizer_config_defaults_are_clip_5_eps_0_01_and_dim_required)
{
    contrl_normalizer_config cfg = contrl_normalizer_config_default();
    ck_assert_uint_eq(cfg.size, sizeof cfg);
    ck_assert_uint_eq(cfg.dim, 0);
    ck_assert_float_eq(cfg.clip, 5.0f);
    ck_assert_float_eq(cfg.eps, 0.01f);
    ck_assert(cfg.allocator.alloc == NULL);
    ck_assert(cfg.allocator.free == NULL);
    contrl_normalizer *nm = (contrl_normalizer *)&cfg; /* must be overwritten */
    ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_create", "dim");
    ck_assert_ptr_null(nm);
}
END_TEST

START_TEST(normalizer_mean_and_std_match_hand_computed_values)
{
    /* Column 0: 1, 2, 3, 4 -> mean 2.5, var 1.25; column 1: 10, 10, 10, 14
     * -> mean 11, var (1 + 1 + 1 + 9) / 4 = 3 (population variance, as the
     * HER reference code uses). */
    contrl_normalizer *nm = make(2, 5.0f, 0.01f);
    ck_assert_uint_eq(contrl_normalizer_dim(nm), 2);
    const float x[4][2] = {{1, 10}, {2, 10}, {3, 10}, {4, 14}};
    ck_assert_int_eq(contrl_normalizer_update(nm, &x[0][0], 4), CONTRL_OK);
    float mean[2], std[2];
    ck_assert_int_eq(contrl_normalizer_stats(nm, mean, std), CONTRL_OK);
    assert_close(mean[0], 2.5, 1e-6, "mean", 0);
    assert_close(mean[1], 11.0, 1e-6, "mean", 1);
    assert_close(std[0], sqrt(1.25), 1e-6, "std", 0);
    assert_close(std[1], sqrt(3.0), 1e-6, "std", 1);

    uint64_t count;
    double sum[2], sum_sq[2];
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &count, sum, sum_sq), CONTRL_OK);
    ck_assert_uint_eq(count, 4);
    ck_assert(sum[0] == 10.0 && sum[1] == 44.0);
    ck_assert(sum_sq[0] == 30.0 && sum_sq[1] == 496.0);

    /* (5 - 2.5) / sqrt(1.25) = sqrt(5); (8 - 11) / sqrt(3) = -sqrt(3). */
    const float in[2] = {5.0f, 8.0f};
    float out[2];
    ck_assert_int_eq(contrl_normalizer_apply(nm, in, 1, out), CONTRL_OK);
    assert_close(out[0], sqrt(5.0), 1e-6, "out", 0);
    assert_close(out[1], -sqrt(3.0), 1e-6, "out", 1);
    /* Either stats output may be NULL. */
    float only[2] = {-1.0f, -1.0f};
    ck_assert_int_eq(contrl_normalizer_stats(nm, NULL, only), CONTRL_OK);
    ck_assert_float_eq(only[0], std[0]);
    ck_assert_int_eq(contrl_normalizer_stats(nm, only, NULL), CONTRL_OK);
    ck_assert_float_eq(only[1], mean[1]);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_split_updates_match_one_update_and_a_two_pass_reference)
{
    enum { ROWS = 1000, DIM = 5 };
    float *x = make_data(ROWS, DIM, 3);
    contrl_normalizer *one = make(DIM, 5.0f, 0.01f), *split = make(DIM, 5.0f, 0.01f);
    ck_assert_int_eq(contrl_normalizer_update(one, x, ROWS), CONTRL_OK);
    const uint64_t parts[] = {1, 7, 0, 100, 392, 500};
    uint64_t at = 0;
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        ck_assert_int_eq(contrl_normalizer_update(split, x + at * DIM, parts[p]), CONTRL_OK);
        at += parts[p];
    }
    ck_assert_uint_eq(at, ROWS);

    float m1[DIM], s1[DIM], m2[DIM], s2[DIM];
    ck_assert_int_eq(contrl_normalizer_stats(one, m1, s1), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(split, m2, s2), CONTRL_OK);
    /* Two-pass reference in double. */
    for (int j = 0; j < DIM; j++) {
        double mean = 0.0, var = 0.0;
        for (int r = 0; r < ROWS; r++)
            mean += x[r * DIM + j];
        mean /= ROWS;
        for (int r = 0; r < ROWS; r++)
            var += (x[r * DIM + j] - mean) * (x[r * DIM + j] - mean);
        double sd = sqrt(var / ROWS);
        assert_close(m1[j], m2[j], 1e-6, "split mean", j);
        assert_close(s1[j], s2[j], 1e-6, "split std", j);
        assert_close(m1[j], mean, 1e-6, "mean", j);
        assert_close(s1[j], sd, 1e-6, "std", j);
    }
    uint64_t c1, c2;
    double sum1[DIM], sq1[DIM], sum2[DIM], sq2[DIM];
    ck_assert_int_eq(contrl_normalizer_get_state(one, &c1, sum1, sq1), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_get_state(split, &c2, sum2, sq2), CONTRL_OK);
    ck_assert_uint_eq(c1, ROWS);
    ck_assert_uint_eq(c2, ROWS);
    for (int j = 0; j < DIM; j++) {
        assert_close(sum1[j], sum2[j], 1e-9, "sum", j);
        assert_close(sq1[j], sq2[j], 1e-9, "sum_sq", j);
    }
    contrl_normalizer_destroy(one);
    contrl_normalizer_destroy(split);
    free(x);
}
END_TEST

START_TEST(normalizer_apply_clips_to_plus_minus_clip)
{
    /* Rows -1 and 1: mean 0, std 1, so the output is the input, clipped to
     * [-2, 2]. */
    contrl_normalizer *nm = make(1, 2.0f, 0.01f);
    const float data[2] = {-1.0f, 1.0f};
    ck_assert_int_eq(contrl_normalizer_update(nm, data, 2), CONTRL_OK);
    const float in[7] = {10.0f, -10.0f, 1.5f, -1.999f, 2.0f, 2.0001f, 1e30f};
    const float want[7] = {2.0f, -2.0f, 1.5f, -1.999f, 2.0f, 2.0f, 2.0f};
    float out[7];
    ck_assert_int_eq(contrl_normalizer_apply(nm, in, 7, out), CONTRL_OK);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(out[i] == want[i], "out[%d] = %.9g, want %.9g", i, (double)out[i],
                      (double)want[i]);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_std_of_constant_data_is_floored_at_eps)
{
    /* Columns constant at 3 and at 1000: variance 0, std floored to eps. */
    contrl_normalizer *nm = make(2, 5.0f, 0.01f);
    float rows[50][2];
    for (int r = 0; r < 50; r++) {
        rows[r][0] = 3.0f;
        rows[r][1] = 1e3f;
    }
    ck_assert_int_eq(contrl_normalizer_update(nm, &rows[0][0], 50), CONTRL_OK);
    float mean[2], std[2];
    ck_assert_int_eq(contrl_normalizer_stats(nm, mean, std), CONTRL_OK);
    ck_assert_float_eq(mean[0], 3.0f);
    ck_assert_float_eq(mean[1], 1e3f);
    ck_assert_float_eq(std[0], 0.01f);
    ck_assert_float_eq(std[1], 0.01f);
    /* (3.02 - 3) / 0.01 = 2 (up to the float rounding of 3.02); 4 clips. */
    const float in[2] = {3.02f, 1e3f};
    float out[2];
    ck_assert_int_eq(contrl_normalizer_apply(nm, in, 1, out), CONTRL_OK);
    ck_assert_float_eq_tol(out[0], 2.0f, 1e-4f);
    ck_assert_float_eq(out[1], 0.0f);
    const float far[2] = {4.0f, 0.0f};
    ck_assert_int_eq(contrl_normalizer_apply(nm, far, 1, out), CONTRL_OK);
    ck_assert(out[0] == 5.0f && out[1] == -5.0f);
    contrl_normalizer_destroy(nm);

    /* A larger eps wins over a real but smaller std. */
    nm = make(1, 5.0f, 0.5f);
    const float spread[2] = {-0.1f, 0.1f}; /* std 0.1 */
    ck_assert_int_eq(contrl_normalizer_update(nm, spread, 2), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(nm, NULL, std), CONTRL_OK);
    ck_assert_float_eq(std[0], 0.5f);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_with_no_data_uses_mean_0_std_1)
{
    contrl_normalizer *nm = make(3, 5.0f, 0.01f);
    float mean[3], std[3];
    ck_assert_int_eq(contrl_normalizer_stats(nm, mean, std), CONTRL_OK);
    for (int j = 0; j < 3; j++)
        ck_assert(mean[j] == 0.0f && std[j] == 1.0f);
    const float in[6] = {-3.0f, 0.0f, 0.25f, 4.9f, 7.0f, -1e9f};
    const float want[6] = {-3.0f, 0.0f, 0.25f, 4.9f, 5.0f, -5.0f};
    float out[6];
    ck_assert_int_eq(contrl_normalizer_apply(nm, in, 2, out), CONTRL_OK);
    ck_assert_mem_eq(out, want, sizeof want);
    /* An update of zero rows adds nothing (x may then be NULL). */
    ck_assert_int_eq(contrl_normalizer_update(nm, NULL, 0), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_apply(nm, in, 2, out), CONTRL_OK);
    ck_assert_mem_eq(out, want, sizeof want);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_apply_in_place_equals_apply_out_of_place)
{
    enum { ROWS = 64, DIM = 7 };
    float *data = make_data(300, DIM, 8), *x = make_data(ROWS, DIM, 9);
    for (int i = 0; i < ROWS * DIM; i += 5)
        x[i] *= 40.0f; /* some values beyond the clip */
    contrl_normalizer *nm = make(DIM, 5.0f, 0.01f);
    ck_assert_int_eq(contrl_normalizer_update(nm, data, 300), CONTRL_OK);
    float out[ROWS * DIM];
    ck_assert_int_eq(contrl_normalizer_apply(nm, x, ROWS, out), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_apply(nm, x, ROWS, x), CONTRL_OK);
    ck_assert_mem_eq(x, out, sizeof out);
    /* And the values are the documented formula computed in float. */
    float mean[DIM], std[DIM];
    ck_assert_int_eq(contrl_normalizer_stats(nm, mean, std), CONTRL_OK);
    float *orig = make_data(ROWS, DIM, 9);
    int clipped = 0;
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < DIM; j++) {
            float v = orig[r * DIM + j] * (((r * DIM + j) % 5 == 0) ? 40.0f : 1.0f);
            float z = (v - mean[j]) / std[j];
            z = z < -5.0f ? -5.0f : z > 5.0f ? 5.0f : z;
            clipped += fabsf(z) == 5.0f;
            ck_assert_float_eq(out[r * DIM + j], z);
        }
    ck_assert_int_gt(clipped, 0);
    free(orig);
    free(x);
    free(data);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_rejects_nonfinite_input_and_keeps_its_statistics)
{
    enum { DIM = 3 };
    contrl_normalizer *nm = make(DIM, 5.0f, 0.01f);
    float *data = make_data(20, DIM, 4);
    ck_assert_int_eq(contrl_normalizer_update(nm, data, 20), CONTRL_OK);
    uint64_t c0, c1;
    double s0[DIM], q0[DIM], s1[DIM], q1[DIM];
    float m0[DIM], d0[DIM], m1[DIM], d1[DIM];
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &c0, s0, q0), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(nm, m0, d0), CONTRL_OK);

    const float bad_values[3] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        float rows[4 * DIM];
        memcpy(rows, data, sizeof rows);
        rows[2 * DIM + 1] = bad_values[b]; /* in the middle of the third row */
        ck_assert_int_eq(contrl_normalizer_update(nm, rows, 4), CONTRL_ERR_NONFINITE);
        assert_error_mentions("contrl_normalizer_update", "NaN or Inf");
        ck_assert_int_eq(contrl_normalizer_get_state(nm, &c1, s1, q1), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_stats(nm, m1, d1), CONTRL_OK);
        ck_assert_uint_eq(c1, c0);
        ck_assert_mem_eq(s1, s0, sizeof s0);
        ck_assert_mem_eq(q1, q0, sizeof q0);
        ck_assert_mem_eq(m1, m0, sizeof m0);
        ck_assert_mem_eq(d1, d0, sizeof d0);

        /* apply refuses too, before writing anything (in place here). */
        float copy[4 * DIM];
        memcpy(copy, rows, sizeof rows);
        ck_assert_int_eq(contrl_normalizer_apply(nm, rows, 4, rows), CONTRL_ERR_NONFINITE);
        assert_error_mentions("contrl_normalizer_apply", "NaN or Inf");
        ck_assert_mem_eq(rows, copy, sizeof rows);
    }
    free(data);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_state_round_trips_bit_exactly)
{
    enum { DIM = 4, ROWS = 333 };
    float *data = make_data(ROWS, DIM, 12);
    contrl_normalizer *a = make(DIM, 5.0f, 0.01f), *b = make(DIM, 5.0f, 0.01f);
    ck_assert_int_eq(contrl_normalizer_update(a, data, ROWS), CONTRL_OK);
    uint64_t ca, cb;
    double sa[DIM], qa[DIM], sb[DIM], qb[DIM];
    ck_assert_int_eq(contrl_normalizer_get_state(a, &ca, sa, qa), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_set_state(b, ca, sa, qa), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_get_state(b, &cb, sb, qb), CONTRL_OK);
    ck_assert_uint_eq(ca, ROWS);
    ck_assert_uint_eq(cb, ca);
    ck_assert_mem_eq(sb, sa, sizeof sa);
    ck_assert_mem_eq(qb, qa, sizeof qa);
    float ma[DIM], da[DIM], mb[DIM], db[DIM];
    ck_assert_int_eq(contrl_normalizer_stats(a, ma, da), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(b, mb, db), CONTRL_OK);
    ck_assert_mem_eq(mb, ma, sizeof ma);
    ck_assert_mem_eq(db, da, sizeof da);
    float oa[ROWS * DIM], ob[ROWS * DIM];
    ck_assert_int_eq(contrl_normalizer_apply(a, data, ROWS, oa), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_apply(b, data, ROWS, ob), CONTRL_OK);
    ck_assert_mem_eq(ob, oa, sizeof oa);
    /* Both continue identically. */
    ck_assert_int_eq(contrl_normalizer_update(a, data, 10), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_update(b, data, 10), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_get_state(a, &ca, sa, qa), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_get_state(b, &cb, sb, qb), CONTRL_OK);
    ck_assert_uint_eq(cb, ca);
    ck_assert_mem_eq(sb, sa, sizeof sa);
    ck_assert_mem_eq(qb, qa, sizeof qa);
    /* Setting count 0 with zero sums goes back to the identity. */
    const double zeros[DIM] = {0};
    ck_assert_int_eq(contrl_normalizer_set_state(b, 0, zeros, zeros), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(b, mb, db), CONTRL_OK);
    for (int j = 0; j < DIM; j++)
        ck_assert(mb[j] == 0.0f && db[j] == 1.0f);
    free(data);
    contrl_normalizer_destroy(a);
    contrl_normalizer_destroy(b);
}
END_TEST

START_TEST(normalizer_set_state_rejects_bad_state_and_keeps_the_old_one)
{
    enum { DIM = 2 };
    contrl_normalizer *nm = make(DIM, 5.0f, 0.01f);
    const float data[6] = {1, 2, 3, 4, 5, 7};
    ck_assert_int_eq(contrl_normalizer_update(nm, data, 3), CONTRL_OK);
    uint64_t c0, c1;
    double s0[DIM], q0[DIM], s1[DIM], q1[DIM];
    float m0[DIM], m1[DIM];
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &c0, s0, q0), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(nm, m0, NULL), CONTRL_OK);

    const double good_sum[DIM] = {1.0, 2.0}, good_sq[DIM] = {1.0, 4.0};
    const double nan_sum[DIM] = {1.0, NAN}, inf_sq[DIM] = {INFINITY, 4.0};
    const double neg_sq[DIM] = {1.0, -1e-300};
    const struct {
        uint64_t count;
        const double *sum, *sq;
        contrl_status want;
        const char *mention;
    } cases[] = {
        {5, nan_sum, good_sq, CONTRL_ERR_NONFINITE, "sum[1]"},
        {5, good_sum, inf_sq, CONTRL_ERR_NONFINITE, "sum_sq[0]"},
        {5, good_sum, neg_sq, CONTRL_ERR_INVALID_ARG, "sum_sq[1]"},
        {0, good_sum, good_sq, CONTRL_ERR_INVALID_ARG, "count is 0"},
        {5, NULL, good_sq, CONTRL_ERR_INVALID_ARG, "sum is NULL"},
        {5, good_sum, NULL, CONTRL_ERR_INVALID_ARG, "sum_sq is NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(contrl_normalizer_set_state(nm, cases[i].count, cases[i].sum,
                                                     cases[i].sq),
                         cases[i].want);
        assert_error_mentions("contrl_normalizer_set_state", cases[i].mention);
        ck_assert_int_eq(contrl_normalizer_get_state(nm, &c1, s1, q1), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_stats(nm, m1, NULL), CONTRL_OK);
        ck_assert_uint_eq(c1, c0);
        ck_assert_mem_eq(s1, s0, sizeof s0);
        ck_assert_mem_eq(q1, q0, sizeof q0);
        ck_assert_mem_eq(m1, m0, sizeof m0);
    }
    ck_assert_int_eq(contrl_normalizer_set_state(NULL, 1, good_sum, good_sq),
                     CONTRL_ERR_INVALID_ARG);
    /* The good state is accepted: mean 1/5, 2/5. */
    ck_assert_int_eq(contrl_normalizer_set_state(nm, 5, good_sum, good_sq), CONTRL_OK);
    ck_assert_int_eq(contrl_normalizer_stats(nm, m1, NULL), CONTRL_OK);
    ck_assert(m1[0] == 0.2f && m1[1] == 0.4f);
    contrl_normalizer_destroy(nm);
}
END_TEST

START_TEST(normalizer_create_rejects_bad_config_with_out_null)
{
    const contrl_normalizer_config good = contrl_normalizer_config_default();
    alloc_counter c = {0};
    const struct {
        uint32_t dim;
        float clip, eps;
        const char *mention;
    } cases[] = {
        {0, 5.0f, 0.01f, "dim"},        {2, 0.0f, 0.01f, "clip"},
        {2, -1.0f, 0.01f, "clip"},      {2, NAN, 0.01f, "clip"},
        {2, INFINITY, 0.01f, "clip"},   {2, 5.0f, 0.0f, "eps"},
        {2, 5.0f, -1e-3f, "eps"},       {2, 5.0f, NAN, "eps"},
        {2, 5.0f, INFINITY, "eps"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        contrl_normalizer_config cfg = good;
        cfg.dim = cases[i].dim;
        cfg.clip = cases[i].clip;
        cfg.eps = cases[i].eps;
        cfg.allocator =
            (contrl_allocator){alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
        contrl_normalizer *nm = (contrl_normalizer *)&c; /* must be overwritten */
        ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_normalizer_create", cases[i].mention);
        ck_assert_ptr_null(nm);
    }
    ck_assert_int_eq(c.allocs, 0);

    contrl_normalizer_config cfg = good;
    cfg.dim = 2;
    contrl_normalizer *nm = (contrl_normalizer *)&c;
    ck_assert_int_eq(contrl_normalizer_create(NULL, &nm), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(nm);
    ck_assert_int_eq(contrl_normalizer_create(&cfg, NULL), CONTRL_ERR_INVALID_ARG);
    cfg.allocator = (contrl_allocator){alloc_counter_alloc_checked, NULL, &c};
    ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_create", "allocator");
    ck_assert_int_eq(c.allocs, 0);
    /* Small positive values are fine. */
    cfg = good;
    cfg.dim = 1;
    cfg.clip = 1e-6f;
    cfg.eps = 1e-30f;
    ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_OK);
    contrl_normalizer_destroy(nm);
}
END_TEST

/* Config block of `size` declared bytes with spare room after the struct. */
typedef union sized_config {
    contrl_normalizer_config cfg;
    unsigned char bytes[sizeof(contrl_normalizer_config) + 32];
} sized_config;

START_TEST(normalizer_config_sizes_below_the_layout_fail_larger_with_zero_tail_work)
{
    const size_t full = sizeof(contrl_normalizer_config);
    sized_config b;

    /* init writes exactly `size` bytes: defaults, then zeros past what this
     * library knows; the bytes beyond `size` are not touched. */
    memset(&b, 0xC3, sizeof b);
    ck_assert_int_eq(contrl_normalizer_config_init(&b.cfg, full + 16), CONTRL_OK);
    ck_assert_uint_eq(b.cfg.size, full + 16);
    ck_assert_float_eq(b.cfg.clip, 5.0f);
    for (size_t i = full; i < full + 16; i++)
        ck_assert_uint_eq(b.bytes[i], 0);
    for (size_t i = full + 16; i < sizeof b; i++)
        ck_assert_uint_eq(b.bytes[i], 0xC3);
    /* ... and create accepts that zero tail. */
    b.cfg.dim = 3;
    contrl_normalizer *nm = NULL;
    ck_assert_int_eq(contrl_normalizer_create(&b.cfg, &nm), CONTRL_OK);
    ck_assert_uint_eq(contrl_normalizer_dim(nm), 3);
    contrl_normalizer_destroy(nm);
    /* A newer caller asking for something unknown (non-zero tail) is refused. */
    b.bytes[full + 5] = 1;
    nm = (contrl_normalizer *)&b;
    ck_assert_int_eq(contrl_normalizer_create(&b.cfg, &nm), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_create", "does not know");
    ck_assert_ptr_null(nm);

    /* The struct as published is the first layout: anything smaller (no
     * older layout exists) is refused by init and create alike. */
    const size_t small[] = {0, sizeof(size_t), offsetof(contrl_normalizer_config, allocator),
                            full - 1};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        memset(&b, 0xC3, sizeof b);
        ck_assert_int_eq(contrl_normalizer_config_init(&b.cfg, small[i]),
                         CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_normalizer_config_init", "size");
        ck_assert_uint_eq(b.bytes[0], 0xC3); /* nothing written */
        b.cfg = contrl_normalizer_config_default();
        b.cfg.dim = 2;
        b.cfg.size = small[i];
        nm = (contrl_normalizer *)&b;
        ck_assert_int_eq(contrl_normalizer_create(&b.cfg, &nm), CONTRL_ERR_INVALID_ARG);
        assert_error_mentions("contrl_normalizer_create", "size");
        ck_assert_ptr_null(nm);
    }
    ck_assert_int_eq(contrl_normalizer_config_init(NULL, full), CONTRL_ERR_INVALID_ARG);
}
END_TEST

START_TEST(normalizer_allocates_once_at_create_and_never_in_update_or_apply)
{
    enum { DIM = 6 };
    alloc_counter c = {0};
    contrl_normalizer_config cfg = contrl_normalizer_config_default();
    cfg.dim = DIM;
    cfg.allocator = (contrl_allocator){alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
    contrl_normalizer *nm = NULL;
    ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_OK);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_uint_gt(c.bytes, 0);

    float *x = make_data(500, DIM, 1), out[500 * DIM], mean[DIM], std[DIM];
    uint64_t count;
    double sum[DIM], sum_sq[DIM];
    for (int round = 0; round < 5; round++) {
        ck_assert_int_eq(contrl_normalizer_update(nm, x, 500), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_apply(nm, x, 500, out), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_apply(nm, out, 500, out), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_stats(nm, mean, std), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_get_state(nm, &count, sum, sum_sq), CONTRL_OK);
        ck_assert_int_eq(contrl_normalizer_set_state(nm, count, sum, sum_sq), CONTRL_OK);
    }
    ck_assert_uint_eq(count, 2500);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 0);
    contrl_normalizer_destroy(nm);
    ck_assert_int_eq(c.frees, 1);
    ck_assert_uint_eq(c.freed_bytes, c.bytes);
    contrl_normalizer_destroy(NULL); /* fine */

    /* A failing allocator: NOMEM, *out NULL, nothing to free. */
    c.fail = 1;
    nm = (contrl_normalizer *)&c;
    ck_assert_int_eq(contrl_normalizer_create(&cfg, &nm), CONTRL_ERR_NOMEM);
    assert_error_mentions("contrl_normalizer_create", "allocate");
    ck_assert_ptr_null(nm);
    ck_assert_int_eq(c.frees, 1);
    free(x);
}
END_TEST

START_TEST(normalizer_functions_reject_null_arguments)
{
    contrl_normalizer *nm = make(2, 5.0f, 0.01f);
    float x[2] = {1.0f, 2.0f}, out[2];
    uint64_t count;
    double sum[2], sum_sq[2];
    ck_assert_int_eq(contrl_normalizer_update(NULL, x, 1), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_update", "norm");
    ck_assert_int_eq(contrl_normalizer_update(nm, NULL, 1), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_update", "x is NULL");
    ck_assert_int_eq(contrl_normalizer_apply(NULL, x, 1, out), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_normalizer_apply(nm, NULL, 1, out), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_apply", "x is NULL");
    ck_assert_int_eq(contrl_normalizer_apply(nm, x, 1, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_apply", "out is NULL");
    ck_assert_int_eq(contrl_normalizer_get_state(NULL, &count, sum, sum_sq),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_normalizer_get_state(nm, NULL, sum, sum_sq), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_normalizer_get_state", "count");
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &count, NULL, sum_sq),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &count, sum, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_normalizer_stats(NULL, NULL, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_uint_eq(contrl_normalizer_dim(NULL), 0);
    /* Nothing above changed the (empty) statistics. */
    ck_assert_int_eq(contrl_normalizer_get_state(nm, &count, sum, sum_sq), CONTRL_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert(sum[0] == 0.0 && sum[1] == 0.0 && sum_sq[0] == 0.0 && sum_sq[1] == 0.0);
    /* Rows so many that rows * dim overflows are refused. */
    ck_assert_int_eq(contrl_normalizer_update(nm, x, UINT64_MAX), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_normalizer_apply(nm, x, UINT64_MAX, out), CONTRL_ERR_INVALID_ARG);
    contrl_normalizer_destroy(nm);
}
END_TEST

static Suite *normalizer_suite(void)
{
    Suite *s = suite_create("normalizer");
    TCase *tc = tcase_create("normalizer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, normalizer_config_defaults_are_clip_5_eps_0_01_and_dim_required);
    tcase_add_test(tc, normalizer_mean_and_std_match_hand_computed_values);
    tcase_add_test(tc, normalizer_split_updates_match_one_update_and_a_two_pass_reference);
    tcase_add_test(tc, normalizer_apply_clips_to_plus_minus_clip);
    tcase_add_test(tc, normalizer_std_of_constant_data_is_floored_at_eps);
    tcase_add_test(tc, normalizer_with_no_data_uses_mean_0_std_1);
    tcase_add_test(tc, normalizer_apply_in_place_equals_apply_out_of_place);
    tcase_add_test(tc, normalizer_rejects_nonfinite_input_and_keeps_its_statistics);
    tcase_add_test(tc, normalizer_state_round_trips_bit_exactly);
    tcase_add_test(tc, normalizer_set_state_rejects_bad_state_and_keeps_the_old_one);
    tcase_add_test(tc, normalizer_create_rejects_bad_config_with_out_null);
    tcase_add_test(tc, normalizer_config_sizes_below_the_layout_fail_larger_with_zero_tail_work);
    tcase_add_test(tc, normalizer_allocates_once_at_create_and_never_in_update_or_apply);
    tcase_add_test(tc, normalizer_functions_reject_null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(normalizer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
