/* lib/blas/blas.c - the only file that talks to BLIS.
 *
 * BLIS picks its kernels from a table of CPUs it knew when released; newer
 * CPUs (AMD Zen 4/5 under BLIS 0.9) fall back to its portable "generic"
 * kernels, 4-5x slower. BLIS's static archive still holds the optimised
 * sub-configurations, so libcontrl initialises their contexts itself and
 * passes them to the expert API (bli_sgemm_ex), together with a per-handle
 * runtime object: BLIS's process-wide state (thread count, chosen
 * architecture) is never touched. */
#include <blis.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "duo.h"
#if CONTRL_HAVE_XSMM
#include "xsmm.h"
#endif

/* Context initialisers of BLIS's sub-configurations. They are part of the
 * static archive but not of blis.h. */
void bli_cntx_init_skx(cntx_t *cntx);
void bli_cntx_init_zen3(cntx_t *cntx);
void bli_cntx_init_haswell(cntx_t *cntx);
void bli_cntx_init_generic(cntx_t *cntx);

enum { N_SETS = 6, SMALL_SIDE = 32, XSMM_CACHE = 32 };

typedef struct kernel_set {
    const char *name;
    const char *description;
    int needs_avx512f, needs_avx2_fma;
    void (*init_large)(cntx_t *); /* NULL: BLIS's own choice */
    void (*init_small)(cntx_t *);
    contrl__matvec_fn matvec;     /* NULL: BLIS for every product */
    int xsmm_level;               /* libxsmm JIT level it takes (2 AVX-512, 1 AVX2), 0 never */
    const char *description_xsmm; /* description when libxsmm is used */
    bool gemv1;                   /* libcontrl's AVX-512 code for one-column products */
    bool own_mm;                  /* libcontrl's AVX-512 products (mm.c) for small ones */
} kernel_set;

static const kernel_set sets[N_SETS] = {
    [CONTRL_KERNELS_SKX] = {"skx",
                            "libcontrl AVX-512 code for small products (fused with their "
                            "bias and activation), for 1-4 rows and for one-column "
                            "products, BLIS skx (AVX-512) for large products, BLIS zen3 "
                            "sup for the other small ones",
                            1, 1, bli_cntx_init_skx, bli_cntx_init_zen3,
                            contrl__matvec_avx512, 2,
                            "libcontrl AVX-512 code for a layer's small products with "
                            "their bias and activation (libxsmm's arithmetic), for 1-4 rows "
                            "and for one-column products, libxsmm JIT (AVX-512) for the "
                            "other small products of 5 or more rows, BLIS skx (AVX-512) for "
                            "large products, BLIS zen3 sup for the other small ones",
                            true, true},
    [CONTRL_KERNELS_ZEN3] = {"zen3",
                             "BLIS zen3 (AVX2, with its sup path) for every product, "
                             "libcontrl AVX2 code for 1-4 rows",
                             0, 1, bli_cntx_init_zen3, bli_cntx_init_zen3,
                             contrl__matvec_avx2, 1,
                             "libxsmm JIT (AVX2) for small products of 5 or more rows, "
                             "BLIS zen3 (AVX2, with its sup path) for the others, "
                             "libcontrl AVX2 code for 1-4 rows", false, false},
    [CONTRL_KERNELS_HASWELL] = {"haswell",
                                "BLIS haswell (AVX2) for every product, libcontrl AVX2 "
                                "code for 1-4 rows",
                                0, 1, bli_cntx_init_haswell, bli_cntx_init_haswell,
                                contrl__matvec_avx2, 0, NULL, false, false},
    [CONTRL_KERNELS_GENERIC] = {"generic",
                                "BLIS generic (portable C) kernels, libcontrl plain C "
                                "for 1-4 rows",
                                0, 0, bli_cntx_init_generic, bli_cntx_init_generic,
                                contrl__matvec_generic, 0, NULL, false, false},
    [CONTRL_KERNELS_BLIS] = {"blis", "BLIS's own CPU detection for every product",
                             0, 0, NULL, NULL, NULL, 0, NULL, false, false},
};

/* Contexts are filled once per process and only read afterwards. */
static cntx_t contexts[N_SETS][2];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_avx512f, have_avx2_fma;
static int xsmm_level; /* what libxsmm's JIT targets here: 2 AVX-512, 1 AVX2, 0 none/absent */

