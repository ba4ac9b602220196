/* tests/core/test_vmath.c - lib/core/vmath.c's array math: every path this
 * CPU runs gives the scalar path's bits (over a sweep of the float range,
 * at the special values, for every tail length, misaligned and in place),
 * and the results have the accuracy and the properties vmath.h states.
 * Links the static internal library for lib/core/vmath.h. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/vmath_ref.h"

/* Sanitizers slow the library, not libm: sweep more sparsely under them. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARSE 2u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPARSE 2u
#endif
#endif
#ifndef SPARSE
#define SPARSE 1u
#endif

/* An assertion for inner loops: Check's ck_assert reports every passing
 * assertion to the parent process (a write per call), so loops over
 * millions of values only call Check when something fails. */
#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* Every path this CPU runs but the scalar one. */
static int simd_paths(contrl__vmath_path out[CONTRL__VMATH_N_PATHS])
{
    int k = 0;
    for (int p = 1; p < CONTRL__VMATH_N_PATHS; p++)
        if (contrl__vmath_path_supported((contrl__vmath_path)p))
            out[k++] = (contrl__vmath_path)p;
    return k;
}

/* Asserts that every path gives the scalar path's bits for x[0..n). */
static void assert_paths_match_scalar(const float *x, size_t n)
{
    static float ref[N_OUT][CHUNK], got[N_OUT][CHUNK];
    contrl__vmath_path paths[CONTRL__VMATH_N_PATHS];
    int np = simd_paths(paths);
    vmath_outputs(CONTRL__VMATH_SCALAR, x, n, ref);
    for (int k = 0; k < np; k++) {
        vmath_outputs(paths[k], x, n, got);
        for (int o = 0; o < N_OUT; o++)
            for (size_t i = 0; i < n; i++)
                if (float_bits(got[o][i]) != float_bits(ref[o][i]))
                    ck_abort_msg("%s of %a (bits 0x%08x): path %s gives %a (0x%08x), scalar %a "
                                 "(0x%08x)", out_names[o], (double)x[i], float_bits(x[i]),
                                 path_names[paths[k]], (double)got[o][i],
                                 float_bits(got[o][i]), (double)ref[o][i], float_bits(ref[o][i]));
    }
}

/* ---- the sweep ------------------------------------------------------------
 * Every step-th bit pattern of each function's interesting range (both
 * signs), and of all 2^32 patterns; ~19 million inputs (a 1/SPARSE share
 * under sanitizers). Steps are odd, so every low bit pattern occurs. */

typedef struct span {
    uint32_t lo, hi; /* bit patterns lo..hi */
    uint32_t step;
} span;

static const span sweep_spans[] = {
    {0x00000000u, 0x42b30000u, 449},  /* exp: 0 .. 89.5 */
    {0x80000000u, 0xc2d10000u, 449},  /* exp: -0 .. -104.5 */
    {0x00000000u, 0x41400000u, 437},  /* tanh: 0 .. 12 */
    {0x80000000u, 0xc1400000u, 437},  /* tanh: -0 .. -12 */
    {0x00000000u, 0x7f800000u, 859},  /* log1p: 0 .. +Inf */
    {0x80000000u, 0xbf800000u, 427},  /* log1p: -0 .. -1 */
    {0x00000000u, 0xffffffffu, 2147}, /* every float, NaNs included */
};

typedef void sweep_fn(const float *x, size_t n, void *ctx);

static void sweep(sweep_fn *fn, void *ctx)
{
    static float x[CHUNK];
    for (size_t s = 0; s < sizeof sweep_spans / sizeof sweep_spans[0]; s++) {
        const uint64_t step = (uint64_t)sweep_spans[s].step * SPARSE;
        uint64_t b = sweep_spans[s].lo;
        while (b <= sweep_spans[s].hi) {
            size_t n = 0;
            for (; n < CHUNK && b <= sweep_spans[s].hi; n++, b += step)
                x[n] = bits_float((uint32_t)b);
            fn(x, n, ctx);
        }
    }
}

