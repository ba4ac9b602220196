/* tests/core/test_core.c - status codes, per-thread errors, version and the
 * RNG, against contrl/core.h. Links the shared library: public API only. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrl/contrl.h"

/* ---- status strings ----------------------------------------------------- */

typedef struct status_entry {
    contrl_status status;
    int value;
    const char *name;
} status_entry;

static const status_entry all_statuses[] = {
#define ENTRY_(name, value, text) {name, value, #name},
    CONTRL_STATUS_MAP(ENTRY_)
#undef ENTRY_
};
enum { N_STATUSES = sizeof all_statuses / sizeof all_statuses[0] };

START_TEST(status_codes_keep_their_published_numbers)
{
    /* The numbers are part of the ABI: a caller compiled against an older
     * header compares against these literals. */
    ck_assert_int_eq(N_STATUSES, 9);
    ck_assert_int_eq(CONTRL_OK, 0);
    ck_assert_int_eq(CONTRL_ERR_INVALID_ARG, -1);
    ck_assert_int_eq(CONTRL_ERR_NONFINITE, -2);
    ck_assert_int_eq(CONTRL_ERR_NOMEM, -3);
    ck_assert_int_eq(CONTRL_ERR_UNSUPPORTED, -4);
    ck_assert_int_eq(CONTRL_ERR_STATE, -5);
    ck_assert_int_eq(CONTRL_ERR_IO, -6);
    ck_assert_int_eq(CONTRL_ERR_FORMAT, -7);
    ck_assert_int_eq(CONTRL_ERR_NUMERIC, -8);
}
END_TEST

START_TEST(every_status_has_a_distinct_nonempty_string)
{
    for (int i = 0; i < N_STATUSES; i++) {
        const char *s = contrl_status_string(all_statuses[i].status);
        ck_assert_msg(s != NULL, "%s has a NULL string", all_statuses[i].name);
        ck_assert_msg(s[0] != '\0', "%s has an empty string", all_statuses[i].name);
        ck_assert_msg(strcmp(s, "unknown status") != 0, "%s reads as unknown",
                      all_statuses[i].name);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, contrl_status_string(all_statuses[j].status)) != 0,
                          "%s and %s share the string '%s'", all_statuses[i].name,
                          all_statuses[j].name, s);
    }
    ck_assert_str_eq(contrl_status_string(CONTRL_OK), "success");
    ck_assert_str_eq(contrl_status_string(CONTRL_ERR_NOMEM), "out of memory");
}
END_TEST

START_TEST(unknown_status_values_read_unknown_status)
{
    static const int unknown[] = {1, 2, -9, -100, 12345, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = contrl_status_string((contrl_status)unknown[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, "unknown status");
    }
}
END_TEST

/* ---- per-thread last error ---------------------------------------------- */

START_TEST(last_error_names_the_failing_function_and_clear_empties_it)
{
    contrl_clear_error();
    ck_assert_str_eq(contrl_last_error(), "");
    ck_assert_int_eq(contrl_rng_seed(NULL, 1), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));

    /* A successful call does not clear it (documented). */
    contrl_rng rng;
    ck_assert_int_eq(contrl_rng_seed(&rng, 1), CONTRL_OK);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));

    /* A later failure replaces it. */
    contrl_blas_info *null_info = NULL;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, null_info), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_blas_query"));
    ck_assert_ptr_null(strstr(contrl_last_error(), "contrl_rng_seed"));

    contrl_clear_error();
    ck_assert_str_eq(contrl_last_error(), "");
}
END_TEST

typedef struct thread_job {
    pthread_barrier_t *barrier;
    int which;               /* 0: fail in contrl_rng_seed, 1: in contrl_rng_below */
    char seen_at_start[64];  /* the thread's message before it failed */
    char seen_at_end[256];   /* its message after both threads failed */
} thread_job;

static void fail_as(int which)
{
    if (which == 0)
        (void)contrl_rng_seed(NULL, 0);
    else
        (void)contrl_rng_below(NULL, 7);
}

