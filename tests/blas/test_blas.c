/* tests/blas/test_blas.c - the kernel layer: every kernel set the CPU can run
 * and every gemm path against the plain-loop reference, the matrix-vector
 * kernels directly, and kernel-set resolution (contrl_blas_query).
 * Links the static internal library for lib/blas/blas.h. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/float_bits.h"
#include "blas.h"
#include "contrl/contrl.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *const set_names[] = {"auto", "skx", "zen3", "haswell", "generic", "blis"};
static const char *const path_names[] = {"AUTO", "MATVEC", "SMALL", "LARGE"};

static int cpu_avx512f(void)
{
    __builtin_cpu_init();
    return !!__builtin_cpu_supports("avx512f");
}

static int cpu_avx2_fma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

/* What docs/kernels.md says each set needs. */
static int set_runs_here(contrl_kernels k)
{
    switch (k) {
    case CONTRL_KERNELS_SKX: return cpu_avx512f() && cpu_avx2_fma();
    case CONTRL_KERNELS_ZEN3:
    case CONTRL_KERNELS_HASWELL: return cpu_avx2_fma();
    default: return 1;
    }
}

static contrl__blas *blas_alloc(void)
{
    size_t size = (contrl__blas_size() + 63) / 64 * 64;
    contrl__blas *b = aligned_alloc(64, size);
    ck_assert_ptr_nonnull(b);
    return b;
}

/* A quiet NaN with a payload nothing computes: padding must keep exactly it. */
#define CANARY_BITS 0x7fc0deadu
/* Operand padding: NaN, so a kernel that reads past a row into a result
 * shows up as a NaN in C. */
#define PAD_BITS 0x7fc00bad

enum { GUARD = 16 }; /* floats before and after every matrix */

enum layout { ROW_MAJOR, COL_MAJOR };

/* A rows x cols matrix laid out in buf with strides rs, cs; every float of
 * buf that is not an element (the guards and the leading-dimension padding)
 * is padding. */
typedef struct matrix {
    float *buf;       /* GUARD + span + GUARD floats */
    float *p;         /* buf + GUARD: element (0, 0) */
    size_t len;
    int64_t rows, cols, rs, cs;
    enum layout layout;
} matrix;

/* Floats needed for a rows x cols matrix with leading dimension `pad` more
 * than needed. */
static size_t mat_len(int64_t rows, int64_t cols, enum layout layout, int64_t pad)
{
    int64_t rs = layout == ROW_MAJOR ? cols + pad : 1, cs = layout == ROW_MAJOR ? 1 : rows + pad;
    return (size_t)((rows - 1) * rs + (cols - 1) * cs + 1) + 2 * GUARD;
}

/* Floats needed for either layout. */
static size_t mat_cap(int64_t rows, int64_t cols, int64_t pad)
{
    size_t r = mat_len(rows, cols, ROW_MAJOR, pad), c = mat_len(rows, cols, COL_MAJOR, pad);
    return r > c ? r : c;
}

/* Lays the matrix out in storage (of at least mat_len floats), every float
 * set to fill_bits. Allocates nothing. */
static matrix mat_view(float *storage, int64_t rows, int64_t cols, enum layout layout,
                       int64_t pad, uint32_t fill_bits)
{
    matrix m;
    m.rows = rows;
    m.cols = cols;
    m.layout = layout;
    m.rs = layout == ROW_MAJOR ? cols + pad : 1;
    m.cs = layout == ROW_MAJOR ? 1 : rows + pad;
    m.len = mat_len(rows, cols, layout, pad);
    m.buf = storage;
    m.p = m.buf + GUARD;
    const float fill = bits_float(fill_bits);
    for (size_t i = 0; i < m.len; i++)
        m.buf[i] = fill;
    return m;
}

static matrix mat_new(int64_t rows, int64_t cols, enum layout layout, int64_t pad,
                      uint32_t fill_bits)
{
    float *storage = malloc(mat_len(rows, cols, layout, pad) * sizeof(float));
    ck_assert_ptr_nonnull(storage);
    return mat_view(storage, rows, cols, layout, pad, fill_bits);
}

static void mat_free(matrix *m)
{
    free(m->buf);
}

static float *at(const matrix *m, int64_t i, int64_t j)
{
    return m->p + i * m->rs + j * m->cs;
}

/* Element (i, j) := dense[i * cols + j]. */
static void mat_load(matrix *m, const float *dense)
{
    for (int64_t i = 0; i < m->rows; i++)
        for (int64_t j = 0; j < m->cols; j++)
            *at(m, i, j) = dense[i * m->cols + j];
}

/* n values ~ U(-1, 1) into dense; returns the largest magnitude. */
static float fill_random(float *dense, size_t n, contrl_rng *rng)
{
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        dense[i] = 2.0f * contrl_rng_uniform(rng) - 1.0f;
        if (fabsf(dense[i]) > amax)
            amax = fabsf(dense[i]);
    }
    return amax;
}

static void fill_value(float *dense, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        dense[i] = v;
}

/* Elements within tol of want (dense rows x cols, row-major), everything
 * else bit-equal to CANARY_BITS. Writes the first difference into msg and
 * returns 0 on one. */
static int check_result(const matrix *got, const float *want, float tol, char *msg,
                        size_t msg_size)
{
    const int64_t span = (int64_t)got->len - 2 * GUARD;
    for (int64_t idx = -GUARD; idx < span + GUARD; idx++) {
        float g = got->p[idx];
        int64_t r = -1, c = -1;
        if (idx >= 0 && idx < span) {
            if (got->layout == ROW_MAJOR) {
                r = idx / got->rs;
                c = idx % got->rs;
                if (c >= got->cols)
                    r = -1;
            } else {
                c = idx / got->cs;
                r = idx % got->cs;
                if (r >= got->rows)
                    r = -1;
            }
        }
        if (r < 0) {
            if (float_bits(g) != CANARY_BITS) {
                snprintf(msg, msg_size, "padding at offset %lld overwritten with %g",
                         (long long)idx, (double)g);
                return 0;
            }
            continue;
        }
        float w = want[r * got->cols + c];
        if (!(fabsf(g - w) <= tol)) {
            snprintf(msg, msg_size, "C[%lld][%lld] is %.9g, reference %.9g (tol %.3g)",
                     (long long)r, (long long)c, (double)g, (double)w, (double)tol);
            return 0;
        }
    }
    return 1;
}

/* Error bound for one element of alpha*A*B + beta*C in float. Every
 * summation order, with or without FMA, has |error| <= k*u*sum|a||b| with
 * u = 2^-24 = 6e-8; sum|a||b| <= k*amax*bmax makes that k^2 * 6e-8 * amax *
 * bmax, which for random data is pessimistic by orders of magnitude (the
 * error grows like sqrt(k)). 1e-5 * k * amax * bmax is above that worst case
 * for k <= 160 and far above any realistic error at k = 256 (the worst seen
 * over every set and path there is 1.1e-5, against a bound of 2.6e-3),
 * while a dropped, doubled or misplaced term changes an element by
 * ~|a||b| ~ 0.25, far beyond it. The beta*C term adds at most two roundings
 * of |beta*c|. */
static float tolerance(int64_t k, float alpha, float amax, float bmax, float beta, float cmax)
{
    return 1e-5f * (float)k * fabsf(alpha) * amax * bmax + 3e-7f * fabsf(beta) * cmax +
           1e-30f;
}

static const float alphas[] = {1.0f, 0.5f, 2.0f};
static const float betas[] = {0.0f, 1.0f, -1.0f};

/* ---- kernel sets and query ---------------------------------------------- */