static void match_chunk(const float *x, size_t n, void *ctx)
{
    (void)ctx;
    assert_paths_match_scalar(x, n);
}

START_TEST(every_path_gives_the_scalar_bits_over_a_sweep_of_the_float_range)
{
    contrl__vmath_path paths[CONTRL__VMATH_N_PATHS];
    int np = simd_paths(paths);
    printf("vmath: comparing %d path(s) with scalar:", np);
    for (int k = 0; k < np; k++)
        printf(" %s", path_names[paths[k]]);
    printf("\n");
    sweep(match_chunk, NULL);
}
END_TEST

/* ---- special values -------------------------------------------------------- */

/* Bit patterns: zeros, subnormals, FLT_MIN, FLT_MAX, infinities and NaNs
 * (quiet, signalling, with payloads, negative). */
static const uint32_t special_bits[] = {
    0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x00000002u, 0x0000ffffu,
    0x007fffffu, 0x807fffffu, 0x00800000u, 0x80800000u, 0x7f7fffffu, 0xff7fffffu,
    0x7effffffu, 0xfeffffffu, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
    0x7f800001u, 0xff800001u, 0x7fbfffffu, 0x7fc0deadu, 0xffffffffu,
};

/* Thresholds and branch points: e^x's overflow (the largest float's log is
 * 88.7228391), its clamp at 89, FLT_MIN's log -87.33655, 2^-149's -103.27893
 * and 2^-150's -103.97208 (below: 0), the clamp at -104; tanh's branch at 1,
 * atanh(1/2) = 0.5493, 1 from 9.01, the clamp at 10; log1p's -1 and its
 * reduction's bounds (1 + x = 0.75 and 1.5, k = 1, 2, 24, 25, 128); 2^21
 * (the shifter's limit). Each with its neighbours, below. */
static const float special_values[] = {
    88.72283935546875f, 88.7228391f, 89.0f, 89.5f, -87.33655f, -103.27893f, -103.97208f,
    -104.0f, -104.5f, 1.0f, 0.5493f, 0.549306f, 9.01f, 9.1f, 10.0f, 12.0f, -1.0f,
    -0.25f, 0.5f, 1.0f, 2.0f, 3.0f, 0x1p24f, 0x1p25f, 0x1p127f, 0x1p21f, 0x1p-24f, 0x1p-25f,
    1e-8f, 0.693147f, 0x1p126f, 0.1f, 0.3f, 20.0f, 50.0f, 1e5f, 1e30f,
};

enum { NEIGHBOURS = 3 };

/* The specials, their negatives, and NEIGHBOURS bit patterns either side. */
static size_t special_inputs(float *x, size_t cap)
{
    size_t n = 0;
    const size_t nb = sizeof special_bits / sizeof special_bits[0];
    const size_t nv = sizeof special_values / sizeof special_values[0];
    for (size_t s = 0; s < nb + nv; s++) {
        uint32_t c = s < nb ? special_bits[s] : float_bits(special_values[s - nb]);
        for (int sign = 0; sign < 2; sign++, c ^= 0x80000000u)
            for (int d = -NEIGHBOURS; d <= NEIGHBOURS; d++) {
                EXPECT(n < cap, "special_inputs: more than %zu", cap);
                x[n++] = bits_float(c + (uint32_t)d); /* wraps: every pattern is a float */
            }
    }
    return n;
}

START_TEST(every_path_gives_the_scalar_bits_at_special_values_and_their_neighbours)
{
    static float x[CHUNK];
    size_t n = special_inputs(x, CHUNK);
    assert_paths_match_scalar(x, n);
}
END_TEST

/* ---- lengths, alignment, in place -------------------------------------------- */

#define CANARY 0x7fc0beefu
enum { MAX_LEN = 67, GUARD = 16, SPAN = GUARD + 16 + MAX_LEN + GUARD };

static void fill_canary(float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = bits_float(CANARY);
}