static void init_once(void)
{
    bli_init();
    __builtin_cpu_init();
    have_avx512f = __builtin_cpu_supports("avx512f") != 0;
    have_avx2_fma = __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
#if CONTRL_HAVE_XSMM
    xsmm_level = contrl__xsmm_init();
#endif
    for (int s = 1; s < N_SETS; s++) {
        if ((sets[s].needs_avx512f && !have_avx512f) ||
            (sets[s].needs_avx2_fma && !have_avx2_fma))
            continue; /* never run kernels the CPU lacks, not even to init */
        if (sets[s].init_large == NULL) {
            contexts[s][0] = *bli_gks_query_cntx();
            contexts[s][1] = contexts[s][0];
        } else {
            sets[s].init_large(&contexts[s][0]);
            sets[s].init_small(&contexts[s][1]);
        }
    }
}

/* One libxsmm kernel, keyed by its column-major parameters. */
typedef struct xsmm_entry {
    int32_t M, N, K, lda, ldb, ldc;
    bool trans_b, beta0;
#if CONTRL_HAVE_XSMM
    contrl__xsmm_kernel kernel;
#endif
} xsmm_entry;

struct contrl__blas {
    const kernel_set *set;
    contrl_kernels kernels;
    const char *source;
    contrl__gemm_path path;
    bool xsmm;       /* libxsmm for the small products it has a kernel for */
    bool xsmm_any_shape; /* benchmarks: libxsmm whatever the shape rule says */
    bool own;        /* libcontrl's AVX-512 products (mm.c) for the small ones */
    bool preparing;  /* between contrl__blas_prepare(b, true) and (b, false) */
    uint32_t n_xsmm;
    uint64_t xsmm_dispatches; /* libxsmm dispatch (JIT or registry) calls made */
    float *ws;       /* caller's workspace for transposed copies of B */
    size_t ws_len;
    contrl__duo *duo; /* second thread for large products, NULL if none */
    uint64_t splits;  /* products split over it */
    uint64_t own_runs; /* products run on libcontrl's own code (mm.c) */
    xsmm_entry xsmm_kernels[XSMM_CACHE];
    rntm_t rntm;
};

size_t contrl__blas_size(void)
{
    return sizeof(contrl__blas);
}

static contrl_status resolve(contrl_kernels requested, const char *func,
                             contrl_kernels *out, const char **source)
{
    pthread_once(&once, init_once);
    if ((int)requested < 0 || (int)requested >= N_SETS)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown kernel set %d", func,
                            (int)requested);
    *source = "config";
    if (requested == CONTRL_KERNELS_AUTO) {
        const char *env = getenv("CONTRL_BLIS_ARCH");
        if (env != NULL && env[0] != '\0') {
            int found = 0;
            for (int s = 1; s < N_SETS; s++)
                if (strcmp(env, sets[s].name) == 0) {
                    requested = (contrl_kernels)s;
                    found = 1;
                }
            if (!found)
                return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                    "%s: CONTRL_BLIS_ARCH='%s' names no kernel set "
                                    "(skx, zen3, haswell, generic, blis)",
                                    func, env);
            *source = "env CONTRL_BLIS_ARCH";
        } else {
            requested = have_avx512f    ? CONTRL_KERNELS_SKX
                        : have_avx2_fma ? CONTRL_KERNELS_ZEN3
                                        : CONTRL_KERNELS_BLIS;
            *source = "cpu";
        }
    }
    const kernel_set *set = &sets[requested];
    if ((set->needs_avx512f && !have_avx512f) || (set->needs_avx2_fma && !have_avx2_fma))
        return contrl__fail(CONTRL_ERR_UNSUPPORTED,
                            "%s: kernel set '%s' needs %s, which this CPU lacks", func,
                            set->name, set->needs_avx512f ? "AVX-512F" : "AVX2 and FMA");
    *out = requested;
    return CONTRL_OK;
}

/* libxsmm runs a set's small products when it is built in, its JIT targets
 * the set's instruction level, and CONTRL_XSMM is not "0" or "off". */
static bool xsmm_wanted(const kernel_set *set)
{
    if (set->xsmm_level == 0 || set->xsmm_level != xsmm_level)
        return false;
    const char *env = getenv("CONTRL_XSMM");
    return env == NULL || (strcmp(env, "0") != 0 && strcmp(env, "off") != 0);
}