static void *error_thread(void *arg)
{
    thread_job *job = arg;
    snprintf(job->seen_at_start, sizeof job->seen_at_start, "%s", contrl_last_error());
    pthread_barrier_wait(job->barrier); /* both threads start clean */
    fail_as(job->which);
    pthread_barrier_wait(job->barrier); /* both have failed */
    snprintf(job->seen_at_end, sizeof job->seen_at_end, "%s", contrl_last_error());
    return NULL;
}

START_TEST(last_error_is_kept_per_thread)
{
    /* The main thread fails first: no other thread may see its message. */
    contrl_clear_error();
    fail_as(0);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));

    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    thread_job jobs[2] = {{&barrier, 0, "", ""}, {&barrier, 1, "", ""}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, error_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);

    for (int i = 0; i < 2; i++)
        ck_assert_msg(jobs[i].seen_at_start[0] == '\0',
                      "new thread %d starts with message '%s'", i, jobs[i].seen_at_start);
    /* Each thread, failing at the same time as the other, keeps its own. */
    ck_assert_ptr_nonnull(strstr(jobs[0].seen_at_end, "contrl_rng_seed"));
    ck_assert_ptr_null(strstr(jobs[0].seen_at_end, "contrl_rng_below"));
    ck_assert_ptr_nonnull(strstr(jobs[1].seen_at_end, "contrl_rng_below"));
    ck_assert_ptr_null(strstr(jobs[1].seen_at_end, "contrl_rng_seed"));

    /* And the main thread's message survived both. */
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));
    ck_assert_ptr_null(strstr(contrl_last_error(), "contrl_rng_below"));
}
END_TEST

static void *clear_in_thread(void *arg)
{
    (void)arg;
    fail_as(1);
    contrl_clear_error();
    return NULL;
}

START_TEST(clear_error_on_one_thread_keeps_the_others_message)
{
    contrl_clear_error();
    fail_as(0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, clear_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));
}
END_TEST

/* ---- version ------------------------------------------------------------ */

START_TEST(runtime_version_matches_the_headers)
{
    ck_assert_uint_eq(contrl_version(), CONTRL_VERSION_NUMBER);
    ck_assert_uint_eq(CONTRL_VERSION_NUMBER, CONTRL_VERSION_MAJOR * 10000u +
                                                 CONTRL_VERSION_MINOR * 100u +
                                                 CONTRL_VERSION_PATCH);
    const char *s = contrl_version_string();
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, CONTRL_VERSION_STRING);
    /* "MAJOR.MINOR.PATCH", consistent with the number. */
    unsigned major = 0, minor = 0, patch = 0;
    int used = 0;
    ck_assert_int_eq(sscanf(s, "%u.%u.%u%n", &major, &minor, &patch, &used), 3);
    ck_assert_int_eq(used, (int)strlen(s));
    ck_assert_uint_eq(major, CONTRL_VERSION_MAJOR);
    ck_assert_uint_eq(minor, CONTRL_VERSION_MINOR);
    ck_assert_uint_eq(patch, CONTRL_VERSION_PATCH);
    ck_assert_uint_eq(contrl_version(), major * 10000u + minor * 100u + patch);
}
END_TEST

/* ---- RNG: reproducibility ------------------------------------------------ */