/* Asserts b[0..SPAN) holds canaries outside [off, off + n). */
static void assert_guards(const float *b, size_t off, size_t n, const char *what)
{
    for (size_t i = 0; i < SPAN; i++)
        if ((i < off || i >= off + n) && float_bits(b[i]) != CANARY)
            ck_abort_msg("%s: element %zd written (n = %zu)", what, (ptrdiff_t)i - (ptrdiff_t)off,
                         n);
}

/* One function on path p, out of place (y, y2 separate from x) or in place
 * (everything at x; for tanh_logjac th on u, or lj on u). */
static void run(int f, contrl__vmath_path p, float *y, float *y2, const float *x, size_t n)
{
    switch (f) {
    case 0: contrl__vexp_path(p, y, x, n); break;
    case 1: contrl__vtanh_path(p, y, x, n); break;
    case 2: contrl__vtanh_logjac_path(p, y, y2, x, n); break;
    default: contrl__vlog1p_path(p, y, x, n); break;
    }
}

START_TEST(every_path_gives_the_scalar_bits_for_lengths_0_to_67_misaligned_in_place)
{
    static float src[MAX_LEN], ref[2][MAX_LEN], x[SPAN], y[SPAN], y2[SPAN];
    static const size_t offsets[] = {0, 1, 3, 7, 8, 15};
    enum { N_OFF = sizeof offsets / sizeof offsets[0] };
    float sp[CHUNK];
    size_t ns = special_inputs(sp, CHUNK);
    for (size_t i = 0; i < MAX_LEN; i++) /* specials mixed with ordinary values */
        src[i] = i % 3 == 0 ? sp[(i * 37) % ns] : (float)i * 0.37f - 12.0f;
    contrl__vmath_path paths[CONTRL__VMATH_N_PATHS];
    int np = simd_paths(paths);
    paths[np++] = CONTRL__VMATH_SCALAR;
    for (int f = 0; f < 4; f++) {
        /* one element at a time on the scalar path: the reference */
        for (size_t i = 0; i < MAX_LEN; i++)
            run(f, CONTRL__VMATH_SCALAR, &ref[0][i], &ref[1][i], &src[i], 1);
        /* mode 0: out of place; 1: the (first) output on the input;
         * 2 (tanh_logjac): lj on u */
        for (int mode = 0; mode < (f == 2 ? 3 : 2); mode++)
            for (int k = 0; k < np; k++)
                for (size_t n = 0; n <= MAX_LEN; n++)
                    for (size_t o = 0; o < N_OFF; o++) {
                        const size_t xo = GUARD + offsets[o], yo = GUARD + offsets[(o + 1) % N_OFF];
                        fill_canary(x, SPAN);
                        fill_canary(y, SPAN);
                        fill_canary(y2, SPAN);
                        if (n > 0)
                            memcpy(x + xo, src, n * sizeof *src);
                        float *out = mode == 1 ? x + xo : y + yo;
                        float *out2 = mode == 2 ? x + xo : y2 + yo;
                        run(f, paths[k], out, out2, x + xo, n);
                        for (size_t i = 0; i < n; i++) {
                            EXPECT(float_bits(out[i]) == float_bits(ref[0][i]),
                                          "function %d, path %s, mode %d, n %zu, offset %zu, "
                                          "element %zu: %a, expected %a", f,
                                          path_names[paths[k]], mode, n, offsets[o], i,
                                          (double)out[i], (double)ref[0][i]);
                            if (f == 2)
                                EXPECT(float_bits(out2[i]) == float_bits(ref[1][i]),
                                              "lj, path %s, mode %d, n %zu, offset %zu, "
                                              "element %zu: %a, expected %a",
                                              path_names[paths[k]], mode, n, offsets[o], i,
                                              (double)out2[i], (double)ref[1][i]);
                        }
                        assert_guards(x, xo, n, "x");
                        assert_guards(y, yo, mode == 1 ? 0 : n, "y");
                        assert_guards(y2, yo, f == 2 && mode != 2 ? n : 0, "lj");
                    }
    }
}
END_TEST

/* ---- accuracy ------------------------------------------------------------- */