/* The set's own products (mm.c), unless CONTRL_FUSED is "0" or "off" (a
 * switch for comparing: libxsmm or BLIS then run them, same bits). */
static bool own_wanted(const kernel_set *set)
{
    if (!set->own_mm)
        return false;
    const char *env = getenv("CONTRL_FUSED");
    return env == NULL || (strcmp(env, "0") != 0 && strcmp(env, "off") != 0);
}

contrl_status contrl__blas_init(contrl__blas *b, contrl_kernels requested, const char *func)
{
    contrl_kernels k = CONTRL_KERNELS_AUTO;
    const char *source = NULL;
    contrl_status st = resolve(requested, func, &k, &source);
    if (st != CONTRL_OK)
        return st;
    b->set = &sets[k];
    b->kernels = k;
    b->source = source;
    b->path = CONTRL__PATH_AUTO;
    b->xsmm = xsmm_wanted(b->set);
    b->xsmm_any_shape = false;
    b->own = own_wanted(b->set);
    b->preparing = false;
    b->n_xsmm = 0;
    b->xsmm_dispatches = 0;
    b->ws = NULL;
    b->ws_len = 0;
    b->duo = NULL;
    b->splits = 0;
    b->own_runs = 0;
    bli_rntm_init(&b->rntm);
    bli_rntm_set_num_threads(1, &b->rntm);
    return CONTRL_OK;
}

contrl_kernels contrl__blas_kernels(const contrl__blas *b)
{
    return b->kernels;
}

void contrl__gemm_path_set(contrl__blas *b, contrl__gemm_path path)
{
    b->path = path;
}

bool contrl__blas_uses_xsmm(const contrl__blas *b)
{
    return b->xsmm;
}

void contrl__blas_set_own(contrl__blas *b, bool on)
{
    b->own = on && b->set->own_mm;
}

bool contrl__blas_uses_own(const contrl__blas *b)
{
    return b->own;
}

uint64_t contrl__blas_own_runs(const contrl__blas *b)
{
    return b->own_runs;
}

void contrl__blas_set_xsmm(contrl__blas *b, int mode)
{
    b->xsmm = mode != 0 && xsmm_level != 0;
    b->xsmm_any_shape = mode == 2 && b->xsmm;
}

void contrl__blas_prepare(contrl__blas *b, bool on)
{
    b->preparing = on;
}

void contrl__blas_set_workspace(contrl__blas *b, float *ws, size_t len)
{
    b->ws = ws;
    b->ws_len = ws != NULL ? len : 0;
}

void contrl__blas_set_duo(contrl__blas *b, contrl__duo *duo)
{
    b->duo = duo;
}

uint64_t contrl__blas_splits(const contrl__blas *b)
{
    return b->splits;
}

uint32_t contrl__blas_xsmm_kernels(const contrl__blas *b)
{
    return b->n_xsmm;
}

uint64_t contrl__blas_xsmm_dispatches(const contrl__blas *b)
{
    return b->xsmm_dispatches;
}