START_TEST(rng_matches_xoshiro256starstar_seeded_by_splitmix64)
{
    /* Known answers from an independent implementation of the published
     * algorithms (splitmix64 -> 4 words of state, then xoshiro256**): the
     * header promises these bit for bit on every machine. */
    static const struct {
        uint64_t seed, state[4], out[4];
    } kat[] = {
        {0,
         {0xe220a8397b1dcdafu, 0x6e789e6aa1b965f4u, 0x06c45d188009454fu, 0xf88bb8a8724c81ecu},
         {0x99ec5f36cb75f2b4u, 0xbf6e1f784956452au, 0x1a5f849d4933e6e0u, 0x6aa594f1262d2d2cu}},
        {42,
         {0xbdd732262feb6e95u, 0x28efe333b266f103u, 0x47526757130f9f52u, 0x581ce1ff0e4ae394u},
         {0x15780b2e0c2ec716u, 0x6104d9866d113a7eu, 0xae17533239e499a1u, 0xecb8ad4703b360a1u}},
        {0xdeadbeefcafebabeu,
         {0x0d7d93560d1929d2u, 0x491dfb740e50d43fu, 0x42722bf4473e5e7du, 0xd6ca8a0790fffc45u},
         {0x2299b3421aa78b66u, 0x9af6550483e02887u, 0xda059cb5eec5c979u, 0xcf86bd29360fff98u}},
    };
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        contrl_rng rng;
        memset(&rng, 0xAB, sizeof rng);
        ck_assert_int_eq(contrl_rng_seed(&rng, kat[t].seed), CONTRL_OK);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(rng.s[i] == kat[t].state[i], "seed %llx: s[%d] = %llx",
                          (unsigned long long)kat[t].seed, i, (unsigned long long)rng.s[i]);
        ck_assert_uint_eq(rng.has_spare, 0);
        for (int i = 0; i < 4; i++) {
            uint64_t x = contrl_rng_next(&rng);
            ck_assert_msg(x == kat[t].out[i], "seed %llx: draw %d = %llx",
                          (unsigned long long)kat[t].seed, i, (unsigned long long)x);
        }
        /* uniform = the top 24 bits of the next draw, times 2^-24. */
        contrl_rng copy = rng;
        uint64_t bits = contrl_rng_next(&copy);
        float u = contrl_rng_uniform(&rng);
        ck_assert_float_eq(u, (float)(bits >> 40) * 0x1.0p-24f);
    }
}
END_TEST

/* Draws every kind of value in a fixed interleaving, into out[0..n). */
static void draw_mixed(contrl_rng *rng, uint64_t *out, int n)
{
    for (int i = 0; i < n; i++) {
        float f;
        switch (i % 5) {
        case 0: out[i] = contrl_rng_next(rng); break;
        case 1: f = contrl_rng_uniform(rng); memcpy(&out[i], &f, sizeof f); break;
        case 2: f = contrl_rng_normal(rng); memcpy(&out[i], &f, sizeof f); break;
        case 3: out[i] = contrl_rng_below(rng, 1000003); break;
        default: f = contrl_rng_normal(rng); memcpy(&out[i], &f, sizeof f); break;
        }
    }
}

enum { MIXED = 5000 };

START_TEST(rng_same_seed_gives_identical_sequences)
{
    static uint64_t a[MIXED], b[MIXED];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    contrl_rng r1, r2;
    ck_assert_int_eq(contrl_rng_seed(&r1, 12345), CONTRL_OK);
    /* Garbage in r2 before seeding must not matter, spare included. */
    memset(&r2, 0x5A, sizeof r2);
    ck_assert_int_eq(contrl_rng_seed(&r2, 12345), CONTRL_OK);
    draw_mixed(&r1, a, MIXED);
    draw_mixed(&r2, b, MIXED);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(&r1, &r2, sizeof r1);

    /* Reseeding restarts the sequence (a pending spare normal is dropped). */
    ck_assert_int_eq(contrl_rng_seed(&r1, 12345), CONTRL_OK);
    ck_assert_uint_eq(r1.has_spare, 0);
    draw_mixed(&r1, b, MIXED);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

START_TEST(rng_different_seeds_give_different_sequences)
{
    /* Seeds differing in one low bit, one high bit, and 0 vs 1. Any equal
     * 64-bit draw among the first 64 has probability ~64 * 2^-64. */
    static const uint64_t pairs[][2] = {
        {0, 1}, {1, 3}, {7, 7u | (1ull << 63)}, {1ull << 32, 1ull << 33}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        contrl_rng r1, r2;
        contrl_rng_seed(&r1, pairs[p][0]);
        contrl_rng_seed(&r2, pairs[p][1]);
        int agree = 0;
        for (int i = 0; i < 64; i++)
            agree += contrl_rng_next(&r1) == contrl_rng_next(&r2);
        ck_assert_msg(agree == 0, "seeds %llx and %llx agree on %d of 64 draws",
                      (unsigned long long)pairs[p][0], (unsigned long long)pairs[p][1], agree);
        /* Normal streams differ too. */
        float n1 = contrl_rng_normal(&r1), n2 = contrl_rng_normal(&r2);
        ck_assert_float_ne(n1, n2);
    }
}
END_TEST

START_TEST(rng_struct_copy_saves_and_restores_state_with_pending_spare)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 2024);
    for (int i = 0; i < 101; i++)
        (void)contrl_rng_next(&rng);
    /* One normal leaves the second Box-Muller value pending. */
    float first = contrl_rng_normal(&rng);
    ck_assert(isfinite(first));
    ck_assert_uint_eq(rng.has_spare, 1);
    float spare = rng.spare;

    contrl_rng saved = rng; /* the documented way to save */
    static uint64_t a[MIXED], b[MIXED];
    /* The sequence starts with a normal (index 2 of the mix comes after a
     * next and a uniform, so draw the pending spare first explicitly). */
    float n_a = contrl_rng_normal(&rng);
    ck_assert_float_eq(n_a, spare);
    ck_assert_uint_eq(rng.has_spare, 0);
    draw_mixed(&rng, a, MIXED);

    rng = saved; /* restore */
    float n_b = contrl_rng_normal(&rng);
    ck_assert_float_eq(n_b, spare);
    draw_mixed(&rng, b, MIXED);
    ck_assert_mem_eq(a, b, sizeof a);

    /* Restoring into a different generator works the same way. */
    contrl_rng other;
    contrl_rng_seed(&other, 99);
    (void)contrl_rng_normal(&other);
    other = saved;
    ck_assert_float_eq(contrl_rng_normal(&other), spare);
    draw_mixed(&other, b, MIXED);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