/* The brief's tolerance for lj: 2e-6 absolute + 4 ulp of ref (ref != 0). */
static double lj_tolerance(double ref)
{
    return 2e-6 + 4.0 * ldexp(1.0, ilogb(ref) - 23);
}

typedef struct errors {
    double ulp[N_OUT];
    float at[N_OUT];
    double lj_excess; /* largest |lj - ref| / (2e-6 + 4 ulp(ref)) */
} errors;

static void note(errors *e, int o, double err, float x)
{
    if (err > e->ulp[o]) {
        e->ulp[o] = err;
        e->at[o] = x;
    }
}

static void error_chunk(const float *x, size_t n, void *ctx)
{
    static float got[N_OUT][CHUNK];
    errors *e = ctx;
    vmath_outputs(contrl__vmath_path_auto(), x, n, got);
    for (size_t i = 0; i < n; i++) {
        const double xd = x[i];
        note(e, OUT_EXP, ulp_error(got[OUT_EXP][i], exp(xd)), x[i]);
        note(e, OUT_TANH, ulp_error(got[OUT_TANH][i], tanh(xd)), x[i]);
        note(e, OUT_TH, ulp_error(got[OUT_TH][i], tanh(xd)), x[i]);
        const double lj = ref_logjac(xd);
        note(e, OUT_LJ, ulp_error(got[OUT_LJ][i], lj), x[i]);
        if (isfinite(lj) && lj != 0.0) {
            double excess = fabs(got[OUT_LJ][i] - lj) / lj_tolerance(lj);
            if (excess > e->lj_excess)
                e->lj_excess = excess;
        }
        note(e, OUT_LOG1P, ulp_error(got[OUT_LOG1P][i], xd < -1.0 ? NAN : log1p(xd)), x[i]);
    }
}

START_TEST(errors_stay_within_the_ulps_vmath_h_states)
{
    /* vmath.h's figures, measured over every float (bench_vmath ulp) */
    static const double bound[N_OUT] = {1.01, 1.03, 1.03, 1.51, 0.93};
    errors e;
    memset(&e, 0, sizeof e);
    sweep(error_chunk, &e);
    for (int o = 0; o < N_OUT; o++) {
        printf("vmath: %-15s %.3f ulp (at %a)\n", out_names[o], e.ulp[o], (double)e.at[o]);
        ck_assert_msg(e.ulp[o] <= bound[o], "%s: %.3f ulp at %a, stated %.2f", out_names[o],
                      e.ulp[o], (double)e.at[o], bound[o]);
    }
    /* the brief's bound for lj: 2e-6 absolute + 4 ulp relative */
    ck_assert_double_le(e.lj_excess, 1.0);
}
END_TEST

/* ---- documented values and properties -------------------------------------- */

static float one(void (*fn)(float *, const float *, size_t), float x)
{
    float y;
    fn(&y, &x, 1);
    return y;
}

static float lj_of(float u)
{
    float th, lj;
    contrl__vtanh_logjac(&th, &lj, &u, 1);
    return lj;
}

#define ASSERT_BITS(got, want)                                                                \
    ck_assert_msg(float_bits(got) == float_bits(want), "%s = %a (0x%08x), expected %a", #got, \
                  (double)(got), float_bits(got), (double)(want))