contrl_status contrl_blas_query(contrl_kernels requested, contrl_blas_info *info)
{
    if (info == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_blas_query: info is NULL");
    if (info->size < offsetof(contrl_blas_info, cpu_avx512f))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl_blas_query: info->size %zu is too small", info->size);
    contrl_kernels k = CONTRL_KERNELS_AUTO;
    const char *source = NULL;
    contrl_status st = resolve(requested, "contrl_blas_query", &k, &source);
    if (st != CONTRL_OK)
        return st;
    contrl_blas_info out;
    out.size = info->size < sizeof out ? info->size : sizeof out;
    out.kernels = k;
    out.name = sets[k].name;
    out.description = sets[k].description;
    out.source = source;
    out.blis_version = bli_info_get_version_str();
    out.blis_detected = bli_arch_string(bli_arch_query_id());
    out.cpu_avx512f = have_avx512f;
    out.cpu_avx2_fma = have_avx2_fma;
    out.xsmm = NULL;
#if CONTRL_HAVE_XSMM
    if (xsmm_wanted(&sets[k])) {
        out.description = sets[k].description_xsmm;
        out.xsmm = contrl__xsmm_name();
    }
#endif
    memcpy(info, &out, out.size);
    return CONTRL_OK;
}

/* The shapes libxsmm takes when it is on (docs/kernels.md has the
 * measurements behind the rule). */
static bool xsmm_shape(int64_t m, int64_t n, int64_t k)
{
    /* One output column (a critic's last layer) stays off libxsmm: BLIS's
     * small path ran it 2x faster, and on skx libcontrl's one-column code
     * takes it before this rule. B read through its transpose is
     * copied first, in 8x8 register transposes: with that copy libxsmm's
     * 256x256x256 dX ran at 149 GFLOP/s against BLIS's packed 132 (with the
     * earlier scalar copy: 57 against 92, when it went to BLIS above
     * 128x128). Measured up to 1024 on each side. */
    return n >= 2 && m <= 1024 && n <= 1024 && k <= 1024;
}

/* ws[p, j] = B[p, j], row-major [k, n], from a B with unit row stride */
static void copy_transposed(contrl__blas *b, int64_t n, int64_t k, const float *bm, int64_t csb)
{
    if (b->set->needs_avx512f) /* 16x16 blocks: Ant's 256-wide copies were 2.7% of its run */
        contrl__transpose_avx512(n, k, bm, csb, b->ws);
    else
        contrl__transpose_avx2(n, k, bm, csb, b->ws);
}

/* How B reaches a kernel that reads it row-major (libxsmm's, or mm.c's):
 * as it is (unit column stride, row stride at least n: *copy_b false), or
 * copied transposed into the workspace (unit row stride, n k floats that
 * fit: true); false for any other layout. */
static bool b_rows(const contrl__blas *b, int64_t n, int64_t k, int64_t rsb, int64_t csb,
                   bool *copy_b)
{
    *copy_b = !(csb == 1 && rsb >= n);
    return !*copy_b || (rsb == 1 && (uint64_t)(n * k) <= b->ws_len);
}
/* Row-major C[m,n] = A B + beta C is column-major C^T = B^T A^T: libxsmm's
 * M, N, K are our n, m, k, its A is our B and its B our A. Our B must have a
 * unit column stride (else it is first copied, transposed, into the
 * workspace: libxsmm 1.17 cannot JIT a transposed A), our A a unit column
 * or row stride (the latter is libxsmm's TRANS_B), C a unit column stride;
 * alpha 1, beta 0 or 1. Runs the product and returns true if a kernel is
 * cached, or may be dispatched (`dispatch`: while preparing, or on the
 * forced path); false leaves C untouched for BLIS. */
#if CONTRL_HAVE_XSMM
/* libxsmm's key for our product; false if libxsmm cannot run it. */
static bool xsmm_key(const contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                     int64_t rsa, int64_t csa, int64_t rsb, int64_t csb, float beta, int64_t rsc,
                     int64_t csc, xsmm_entry *key, bool *copy_b)
{
    if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f) || csc != 1 || k == 0 ||
        m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || rsc > INT32_MAX)
        return false;
    memset(key, 0, sizeof *key);
    key->M = (int32_t)n;
    key->N = (int32_t)m;
    key->K = (int32_t)k;
    key->ldc = (int32_t)rsc;
    key->beta0 = beta == 0.0f;
    if (!b_rows(b, n, k, rsb, csb, copy_b) || (!*copy_b && rsb > INT32_MAX))
        return false;
    key->lda = (int32_t)(*copy_b ? n : rsb);
    if (csa == 1 && rsa >= k && rsa <= INT32_MAX) {
        key->ldb = (int32_t)rsa;
    } else if (rsa == 1 && csa >= m && csa <= INT32_MAX) {
        key->ldb = (int32_t)csa;
        key->trans_b = true;
    } else {
        return false;
    }
    return rsc >= n;
}

static const xsmm_entry *xsmm_find(const contrl__blas *b, const xsmm_entry *key)
{
    for (uint32_t i = 0; i < b->n_xsmm; i++) {
        const xsmm_entry *x = &b->xsmm_kernels[i];
        if (x->M == key->M && x->N == key->N && x->K == key->K && x->lda == key->lda &&
            x->ldb == key->ldb && x->ldc == key->ldc && x->trans_b == key->trans_b &&
            x->beta0 == key->beta0)
            return x;
    }
    return NULL;
}