/* ---- RNG: distributions --------------------------------------------------
 * All with fixed seeds, so they are deterministic; the bounds are chosen so
 * that a correct generator passes with probability > 1 - 1e-5 for a random
 * seed (5 sigma, or the 0.001 critical values of KS / chi-square), while the
 * defects they look for (wrong scaling, a biased or truncated range, a
 * broken Box-Muller, modulo bias) move the statistic far beyond them. */

enum { N_DRAWS = 1000000 };

START_TEST(rng_uniform_is_in_unit_interval_with_mean_half_and_variance_twelfth)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 7);
    double sum = 0.0, sum2 = 0.0;
    float lo = 1.0f, hi = 0.0f;
    /* Check's assertions write to a pipe each time: count in the loop, assert after. */
    int outside = -1, fine_grained = -1;
    for (int i = 0; i < N_DRAWS; i++) {
        float u = contrl_rng_uniform(&rng);
        if (!(u >= 0.0f && u < 1.0f) && outside < 0)
            outside = i;
        /* 24 random bits: u * 2^24 is an integer. */
        float scaled = u * 0x1.0p24f;
        if (scaled != floorf(scaled) && fine_grained < 0)
            fine_grained = i;
        sum += u;
        sum2 += (double)u * u;
        if (u < lo)
            lo = u;
        if (u > hi)
            hi = u;
    }
    ck_assert_msg(outside < 0, "draw %d is outside [0, 1)", outside);
    ck_assert_msg(fine_grained < 0, "draw %d has more than 24 bits", fine_grained);
    double mean = sum / N_DRAWS;
    double var = sum2 / N_DRAWS - mean * mean;
    /* sd(mean) = sqrt(1/12 / N) = 2.89e-4; sd(var) = sqrt((1/80 - 1/144) / N)
     * = 7.45e-5. The 24-bit grid shifts the mean by 2^-25, negligible. */
    double sd_mean = sqrt(1.0 / 12.0 / N_DRAWS);
    double sd_var = sqrt((1.0 / 80.0 - 1.0 / 144.0) / N_DRAWS);
    ck_assert_msg(fabs(mean - 0.5) < 5 * sd_mean, "mean %.6f", mean);
    ck_assert_msg(fabs(var - 1.0 / 12.0) < 5 * sd_var, "variance %.6f", var);
    /* The whole interval is reached: P(min > 1e-5) = (1 - 1e-5)^1e6 = e^-10. */
    ck_assert_msg(lo < 1e-5f && hi > 1.0f - 1e-5f, "range [%g, %g]", (double)lo, (double)hi);
}
END_TEST