START_TEST(query_resolves_auto_from_the_cpu)
{
    unsetenv("CONTRL_BLIS_ARCH");
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    contrl_kernels want = cpu_avx512f()    ? CONTRL_KERNELS_SKX
                          : cpu_avx2_fma() ? CONTRL_KERNELS_ZEN3
                                           : CONTRL_KERNELS_BLIS;
    ck_assert_int_eq(info.kernels, want);
    ck_assert_str_eq(info.name, set_names[want]);
    ck_assert_str_eq(info.source, "cpu");
    ck_assert_int_eq(!!info.cpu_avx512f, cpu_avx512f());
    ck_assert_int_eq(!!info.cpu_avx2_fma, cpu_avx2_fma());
    ck_assert_ptr_nonnull(info.description);
    ck_assert_int_gt((int)strlen(info.description), 10);
    ck_assert_ptr_nonnull(info.blis_version);
    ck_assert_int_gt((int)strlen(info.blis_version), 0);
    ck_assert_ptr_nonnull(info.blis_detected);
    ck_assert_int_gt((int)strlen(info.blis_detected), 0);
    ck_assert_uint_eq(info.size, sizeof info);
}
END_TEST

START_TEST(query_describes_each_explicit_set_or_refuses_it_as_unsupported)
{
    unsetenv("CONTRL_BLIS_ARCH");
    contrl__blas *b = blas_alloc();
    for (int k = CONTRL_KERNELS_SKX; k <= CONTRL_KERNELS_BLIS; k++) {
        contrl_blas_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        contrl_status st = contrl_blas_query((contrl_kernels)k, &info);
        contrl_status st_init = contrl__blas_init(b, (contrl_kernels)k, "test_blas");
        if (set_runs_here((contrl_kernels)k)) {
            ck_assert_msg(st == CONTRL_OK, "%s: %s", set_names[k], contrl_last_error());
            ck_assert_int_eq(st_init, CONTRL_OK);
            ck_assert_int_eq(info.kernels, k);
            ck_assert_str_eq(info.name, set_names[k]);
            ck_assert_str_eq(info.source, "config");
            ck_assert_int_eq(contrl__blas_kernels(b), k);
        } else {
            ck_assert_int_eq(st, CONTRL_ERR_UNSUPPORTED);
            ck_assert_int_eq(st_init, CONTRL_ERR_UNSUPPORTED);
            ck_assert_ptr_nonnull(strstr(contrl_last_error(), "test_blas"));
        }
    }
    free(b);
}
END_TEST

START_TEST(query_rejects_unknown_sets_and_null_info)
{
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    static const int bad[] = {-1, 6, 7, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        contrl_clear_error();
        ck_assert_int_eq(contrl_blas_query((contrl_kernels)bad[i], &info),
                         CONTRL_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_blas_query"));
    }
    /* Unchanged by the failures. */
    ck_assert_ptr_null(info.name);
    contrl_clear_error();
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_blas_query"));
}
END_TEST

START_TEST(env_var_overrides_auto_but_not_an_explicit_set)
{
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;

    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "generic", 1), 0);
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    ck_assert_int_eq(info.kernels, CONTRL_KERNELS_GENERIC);
    ck_assert_str_eq(info.name, "generic");
    ck_assert_ptr_nonnull(strstr(info.source, "env"));
    ck_assert_ptr_nonnull(strstr(info.source, "CONTRL_BLIS_ARCH"));

    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "blis", 1), 0);
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    ck_assert_int_eq(info.kernels, CONTRL_KERNELS_BLIS);

    /* An explicit set wins over the environment, whatever it says. */
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "generic", 1), 0);
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_BLIS, &info), CONTRL_OK);
    ck_assert_int_eq(info.kernels, CONTRL_KERNELS_BLIS);
    ck_assert_str_eq(info.source, "config");

    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "bogus", 1), 0);
    contrl_clear_error();
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "CONTRL_BLIS_ARCH"));
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "bogus"));
    ck_assert_ptr_null(info.name); /* nothing written on failure */
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_GENERIC, &info), CONTRL_OK);
    ck_assert_int_eq(info.kernels, CONTRL_KERNELS_GENERIC);

    /* Set names are matched exactly. */
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "GENERIC", 1), 0);
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_ERR_INVALID_ARG);

    /* Removing it gives the CPU's choice back. */
    ck_assert_int_eq(unsetenv("CONTRL_BLIS_ARCH"), 0);
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    ck_assert_str_eq(info.source, "cpu");
    ck_assert_int_eq(info.kernels, cpu_avx512f()    ? CONTRL_KERNELS_SKX
                                   : cpu_avx2_fma() ? CONTRL_KERNELS_ZEN3
                                                    : CONTRL_KERNELS_BLIS);
}
END_TEST

START_TEST(net_kernels_resolve_like_query)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 3;
    cfg.out = 2;
    cfg.n_hidden = 1;
    cfg.hidden[0] = 8;
    cfg.max_batch = 4;
    contrl_net *net = NULL;

    unsetenv("CONTRL_BLIS_ARCH");
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(net), info.kernels);
    contrl_net_destroy(net);

    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "generic", 1), 0);
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_GENERIC);
    contrl_net_destroy(net);

    cfg.kernels = CONTRL_KERNELS_BLIS; /* explicit wins over env */
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_BLIS);
    contrl_net_destroy(net);

    cfg.kernels = CONTRL_KERNELS_AUTO;
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "bogus", 1), 0);
    net = (contrl_net *)&cfg; /* must be reset to NULL on failure */
    contrl_clear_error();
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(net);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_net_create"));
    unsetenv("CONTRL_BLIS_ARCH");

    for (int k = CONTRL_KERNELS_SKX; k <= CONTRL_KERNELS_BLIS; k++) {
        cfg.kernels = (contrl_kernels)k;
        contrl_status st = contrl_net_create(&cfg, &net);
        if (set_runs_here(cfg.kernels)) {
            ck_assert_int_eq(st, CONTRL_OK);
            ck_assert_int_eq(contrl_net_kernels(net), k);
        } else {
            ck_assert_int_eq(st, CONTRL_ERR_UNSUPPORTED);
            ck_assert_ptr_null(net);
        }
        contrl_net_destroy(net);
    }
}
END_TEST

START_TEST(query_with_smaller_info_size_writes_nothing_past_it)
{
    unsetenv("CONTRL_BLIS_ARCH");
    const size_t full = sizeof(contrl_blas_info);
    const size_t min_ok = offsetof(contrl_blas_info, cpu_avx512f); /* no CPU flags */
    _Alignas(contrl_blas_info) unsigned char raw[sizeof(contrl_blas_info) + 32];
    for (size_t size = 0; size <= full; size++) {
        memset(raw, 0xA5, sizeof raw);
        memcpy(raw, &size, sizeof size);
        contrl_status st = contrl_blas_query(CONTRL_KERNELS_AUTO, (contrl_blas_info *)(void *)raw);
        size_t written_limit = size < sizeof(size_t) ? sizeof(size_t) : size;
        for (size_t i = written_limit; i < sizeof raw; i++)
            ck_assert_msg(raw[i] == 0xA5, "size %zu: byte %zu written (status %d)", size, i,
                          (int)st);
        if (size >= min_ok)
            ck_assert_msg(st == CONTRL_OK, "size %zu refused: %s", size, contrl_last_error());
        else
            ck_assert_msg(st == CONTRL_ERR_INVALID_ARG,
                          "size %zu: status %d, but the struct cannot hold the strings", size,
                          (int)st);
        if (st == CONTRL_OK) {
            contrl_blas_info got;
            memcpy(&got, raw, min_ok);
            ck_assert_uint_eq(got.size, size);
            ck_assert_str_eq(got.name, cpu_avx512f()    ? "skx"
                                       : cpu_avx2_fma() ? "zen3"
                                                        : "blis");
        }
    }
}
END_TEST