/* While preparing: the kernel of a product into the cache, not run. */
static void xsmm_cache(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha, int64_t rsa,
                       int64_t csa, int64_t rsb, int64_t csb, float beta, int64_t rsc, int64_t csc)
{
    xsmm_entry key;
    bool copy_b;
    if (!xsmm_key(b, m, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc, &key, &copy_b) ||
        xsmm_find(b, &key) != NULL || b->n_xsmm >= XSMM_CACHE)
        return;
    b->xsmm_dispatches++;
    if (contrl__xsmm_dispatch(key.M, key.N, key.K, key.lda, key.ldb, key.ldc, key.trans_b,
                              key.beta0, &key.kernel))
        b->xsmm_kernels[b->n_xsmm++] = key;
}

#endif

static bool xsmm_gemm(contrl__blas *b, bool dispatch, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t rsa, int64_t csa, const float *bm,
                      int64_t rsb, int64_t csb, float beta, float *c, int64_t rsc, int64_t csc)
{
#if CONTRL_HAVE_XSMM
    xsmm_entry key;
    bool copy_b;
    if (!xsmm_key(b, m, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc, &key, &copy_b))
        return false;
    const xsmm_entry *e = xsmm_find(b, &key);
    if (e == NULL) {
        if (dispatch)
            b->xsmm_dispatches++;
        if (!dispatch || !contrl__xsmm_dispatch(key.M, key.N, key.K, key.lda, key.ldb, key.ldc,
                                                key.trans_b, key.beta0, &key.kernel))
            return false;
        if (b->preparing && b->n_xsmm < XSMM_CACHE)
            b->xsmm_kernels[b->n_xsmm++] = key;
        e = &key;
    }
    const float *src = bm;
    if (copy_b) {
        copy_transposed(b, n, k, bm, csb);
        src = b->ws;
    }
    contrl__xsmm_run(e->kernel, src, a, c);
    return true;
#else
    (void)b, (void)dispatch, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)rsa;
    (void)csa, (void)bm, (void)rsb, (void)csb, (void)beta, (void)c, (void)rsc, (void)csc;
    return false;
#endif
}

/* ---- large products on two threads ------------------------------------------
 * With a second thread (contrl__blas_set_duo) that is idle, a product of at
 * least SPLIT_FLOPS that libxsmm runs is split by rows of C: rows [0, m0)
 * here, [m0, m) on the worker, each on its own cached kernel. Every element
 * of C is then computed by the same kernel code over the same k order as
 * unsplit, so the bits do not depend on the split (tests/agents trains
 * 128-wide nets on 1 and 2 threads and compares). A transposed B is copied
 * once, before the split. The half shapes are prepared with the whole one. */
enum { SPLIT_FLOPS = 4000000, SPLIT_MIN_ROWS = 32 };

static int64_t split_rows(int64_t m)
{
    return ((m / 2) + 7) & ~(int64_t)7;
}

static bool split_size(int64_t m, int64_t n, int64_t k)
{
    return m >= SPLIT_MIN_ROWS && 2.0 * (double)m * (double)n * (double)k >= SPLIT_FLOPS;
}

#if CONTRL_HAVE_XSMM
typedef struct half_job {
    const xsmm_entry *e;
    const float *src, *a;
    float *c;
} half_job;

static void run_half(void *p)
{
    const half_job *h = p;
    contrl__xsmm_run(h->e->kernel, h->src, h->a, h->c);
}

static bool xsmm_split(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t rsa, int64_t csa, const float *bm, int64_t rsb,
                       int64_t csb, float beta, float *c, int64_t rsc, int64_t csc)
{
    const int64_t m0 = split_rows(m);
    xsmm_entry k0, k1;
    bool copy_b;
    if (!xsmm_key(b, m0, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc, &k0, &copy_b) ||
        !xsmm_key(b, m - m0, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc, &k1, &copy_b))
        return false;
    /* with a unit-row-stride A (trans_b) the halves' A start at row offsets too */
    half_job h[2] = {{xsmm_find(b, &k0), bm, a, c},
                     {xsmm_find(b, &k1), bm, a + m0 * rsa, c + m0 * rsc}};
    if (h[0].e == NULL || h[1].e == NULL)
        return false;
    if (copy_b) {
        copy_transposed(b, n, k, bm, csb);
        h[0].src = h[1].src = b->ws;
    }
    contrl__duo_both(b->duo, run_half, &h[0], run_half, &h[1]);
    b->splits++;
    return true;
}