static int cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

START_TEST(rng_normal_has_mean_zero_variance_one_and_passes_kolmogorov_smirnov)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 11);
    float *x = malloc(N_DRAWS * sizeof *x);
    ck_assert_ptr_nonnull(x);
    double sum = 0.0, sum2 = 0.0, lag = 0.0;
    int nonfinite = -1;
    for (int i = 0; i < N_DRAWS; i++) {
        x[i] = contrl_rng_normal(&rng);
        if (!isfinite(x[i]) && nonfinite < 0)
            nonfinite = i;
        sum += x[i];
        sum2 += (double)x[i] * x[i];
        if (i > 0)
            lag += (double)x[i] * x[i - 1];
    }
    ck_assert_msg(nonfinite < 0, "draw %d is not finite", nonfinite);
    double mean = sum / N_DRAWS;
    double var = sum2 / N_DRAWS - mean * mean;
    double corr = lag / (N_DRAWS - 1) / var;
    /* sd(mean) = 1/sqrt(N) = 1e-3; sd(var) = sqrt(2/N) = 1.41e-3; sd of the
     * lag-1 correlation (pairs share a radius, but cos and sin of it are
     * uncorrelated) about 1/sqrt(N). */
    ck_assert_msg(fabs(mean) < 5.0 / sqrt(N_DRAWS), "mean %.6f", mean);
    ck_assert_msg(fabs(var - 1.0) < 5.0 * sqrt(2.0 / N_DRAWS), "variance %.6f", var);
    ck_assert_msg(fabs(corr) < 5.0 / sqrt(N_DRAWS), "lag-1 correlation %.6f", corr);

    /* Kolmogorov-Smirnov against the standard normal CDF. The critical value
     * at significance 0.001 is 1.949 / sqrt(N) = 1.95e-3. A Box-Muller with
     * the wrong radius (sqrt(-ln u) instead of sqrt(-2 ln u)) gives
     * D ~ 0.1, a uniform angle over half the circle D ~ 0.05. */
    qsort(x, N_DRAWS, sizeof *x, cmp_float);
    double d = 0.0;
    for (int i = 0; i < N_DRAWS; i++) {
        double cdf = 0.5 * erfc(-(double)x[i] / sqrt(2.0));
        double above = (double)(i + 1) / N_DRAWS - cdf, below = cdf - (double)i / N_DRAWS;
        if (above > d)
            d = above;
        if (below > d)
            d = below;
    }
    ck_assert_msg(d < 1.949 / sqrt(N_DRAWS), "KS statistic %.6f (critical %.6f)", d,
                  1.949 / sqrt(N_DRAWS));
    /* Tails exist: P(|x| > 4) = 6.3e-5, so ~63 expected of 1e6. */
    ck_assert(x[0] < -4.0f && x[N_DRAWS - 1] > 4.0f);
    free(x);
}
END_TEST

START_TEST(rng_below_seven_is_uniform_by_chi_square_and_never_reaches_n)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 3);
    enum { N = 7 };
    uint64_t count[N] = {0};
    int reached = -1;
    for (int i = 0; i < N_DRAWS; i++) {
        uint64_t x = contrl_rng_below(&rng, N);
        if (x >= N) {
            if (reached < 0)
                reached = i;
            continue;
        }
        count[x]++;
    }
    ck_assert_msg(reached < 0, "draw %d is >= 7", reached);
    double expected = (double)N_DRAWS / N, chi2 = 0.0;
    for (int v = 0; v < N; v++)
        chi2 += (count[v] - expected) * (count[v] - expected) / expected;
    /* 6 degrees of freedom: P(chi2 > 22.46) = 0.001. */
    ck_assert_msg(chi2 < 22.46, "chi-square %.2f", chi2);

    /* n = 1 can only give 0. */
    uint64_t or_all = 0;
    for (int i = 0; i < 100; i++)
        or_all |= contrl_rng_below(&rng, 1);
    ck_assert_uint_eq(or_all, 0);
    /* Largest n: every value is below it. */
    int at_max = 0;
    for (int i = 0; i < 1000; i++)
        at_max += contrl_rng_below(&rng, UINT64_MAX) >= UINT64_MAX;
    ck_assert_int_eq(at_max, 0);
}
END_TEST