/* ---- the reference itself ----------------------------------------------- */

START_TEST(gemm_ref_computes_a_hand_checked_product)
{
    /* A = [1 2; 3 4], B = [5 6; 7 8]: AB = [19 22; 43 50]. */
    const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    float c[4] = {1, 1, 1, 1};
    contrl__gemm_ref(2, 2, 2, 2.0f, a, 2, 1, b, 2, 1, -1.0f, c, 2, 1);
    ck_assert_float_eq(c[0], 37.0f);
    ck_assert_float_eq(c[1], 43.0f);
    ck_assert_float_eq(c[2], 85.0f);
    ck_assert_float_eq(c[3], 99.0f);
    /* A read column-major (= A^T row-major), beta 0 over NaN. */
    float d[4] = {NAN, NAN, NAN, NAN};
    contrl__gemm_ref(2, 2, 2, 1.0f, a, 1, 2, b, 2, 1, 0.0f, d, 2, 1);
    /* A^T = [1 3; 2 4]: A^T B = [26 30; 38 44]. */
    ck_assert_float_eq(d[0], 26.0f);
    ck_assert_float_eq(d[1], 30.0f);
    ck_assert_float_eq(d[2], 38.0f);
    ck_assert_float_eq(d[3], 44.0f);
}
END_TEST

/* ---- contrl__gemm against the reference --------------------------------- */

static const int64_t shape_m[] = {1, 2, 3, 4, 5, 17, 33};
static const int64_t shape_n[] = {1, 2, 4, 6, 15, 16, 17, 63, 64, 65, 129};
static const int64_t shape_k[] = {1, 7, 17, 256};
enum {
    N_M = sizeof shape_m / sizeof shape_m[0],
    N_N = sizeof shape_n / sizeof shape_n[0],
    N_K = sizeof shape_k / sizeof shape_k[0],
};

/* Loop test over kernel sets 1..5 (SKX..BLIS). For each shape and
 * alpha/beta the reference is computed once on dense row-major copies; the
 * same logical A, B and C are then laid out in all eight row/column-major
 * combinations (leading dimensions larger than needed, padding NaN in A and
 * B, canaries in C) and run through every path twice. */
START_TEST(gemm_matches_reference_on_every_path_shape_and_layout)
{
    const contrl_kernels set = (contrl_kernels)_i;
    contrl__blas *b = blas_alloc();
    contrl_status st = contrl__blas_init(b, set, "test_blas");
    if (!set_runs_here(set)) {
        ck_assert_int_eq(st, CONTRL_ERR_UNSUPPORTED);
        free(b);
        return;
    }
    ck_assert_int_eq(st, CONTRL_OK);

    enum { PA = 3, PB = 5, PC = 4 }; /* leading-dimension padding */
    const int64_t M = shape_m[N_M - 1], N = shape_n[N_N - 1], K = shape_k[N_K - 1];
    /* Storage for the largest shape in either layout, allocated once. */
    const size_t cap_a = mat_cap(M, K, PA), cap_b = mat_cap(K, N, PB), cap_c = mat_cap(M, N, PC);
    float *sa = malloc(cap_a * sizeof(float)), *sb = malloc(cap_b * sizeof(float));
    float *sc0 = malloc(cap_c * sizeof(float)), *sc1 = malloc(cap_c * sizeof(float));
    float *sc2 = malloc(cap_c * sizeof(float));
    float *da = malloc((size_t)(M * K) * sizeof(float)), *db = malloc((size_t)(K * N) * sizeof(float));
    float *dc = malloc((size_t)(M * N) * sizeof(float)), *dcin = malloc((size_t)(M * N) * sizeof(float));
    float *want = malloc((size_t)(M * N) * sizeof(float));
    ck_assert(sa && sb && sc0 && sc1 && sc2 && da && db && dc && dcin && want);

    contrl_rng rng;
    contrl_rng_seed(&rng, 1000 + (uint64_t)set);
    long cases = 0, failures = 0, nondeterministic = 0;
    char first[512] = "", msg[256];
    for (int im = 0; im < N_M; im++)
        for (int in = 0; in < N_N; in++)
            for (int ik = 0; ik < N_K; ik++) {
                const int64_t m = shape_m[im], n = shape_n[in], k = shape_k[ik];
                const float amax = fill_random(da, (size_t)(m * k), &rng);
                const float bmax = fill_random(db, (size_t)(k * n), &rng);
                const float c0max = fill_random(dc, (size_t)(m * n), &rng);
                for (int ab = 0; ab < 3; ab++) {
                    const float alpha = alphas[ab], beta = betas[ab];
                    /* beta 0: C must not be read, so it starts as NaN. */
                    if (beta == 0.0f)
                        fill_value(dcin, (size_t)(m * n), NAN);
                    else
                        memcpy(dcin, dc, (size_t)(m * n) * sizeof(float));
                    memcpy(want, dcin, (size_t)(m * n) * sizeof(float));
                    contrl__gemm_ref(m, n, k, alpha, da, k, 1, db, n, 1, beta, want, n, 1);
                    const float tol =
                        tolerance(k, alpha, amax, bmax, beta, beta == 0.0f ? 0.0f : c0max);
                    for (int lay = 0; lay < 8; lay++) {
                        const enum layout la = lay & 1, lb = (lay >> 1) & 1, lc = (lay >> 2) & 1;
                        matrix A = mat_view(sa, m, k, la, PA, PAD_BITS);
                        matrix B = mat_view(sb, k, n, lb, PB, PAD_BITS);
                        matrix C0 = mat_view(sc0, m, n, lc, PC, CANARY_BITS);
                        mat_load(&A, da);
                        mat_load(&B, db);
                        mat_load(&C0, dcin);
                        matrix C1 = C0, C2 = C0;
                        C1.buf = sc1;
                        C1.p = sc1 + GUARD;
                        C2.buf = sc2;
                        C2.p = sc2 + GUARD;
                        for (int path = CONTRL__PATH_AUTO; path <= CONTRL__PATH_LARGE; path++) {
                            contrl__gemm_path_set(b, (contrl__gemm_path)path);
                            memcpy(sc1, sc0, C0.len * sizeof(float));
                            memcpy(sc2, sc0, C0.len * sizeof(float));
                            contrl__gemm(b, m, n, k, alpha, A.p, A.rs, A.cs, B.p, B.rs, B.cs,
                                         beta, C1.p, C1.rs, C1.cs);
                            contrl__gemm(b, m, n, k, alpha, A.p, A.rs, A.cs, B.p, B.rs, B.cs,
                                         beta, C2.p, C2.rs, C2.cs);
                            cases++;
                            if (!check_result(&C1, want, tol, msg, sizeof msg) &&
                                failures++ == 0)
                                snprintf(first, sizeof first,
                                         "set %s path %s m=%lld n=%lld k=%lld A %s B %s C %s "
                                         "alpha %g beta %g: %s",
                                         set_names[set], path_names[path], (long long)m,
                                         (long long)n, (long long)k, la ? "col" : "row",
                                         lb ? "col" : "row", lc ? "col" : "row", (double)alpha,
                                         (double)beta, msg);
                            if (memcmp(sc1, sc2, C0.len * sizeof(float)) != 0 &&
                                nondeterministic++ == 0 && failures == 0)
                                snprintf(first, sizeof first,
                                         "set %s path %s m=%lld n=%lld k=%lld: two runs differ",
                                         set_names[set], path_names[path], (long long)m,
                                         (long long)n, (long long)k);
                        }
                    }
                }
            }
    ck_assert_int_eq(cases, (long)N_M * N_N * N_K * 8 * 3 * 4);
    ck_assert_msg(failures == 0 && nondeterministic == 0,
                  "%ld of %ld products wrong, %ld not bit-reproducible; first: %s", failures,
                  cases, nondeterministic, first);
    free(sa);
    free(sb);
    free(sc0);
    free(sc1);
    free(sc2);
    free(da);
    free(db);
    free(dc);
    free(dcin);
    free(want);
    free(b);
}
END_TEST