START_TEST(special_values_give_the_documented_results)
{
    ASSERT_BITS(one(contrl__vexp, 0.0f), 1.0f);
    ASSERT_BITS(one(contrl__vexp, -0.0f), 1.0f);
    ASSERT_BITS(one(contrl__vexp, 1.0f), (float)exp(1.0));
    ASSERT_BITS(one(contrl__vexp, INFINITY), INFINITY);
    ASSERT_BITS(one(contrl__vexp, -INFINITY), 0.0f);
    ASSERT_BITS(one(contrl__vexp, bits_float(0x42b17217u)), (float)exp(bits_float(0x42b17217u)));
    ASSERT_BITS(one(contrl__vexp, 88.72283935546875f), INFINITY); /* first overflow */
    ASSERT_BITS(one(contrl__vexp, 1000.0f), INFINITY);
    ASSERT_BITS(one(contrl__vexp, -87.33654f), (float)exp(-87.33654f));
    /* subnormal results, not flushed */
    ASSERT_BITS(one(contrl__vexp, -103.2789f), 0x1p-149f);
    ASSERT_BITS(one(contrl__vexp, -100.0f), (float)exp(-100.0));
    ASSERT_BITS(one(contrl__vexp, -90.0f), (float)exp(-90.0));
    ASSERT_BITS(one(contrl__vexp, -104.0f), 0.0f);
    ASSERT_BITS(one(contrl__vexp, -1000.0f), 0.0f);
    ck_assert(isnan(one(contrl__vexp, NAN)));

    ASSERT_BITS(one(contrl__vtanh, 0.0f), 0.0f);
    ASSERT_BITS(one(contrl__vtanh, -0.0f), -0.0f);
    ASSERT_BITS(one(contrl__vtanh, 0x1p-140f), 0x1p-140f);
    ASSERT_BITS(one(contrl__vtanh, 1e-3f), (float)tanh(1e-3f));
    ASSERT_BITS(one(contrl__vtanh, 9.02f), 1.0f);
    ASSERT_BITS(one(contrl__vtanh, -9.02f), -1.0f);
    ck_assert_float_lt(one(contrl__vtanh, 9.0f), 1.0f);
    ASSERT_BITS(one(contrl__vtanh, 11.0f), 1.0f);
    ASSERT_BITS(one(contrl__vtanh, FLT_MAX), 1.0f);
    ASSERT_BITS(one(contrl__vtanh, INFINITY), 1.0f);
    ASSERT_BITS(one(contrl__vtanh, -INFINITY), -1.0f);
    ck_assert(isnan(one(contrl__vtanh, NAN)));

    ASSERT_BITS(lj_of(0.0f), 0.0f);
    ASSERT_BITS(lj_of(FLT_MAX), -FLT_MAX);
    ASSERT_BITS(lj_of(-0x1p126f), -0x1p127f);
    ASSERT_BITS(lj_of(-INFINITY), -INFINITY);
    ck_assert(isnan(lj_of(NAN)));

    ASSERT_BITS(one(contrl__vlog1p, 0.0f), 0.0f);
    ASSERT_BITS(one(contrl__vlog1p, -0.0f), -0.0f);
    ASSERT_BITS(one(contrl__vlog1p, 0x1p-140f), 0x1p-140f);
    ASSERT_BITS(one(contrl__vlog1p, 1.0f), (float)log(2.0));
    ASSERT_BITS(one(contrl__vlog1p, -1.0f), -INFINITY);
    ASSERT_BITS(one(contrl__vlog1p, bits_float(0xbf7fffffu)), (float)(-24.0 * log(2.0)));
    ck_assert(isnan(one(contrl__vlog1p, bits_float(0xbf800001u))));
    ck_assert(isnan(one(contrl__vlog1p, -INFINITY)));
    ASSERT_BITS(one(contrl__vlog1p, INFINITY), INFINITY);
    ASSERT_BITS(one(contrl__vlog1p, FLT_MAX), (float)log(FLT_MAX));
    ck_assert(isnan(one(contrl__vlog1p, NAN)));
}
END_TEST

static void odd_chunk(const float *x, size_t n, void *ctx)
{
    static float neg[CHUNK], y[CHUNK], yn[CHUNK], th[CHUNK], lj[CHUNK], thn[CHUNK], ljn[CHUNK];
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        neg[i] = -x[i];
    contrl__vtanh(y, x, n);
    contrl__vtanh(yn, neg, n);
    contrl__vtanh_logjac(th, lj, x, n);
    contrl__vtanh_logjac(thn, ljn, neg, n);
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        EXPECT(float_bits(yn[i]) == (float_bits(y[i]) ^ 0x80000000u),
                      "tanh(-x) = %a, tanh(x) = %a at x = %a", (double)yn[i], (double)y[i],
                      (double)x[i]);
        EXPECT(float_bits(th[i]) == float_bits(y[i]), "th = %a, tanh = %a at %a",
                      (double)th[i], (double)y[i], (double)x[i]);
        EXPECT(float_bits(ljn[i]) == float_bits(lj[i]), "lj not even at %a", (double)x[i]);
    }
}