/* While preparing: the kernels of a split's two halves, for a later split. */
static void xsmm_cache_halves(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                              int64_t rsa, int64_t csa, int64_t rsb, int64_t csb, float beta,
                              int64_t rsc, int64_t csc)
{
    if (!split_size(m, n, k))
        return;
    const int64_t m0 = split_rows(m);
    xsmm_cache(b, m0, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc);
    xsmm_cache(b, m - m0, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc);
}
#endif
/* ---- libcontrl's own AVX-512 products (mm.c) ------------------------------
 * They take the products libxsmm would (the shape rule, m > 4, a unit
 * column stride for C, B row-major or copied transposed like libxsmm's,
 * alpha 1, beta 0 or 1) with libxsmm's arithmetic, so the results are the
 * same bits with or without libxsmm built in. A product of at least
 * SPLIT_FLOPS is split by rows over an idle worker, as for libxsmm; an
 * epilogue that sums columns in row order is then declined (false) and the
 * caller runs the product and its own pass. */
typedef struct own_job {
    int64_t m, n, k;
    const float *a;
    int64_t rsa, csa;
    const float *bm;
    int64_t ldb;
    bool accumulate;
    float *c;
    int64_t ldc;
    const contrl__mm_epi *epi;
} own_job;

static void run_own(void *p)
{
    const own_job *j = p;
    contrl__mm_avx512(j->m, j->n, j->k, j->a, j->rsa, j->csa, j->bm, j->ldb, j->accumulate, j->c,
                      j->ldc, j->epi);
}

static bool own_gemm(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t rsa, int64_t csa, const float *bm, int64_t rsb,
                     int64_t csb, float beta, float *c, int64_t rsc, int64_t csc,
                     const contrl__mm_epi *epi)
{
    if (!b->own || b->xsmm_any_shape || b->path != CONTRL__PATH_AUTO || m <= CONTRL__MATVEC_MAX_M ||
        !xsmm_shape(m, n, k) || alpha != 1.0f || (beta != 0.0f && beta != 1.0f) || csc != 1 ||
        rsc < n || k == 0)
        return false;
    if (!(csa == 1 || rsa == 1))
        return false;
    /* Without an epilogue libxsmm, where built in, keeps the products: its
     * fully unrolled kernels ran 0-35% faster on RL shapes (k of 3 or 4 and
     * a few columns most; 64-wide ones at par). With one, the saved pass
     * pays for that where the columns fill whole vectors, and from 32
     * columns libxsmm's arithmetic is ours (below that, and on a partial
     * last vector, its kernels keep several partial sums per element). */
    if (epi == NULL ? b->xsmm : n % 16 != 0 || n < 32)
        return false;
    bool copy_b;
    if (!b_rows(b, n, k, rsb, csb, &copy_b))
        return false;
#if CONTRL_HAVE_XSMM
    /* libxsmm's kernels for the same product all the same, so that turning
     * this code off (contrl__blas_set_own) falls back to them, not BLIS */
    if (b->preparing && b->xsmm) {
        xsmm_cache(b, m, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc);
        xsmm_cache_halves(b, m, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc);
    }
#endif
    const bool split = b->duo != NULL && !b->preparing && split_size(m, n, k) &&
                       contrl__duo_idle(b->duo);
    if (split && epi != NULL && epi->kind == CONTRL__EPI_RELU_MASK_SUM)
        return false;
    const float *src = bm;
    int64_t ldb = rsb;
    if (copy_b) {
        copy_transposed(b, n, k, bm, csb);
        src = b->ws;
        ldb = n;
    }
    own_job j = {m, n, k, a, rsa, csa, src, ldb, beta != 0.0f, c, rsc, epi};
    b->own_runs++;
    if (!split) {
        run_own(&j);
        return true;
    }
    const int64_t m0 = split_rows(m);
    own_job h = j;
    j.m = m0;
    h.m = m - m0;
    h.a = a + m0 * rsa;
    h.c = c + m0 * rsc;
    contrl__duo_both(b->duo, run_own, &j, run_own, &h);
    b->splits++;
    return true;
}