/* AUTO must take the documented route (blas.h): the set's matrix-vector
 * code for m <= 4 with unit column strides of B and C, the small-matrix
 * context when m or n < 32, else the large one. Checked by bit-identity with
 * the forced path; a set whose two contexts round alike cannot fail it
 * wrongly. */
START_TEST(gemm_auto_takes_the_documented_path)
{
    const contrl_kernels set = (contrl_kernels)_i;
    contrl__blas *b = blas_alloc();
    if (contrl__blas_init(b, set, "test_blas") != CONTRL_OK) {
        ck_assert(!set_runs_here(set));
        free(b);
        return;
    }
    static const int64_t mnk[][3] = {{1, 256, 256}, {3, 65, 17},  {4, 129, 256}, {5, 64, 256},
                                     {17, 129, 256}, {33, 17, 256}, {33, 64, 256}, {64, 64, 256},
                                     {256, 64, 17}, {40, 40, 40}};
    contrl_rng rng;
    contrl_rng_seed(&rng, 77);
    for (size_t t = 0; t < sizeof mnk / sizeof mnk[0]; t++) {
        const int64_t m = mnk[t][0], n = mnk[t][1], k = mnk[t][2];
        matrix A = mat_new(m, k, ROW_MAJOR, 1, PAD_BITS);
        matrix B = mat_new(k, n, ROW_MAJOR, 1, PAD_BITS);
        matrix Ca = mat_new(m, n, ROW_MAJOR, 2, CANARY_BITS);
        matrix Cf = mat_new(m, n, ROW_MAJOR, 2, CANARY_BITS);
        float *dense = malloc((size_t)(m * k + k * n) * sizeof(float));
        ck_assert_ptr_nonnull(dense);
        fill_random(dense, (size_t)(m * k), &rng);
        mat_load(&A, dense);
        fill_random(dense, (size_t)(k * n), &rng);
        mat_load(&B, dense);
        free(dense);
        contrl__gemm_path want = (m <= CONTRL__MATVEC_MAX_M && set != CONTRL_KERNELS_BLIS)
                                     ? CONTRL__PATH_MATVEC
                                 : (m < 32 || n < 32) ? CONTRL__PATH_SMALL
                                                      : CONTRL__PATH_LARGE;
        contrl__gemm_path_set(b, CONTRL__PATH_AUTO);
        contrl__gemm(b, m, n, k, 1.0f, A.p, A.rs, 1, B.p, B.rs, 1, 0.0f, Ca.p, Ca.rs, 1);
        contrl__gemm_path_set(b, want);
        contrl__gemm(b, m, n, k, 1.0f, A.p, A.rs, 1, B.p, B.rs, 1, 0.0f, Cf.p, Cf.rs, 1);
        ck_assert_msg(memcmp(Ca.buf, Cf.buf, Ca.len * sizeof(float)) == 0,
                      "set %s, %lldx%lldx%lld: AUTO differs from forced %s", set_names[set],
                      (long long)m, (long long)n, (long long)k, path_names[want]);
        mat_free(&A);
        mat_free(&B);
        mat_free(&Ca);
        mat_free(&Cf);
    }
    free(b);
}
END_TEST