START_TEST(rng_below_has_no_modulo_bias)
{
    /* n = 3 * 2^62: plain `next % n` maps [0, 2^64) onto [0, n) with the
     * values below 2^62 hit twice, so P(x < 2^62) would be 1/2 instead of
     * the correct 1/3. With 30000 draws sd = sqrt(2/9/30000) = 2.7e-3. */
    const uint64_t n = 3ull << 62, quarter = 1ull << 62;
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    enum { DRAWS = 30000 };
    int below = 0, reached = 0;
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = contrl_rng_below(&rng, n);
        reached += x >= n;
        below += x < quarter;
    }
    ck_assert_int_eq(reached, 0);
    double p = (double)below / DRAWS;
    ck_assert_msg(fabs(p - 1.0 / 3.0) < 5 * sqrt(2.0 / 9.0 / DRAWS), "P(x < 2^62) = %.4f", p);
}
END_TEST

/* ---- RNG: NULL and bad arguments ---------------------------------------- */

START_TEST(rng_null_gives_nan_or_zero_and_records_an_error)
{
    contrl_clear_error();
    ck_assert_int_eq(contrl_rng_seed(NULL, 1), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_seed"));

    contrl_clear_error();
    ck_assert_uint_eq(contrl_rng_next(NULL), 0);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_next"));

    contrl_clear_error();
    ck_assert(isnan(contrl_rng_uniform(NULL)));
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_uniform"));

    contrl_clear_error();
    ck_assert(isnan(contrl_rng_normal(NULL)));
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_normal"));

    contrl_clear_error();
    ck_assert_uint_eq(contrl_rng_below(NULL, 10), 0);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_below"));
}
END_TEST

START_TEST(rng_below_zero_gives_zero_records_an_error_and_keeps_state)
{
    contrl_rng rng, before;
    contrl_rng_seed(&rng, 8);
    before = rng;
    contrl_clear_error();
    ck_assert_uint_eq(contrl_rng_below(&rng, 0), 0);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_rng_below"));
    ck_assert_mem_eq(&rng, &before, sizeof rng);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_codes_keep_their_published_numbers);
    tcase_add_test(tc, every_status_has_a_distinct_nonempty_string);
    tcase_add_test(tc, unknown_status_values_read_unknown_status);
    tcase_add_test(tc, last_error_names_the_failing_function_and_clear_empties_it);
    tcase_add_test(tc, last_error_is_kept_per_thread);
    tcase_add_test(tc, clear_error_on_one_thread_keeps_the_others_message);
    tcase_add_test(tc, runtime_version_matches_the_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("rng");
    tcase_set_timeout(tc, 30); /* 1e6-draw statistics run slowly under sanitizers */
    tcase_add_test(tc, rng_matches_xoshiro256starstar_seeded_by_splitmix64);
    tcase_add_test(tc, rng_same_seed_gives_identical_sequences);
    tcase_add_test(tc, rng_different_seeds_give_different_sequences);
    tcase_add_test(tc, rng_struct_copy_saves_and_restores_state_with_pending_spare);
    tcase_add_test(tc, rng_uniform_is_in_unit_interval_with_mean_half_and_variance_twelfth);
    tcase_add_test(tc, rng_normal_has_mean_zero_variance_one_and_passes_kolmogorov_smirnov);
    tcase_add_test(tc, rng_below_seven_is_uniform_by_chi_square_and_never_reaches_n);
    tcase_add_test(tc, rng_below_has_no_modulo_bias);
    tcase_add_test(tc, rng_null_gives_nan_or_zero_and_records_an_error);
    tcase_add_test(tc, rng_below_zero_gives_zero_records_an_error_and_keeps_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(core_suite());
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