bool contrl__gemm_epi(contrl__blas *b, int64_t m, int64_t n, int64_t k, const float *a,
                      int64_t rsa, int64_t csa, const float *bm, int64_t rsb, int64_t csb,
                      float beta, float *c, int64_t rsc, const contrl__mm_epi *epi)
{
    /* an epilogue is required (blas.h); own_gemm declines the shapes its
     * code does not take, which contrl__gemm then runs */
    if (epi == NULL)
        return false;
    return own_gemm(b, m, n, k, 1.0f, a, rsa, csa, bm, rsb, csb, beta, c, rsc, 1, epi);
}

void contrl__gemm(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t rsa, int64_t csa,
                  const float *bm, int64_t rsb, int64_t csb, float beta,
                  float *c, int64_t rsc, int64_t csc)
{
    if (m == 0 || n == 0)
        return;
    contrl__gemm_path path = b->path;
    int matvec_ok = b->set->matvec != NULL && m <= CONTRL__MATVEC_MAX_M && csb == 1 && csc == 1;
    if (path == CONTRL__PATH_XSMM) {
        if (xsmm_level != 0 &&
            xsmm_gemm(b, true, m, n, k, alpha, a, rsa, csa, bm, rsb, csb, beta, c, rsc, csc))
            return;
        path = CONTRL__PATH_SMALL;
    }
    if (path == CONTRL__PATH_AUTO && n == 1 && !matvec_ok && b->set->gemv1 && rsb == 1 &&
        contrl__gemv1_avx512(m, k, alpha, a, rsa, csa, bm, beta, c, rsc))
        return;
    if (path == CONTRL__PATH_AUTO && n >= 2 && n <= 4 && !matvec_ok && b->set->gemv1 &&
        csb == 1 && csc == 1 &&
        contrl__gemvn_avx512(m, n, k, alpha, a, rsa, csa, bm, rsb, beta, c, rsc))
        return;
    if (path == CONTRL__PATH_AUTO && !matvec_ok &&
        own_gemm(b, m, n, k, alpha, a, rsa, csa, bm, rsb, csb, beta, c, rsc, csc, NULL))
        return;
    if (path == CONTRL__PATH_AUTO && b->xsmm && !matvec_ok &&
        (b->xsmm_any_shape || xsmm_shape(m, n, k))) {
#if CONTRL_HAVE_XSMM
        if (b->duo != NULL && !b->preparing && split_size(m, n, k) &&
            contrl__duo_idle(b->duo) &&
            xsmm_split(b, m, n, k, alpha, a, rsa, csa, bm, rsb, csb, beta, c, rsc, csc))
            return;
        if (b->preparing)
            xsmm_cache_halves(b, m, n, k, alpha, rsa, csa, rsb, csb, beta, rsc, csc);
#endif
        if (xsmm_gemm(b, b->preparing, m, n, k, alpha, a, rsa, csa, bm, rsb, csb, beta, c, rsc,
                      csc))
            return;
    }
    if (path == CONTRL__PATH_AUTO) {
        /* Packing pays off once both sides are wide, or the shared dimension
         * is long enough to amortise it (measured: 256x64x64 runs 2.6x
         * faster unpacked, 64x64x256 and 256x256x17 faster packed). */
        const int64_t side = m < n ? m : n;
        const bool large = side >= SMALL_SIDE && (side >= 4 * SMALL_SIDE || k >= 4 * SMALL_SIDE);
        path = matvec_ok ? CONTRL__PATH_MATVEC : large ? CONTRL__PATH_LARGE : CONTRL__PATH_SMALL;
    }
    if (path == CONTRL__PATH_MATVEC && matvec_ok) {
        b->set->matvec(m, n, k, alpha, a, rsa, csa, bm, rsb, beta, c, rsc);
        return;
    }
    cntx_t *cntx = &contexts[b->kernels][path == CONTRL__PATH_LARGE ? 0 : 1];
    /* BLIS's typed API takes non-const pointers but does not write A or B. */
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)a, rsa, csa,
                 (float *)bm, rsb, csb, &beta, c, rsc, csc, cntx, &b->rntm);
}

void contrl__gemm_ref(int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t rsa, int64_t csa,
                      const float *bm, int64_t rsb, int64_t csb, float beta,
                      float *c, int64_t rsc, int64_t csc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)a[i * rsa + p * csa] * bm[p * rsb + j * csb];
            float *dst = &c[i * rsc + j * csc];
            *dst = beta == 0.0f ? (float)(alpha * acc) : (float)(alpha * acc + beta * *dst);
        }
}