START_TEST(gemm_with_empty_dimensions_writes_only_beta_c)
{
    const contrl_kernels set = (contrl_kernels)_i;
    contrl__blas *b = blas_alloc();
    if (contrl__blas_init(b, set, "test_blas") != CONTRL_OK) {
        ck_assert(!set_runs_here(set));
        free(b);
        return;
    }
    float a[64], bm[64];
    for (int i = 0; i < 64; i++)
        a[i] = bm[i] = 1.0f;
    for (int path = CONTRL__PATH_AUTO; path <= CONTRL__PATH_LARGE; path++) {
        contrl__gemm_path_set(b, (contrl__gemm_path)path);
        /* m or n = 0: nothing at all is written. */
        float c[8];
        for (int i = 0; i < 8; i++)
            c[i] = bits_float(CANARY_BITS);
        contrl__gemm(b, 0, 4, 3, 1.0f, a, 3, 1, bm, 4, 1, 0.0f, c, 4, 1);
        contrl__gemm(b, 2, 0, 3, 1.0f, a, 3, 1, bm, 4, 1, 0.0f, c, 4, 1);
        for (int i = 0; i < 8; i++)
            ck_assert_uint_eq(float_bits(c[i]), CANARY_BITS);
        /* k = 0: C = beta C (0 when beta is 0, even over NaN). */
        float c0[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
        contrl__gemm(b, 2, 3, 0, 1.0f, a, 1, 1, bm, 3, 1, 0.0f, c0, 3, 1);
        for (int i = 0; i < 6; i++)
            ck_assert_msg(c0[i] == 0.0f, "set %s path %s k=0 beta=0: c[%d] = %g",
                          set_names[set], path_names[path], i, (double)c0[i]);
        float c2[6] = {1, 2, 3, 4, 5, 6};
        contrl__gemm(b, 2, 3, 0, 1.0f, a, 1, 1, bm, 3, 1, -2.0f, c2, 3, 1);
        for (int i = 0; i < 6; i++)
            ck_assert_msg(c2[i] == -2.0f * (float)(i + 1), "set %s path %s k=0: c[%d] = %g",
                          set_names[set], path_names[path], i, (double)c2[i]);
    }
    free(b);
}
END_TEST

/* ---- libxsmm --------------------------------------------------------------- */

/* ---- one product's operands, laid out for a kernel --------------------- */

enum { PAD_A = 3, PAD_B = 5, PAD_C = 4 }; /* leading-dimension padding */

/* Storage for products up to M x N x K in either layout, and the dense
 * copies behind them. */
typedef struct product_store {
    float *sa, *sb, *sc1, *sc2, *da, *db, *dc, *want;
} product_store;

static product_store store_new(int64_t M, int64_t N, int64_t K)
{
    product_store st = {malloc(mat_cap(M, K, PAD_A) * sizeof(float)),
                        malloc(mat_cap(K, N, PAD_B) * sizeof(float)),
                        malloc(mat_cap(M, N, PAD_C) * sizeof(float)),
                        malloc(mat_cap(M, N, PAD_C) * sizeof(float)),
                        malloc((size_t)(M * K) * sizeof(float)),
                        malloc((size_t)(K * N) * sizeof(float)),
                        malloc((size_t)(M * N) * sizeof(float)),
                        malloc((size_t)(M * N) * sizeof(float))};
    ck_assert(st.sa && st.sb && st.sc1 && st.sc2 && st.da && st.db && st.dc && st.want);
    return st;
}

static void store_free(product_store *st)
{
    free(st->sa);
    free(st->sb);
    free(st->sc1);
    free(st->sc2);
    free(st->da);
    free(st->db);
    free(st->dc);
    free(st->want);
}

/* One product C = A B + beta C in st's storage: random A, B and C (C NaN
 * for beta 0, which must not read it), the reference in st->want and its
 * tolerance, A and B in layouts la and lb with NaN padding, C1 and C2 two
 * copies of C in layout lc with canaries. */
typedef struct product {
    matrix A, B, C1, C2;
    float tol;
} product;

static product product_new(product_store *st, contrl_rng *rng, int64_t m, int64_t n, int64_t k,
                           enum layout la, enum layout lb, enum layout lc, float beta)
{
    const float amax = fill_random(st->da, (size_t)(m * k), rng);
    const float bmax = fill_random(st->db, (size_t)(k * n), rng);
    const float cmax = fill_random(st->dc, (size_t)(m * n), rng);
    if (beta == 0.0f)
        fill_value(st->dc, (size_t)(m * n), NAN);
    memcpy(st->want, st->dc, (size_t)(m * n) * sizeof(float));
    contrl__gemm_ref(m, n, k, 1.0f, st->da, k, 1, st->db, n, 1, beta, st->want, n, 1);
    product p = {mat_view(st->sa, m, k, la, PAD_A, PAD_BITS),
                 mat_view(st->sb, k, n, lb, PAD_B, PAD_BITS),
                 mat_view(st->sc1, m, n, lc, PAD_C, CANARY_BITS),
                 mat_view(st->sc2, m, n, lc, PAD_C, CANARY_BITS),
                 tolerance(k, 1.0f, amax, bmax, beta, cmax)};
    mat_load(&p.A, st->da);
    mat_load(&p.B, st->db);
    mat_load(&p.C1, st->dc);
    mat_load(&p.C2, st->dc);
    return p;
}

/* The libxsmm path (lib/blas/xsmm.c) against the reference on odd shapes,
 * padded leading dimensions and A and B read through their transposes,
 * beta 0 (C starts as NaN) and 1. Each product is prepared on a fresh
 * handle as a net does at creation: it must then hold a kernel exactly when
 * the documented rule gives the product to libxsmm (C with unit column
 * stride, n >= 2, a transposed B that fits the workspace; on skx, 2-4
 * columns of a row-major B go to libcontrl's code instead), and a second,
 * cached run must give the same bits. Loop over SKX and ZEN3, the sets that
 * can use libxsmm; a set that does not here is reported, not failed. */
START_TEST(xsmm_matches_reference_on_odd_shapes_strides_and_transposes)
{
    const contrl_kernels set = (contrl_kernels)_i;
    contrl__blas *b = blas_alloc();
    if (contrl__blas_init(b, set, "test_blas") != CONTRL_OK || !contrl__blas_uses_xsmm(b)) {
        if (!CONTRL_HAVE_XSMM)
            ck_assert(set_runs_here(set) ? !contrl__blas_uses_xsmm(b) : 1);
        fprintf(stderr, "set %s: libxsmm not in use here, not run\n", set_names[set]);
        free(b);
        return;
    }
    static const int64_t ms[] = {5, 7, 17, 33, 100}, ns[] = {1, 2, 3, 15, 17, 63, 65, 130};
    static const int64_t ks[] = {1, 3, 17, 64, 100, 129};
    enum { NM = 5, NN = 8, NK = 6 };
    const int64_t M = 100, N = 130, K = 129;
    product_store st = store_new(M, N, K);
    float *ws = malloc((size_t)(K * N) * sizeof(float));
    ck_assert_ptr_nonnull(ws);
    contrl_rng rng;
    contrl_rng_seed(&rng, 9000 + (uint64_t)set);
    long cases = 0, on_xsmm = 0;
    char msg[256];
    for (int im = 0; im < NM; im++)
        for (int in = 0; in < NN; in++)
            for (int ik = 0; ik < NK; ik++)
                for (int lay = 0; lay < 8; lay++)
                    for (int bt = 0; bt < 2; bt++) {
                        const int64_t m = ms[im], n = ns[in], k = ks[ik];
                        const enum layout la = lay & 1, lb = (lay >> 1) & 1, lc = (lay >> 2) & 1;
                        const float beta = (float)bt;
                        product pr = product_new(&st, &rng, m, n, k, la, lb, lc, beta);
                        const matrix A = pr.A, B = pr.B, C1 = pr.C1, C2 = pr.C2;
                        ck_assert_int_eq(contrl__blas_init(b, set, "test_blas"), CONTRL_OK);
                        contrl__blas_set_workspace(b, ws, (size_t)(K * N));
                        contrl__blas_prepare(b, true);
                        contrl__gemm(b, m, n, k, 1.0f, A.p, A.rs, A.cs, B.p, B.rs, B.cs, beta,
                                     C1.p, C1.rs, C1.cs);
                        contrl__blas_prepare(b, false);
                        /* B read through its transpose goes through the
                         * workspace, sized K * N here: every shape fits */
                        const bool expect = lc == ROW_MAJOR && n >= 2 &&
                                            !(set == CONTRL_KERNELS_SKX && n <= 4 &&
                                              lb == ROW_MAJOR);
                        const uint32_t got = contrl__blas_xsmm_kernels(b);
                        ck_assert_msg(got == (expect ? 1u : 0u),
                                      "set %s %lldx%lldx%lld A %s B %s C %s: %u kernels, "
                                      "expected %d",
                                      set_names[set], (long long)m, (long long)n, (long long)k,
                                      la ? "col" : "row", lb ? "col" : "row",
                                      lc ? "col" : "row", got, expect);
                        contrl__gemm(b, m, n, k, 1.0f, A.p, A.rs, A.cs, B.p, B.rs, B.cs, beta,
                                     C2.p, C2.rs, C2.cs);
                        ck_assert_msg(check_result(&C1, st.want, pr.tol, msg, sizeof msg),
                                      "set %s %lldx%lldx%lld A %s B %s C %s beta %g: %s",
                                      set_names[set], (long long)m, (long long)n, (long long)k,
                                      la ? "col" : "row", lb ? "col" : "row",
                                      lc ? "col" : "row", (double)beta, msg);
                        ck_assert_msg(memcmp(C1.buf, C2.buf, C1.len * sizeof(float)) == 0,
                                      "set %s %lldx%lldx%lld: the cached kernel's bits differ",
                                      set_names[set], (long long)m, (long long)n, (long long)k);
                        cases++;
                        on_xsmm += expect;
                    }
    ck_assert_int_eq(cases, (long)NM * NN * NK * 8 * 2);
    ck_assert(on_xsmm > cases / 4);
    store_free(&st);
    free(ws);
    free(b);
}
END_TEST

/* ---- libcontrl's own products (mm.c) ------------------------------------ */

/* A product of mm.c on an AVX-512 CPU: every element within the reference's
 * tolerance, padding and guards untouched; and bit for bit what libxsmm's
 * kernel computes (forced XSMM path) where libxsmm is built in, on the
 * shapes the fused path takes. Shapes
 * cover full and partial tiles of rows (6) and columns (16, 64), A
 * row-major and read through its transpose, beta 0 (C starts as NaN) and 1,
 * padded leading dimensions. */
START_TEST(own_products_match_the_reference_and_libxsmm_bit_for_bit)
{
    if (!cpu_avx512f()) {
        fprintf(stderr, "no AVX-512 here: libcontrl's own products not run\n");
        return;
    }
    contrl__blas *b = blas_alloc();
    ck_assert_int_eq(contrl__blas_init(b, CONTRL_KERNELS_SKX, "test_blas"), CONTRL_OK);
    const bool xsmm = contrl__blas_uses_xsmm(b);
    contrl__gemm_path_set(b, CONTRL__PATH_XSMM);
    static const int64_t ms[] = {1, 5, 6, 7, 13, 100}, ns[] = {1, 2, 15, 16, 17, 48, 64, 65, 130};
    static const int64_t ks[] = {1, 3, 4, 17, 64, 100};
    enum { NM = 6, NN = 9, NK = 6 };
    product_store st = store_new(100, 130, 100);
    contrl_rng rng;
    contrl_rng_seed(&rng, 4242);
    long cases = 0, against_xsmm = 0;
    char msg[256];
    for (int im = 0; im < NM; im++)
        for (int in = 0; in < NN; in++)
            for (int ik = 0; ik < NK; ik++)
                for (int la = 0; la < 2; la++)
                    for (int bt = 0; bt < 2; bt++) {
                        const int64_t m = ms[im], n = ns[in], k = ks[ik];
                        const float beta = (float)bt;
                        product pr = product_new(&st, &rng, m, n, k, (enum layout)la, ROW_MAJOR,
                                                 ROW_MAJOR, beta);
                        const matrix A = pr.A, B = pr.B, C1 = pr.C1, C2 = pr.C2;
                        contrl__mm_avx512(m, n, k, A.p, A.rs, A.cs, B.p, B.rs, beta != 0.0f,
                                          C1.p, C1.rs, NULL);
                        ck_assert_msg(check_result(&C1, st.want, pr.tol, msg, sizeof msg),
                                      "%lldx%lldx%lld A %s beta %g: %s", (long long)m,
                                      (long long)n, (long long)k, la ? "col" : "row",
                                      (double)beta, msg);
                        cases++;
                        /* the products both take: from 5 rows, and whole
                         * vectors from 32 columns (with fewer rows or
                         * columns, or on a partial last vector, libxsmm's
                         * kernels keep several partial sums per element:
                         * 1x65x17, 5x16x4 and 5x65x17 differ) */
                        if (!xsmm || m <= CONTRL__MATVEC_MAX_M || n % 16 != 0 || n < 32)
                            continue;
                        contrl__gemm(b, m, n, k, 1.0f, A.p, A.rs, A.cs, B.p, B.rs, B.cs, beta,
                                     C2.p, C2.rs, C2.cs);
                        ck_assert_msg(memcmp(C1.buf, C2.buf, C1.len * sizeof(float)) == 0,
                                      "%lldx%lldx%lld A %s beta %g: bits differ from libxsmm's",
                                      (long long)m, (long long)n, (long long)k,
                                      la ? "col" : "row", (double)beta);
                        against_xsmm++;
                    }
    ck_assert_int_eq(cases, (long)NM * NN * NK * 2 * 2);
    if (xsmm)
        ck_assert_int_eq(against_xsmm, (long)(NM - 1) * 2 * NK * 2 * 2); /* n 48 and 64 */
    else
        fprintf(stderr, "libxsmm not in use here: own products checked against the reference only\n");
    store_free(&st);
    free(b);
}
END_TEST

/* The epilogues give the bits of the product followed by net.c's passes,
 * written out here: bias; bias and ReLU (z > 0 ? z : 0, so NaN and -0 give
 * +0); the ReLU mask of the layer output (NaN, -0, negatives, positives)
 * and the bias gradient as column sums in row order, stored (db_mode 2:
 * from 0 + the first row), added (1) or left alone (0). */
START_TEST(own_epilogues_match_the_product_and_its_separate_pass)
{
    if (!cpu_avx512f()) {
        fprintf(stderr, "no AVX-512 here: libcontrl's own products not run\n");
        return;
    }
    static const int64_t ms[] = {1, 7, 100}, ns[] = {16, 17, 64, 130}, ks[] = {3, 64};
    enum { M = 100, N = 130, K = 64 };
    float *a = malloc(sizeof(float) * M * K), *bm = malloc(sizeof(float) * K * N);
    float *plain = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
    float *want = malloc(sizeof(float) * M * N), *mask = malloc(sizeof(float) * M * N);
    float bias[N], db_got[N + 1], db_want[N + 1];
    ck_assert(a && bm && plain && got && want && mask);
    contrl_rng rng;
    contrl_rng_seed(&rng, 77);
    const float specials[] = {NAN, -0.0f, 0.0f, -1.0f, 1.0f};
    long cases = 0, zeroed = 0;
    for (int im = 0; im < 3; im++)
        for (int in = 0; in < 4; in++)
            for (int ik = 0; ik < 2; ik++)
                for (int kind = CONTRL__EPI_BIAS; kind <= CONTRL__EPI_RELU_MASK_SUM + 2; kind++) {
                    const int64_t m = ms[im], n = ns[in], k = ks[ik];
                    const int db_mode = kind >= CONTRL__EPI_RELU_MASK_SUM
                                            ? kind - CONTRL__EPI_RELU_MASK_SUM
                                            : 0;
                    const contrl__epi_kind ek =
                        kind >= CONTRL__EPI_RELU_MASK_SUM ? CONTRL__EPI_RELU_MASK_SUM
                                                          : (contrl__epi_kind)kind;
                    fill_random(a, (size_t)(m * k), &rng);
                    fill_random(bm, (size_t)(k * n), &rng);
                    fill_random(bias, (size_t)n, &rng);
                    fill_random(db_got, (size_t)n + 1, &rng);
                    memcpy(db_want, db_got, sizeof db_got);
                    for (int64_t i = 0; i < m * n; i++)
                        mask[i] = i % 7 < 5 ? specials[i % 7] : contrl_rng_uniform(&rng) - 0.5f;
                    /* a few products that come out NaN or -0 before the bias */
                    a[0] = m * k > 1 ? NAN : a[0];
                    contrl__mm_avx512(m, n, k, a, k, 1, bm, n, false, plain, n, NULL);
                    memcpy(want, plain, sizeof(float) * (size_t)(m * n));
                    for (int64_t j = 0; j < n; j++) {
                        float sum = db_mode == 1 ? db_want[j] : 0.0f;
                        for (int64_t r = 0; r < m; r++) {
                            float *w = &want[r * n + j];
                            if (ek == CONTRL__EPI_BIAS) {
                                *w = *w + bias[j];
                            } else if (ek == CONTRL__EPI_BIAS_RELU) {
                                const float z = *w + bias[j];
                                *w = z > 0.0f ? z : 0.0f;
                            } else {
                                *w = mask[r * n + j] > 0.0f ? *w : 0.0f;
                                sum += *w;
                            }
                        }
                        if (ek == CONTRL__EPI_RELU_MASK_SUM && db_mode != 0)
                            db_want[j] = sum;
                    }
                    const contrl__mm_epi epi = {ek, bias, mask, n, db_got, db_mode};
                    contrl__mm_avx512(m, n, k, a, k, 1, bm, n, false, got, n, &epi);
                    for (int64_t i = 0; i < m * n; i++)
                        ck_assert_msg(float_bits(got[i]) == float_bits(want[i]),
                                      "epilogue %d db_mode %d %lldx%lldx%lld: element %lld is "
                                      "%.9g, separate pass %.9g",
                                      (int)ek, db_mode, (long long)m, (long long)n, (long long)k,
                                      (long long)i, (double)got[i], (double)want[i]);
                    for (int64_t j = 0; j <= n; j++)
                        ck_assert_msg(float_bits(db_got[j]) == float_bits(db_want[j]),
                                      "epilogue %d db_mode %d %lldx%lldx%lld: db[%lld] is %.9g, "
                                      "row-order sum %.9g",
                                      (int)ek, db_mode, (long long)m, (long long)n, (long long)k,
                                      (long long)j, (double)db_got[j], (double)db_want[j]);
                    for (int64_t i = 0; i < m * n; i++)
                        zeroed += ek != CONTRL__EPI_BIAS && float_bits(got[i]) == 0u &&
                                  float_bits(plain[i]) != 0u;
                    cases++;
                }
    ck_assert_int_eq(cases, 3 * 4 * 2 * 5);
    ck_assert(zeroed > 0); /* the masks and ReLU did zero something */
    free(a);
    free(bm);
    free(plain);
    free(got);
    free(want);
    free(mask);
}
END_TEST

/* One-column products (a critic's last layer) take 16 rows at a time and
 * reduce their lanes together, in the order one row's reduction takes:
 * each row must come out with the bits of that row run alone (m 1), be
 * within the reference's tolerance, and leave C's stride gaps alone. */
START_TEST(one_column_products_give_each_row_the_bits_of_its_own_reduction)
{
    if (!cpu_avx512f()) {
        fprintf(stderr, "no AVX-512 here: one-column code not run\n");
        return;
    }
    static const int64_t ms[] = {1, 5, 15, 16, 17, 33, 100}, ks[] = {1, 17, 32, 33, 64, 100};
    enum { M = 100, K = 100, RSC = 3 };
    float *a = malloc(sizeof(float) * M * K), b[K], want[M], c[M * RSC], alone[M * RSC];
    ck_assert_ptr_nonnull(a);
    contrl_rng rng;
    contrl_rng_seed(&rng, 616);
    long cases = 0;
    for (int im = 0; im < 7; im++)
        for (int ik = 0; ik < 6; ik++)
            for (int rsc = 1; rsc <= RSC; rsc += RSC - 1)
                for (int ab = 0; ab < 3; ab++) {
                    const int64_t m = ms[im], k = ks[ik];
                    const float alpha = ab == 2 ? 0.5f : 1.0f, beta = ab == 0 ? 0.0f : 1.0f;
                    const float amax = fill_random(a, (size_t)(m * k), &rng);
                    const float bmax = fill_random(b, (size_t)k, &rng);
                    float cv[M];
                    const float cmax = fill_random(cv, (size_t)m, &rng);
                    for (int64_t i = 0; i < M * RSC; i++)
                        c[i] = alone[i] = bits_float(CANARY_BITS);
                    for (int64_t i = 0; i < m; i++)
                        c[i * rsc] = alone[i * rsc] = want[i] = cv[i];
                    contrl__gemm_ref(m, 1, k, alpha, a, k, 1, b, 1, 1, beta, want, 1, 1);
                    ck_assert(contrl__gemv1_avx512(m, k, alpha, a, k, 1, b, beta, c, rsc));
                    for (int64_t i = 0; i < m; i++)
                        ck_assert(contrl__gemv1_avx512(1, k, alpha, a + i * k, k, 1, b, beta,
                                                       alone + i * rsc, rsc));
                    ck_assert_msg(memcmp(c, alone, sizeof c) == 0,
                                  "m %lld k %lld rsc %d alpha %g beta %g: bits differ from "
                                  "one row at a time",
                                  (long long)m, (long long)k, rsc, (double)alpha, (double)beta);
                    const float tol = tolerance(k, alpha, amax, bmax, beta, cmax);
                    for (int64_t i = 0; i < m; i++)
                        ck_assert_msg(fabsf(c[i * rsc] - want[i]) <= tol,
                                      "m %lld k %lld: row %lld is %.9g, reference %.9g",
                                      (long long)m, (long long)k, (long long)i,
                                      (double)c[i * rsc], (double)want[i]);
                    for (int64_t i = m * rsc; i < M * RSC; i++)
                        ck_assert_uint_eq(float_bits(c[i]), CANARY_BITS);
                    cases++;
                }
    ck_assert_int_eq(cases, 7 * 6 * 2 * 3);
    free(a);
}
END_TEST

/* ---- the matrix-vector kernels directly --------------------------------- */

typedef struct matvec_variant {
    const char *name;
    contrl__matvec_fn fn;
    int (*runs_here)(void);
} matvec_variant;

static int always(void)
{
    return 1;
}

static const matvec_variant variants[] = {
    {"generic", contrl__matvec_generic, always},
    {"avx2", contrl__matvec_avx2, cpu_avx2_fma},
    {"avx512", contrl__matvec_avx512, cpu_avx512f},
};

/* Loop test over the three variants. */
START_TEST(matvec_matches_reference_and_keeps_row_canaries)
{
    const matvec_variant *v = &variants[_i];
    if (!v->runs_here()) {
        fprintf(stderr, "matvec %s: CPU lacks the instructions, not run\n", v->name);
        return;
    }
    /* Column tails around every multiple of 8 (AVX2 lanes), 16 (AVX-512
     * lanes), 24 and 64 (the two tile widths); k around the 2-, 4- and
     * 8-way splits of the one-row kernel. */
    static const int64_t ns[] = {1,  2,  3,  5,  7,  8,  9,  15, 16, 17, 23,  24,  25,  31, 32,
                                 33, 47, 48, 49, 63, 64, 65, 79, 80, 97, 127, 128, 129, 200};
    static const int64_t ks[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 64, 67};
    enum { NS = sizeof ns / sizeof ns[0], KS = sizeof ks / sizeof ks[0] };
    contrl_rng rng;
    contrl_rng_seed(&rng, 4242 + (uint64_t)_i);
    long cases = 0, failures = 0;
    char first[512] = "", msg[256];
    enum { KMAX = 67, NMAX = 200, MMAX = CONTRL__MATVEC_MAX_M, PA = 2, PB = 3, PC = 5 };
    float *sa = malloc(mat_cap(MMAX, KMAX, PA) * sizeof(float));
    float *sb = malloc(mat_cap(KMAX, NMAX, PB) * sizeof(float));
    float *sc = malloc(mat_cap(MMAX, NMAX, PC) * sizeof(float));
    float *da = malloc(MMAX * KMAX * sizeof(float)), *db = malloc(KMAX * NMAX * sizeof(float));
    float *dc = malloc(MMAX * NMAX * sizeof(float)), *dcin = malloc(MMAX * NMAX * sizeof(float));
    float *want = malloc(MMAX * NMAX * sizeof(float));
    ck_assert(sa && sb && sc && da && db && dc && dcin && want);
    for (int64_t m = 1; m <= CONTRL__MATVEC_MAX_M; m++)
        for (int in = 0; in < NS; in++)
            for (int ik = 0; ik < KS; ik++) {
                const int64_t n = ns[in], k = ks[ik];
                const float amax = fill_random(da, (size_t)(m * k), &rng);
                const float bmax = fill_random(db, (size_t)(k * n), &rng);
                const float c0max = fill_random(dc, (size_t)(m * n), &rng);
                for (int ab = 0; ab < 3; ab++) {
                    const float alpha = alphas[ab], beta = betas[ab];
                    if (beta == 0.0f)
                        fill_value(dcin, (size_t)(m * n), NAN); /* must not be read */
                    else
                        memcpy(dcin, dc, (size_t)(m * n) * sizeof(float));
                    memcpy(want, dcin, (size_t)(m * n) * sizeof(float));
                    contrl__gemm_ref(m, n, k, alpha, da, k, 1, db, n, 1, beta, want, n, 1);
                    const float tol =
                        tolerance(k, alpha, amax, bmax, beta, beta == 0.0f ? 0.0f : c0max);
                    for (int la = 0; la < 2; la++) {
                        matrix A = mat_view(sa, m, k, (enum layout)la, PA, PAD_BITS);
                        matrix B = mat_view(sb, k, n, ROW_MAJOR, PB, PAD_BITS);
                        /* Rows of C are n + 5 apart: 5 canaries after each. */
                        matrix C = mat_view(sc, m, n, ROW_MAJOR, PC, CANARY_BITS);
                        mat_load(&A, da);
                        mat_load(&B, db);
                        mat_load(&C, dcin);
                        v->fn(m, n, k, alpha, A.p, A.rs, A.cs, B.p, B.rs, beta, C.p, C.rs);
                        cases++;
                        if (!check_result(&C, want, tol, msg, sizeof msg) && failures++ == 0)
                            snprintf(first, sizeof first,
                                     "%s m=%lld n=%lld k=%lld A %s alpha %g beta %g: %s",
                                     v->name, (long long)m, (long long)n, (long long)k,
                                     la ? "col" : "row", (double)alpha, (double)beta, msg);
                    }
                }
            }
    free(sa);
    free(sb);
    free(sc);
    free(da);
    free(db);
    free(dc);
    free(dcin);
    free(want);
    ck_assert_msg(failures == 0, "%ld of %ld products wrong; first: %s", failures, cases, first);
}
END_TEST

/* The library promises bit-identical results run to run (docs/kernels.md,
 * Determinism): the same product through a fresh handle of the same set is
 * bit-identical too. */
/* The transposed copies before libxsmm's dX products: the AVX-512 16x16
 * and AVX2 8x8 versions against the definition, on every remainder of 16
 * and 8 in both dimensions and a padded leading dimension; the destination
 * past n * k is left alone. */
START_TEST(transposed_copies_match_the_definition)
{
    if (!__builtin_cpu_supports("avx2"))
        return;
    const bool avx512 = __builtin_cpu_supports("avx512f") != 0;
    enum { MAXD = 49, LD = MAXD + 3 };
    static float src[MAXD * LD], dst[MAXD * MAXD + 16];
    for (int i = 0; i < MAXD * LD; i++)
        src[i] = (float)i * 0.5f - 7.0f;
    for (int64_t n = 1; n <= MAXD; n += (n < 20 ? 1 : 7))
        for (int64_t k = 1; k <= MAXD; k += (k < 20 ? 1 : 5))
            for (int v = 0; v < (avx512 ? 2 : 1); v++) {
                for (int i = 0; i < MAXD * MAXD + 16; i++)
                    dst[i] = -1.0f;
                if (v == 0)
                    contrl__transpose_avx2(n, k, src, LD, dst);
                else
                    contrl__transpose_avx512(n, k, src, LD, dst);
                for (int64_t p = 0; p < k; p++)
                    for (int64_t j = 0; j < n; j++)
                        ck_assert_msg(dst[p * n + j] == src[j * LD + p],
                                      "%s n %lld k %lld: [%lld][%lld] %g, expected %g",
                                      v ? "avx512" : "avx2", (long long)n, (long long)k,
                                      (long long)p, (long long)j, (double)dst[p * n + j],
                                      (double)src[j * LD + p]);
                for (int64_t i = n * k; i < n * k + 16; i++)
                    ck_assert_msg(dst[i] == -1.0f, "n %lld k %lld: wrote past the end",
                                  (long long)n, (long long)k);
            }
}
END_TEST

START_TEST(same_product_twice_is_bit_identical_across_handles)
{
    const contrl_kernels set = (contrl_kernels)_i;
    contrl__blas *b1 = blas_alloc(), *b2 = blas_alloc();
    if (contrl__blas_init(b1, set, "test_blas") != CONTRL_OK) {
        ck_assert(!set_runs_here(set));
        free(b1);
        free(b2);
        return;
    }
    ck_assert_int_eq(contrl__blas_init(b2, set, "test_blas"), CONTRL_OK);
    static const int64_t mnk[][3] = {{1, 256, 256}, {4, 6, 256}, {256, 256, 17}, {256, 6, 256}};
    contrl_rng rng;
    contrl_rng_seed(&rng, 99);
    for (size_t t = 0; t < sizeof mnk / sizeof mnk[0]; t++) {
        const int64_t m = mnk[t][0], n = mnk[t][1], k = mnk[t][2];
        matrix A = mat_new(m, k, ROW_MAJOR, 1, PAD_BITS);
        matrix B = mat_new(k, n, ROW_MAJOR, 1, PAD_BITS);
        matrix C1 = mat_new(m, n, ROW_MAJOR, 1, CANARY_BITS);
        matrix C2 = mat_new(m, n, ROW_MAJOR, 1, CANARY_BITS);
        /* Room for the largest of A, B and C. */
        float *dense = malloc((size_t)(m * k + k * n + m * n) * sizeof(float));
        ck_assert_ptr_nonnull(dense);
        fill_random(dense, (size_t)(m * k), &rng);
        mat_load(&A, dense);
        fill_random(dense, (size_t)(k * n), &rng);
        mat_load(&B, dense);
        fill_random(dense, (size_t)(m * n), &rng);
        mat_load(&C1, dense);
        free(dense);
        memcpy(C2.buf, C1.buf, C1.len * sizeof(float));
        /* Something else in between, so no state can carry over unnoticed. */
        contrl__gemm(b1, m, n, k, 0.5f, A.p, A.rs, 1, B.p, B.rs, 1, 1.0f, C1.p, C1.rs, 1);
        contrl__gemm(b2, m, n, k, 0.5f, A.p, A.rs, 1, B.p, B.rs, 1, 1.0f, C2.p, C2.rs, 1);
        ck_assert_msg(memcmp(C1.buf, C2.buf, C1.len * sizeof(float)) == 0,
                      "set %s %lldx%lldx%lld differs between handles", set_names[set],
                      (long long)m, (long long)n, (long long)k);
        mat_free(&A);
        mat_free(&B);
        mat_free(&C1);
        mat_free(&C2);
    }
    free(b1);
    free(b2);
}
END_TEST

static Suite *blas_suite(void)
{
    Suite *s = suite_create("blas");
    TCase *tc = tcase_create("query");
    tcase_add_test(tc, query_resolves_auto_from_the_cpu);
    tcase_add_test(tc, query_describes_each_explicit_set_or_refuses_it_as_unsupported);
    tcase_add_test(tc, query_rejects_unknown_sets_and_null_info);
    tcase_add_test(tc, env_var_overrides_auto_but_not_an_explicit_set);
    tcase_add_test(tc, net_kernels_resolve_like_query);
    tcase_add_test(tc, query_with_smaller_info_size_writes_nothing_past_it);
    suite_add_tcase(s, tc);

    tc = tcase_create("gemm");
    /* The full sweep is 48384 products per set: seconds under sanitizers. */
    tcase_set_timeout(tc, 50);
    tcase_add_test(tc, gemm_ref_computes_a_hand_checked_product);
    tcase_add_loop_test(tc, gemm_matches_reference_on_every_path_shape_and_layout,
                        CONTRL_KERNELS_SKX, CONTRL_KERNELS_BLIS + 1);
    tcase_add_loop_test(tc, gemm_auto_takes_the_documented_path, CONTRL_KERNELS_SKX,
                        CONTRL_KERNELS_BLIS + 1);
    tcase_add_loop_test(tc, gemm_with_empty_dimensions_writes_only_beta_c, CONTRL_KERNELS_SKX,
                        CONTRL_KERNELS_BLIS + 1);
    tcase_add_loop_test(tc, same_product_twice_is_bit_identical_across_handles,
                        CONTRL_KERNELS_SKX, CONTRL_KERNELS_BLIS + 1);
    tcase_add_test(tc, own_products_match_the_reference_and_libxsmm_bit_for_bit);
    tcase_add_test(tc, one_column_products_give_each_row_the_bits_of_its_own_reduction);
    tcase_add_test(tc, own_epilogues_match_the_product_and_its_separate_pass);
    tcase_add_loop_test(tc, xsmm_matches_reference_on_odd_shapes_strides_and_transposes,
                        CONTRL_KERNELS_SKX, CONTRL_KERNELS_ZEN3 + 1);
    tcase_add_test(tc, transposed_copies_match_the_definition);
    tcase_add_loop_test(tc, matvec_matches_reference_and_keeps_row_canaries, 0,
                        (int)(sizeof variants / sizeof variants[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(blas_suite());
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