START_TEST(tanh_is_odd_bit_exactly_and_logjac_even)
{
    sweep(odd_chunk, NULL);
}
END_TEST

typedef struct naive_stats {
    double worst;     /* largest |lj - naive| / (2e-6 + 4 ulp(naive)) */
    size_t compared;
} naive_stats;

static void logjac_chunk(const float *x, size_t n, void *ctx)
{
    static float th[CHUNK], lj[CHUNK];
    naive_stats *st = ctx;
    contrl__vtanh_logjac(th, lj, x, n);
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            EXPECT(isnan(lj[i]), "lj = %a at NaN", (double)lj[i]);
            continue;
        }
        if (isinf(x[i])) {
            EXPECT(lj[i] == -INFINITY, "lj = %a at %a", (double)lj[i], (double)x[i]);
            continue;
        }
        EXPECT(isfinite(lj[i]) && lj[i] <= 0.0f && lj[i] <= 2.0f * 0.6931472f,
                      "lj = %a at u = %a", (double)lj[i], (double)x[i]);
        /* the naive formula in double: accurate while 1 - tanh^2 >> 1e-16 */
        const double t = tanh((double)x[i]), one_minus = 1.0 - t * t;
        if (one_minus > 1e-6) {
            const double naive = log(one_minus);
            const double r = naive == 0.0 ? fabs(lj[i]) / 2e-6
                                          : fabs(lj[i] - naive) / lj_tolerance(naive);
            if (r > st->worst)
                st->worst = r;
            st->compared++;
        }
    }
}

START_TEST(logjac_is_finite_nonpositive_and_matches_the_naive_formula_where_accurate)
{
    naive_stats st = {0};
    sweep(logjac_chunk, &st);
    ck_assert_uint_gt(st.compared, 1000000u / SPARSE);
    ck_assert_double_le(st.worst, 1.0);
}
END_TEST

START_TEST(the_library_picks_the_widest_path_the_cpu_runs)
{
    int want = CONTRL__VMATH_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    ck_assert_int_eq(contrl__vmath_path_supported(CONTRL__VMATH_AVX512),
                     !!__builtin_cpu_supports("avx512f"));
    ck_assert_int_eq(contrl__vmath_path_supported(CONTRL__VMATH_AVX2),
                     __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = CONTRL__VMATH_AVX2;
    if (__builtin_cpu_supports("avx512f"))
        want = CONTRL__VMATH_AVX512;
#endif
    ck_assert(contrl__vmath_path_supported(CONTRL__VMATH_SCALAR));
    ck_assert(!contrl__vmath_path_supported((contrl__vmath_path)CONTRL__VMATH_N_PATHS));
    ck_assert_int_eq(contrl__vmath_path_auto(), want);
    ck_assert_str_eq(contrl__vmath_path_name(), path_names[want]);
}
END_TEST

static Suite *vmath_suite(void)
{
    Suite *s = suite_create("vmath");
    TCase *tc = tcase_create("vmath");
    tcase_add_test(tc, the_library_picks_the_widest_path_the_cpu_runs);
    tcase_add_test(tc, every_path_gives_the_scalar_bits_over_a_sweep_of_the_float_range);
    tcase_add_test(tc, every_path_gives_the_scalar_bits_at_special_values_and_their_neighbours);
    tcase_add_test(tc, every_path_gives_the_scalar_bits_for_lengths_0_to_67_misaligned_in_place);
    tcase_add_test(tc, special_values_give_the_documented_results);
    tcase_add_test(tc, errors_stay_within_the_ulps_vmath_h_states);
    tcase_add_test(tc, tanh_is_odd_bit_exactly_and_logjac_even);
    tcase_add_test(tc, logjac_is_finite_nonpositive_and_matches_the_naive_formula_where_accurate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vmath_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
