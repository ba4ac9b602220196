/* tests/nn/test_net.c - contrl_net against contrl/net.h and a double-precision
 * reference MLP (tests/support/fd_mlp.c).
 *
 * Tolerances. The reference uses the net's own float parameters and inputs,
 * widened exactly to double, so what separates the two is float rounding in
 * the net: each output is a chain of dot products of at most ~70 terms of
 * magnitude <= ~1, whose float error is a few 1e-7 (measured worst case
 * over the 134 gradient checks: 5.6e-7 relative). FWD_TOL and GRAD_TOL
 * leave a margin of more than 10x over that and stay far below any real
 * mistake (a wrong activation derivative or a transposed weight is off by
 * O(1)). Central differences in double with h = 1e-6 are exact to ~1e-9.
 * CONTRL_TEST_VERBOSE=1 prints the worst error of every gradient check. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "contrl/net.h"
#include "fd_mlp.h"
#include "nn.h"

#define GRAD_TOL 1e-5   /* |net - fd| <= GRAD_TOL * max(1, |fd|) */
#define FWD_TOL 1e-5    /* |net - ref| <= FWD_TOL * max(1, |ref|) */
#define FD_STEP 1e-6    /* central-difference step, in double */
/* Inputs are redrawn until every relu pre-activation is at least this far
 * from 0: float rounding (~1e-6 here) then cannot flip a unit on or off
 * relative to the reference, and neither can a +-FD_STEP perturbation. */
#define KINK_MARGIN 1e-4

static const char *const act_names[] = {"identity", "relu", "tanh", "sigmoid"};
static const char *const path_names[] = {"auto", "matvec", "small", "large", "xsmm"};

/* in, hidden..., out */
typedef struct net_shape {
    uint32_t n_widths;
    uint32_t widths[CONTRL_NET_MAX_HIDDEN + 2];
} net_shape;

static contrl_net_config shape_config(const net_shape *s, contrl_activation hidden_act,
                                      contrl_activation out_act, uint64_t seed)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = s->widths[0];
    cfg.out = s->widths[s->n_widths - 1];
    cfg.n_hidden = s->n_widths - 2;
    for (uint32_t i = 0; i < cfg.n_hidden; i++)
        cfg.hidden[i] = s->widths[i + 1];
    cfg.hidden_act = hidden_act;
    cfg.out_act = out_act;
    cfg.max_batch = 64;
    cfg.seed = seed;
    return cfg;
}

static contrl_net *create_ok(const contrl_net_config *cfg)
{
    contrl_net *net = NULL;
    contrl_status st = contrl_net_create(cfg, &net);
    ck_assert_msg(st == CONTRL_OK, "contrl_net_create: %s (%s)", contrl_status_string(st),
                  contrl_last_error());
    ck_assert_ptr_nonnull(net);
    return net;
}

static contrl_net *new_net(const net_shape *s, contrl_activation hidden_act,
                           contrl_activation out_act, uint64_t seed)
{
    contrl_net_config cfg = shape_config(s, hidden_act, out_act, seed);
    return create_ok(&cfg);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void fill_uniform(contrl_rng *rng, float *v, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * contrl_rng_uniform(rng);
}

static double *widen(const float *v, size_t n)
{
    double *d = xmalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = v[i];
    return d;
}

static double rel_err(double got, double want)
{
    return fabs(got - want) / fmax(1.0, fabs(want));
}

/* Float results against double references; NaN references (kinks) are not
 * compared. */
typedef struct comparison {
    size_t checked, bad, worst;
    double worst_err;
} comparison;

static comparison compare(const float *got, const double *want, size_t n, double tol)
{
    comparison c = {0, 0, 0, 0.0};
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i]))
            continue;
        double e = rel_err(got[i], want[i]);
        c.checked++;
        if (!(e <= tol))
            c.bad++;
        if (!(e <= c.worst_err)) {
            c.worst_err = e;
            c.worst = i;
        }
    }
    return c;
}

/* Check every error message names the function that failed. */
#define ck_assert_fails(call, status, fname)                                                  \
    do {                                                                                     \
        contrl_clear_error();                                                                \
        contrl_status st_ = (call);                                                          \
        ck_assert_msg(st_ == (status), "%s returned %d (%s), expected %d", #call, (int)st_,   \
                      contrl_last_error(), (int)(status));                                   \
        ck_assert_msg(strstr(contrl_last_error(), (fname)) != NULL,                          \
                      "error \"%s\" does not name %s", contrl_last_error(), (fname));        \
    } while (0)

/* ---- gradients against central differences ------------------------------ */

typedef struct grad_case {
    net_shape shape;
    contrl_activation hidden_act, out_act;
    contrl_kernels kernels;
    contrl__gemm_path path;
    uint32_t batch;
    uint64_t seed;
} grad_case;

/* Forward, backward with a fixed random G (L = sum G ⊙ y), and compare
 * dL/dparams and dL/dx with central differences on the double reference.
 * With `xsmm_off`, libxsmm is turned off on the net's handle after its
 * creation, as in a build without it; returns the products that ran on
 * libcontrl's own code. */
static uint64_t check_gradients_ex(const grad_case *c, bool xsmm_off)
{
    contrl_net_config cfg = shape_config(&c->shape, c->hidden_act, c->out_act, c->seed);
    cfg.kernels = c->kernels;
    contrl_net *net = create_ok(&cfg);
    if (c->path != CONTRL__PATH_AUTO)
        contrl__gemm_path_set(contrl__net_blas(net), c->path);
    if (xsmm_off)
        contrl__blas_set_xsmm(contrl__net_blas(net), 0);
    const uint64_t own0 = contrl__blas_own_runs(contrl__net_blas(net));
    fd_mlp ref;
    ck_assert_int_eq(fd_mlp_from_net(&ref, net), 0);

    const uint32_t B = c->batch;
    const size_t nx = (size_t)B * cfg.in, ny = (size_t)B * cfg.out, np = ref.n_params;
    float *x = xmalloc(nx * sizeof *x), *g = xmalloc(ny * sizeof *g);
    float *dx = xmalloc(nx * sizeof *dx), *grads = xmalloc(np * sizeof *grads);
    double *fd_dx = xmalloc(nx * sizeof *fd_dx), *fd_dp = xmalloc(np * sizeof *fd_dp);
    double *xd = NULL, *yd = xmalloc(ny * sizeof *yd);
    contrl_rng rng;
    contrl_rng_seed(&rng, c->seed * 1000003u + B);
    int attempt = 0;
    for (; attempt < 200; attempt++) {
        fill_uniform(&rng, x, nx, -2.0f, 2.0f);
        free(xd);
        xd = widen(x, nx);
        if (fd_mlp_forward(&ref, xd, B, yd).min_relu_z < KINK_MARGIN)
            continue;
        /* a relu output layer that is off everywhere would make every
         * gradient 0 and the comparison vacuous */
        double y_max = -INFINITY;
        for (size_t i = 0; i < ny; i++)
            y_max = fmax(y_max, yd[i]);
        if (c->out_act != CONTRL_ACT_RELU || y_max > 0.0)
            break;
    }
    ck_assert_msg(attempt < 200, "no input batch keeps relu units away from 0");
    fill_uniform(&rng, g, ny, -1.0f, 1.0f);
    double *gd = widen(g, ny);

    ck_assert_int_eq(contrl_net_zero_grad(net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_forward(net, x, B, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(net, g, dx), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(net, grads, np), CONTRL_OK);

    size_t skipped = fd_mlp_gradients(&ref, xd, B, gd, FD_STEP, fd_dp, fd_dx);
    ck_assert_msg(skipped == 0, "%zu coordinates at a relu kink despite the margin", skipped);

    char what[160];
    snprintf(what, sizeof what, "%u->...->%u hidden %s out %s batch %u kernels %d path %s",
             cfg.in, cfg.out, act_names[c->hidden_act], act_names[c->out_act], B,
             (int)c->kernels, path_names[c->path]);
    comparison cp = compare(grads, fd_dp, np, GRAD_TOL);
    ck_assert_msg(cp.bad == 0, "%s: %zu of %zu dL/dparams off, worst [%zu] net %.9g fd %.9g",
                  what, cp.bad, cp.checked, cp.worst, (double)grads[cp.worst], fd_dp[cp.worst]);
    comparison cx = compare(dx, fd_dx, nx, GRAD_TOL);
    ck_assert_msg(cx.bad == 0, "%s: %zu of %zu dL/dx off, worst [%zu] net %.9g fd %.9g", what,
                  cx.bad, cx.checked, cx.worst, (double)dx[cx.worst], fd_dx[cx.worst]);
    /* Not vacuous: the gradients compared are not all (near) zero. */
    double biggest = 0.0;
    for (size_t i = 0; i < np; i++)
        biggest = fmax(biggest, fabs(fd_dp[i]));
    ck_assert_msg(biggest > 1e-2, "%s: every parameter gradient is below 1e-2", what);
    if (getenv("CONTRL_TEST_VERBOSE") != NULL)
        fprintf(stderr, "%s: worst rel err params %.3g dx %.3g\n", what, cp.worst_err,
                cx.worst_err);

    free(x);
    free(g);
    free(dx);
    free(grads);
    free(fd_dx);
    free(fd_dp);
    free(xd);
    free(yd);
    free(gd);
    fd_mlp_free(&ref);
    const uint64_t own = contrl__blas_own_runs(contrl__net_blas(net)) - own0;
    contrl_net_destroy(net);
    return own;
}

static void check_gradients(const grad_case *c)
{
    check_gradients_ex(c, false);
}

static const uint32_t grad_batches[] = {1, 3, 37};
enum { N_GRAD_BATCHES = sizeof grad_batches / sizeof grad_batches[0] };

/* 3 -> 40 -> 4 -> 2: batches 1 and 3 take the 1-4-row code in the forward
 * pass and in dW of the 3- and 4-wide layers (m = in_l <= 4); batch 37
 * takes BLIS's large-matrix path for 37x40 products and its small-matrix
 * path for the narrow ones. Loop index: hidden activation * 4 + output's. */
START_TEST(net_gradients_match_finite_differences_for_every_activation)
{
    for (int b = 0; b < N_GRAD_BATCHES; b++) {
        grad_case c = {{4, {3, 40, 4, 2}},
                       (contrl_activation)(_i / 4),
                       (contrl_activation)(_i % 4),
                       CONTRL_KERNELS_AUTO,
                       CONTRL__PATH_AUTO,
                       grad_batches[b],
                       (uint64_t)(11 + _i)};
        check_gradients(&c);
    }
}
END_TEST

/* ReLU layers of 64 and 128 units (the 64-column code of the bias and
 * activation passes, forward and backward: one block and two). */
START_TEST(net_gradients_match_finite_differences_on_64_column_relu_layers)
{
    grad_case c = {{4, {2, 64, 128, 2}}, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY,
                   CONTRL_KERNELS_AUTO, CONTRL__PATH_AUTO, 3, 71};
    if (_i == 1) {
        c.shape = (net_shape){4, {2, 64, 64, 2}};
        c.out_act = CONTRL_ACT_TANH;
        c.batch = 9;
    }
    check_gradients(&c);
}
END_TEST

/* An odd-sized net with each kernel path forced for every product. The
 * matrix-vector code only takes products of at most 4 rows (it falls back
 * to BLIS's small path above that), so MATVEC is tried with batches 1 and 3
 * and the fallback with 37. */
START_TEST(net_gradients_match_finite_differences_on_every_forced_path)
{
    static const contrl__gemm_path paths[] = {CONTRL__PATH_MATVEC, CONTRL__PATH_SMALL,
                                              CONTRL__PATH_LARGE, CONTRL__PATH_XSMM};
    static const contrl_activation acts[][2] = {{CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY},
                                                {CONTRL_ACT_RELU, CONTRL_ACT_SIGMOID},
                                                {CONTRL_ACT_SIGMOID, CONTRL_ACT_TANH}};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < N_GRAD_BATCHES; b++) {
            grad_case c = {{3, {5, 7, 3}}, acts[a][0], acts[a][1], CONTRL_KERNELS_AUTO,
                           paths[_i], grad_batches[b], (uint64_t)(101 + a)};
            check_gradients(&c);
        }
}
END_TEST

/* Without libxsmm (a build without it, or CONTRL_XSMM=0) the skx set runs
 * every small product of 5 or more rows on libcontrl's own code, whatever
 * the width (partial last vectors included, transposed A for dW): the
 * gradients must still match, and that code must have run. */
START_TEST(net_gradients_match_finite_differences_on_own_products_without_libxsmm)
{
    static const net_shape shapes[] = {{4, {5, 33, 17, 3}}, {4, {4, 64, 48, 2}}};
    static const contrl_activation acts[][2] = {{CONTRL_ACT_RELU, CONTRL_ACT_TANH},
                                                {CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY}};
    uint64_t own = 0;
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < N_GRAD_BATCHES; b++) {
                grad_case c = {shapes[s], acts[a][0], acts[a][1], CONTRL_KERNELS_AUTO,
                               CONTRL__PATH_AUTO, grad_batches[b], (uint64_t)(301 + 2 * s + a)};
                own += check_gradients_ex(&c, true);
            }
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    if (info.kernels == CONTRL_KERNELS_SKX)
        ck_assert_uint_gt(own, 0);
    else
        fprintf(stderr, "kernel set %s has no own products: gradients on BLIS only\n", info.name);
}
END_TEST

/* With libxsmm (a build with it, on a CPU its JIT serves), a net compiles
 * libxsmm kernels for its products at max_batch when it is created, and
 * runs them (not BLIS) at that batch: the gradients must still match, for
 * odd widths and every activation. Without libxsmm the net must hold no
 * such kernels. */
START_TEST(net_gradients_match_finite_differences_on_libxsmm_kernels_from_creation)
{
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    const net_shape shape = {4, {5, 33, 17, 3}};
    contrl_net_config cfg = shape_config(&shape, CONTRL_ACT_RELU, CONTRL_ACT_TANH, 9);
    contrl_net *net = create_ok(&cfg);
    const uint32_t kernels = contrl__blas_xsmm_kernels(contrl__net_blas(net));
    /* After creation nothing more is dispatched (no JIT on the hot path):
     * forward, predict and backward at max_batch and at another batch. */
    const uint64_t dispatched = contrl__blas_xsmm_dispatches(contrl__net_blas(net));
    float *xs = calloc(64 * 5, sizeof(float)), *dys = calloc(64 * 3, sizeof(float));
    float *ys = calloc(64 * 3, sizeof(float)), *dxs = calloc(64 * 5, sizeof(float));
    ck_assert(xs && dys && ys && dxs);
    for (uint32_t bt = 64; bt >= 37; bt -= 27) {
        ck_assert_int_eq(contrl_net_forward(net, xs, bt, ys), CONTRL_OK);
        ck_assert_int_eq(contrl_net_backward(net, dys, dxs), CONTRL_OK);
        ck_assert_int_eq(contrl_net_predict(net, xs, bt, ys), CONTRL_OK);
    }
    ck_assert_uint_eq(contrl__blas_xsmm_dispatches(contrl__net_blas(net)), dispatched);
    ck_assert(info.xsmm == NULL || dispatched >= kernels);
    free(xs);
    free(dys);
    free(ys);
    free(dxs);
    contrl_net_destroy(net);
    if (info.xsmm == NULL) {
        ck_assert_uint_eq(kernels, 0);
        fprintf(stderr, "libxsmm not in use here (%s): gradients on BLIS only\n", info.name);
    } else {
        /* 2 forward, 2 dW accumulating, 2 dW overwriting (the agents'
         * backward without zero_grad), 3 dX products: libxsmm's by the rule;
         * the 3-column output layer's forward and dW run on libcontrl's
         * 2-4 column code on skx (elsewhere libxsmm's too: 12) */
        ck_assert_uint_eq(kernels, strcmp(info.name, "skx") == 0 ? 9u : 12u);
    }
    for (int a = 0; a < 4; a++) {
        grad_case c = {shape, (contrl_activation)a, (contrl_activation)((a + 1) % 4),
                       CONTRL_KERNELS_AUTO, CONTRL__PATH_AUTO, 64, (uint64_t)(31 + a)};
        check_gradients(&c);
    }
}
END_TEST

/* Every kernel set this CPU can run (contrl_blas_query says which). Widths
 * 40 and 17 leave partial tiles in both matrix-vector variants (AVX-512:
 * 64 columns, one-row splits for > 32, > 16, <= 16 wide; AVX2: 24 columns,
 * 17 = 8 + 8 + 1), and 37x40 products take BLIS's large-matrix path. */
START_TEST(net_gradients_match_finite_differences_with_every_kernel_set)
{
    contrl_kernels k = (contrl_kernels)(_i + 1);
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    contrl_status st = contrl_blas_query(k, &info);
    if (st == CONTRL_ERR_UNSUPPORTED)
        return; /* the set needs instructions this CPU lacks */
    ck_assert_int_eq(st, CONTRL_OK);
    static const uint32_t batches[] = {1, 2, 3, 4, 37}; /* every matrix-vector row count */
    for (int b = 0; b < 5; b++) {
        grad_case c = {{4, {3, 40, 17, 2}}, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, k,
                       CONTRL__PATH_AUTO, batches[b], 5};
        check_gradients(&c);
        grad_case d = {{3, {5, 7, 3}}, CONTRL_ACT_RELU, CONTRL_ACT_TANH, k,
                       CONTRL__PATH_AUTO, batches[b], 6};
        check_gradients(&d);
    }
}
END_TEST

/* No hidden layer (one product), and 8 hidden layers (the deepest allowed:
 * backward alternates its two delta buffers through every layer). */
START_TEST(net_gradients_match_finite_differences_at_depth_0_and_max)
{
    for (int b = 0; b < N_GRAD_BATCHES; b++) {
        grad_case shallow = {{2, {6, 3}}, CONTRL_ACT_RELU, CONTRL_ACT_TANH,
                             CONTRL_KERNELS_AUTO, CONTRL__PATH_AUTO, grad_batches[b], 21};
        check_gradients(&shallow);
        grad_case deep = {{10, {4, 5, 3, 6, 4, 5, 3, 6, 5, 2}}, CONTRL_ACT_TANH,
                          CONTRL_ACT_SIGMOID, CONTRL_KERNELS_AUTO, CONTRL__PATH_AUTO,
                          grad_batches[b], 22};
        check_gradients(&deep);
        grad_case deep_relu = {{10, {4, 9, 9, 9, 9, 9, 9, 9, 9, 2}}, CONTRL_ACT_RELU,
                               CONTRL_ACT_IDENTITY, CONTRL_KERNELS_AUTO, CONTRL__PATH_AUTO,
                               grad_batches[b], 23};
        check_gradients(&deep_relu);
    }
}
END_TEST

/* The comparison above is what every gradient test rests on: one element
 * wrong by 1e-4 relative (10x the tolerance) must be reported. */
START_TEST(gradient_comparison_reports_one_wrong_element)
{
    const double want[5] = {0.5, -3.0, 1e-3, NAN, 20.0};
    float got[5] = {0.5f, -3.0f, 1e-3f, 123.0f, 20.0f};
    comparison ok = compare(got, want, 5, GRAD_TOL);
    ck_assert_uint_eq(ok.checked, 4); /* the NaN (kink) is skipped */
    ck_assert_uint_eq(ok.bad, 0);
    got[4] = 20.0f * (1.0f + 1e-4f);
    comparison bad = compare(got, want, 5, GRAD_TOL);
    ck_assert_uint_eq(bad.bad, 1);
    ck_assert_uint_eq(bad.worst, 4);
    got[4] = 20.0f;
    got[2] = 1e-3f + 1e-4f; /* absolute error 1e-4 on a small value */
    ck_assert_uint_eq(compare(got, want, 5, GRAD_TOL).bad, 1);
}
END_TEST

/* Shared data for the accumulate / zero / dx-NULL tests: 5 -> 7 -> 3 tanh,
 * batch 6. */
typedef struct small_run {
    contrl_net *net;
    float x[6 * 5], g[6 * 3];
    size_t np;
} small_run;

static small_run small_run_new(uint64_t seed)
{
    static const net_shape s = {3, {5, 7, 3}};
    small_run r;
    r.net = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, seed);
    r.np = contrl_net_param_count(r.net);
    contrl_rng rng;
    contrl_rng_seed(&rng, seed + 1);
    fill_uniform(&rng, r.x, 30, -1.0f, 1.0f);
    fill_uniform(&rng, r.g, 18, -1.0f, 1.0f);
    return r;
}

START_TEST(net_gradients_accumulate_over_backward_calls)
{
    small_run r = small_run_new(3);
    float *once = xmalloc(r.np * sizeof *once), *twice = xmalloc(r.np * sizeof *twice);
    float dx1[30], dx2[30];
    ck_assert_int_eq(contrl_net_forward(r.net, r.x, 6, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(r.net, r.g, dx1), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(r.net, once, r.np), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(r.net, r.g, dx2), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(r.net, twice, r.np), CONTRL_OK);
    size_t nonzero = 0;
    for (size_t i = 0; i < r.np; i++) {
        /* BLIS may fold C into its accumulators (C + a1 b1 + ...), so the sum
         * is rounded differently from 2 * once: same tolerance as above. */
        ck_assert_msg(rel_err(twice[i], 2.0 * once[i]) <= GRAD_TOL,
                      "grad %zu: %.9g after two passes, %.9g after one", i, (double)twice[i],
                      (double)once[i]);
        nonzero += once[i] != 0.0f;
    }
    ck_assert_uint_eq(nonzero, r.np); /* tanh: no gradient is exactly 0 */
    /* dx is written, not accumulated. */
    ck_assert_mem_eq(dx1, dx2, sizeof dx1);
    free(once);
    free(twice);
    contrl_net_destroy(r.net);
}
END_TEST

START_TEST(net_zero_grad_clears_gradients)
{
    small_run r = small_run_new(4);
    ck_assert_int_eq(contrl_net_forward(r.net, r.x, 6, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(r.net, r.g, NULL), CONTRL_OK);
    const float *grads = contrl_net_grads(r.net);
    ck_assert_ptr_nonnull(grads);
    size_t nonzero = 0;
    for (size_t i = 0; i < r.np; i++)
        nonzero += grads[i] != 0.0f;
    ck_assert_uint_eq(nonzero, r.np);
    ck_assert_int_eq(contrl_net_zero_grad(r.net), CONTRL_OK);
    for (size_t i = 0; i < r.np; i++)
        ck_assert_msg(grads[i] == 0.0f, "grad %zu is %g after zero_grad", i, (double)grads[i]);
    /* and a backward after zero_grad gives the one-pass gradients again */
    float *first = xmalloc(r.np * sizeof *first);
    small_run fresh = small_run_new(4);
    ck_assert_int_eq(contrl_net_forward(fresh.net, fresh.x, 6, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(fresh.net, fresh.g, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(fresh.net, first, r.np), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(r.net, r.g, NULL), CONTRL_OK);
    ck_assert_mem_eq(grads, first, r.np * sizeof *first);
    free(first);
    contrl_net_destroy(fresh.net);
    contrl_net_destroy(r.net);
}
END_TEST

/* The same products run in the same order whether dx is wanted or not, so
 * the parameter gradients are bit-identical. */
START_TEST(net_backward_without_dx_gives_same_parameter_gradients)
{
    for (uint32_t batch = 1; batch <= 6; batch += 5) {
        small_run a = small_run_new(5), b = small_run_new(5);
        float dx[30];
        ck_assert_int_eq(contrl_net_forward(a.net, a.x, batch, NULL), CONTRL_OK);
        ck_assert_int_eq(contrl_net_backward(a.net, a.g, dx), CONTRL_OK);
        ck_assert_int_eq(contrl_net_forward(b.net, b.x, batch, NULL), CONTRL_OK);
        ck_assert_int_eq(contrl_net_backward(b.net, b.g, NULL), CONTRL_OK);
        ck_assert_mem_eq(contrl_net_grads(a.net), contrl_net_grads(b.net),
                         a.np * sizeof(float));
        contrl_net_destroy(a.net);
        contrl_net_destroy(b.net);
    }
}
END_TEST

/* Where the skx set runs a layer's product on libcontrl's own code (32 or
 * more units, a multiple of 16) it adds the bias and applies ReLU, or
 * masks the backward delta and sums the bias gradient, while the product is
 * in registers. Two identical nets, one with that code turned off, must
 * give the same bits: forward, predict, backward in each mode with dx, at
 * max_batch (the agents' batch: at other batches the unfused products run
 * on BLIS, as libxsmm's kernels are compiled for max_batch only); and the
 * fused code must have run (else this compares the unfused path with
 * itself). ReLU, tanh and identity hidden layers; the inputs make some
 * units negative. */
START_TEST(fused_layers_give_the_bits_of_the_separate_passes)
{
    const contrl_activation acts[] = {CONTRL_ACT_RELU, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY};
    const net_shape shape = {4, {4, 64, 48, 3}};
    enum { B = 100, IN = 4, OUT = 3 };
    float x[B * IN], dy[B * OUT], y1[B * OUT], y2[B * OUT], dx1[B * IN], dx2[B * IN];
    contrl_rng rng;
    contrl_rng_seed(&rng, 31);
    for (size_t i = 0; i < B * IN; i++)
        x[i] = 4.0f * contrl_rng_uniform(&rng) - 2.0f;
    for (size_t i = 0; i < B * OUT; i++)
        dy[i] = contrl_rng_uniform(&rng) - 0.5f;
    for (int ai = 0; ai < 3; ai++) {
        contrl_net_config cfg = shape_config(&shape, acts[ai], CONTRL_ACT_TANH, 5);
        cfg.max_batch = B;
        contrl_net *fused = create_ok(&cfg), *plain = create_ok(&cfg);
        contrl__blas *fb = contrl__net_blas(fused);
        contrl__blas_set_own(contrl__net_blas(plain), false);
        const uint64_t plain_runs = contrl__blas_own_runs(contrl__net_blas(plain));
        const uint64_t fused_runs = contrl__blas_own_runs(fb);
        const size_t np = contrl_net_param_count(fused);
        const uint32_t bt = B;
        for (int mode = CONTRL__GRADS_ADD; mode <= CONTRL__GRADS_SET + 1; mode++) {
            const int m = mode > CONTRL__GRADS_SET ? CONTRL__GRADS_NONE : mode;
            ck_assert_int_eq(contrl_net_forward(fused, x, bt, y1), CONTRL_OK);
            ck_assert_int_eq(contrl_net_forward(plain, x, bt, y2), CONTRL_OK);
            ck_assert_mem_eq(y1, y2, (size_t)bt * OUT * sizeof(float));
            ck_assert_int_eq(contrl__net_backward_mode(fused, dy, dx1, m), CONTRL_OK);
            ck_assert_int_eq(contrl__net_backward_mode(plain, dy, dx2, m), CONTRL_OK);
            ck_assert_mem_eq(dx1, dx2, (size_t)bt * IN * sizeof(float));
            ck_assert_mem_eq(contrl_net_grads(fused), contrl_net_grads(plain),
                             np * sizeof(float));
            ck_assert_int_eq(contrl_net_predict(fused, x, bt, y1), CONTRL_OK);
            ck_assert_int_eq(contrl_net_predict(plain, x, bt, y2), CONTRL_OK);
            ck_assert_mem_eq(y1, y2, (size_t)bt * OUT * sizeof(float));
        }
        ck_assert_uint_eq(contrl__blas_own_runs(contrl__net_blas(plain)), plain_runs);
        if (contrl__blas_uses_own(fb))
            ck_assert_uint_gt(contrl__blas_own_runs(fb), fused_runs);
        else
            fprintf(stderr, "no libcontrl products on this CPU's kernel set: compared the "
                            "unfused path with itself\n");
        contrl_net_destroy(fused);
        contrl_net_destroy(plain);
    }
}
END_TEST

/* The agents' backward modes (nn.h): SET gives the bits zero_grad + ADD
 * gives, over stale gradients; NONE gives the same dx and leaves the
 * gradient as it was. Batches 3 (matrix-vector code) and 64 (libxsmm or
 * BLIS), every activation as the hidden and the output one. */
START_TEST(net_backward_modes_set_and_none_match_zero_grad_and_add)
{
    /* _i 1: ReLU layers of 64 and 128 units take the 64-column code */
    const net_shape shape = _i == 0 ? (net_shape){4, {5, 33, 17, 3}} : (net_shape){4, {5, 64, 128, 3}};
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    float x[64 * 5], dy[64 * 3], dx_a[64 * 5], dx_b[64 * 5];
    for (int a = 0; a < 4; a++)
        for (uint32_t batch = 3; batch <= 64; batch += 61) {
            contrl_net_config cfg = shape_config(&shape, (contrl_activation)a,
                                                 (contrl_activation)((a + 2) % 4), 40 + (uint64_t)a);
            contrl_net *n1 = create_ok(&cfg), *n2 = create_ok(&cfg);
            const size_t np = contrl_net_param_count(n1);
            float *stale = xmalloc(np * sizeof(float)), *before = xmalloc(np * sizeof(float));
            for (size_t i = 0; i < np; i++)
                stale[i] = contrl_rng_uniform(&rng) - 0.5f;
            for (uint32_t i = 0; i < batch * 5; i++)
                x[i] = 2.0f * contrl_rng_uniform(&rng) - 1.0f;
            for (uint32_t i = 0; i < batch * 3; i++)
                dy[i] = contrl_rng_uniform(&rng) - 0.5f;
            ck_assert_int_eq(contrl_net_set_grads(n1, stale, np), CONTRL_OK);
            ck_assert_int_eq(contrl_net_set_grads(n2, stale, np), CONTRL_OK);
            ck_assert_int_eq(contrl_net_forward(n1, x, batch, NULL), CONTRL_OK);
            ck_assert_int_eq(contrl_net_forward(n2, x, batch, NULL), CONTRL_OK);
            ck_assert_int_eq(contrl_net_zero_grad(n1), CONTRL_OK);
            ck_assert_int_eq(contrl_net_backward(n1, dy, dx_a), CONTRL_OK);
            ck_assert_int_eq(contrl__net_backward_mode(n2, dy, dx_b, CONTRL__GRADS_SET), CONTRL_OK);
            ck_assert_mem_eq(dx_a, dx_b, batch * 5 * sizeof(float));
            for (size_t i = 0; i < np; i++) /* equal values (the sign of a zero may differ) */
                ck_assert_msg(contrl_net_grads(n1)[i] == contrl_net_grads(n2)[i],
                              "act %d batch %u grad %zu: %g vs %g", a, batch, i,
                              (double)contrl_net_grads(n1)[i], (double)contrl_net_grads(n2)[i]);
            memcpy(before, contrl_net_grads(n2), np * sizeof(float));
            memset(dx_b, 0, sizeof dx_b);
            ck_assert_int_eq(contrl__net_backward_mode(n2, dy, dx_b, CONTRL__GRADS_NONE), CONTRL_OK);
            ck_assert_mem_eq(dx_a, dx_b, batch * 5 * sizeof(float));
            ck_assert_mem_eq(before, contrl_net_grads(n2), np * sizeof(float));
            free(stale);
            free(before);
            contrl_net_destroy(n1);
            contrl_net_destroy(n2);
        }
}
END_TEST

/* ---- forward ------------------------------------------------------------ */

static const net_shape fwd_shapes[] = {
    {4, {3, 40, 4, 2}},
    {4, {3, 70, 33, 2}},  /* widths over one 64-column tile, and 33 > 32 */
    {4, {3, 64, 128, 2}}, /* ReLU's 64-column code: one and two blocks */
    {3, {5, 7, 3}},
    {2, {6, 3}},
    {10, {4, 5, 3, 6, 4, 5, 3, 6, 5, 2}},
};
enum { N_FWD_SHAPES = sizeof fwd_shapes / sizeof fwd_shapes[0] };
static const uint32_t fwd_batches[] = {1, 2, 3, 4, 5, 37, 64};
enum { N_FWD_BATCHES = sizeof fwd_batches / sizeof fwd_batches[0] };

START_TEST(net_forward_matches_double_reference)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 77);
    for (int s = 0; s < N_FWD_SHAPES; s++)
        for (int a = 0; a < 4; a++) {
            contrl_activation ha = (contrl_activation)a, oa = (contrl_activation)((a + s) % 4);
            contrl_net *net = new_net(&fwd_shapes[s], ha, oa, 300 + (uint64_t)s);
            fd_mlp ref;
            ck_assert_int_eq(fd_mlp_from_net(&ref, net), 0);
            const uint32_t in = contrl_net_in(net), out = contrl_net_out(net);
            for (int b = 0; b < N_FWD_BATCHES; b++) {
                const uint32_t B = fwd_batches[b];
                float *x = xmalloc((size_t)B * in * sizeof *x);
                float *y = xmalloc((size_t)B * out * sizeof *y);
                double *yd = xmalloc((size_t)B * out * sizeof *yd);
                fill_uniform(&rng, x, (size_t)B * in, -2.0f, 2.0f);
                double *xd = widen(x, (size_t)B * in);
                fd_mlp_forward(&ref, xd, B, yd);
                ck_assert_int_eq(contrl_net_forward(net, x, B, y), CONTRL_OK);
                comparison c = compare(y, yd, (size_t)B * out, FWD_TOL);
                ck_assert_msg(c.bad == 0,
                              "shape %d hidden %s out %s batch %u: %zu outputs off, worst "
                              "[%zu] net %.9g ref %.9g",
                              s, act_names[ha], act_names[oa], B, c.bad, c.worst,
                              (double)y[c.worst], yd[c.worst]);
                /* contrl_net_output is the same data */
                ck_assert_mem_eq(contrl_net_output(net), y, (size_t)B * out * sizeof *y);
                free(x);
                free(y);
                free(yd);
                free(xd);
            }
            fd_mlp_free(&ref);
            contrl_net_destroy(net);
        }
}
END_TEST

/* Batch 1 goes through the matrix-vector code (with split partial sums),
 * bigger batches through other kernels: same result within rounding. */
START_TEST(net_single_row_forward_matches_row_of_batch)
{
    static const net_shape s = {4, {3, 70, 33, 2}};
    contrl_net *net = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_TANH, 8);
    contrl_rng rng;
    contrl_rng_seed(&rng, 9);
    float x[64 * 3], y[64 * 2], y1[2];
    fill_uniform(&rng, x, 64 * 3, -2.0f, 2.0f);
    for (int b = 1; b < N_FWD_BATCHES; b++) {
        const uint32_t B = fwd_batches[b];
        ck_assert_int_eq(contrl_net_forward(net, x, B, y), CONTRL_OK);
        for (uint32_t r = 0; r < B; r++) {
            ck_assert_int_eq(contrl_net_forward(net, x + 3 * r, 1, y1), CONTRL_OK);
            for (int j = 0; j < 2; j++)
                ck_assert_msg(rel_err(y1[j], y[2 * r + j]) <= FWD_TOL,
                              "batch %u row %u col %d: alone %.9g, in batch %.9g", B, r, j,
                              (double)y1[j], (double)y[2 * r + j]);
        }
    }
    contrl_net_destroy(net);
}
END_TEST

/* predict runs the same products as forward on the same data (only the
 * destination buffers differ), so its output is bit-identical. */
START_TEST(net_predict_matches_forward)
{
    for (int s = 0; s < N_FWD_SHAPES; s++) {
        contrl_net *net = new_net(&fwd_shapes[s], CONTRL_ACT_TANH, CONTRL_ACT_SIGMOID, 40);
        const uint32_t in = contrl_net_in(net), out = contrl_net_out(net);
        contrl_rng rng;
        contrl_rng_seed(&rng, 41);
        float *x = xmalloc(64 * (size_t)in * sizeof *x);
        float *yf = xmalloc(64 * (size_t)out * sizeof *yf);
        float *yp = xmalloc(64 * (size_t)out * sizeof *yp);
        fill_uniform(&rng, x, 64 * (size_t)in, -2.0f, 2.0f);
        for (int b = 0; b < N_FWD_BATCHES; b++) {
            const uint32_t B = fwd_batches[b];
            ck_assert_int_eq(contrl_net_forward(net, x, B, yf), CONTRL_OK);
            memset(yp, 0xff, (size_t)B * out * sizeof *yp);
            ck_assert_int_eq(contrl_net_predict(net, x, B, yp), CONTRL_OK);
            ck_assert_mem_eq(yf, yp, (size_t)B * out * sizeof *yp);
        }
        free(x);
        free(yf);
        free(yp);
        contrl_net_destroy(net);
    }
}
END_TEST

/* forward A, predict B, backward: the gradients and the cached output are
 * A's, exactly as if predict had not been called. */
START_TEST(net_predict_keeps_forward_cache_for_backward)
{
    static const net_shape s = {4, {3, 40, 4, 2}};
    contrl_net *net = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_TANH, 12);
    contrl_net *twin = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_TANH, 12);
    const size_t np = contrl_net_param_count(net);
    contrl_rng rng;
    contrl_rng_seed(&rng, 13);
    float xa[5 * 3], xb[37 * 3], ya[5 * 2], yb[37 * 2], g[5 * 2], dx[5 * 3], dx_twin[5 * 3];
    fill_uniform(&rng, xa, 15, -2.0f, 2.0f);
    fill_uniform(&rng, xb, 111, -2.0f, 2.0f);
    fill_uniform(&rng, g, 10, -1.0f, 1.0f);

    ck_assert_int_eq(contrl_net_forward(net, xa, 5, ya), CONTRL_OK);
    ck_assert_int_eq(contrl_net_predict(net, xb, 37, yb), CONTRL_OK);
    ck_assert_int_eq(contrl_net_predict(net, xb, 1, yb), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_output(net), ya, sizeof ya);
    ck_assert_int_eq(contrl_net_backward(net, g, dx), CONTRL_OK);

    ck_assert_int_eq(contrl_net_forward(twin, xa, 5, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_net_backward(twin, g, dx_twin), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_grads(net), contrl_net_grads(twin), np * sizeof(float));
    ck_assert_mem_eq(dx, dx_twin, sizeof dx);
    /* the predictions were real ones, not a no-op */
    float yb_fwd[2];
    ck_assert_int_eq(contrl_net_forward(twin, xb, 1, yb_fwd), CONTRL_OK);
    ck_assert_mem_eq(yb, yb_fwd, sizeof yb_fwd);
    contrl_net_destroy(net);
    contrl_net_destroy(twin);
}
END_TEST

/* ---- determinism and initialisation -------------------------------------- */

START_TEST(net_same_seed_gives_bit_identical_params_and_outputs)
{
    static const net_shape s = {4, {3, 70, 33, 2}};
    contrl_net *a = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1234);
    contrl_net *b = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1234);
    contrl_net *c = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1235);
    const size_t np = contrl_net_param_count(a);
    ck_assert_uint_eq(np, contrl_net_param_count(b));
    ck_assert_mem_eq(contrl_net_params(a), contrl_net_params(b), np * sizeof(float));
    size_t same = 0;
    for (size_t i = 0; i < np; i++)
        same += contrl_net_params(a)[i] == contrl_net_params(c)[i];
    ck_assert_msg(same < np / 100, "seeds 1234 and 1235 share %zu of %zu parameters", same, np);

    contrl_rng rng;
    contrl_rng_seed(&rng, 1);
    float x[37 * 3], ya[37 * 2], yb[37 * 2], yc[37 * 2];
    fill_uniform(&rng, x, 111, -2.0f, 2.0f);
    for (uint32_t batch = 1; batch <= 37; batch += 36) {
        ck_assert_int_eq(contrl_net_forward(a, x, batch, ya), CONTRL_OK);
        ck_assert_int_eq(contrl_net_forward(b, x, batch, yb), CONTRL_OK);
        ck_assert_int_eq(contrl_net_forward(c, x, batch, yc), CONTRL_OK);
        ck_assert_mem_eq(ya, yb, batch * 2 * sizeof(float));
        ck_assert(memcmp(ya, yc, batch * 2 * sizeof(float)) != 0);
    }
    contrl_net_destroy(a);
    contrl_net_destroy(b);
    contrl_net_destroy(c);
}
END_TEST

/* Weights and biases of one layer against U(-bound, bound): all inside,
 * max |p| near the bound, mean |p| within 5 standard errors of bound / 2
 * (|U(-b, b)| is U(0, b): mean b/2, sd b/sqrt(12)), mean p within 5
 * standard errors of 0 (sd b/sqrt(3)). */
static void check_uniform(const float *p, size_t n, double bound, const char *what,
                          uint32_t layer)
{
    double max_abs = 0.0, sum_abs = 0.0, sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(fabs(p[i]) <= bound * (1.0 + 1e-6), "layer %u %s[%zu] = %g outside +-%g",
                      layer, what, i, (double)p[i], bound);
        max_abs = fmax(max_abs, fabs(p[i]));
        sum_abs += fabs(p[i]);
        sum += p[i];
    }
    const double mean_abs = sum_abs / (double)n, mean = sum / (double)n;
    ck_assert_msg(max_abs > (n >= 30 ? 0.9 : 0.2) * bound, "layer %u %s: max |p| %g, bound %g",
                  layer, what, max_abs, bound);
    ck_assert_msg(fabs(mean_abs - bound / 2) <= 5 * bound / sqrt(12.0 * (double)n),
                  "layer %u %s: mean |p| %g, expected %g", layer, what, mean_abs, bound / 2);
    ck_assert_msg(fabs(mean) <= 5 * bound / sqrt(3.0 * (double)n), "layer %u %s: mean %g",
                  layer, what, mean);
}

START_TEST(net_init_is_uniform_within_inverse_sqrt_fan_in)
{
    static const net_shape s = {4, {17, 64, 48, 3}};
    for (uint64_t seed = 0; seed < 3; seed++) {
        contrl_net *net = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, seed);
        const float *p = contrl_net_params(net);
        ck_assert_uint_eq(contrl_net_layer_count(net), 3);
        for (uint32_t l = 0; l < 3; l++) {
            contrl_net_layer_info li;
            ck_assert_int_eq(contrl_net_layer(net, l, &li), CONTRL_OK);
            const double bound = 1.0 / sqrt((double)li.in);
            check_uniform(p + li.weight_offset, (size_t)li.in * li.out, bound, "W", l);
            check_uniform(p + li.bias_offset, li.out, bound, "b", l);
        }
        contrl_net_destroy(net);
    }
}
END_TEST

START_TEST(net_out_init_range_bounds_last_layer)
{
    static const net_shape s = {4, {17, 64, 48, 3}};
    contrl_net_config cfg = shape_config(&s, CONTRL_ACT_RELU, CONTRL_ACT_TANH, 2);
    cfg.out_init_range = 3e-3f;
    contrl_net *net = create_ok(&cfg);
    const float *p = contrl_net_params(net);
    for (uint32_t l = 0; l < 3; l++) {
        contrl_net_layer_info li;
        ck_assert_int_eq(contrl_net_layer(net, l, &li), CONTRL_OK);
        const double bound = l == 2 ? (double)3e-3f : 1.0 / sqrt((double)li.in);
        check_uniform(p + li.weight_offset, (size_t)li.in * li.out, bound, "W", l);
        check_uniform(p + li.bias_offset, li.out, bound, "b", l);
    }
    contrl_net_destroy(net);
}
END_TEST

/* ---- parameters: layout, copy, soft update ------------------------------- */

START_TEST(net_layers_tile_the_flat_parameter_array)
{
    static const net_shape s = {4, {3, 40, 4, 2}};
    contrl_net *net = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_SIGMOID, 1);
    ck_assert_uint_eq(contrl_net_in(net), 3);
    ck_assert_uint_eq(contrl_net_out(net), 2);
    ck_assert_uint_eq(contrl_net_max_batch(net), 64);
    ck_assert_uint_eq(contrl_net_layer_count(net), 3);
    ck_assert_uint_eq(contrl_net_param_count(net), 3 * 40 + 40 + 40 * 4 + 4 + 4 * 2 + 2);
    size_t next = 0;
    for (uint32_t l = 0; l < 3; l++) {
        contrl_net_layer_info li;
        ck_assert_int_eq(contrl_net_layer(net, l, &li), CONTRL_OK);
        ck_assert_uint_eq(li.in, s.widths[l]);
        ck_assert_uint_eq(li.out, s.widths[l + 1]);
        ck_assert_int_eq(li.act, l == 2 ? CONTRL_ACT_SIGMOID : CONTRL_ACT_RELU);
        ck_assert_uint_eq(li.weight_offset, next);
        ck_assert_uint_eq(li.bias_offset, next + (size_t)li.in * li.out);
        next = li.bias_offset + li.out;
    }
    ck_assert_uint_eq(next, contrl_net_param_count(net));
    contrl_net_layer_info li;
    ck_assert_fails(contrl_net_layer(net, 3, &li), CONTRL_ERR_INVALID_ARG, "contrl_net_layer");
    ck_assert_fails(contrl_net_layer(net, 0, NULL), CONTRL_ERR_INVALID_ARG, "contrl_net_layer");
    ck_assert_fails(contrl_net_layer(NULL, 0, &li), CONTRL_ERR_INVALID_ARG, "contrl_net_layer");
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_set_params_round_trips_and_drives_forward)
{
    static const net_shape s = {2, {2, 1}};
    contrl_net *net = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1);
    const float p[3] = {2.0f, -3.0f, 0.5f}; /* y = 2 x0 - 3 x1 + 0.5 */
    float q[3], y[2];
    ck_assert_int_eq(contrl_net_set_params(net, p, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_params(net, q, 3), CONTRL_OK);
    ck_assert_mem_eq(p, q, sizeof p);
    ck_assert_mem_eq(contrl_net_params(net), p, sizeof p);
    const float x[4] = {1.0f, 1.0f, 0.25f, -2.0f};
    ck_assert_int_eq(contrl_net_forward(net, x, 2, y), CONTRL_OK);
    ck_assert_float_eq(y[0], -0.5f);
    ck_assert_float_eq(y[1], 7.0f);
    const float gr[3] = {0.25f, -1.0f, 8.0f};
    ck_assert_int_eq(contrl_net_set_grads(net, gr, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(net, q, 3), CONTRL_OK);
    ck_assert_mem_eq(gr, q, sizeof gr);
    ck_assert_mem_eq(contrl_net_grads(net), gr, sizeof gr);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_soft_update_follows_polyak_formula)
{
    static const net_shape s = {4, {3, 40, 4, 2}};
    static const float taus[] = {0.005f, 0.3f, 0.999f};
    for (int k = 0; k < 3; k++) {
        contrl_net *target = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1);
        contrl_net *src = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 2);
        const size_t np = contrl_net_param_count(src);
        float *before = xmalloc(np * sizeof *before);
        ck_assert_int_eq(contrl_net_get_params(target, before, np), CONTRL_OK);
        ck_assert_int_eq(contrl_net_soft_update(target, src, taus[k]), CONTRL_OK);
        const float *t = contrl_net_params(target), *sp = contrl_net_params(src);
        size_t moved = 0;
        for (size_t i = 0; i < np; i++) {
            const double tau = taus[k];
            const double want = tau * sp[i] + (1.0 - tau) * before[i];
            /* float: two products and a sum, each rounded (<= 2^-24 relative) */
            ck_assert_msg(fabs(t[i] - want) <= 4e-7 * (fabs(sp[i]) + fabs(before[i])),
                          "tau %g param %zu: %.9g, expected %.9g", tau, i, (double)t[i], want);
            moved += t[i] != before[i];
        }
        ck_assert_uint_gt(moved, np / 2);
        free(before);
        contrl_net_destroy(target);
        contrl_net_destroy(src);
    }
}
END_TEST

START_TEST(net_soft_update_tau_0_keeps_and_tau_1_copies)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net *target = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    contrl_net *src = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 2);
    const size_t np = contrl_net_param_count(src);
    float *before = xmalloc(np * sizeof *before);
    ck_assert_int_eq(contrl_net_get_params(target, before, np), CONTRL_OK);
    ck_assert_int_eq(contrl_net_soft_update(target, src, 0.0f), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_params(target), before, np * sizeof *before);
    ck_assert_int_eq(contrl_net_soft_update(target, src, 1.0f), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_params(target), contrl_net_params(src), np * sizeof(float));
    free(before);
    contrl_net_destroy(target);
    contrl_net_destroy(src);
}
END_TEST

START_TEST(net_copy_params_copies_exactly)
{
    static const net_shape s = {4, {3, 40, 4, 2}};
    contrl_net *dst = new_net(&s, CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, 1);
    contrl_net *src = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_SIGMOID, 2);
    const size_t np = contrl_net_param_count(src);
    ck_assert(memcmp(contrl_net_params(dst), contrl_net_params(src), np * sizeof(float)) != 0);
    ck_assert_int_eq(contrl_net_copy_params(dst, src), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_params(dst), contrl_net_params(src), np * sizeof(float));
    ck_assert_int_eq(contrl_net_copy_params(dst, dst), CONTRL_OK); /* self: no-op */
    ck_assert_mem_eq(contrl_net_params(dst), contrl_net_params(src), np * sizeof(float));
    contrl_net_destroy(dst);
    contrl_net_destroy(src);
}
END_TEST

/* 5->4->3 and 5->2->4->3 both have 39 parameters: the check is on shapes,
 * not on the count. */
START_TEST(net_soft_update_and_copy_reject_shape_mismatch)
{
    static const net_shape shapes[] = {{3, {5, 7, 3}}, {3, {5, 8, 3}}, {4, {5, 2, 4, 3}},
                                       {3, {5, 4, 3}}, {3, {6, 7, 3}}, {3, {5, 7, 2}}};
    contrl_net *nets[6];
    for (int i = 0; i < 6; i++)
        nets[i] = new_net(&shapes[i], CONTRL_ACT_RELU, CONTRL_ACT_IDENTITY, (uint64_t)i);
    ck_assert_uint_eq(contrl_net_param_count(nets[2]), contrl_net_param_count(nets[3]));
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            if (i == j)
                continue;
            const size_t np = contrl_net_param_count(nets[i]);
            float *before = xmalloc(np * sizeof *before);
            ck_assert_int_eq(contrl_net_get_params(nets[i], before, np), CONTRL_OK);
            ck_assert_fails(contrl_net_soft_update(nets[i], nets[j], 0.5f),
                            CONTRL_ERR_INVALID_ARG, "contrl_net_soft_update");
            ck_assert_fails(contrl_net_copy_params(nets[i], nets[j]), CONTRL_ERR_INVALID_ARG,
                            "contrl_net_copy_params");
            ck_assert_mem_eq(contrl_net_params(nets[i]), before, np * sizeof *before);
            free(before);
        }
    ck_assert_fails(contrl_net_soft_update(NULL, nets[0], 0.5f), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_soft_update");
    ck_assert_fails(contrl_net_soft_update(nets[0], NULL, 0.5f), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_soft_update");
    ck_assert_fails(contrl_net_copy_params(NULL, nets[0]), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_copy_params");
    ck_assert_fails(contrl_net_copy_params(nets[0], NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_copy_params");
    for (int i = 0; i < 6; i++)
        contrl_net_destroy(nets[i]);
}
END_TEST

START_TEST(net_soft_update_rejects_tau_outside_0_1)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net *target = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    contrl_net *src = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 2);
    const size_t np = contrl_net_param_count(src);
    float *before = xmalloc(np * sizeof *before);
    ck_assert_int_eq(contrl_net_get_params(target, before, np), CONTRL_OK);
    const float bad[] = {NAN, -0.1f, 1.5f, INFINITY, -INFINITY, -1e-30f, 1.0000001f};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_fails(contrl_net_soft_update(target, src, bad[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_net_soft_update");
        ck_assert_mem_eq(contrl_net_params(target), before, np * sizeof *before);
    }
    free(before);
    contrl_net_destroy(target);
    contrl_net_destroy(src);
}
END_TEST

START_TEST(net_set_params_rejects_nonfinite_and_keeps_params)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net *net = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    const size_t np = contrl_net_param_count(net);
    float *before = xmalloc(np * sizeof *before), *bad = xmalloc(np * sizeof *bad);
    ck_assert_int_eq(contrl_net_get_params(net, before, np), CONTRL_OK);
    const float poison[] = {NAN, INFINITY, -INFINITY};
    const size_t where[] = {0, np / 2, np - 1};
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < 3; w++) {
            for (size_t i = 0; i < np; i++)
                bad[i] = (float)i * 0.01f;
            bad[where[w]] = poison[k];
            ck_assert_fails(contrl_net_set_params(net, bad, np), CONTRL_ERR_NONFINITE,
                            "contrl_net_set_params");
            ck_assert_mem_eq(contrl_net_params(net), before, np * sizeof *before);
            float *grads_before = xmalloc(np * sizeof *grads_before);
            ck_assert_int_eq(contrl_net_get_grads(net, grads_before, np), CONTRL_OK);
            ck_assert_fails(contrl_net_set_grads(net, bad, np), CONTRL_ERR_NONFINITE,
                            "contrl_net_set_grads");
            ck_assert_mem_eq(contrl_net_grads(net), grads_before, np * sizeof *before);
            free(grads_before);
        }
    free(before);
    free(bad);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_param_arrays_reject_wrong_length_and_null)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net *net = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    const size_t np = contrl_net_param_count(net);
    float *buf = xmalloc((np + 1) * sizeof *buf), *before = xmalloc(np * sizeof *before);
    ck_assert_int_eq(contrl_net_get_params(net, before, np), CONTRL_OK);
    for (size_t i = 0; i <= np; i++)
        buf[i] = 0.5f;
    const size_t wrong[] = {0, np - 1, np + 1};
    for (int k = 0; k < 3; k++) {
        ck_assert_fails(contrl_net_get_params(net, buf, wrong[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_net_get_params");
        ck_assert_fails(contrl_net_set_params(net, buf, wrong[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_net_set_params");
        ck_assert_fails(contrl_net_get_grads(net, buf, wrong[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_net_get_grads");
        ck_assert_fails(contrl_net_set_grads(net, buf, wrong[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_net_set_grads");
    }
    ck_assert_mem_eq(contrl_net_params(net), before, np * sizeof *before);
    ck_assert_fails(contrl_net_get_params(net, NULL, np), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_get_params");
    ck_assert_fails(contrl_net_set_params(net, NULL, np), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_set_params");
    ck_assert_fails(contrl_net_get_params(NULL, buf, np), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_get_params");
    ck_assert_fails(contrl_net_set_grads(NULL, buf, np), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_set_grads");
    free(buf);
    free(before);
    contrl_net_destroy(net);
}
END_TEST

/* ---- bad arguments ------------------------------------------------------- */

static void expect_create_fails(const contrl_net_config *cfg, contrl_status want,
                                const char *what)
{
    contrl_net *net = (contrl_net *)(void *)&net; /* not NULL: create must clear it */
    contrl_clear_error();
    contrl_status st = contrl_net_create(cfg, &net);
    ck_assert_msg(st == want, "%s: got %d, expected %d", what, (int)st, (int)want);
    ck_assert_msg(net == NULL, "%s: *out not NULL after a failed create", what);
    ck_assert_msg(strstr(contrl_last_error(), "contrl_net_create") != NULL,
                  "%s: error \"%s\" does not name contrl_net_create", what, contrl_last_error());
}

START_TEST(net_create_rejects_bad_config)
{
    const contrl_net_config good = {
        .size = sizeof(contrl_net_config), .in = 3, .out = 2, .n_hidden = 1, .hidden = {4},
        .hidden_act = CONTRL_ACT_RELU, .out_act = CONTRL_ACT_IDENTITY, .max_batch = 8};
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&good, &net), CONTRL_OK);
    contrl_net_destroy(net);

    contrl_net_config c;
#define BAD(field_change, what)                                                                \
    do {                                                                                       \
        c = good;                                                                              \
        field_change;                                                                          \
        expect_create_fails(&c, CONTRL_ERR_INVALID_ARG, what);                                 \
    } while (0)
    BAD(c.in = 0, "in 0");
    BAD(c.out = 0, "out 0");
    BAD(c.n_hidden = CONTRL_NET_MAX_HIDDEN + 1, "n_hidden 9");
    BAD(c.n_hidden = UINT32_MAX, "n_hidden UINT32_MAX");
    BAD(c.hidden[0] = 0, "hidden[0] 0");
    BAD((c.n_hidden = 3, c.hidden[1] = 5, c.hidden[2] = 0), "hidden[2] 0");
    BAD(c.hidden_act = (contrl_activation)4, "hidden_act 4");
    BAD(c.out_act = (contrl_activation)-1, "out_act -1");
    BAD(c.out_init_range = -1e-3f, "out_init_range -1e-3");
    BAD(c.out_init_range = NAN, "out_init_range NaN");
    BAD(c.out_init_range = INFINITY, "out_init_range Inf");
    BAD(c.max_batch = 0, "max_batch 0");
    BAD(c.kernels = (contrl_kernels)99, "kernels 99");
    BAD(c.kernels = (contrl_kernels)-1, "kernels -1");
#undef BAD
    expect_create_fails(NULL, CONTRL_ERR_INVALID_ARG, "cfg NULL");
    contrl_clear_error();
    ck_assert_int_eq(contrl_net_create(&good, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_net_create"));
    /* widths of hidden layers past n_hidden are not read */
    c = good;
    c.hidden[1] = 0;
    ck_assert_int_eq(contrl_net_create(&c, &net), CONTRL_OK);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_create_rejects_unknown_blis_arch_env)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 3;
    cfg.out = 2;
    /* restored at the end, for runs with CK_FORK=no and a preset value */
    const char *preset = getenv("CONTRL_BLIS_ARCH");
    char saved[64] = "";
    if (preset != NULL)
        snprintf(saved, sizeof saved, "%s", preset);
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "bogus", 1), 0);
    expect_create_fails(&cfg, CONTRL_ERR_INVALID_ARG, "CONTRL_BLIS_ARCH=bogus");
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "bogus"));
    /* an explicit kernel set does not consult the environment */
    cfg.kernels = CONTRL_KERNELS_GENERIC;
    contrl_net *net = create_ok(&cfg);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_GENERIC);
    contrl_net_destroy(net);
    /* a valid name is honoured under AUTO */
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "generic", 1), 0);
    cfg.kernels = CONTRL_KERNELS_AUTO;
    net = create_ok(&cfg);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_GENERIC);
    contrl_net_destroy(net);
    if (preset != NULL)
        ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", saved, 1), 0);
    else
        ck_assert_int_eq(unsetenv("CONTRL_BLIS_ARCH"), 0);
}
END_TEST

START_TEST(net_calls_reject_null_and_batch_out_of_range)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net_config cfg = shape_config(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    cfg.max_batch = 8;
    contrl_net *net = create_ok(&cfg);
    float x[9 * 5] = {0}, y[9 * 3], g[9 * 3] = {0}, y_first[2 * 3];
    for (int i = 0; i < 45; i++)
        x[i] = 0.1f * (float)(i % 7) - 0.3f;
    ck_assert_int_eq(contrl_net_forward(net, x, 8, y), CONTRL_OK); /* max_batch is allowed */
    ck_assert_int_eq(contrl_net_forward(net, x, 2, y_first), CONTRL_OK);

    static const char *const fns[2] = {"contrl_net_forward", "contrl_net_predict"};
    for (int f = 0; f < 2; f++) {
        contrl_status (*call)(contrl_net *, const float *, uint32_t, float *) =
            f == 0 ? contrl_net_forward : contrl_net_predict;
        ck_assert_fails(call(NULL, x, 1, y), CONTRL_ERR_INVALID_ARG, fns[f]);
        ck_assert_fails(call(net, NULL, 1, y), CONTRL_ERR_INVALID_ARG, fns[f]);
        ck_assert_fails(call(net, x, 0, y), CONTRL_ERR_INVALID_ARG, fns[f]);
        ck_assert_fails(call(net, x, 9, y), CONTRL_ERR_INVALID_ARG, fns[f]);
        ck_assert_fails(call(net, x, UINT32_MAX, y), CONTRL_ERR_INVALID_ARG, fns[f]);
    }
    ck_assert_fails(contrl_net_predict(net, x, 1, NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_predict");
    ck_assert_fails(contrl_net_backward(NULL, g, NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_backward");
    ck_assert_fails(contrl_net_backward(net, NULL, NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_net_backward");
    ck_assert_fails(contrl_net_zero_grad(NULL), CONTRL_ERR_INVALID_ARG, "contrl_net_zero_grad");
    /* the failed calls left the last forward (batch 2) in place */
    ck_assert_mem_eq(contrl_net_output(net), y_first, sizeof y_first);
    ck_assert_int_eq(contrl_net_zero_grad(net), CONTRL_OK);
    g[0] = 1.0f;
    float dx[2 * 5];
    ck_assert_int_eq(contrl_net_backward(net, g, dx), CONTRL_OK);
    const size_t np = contrl_net_param_count(net);
    size_t nonzero = 0;
    for (size_t i = 0; i < np; i++)
        nonzero += contrl_net_grads(net)[i] != 0.0f;
    ck_assert_uint_gt(nonzero, 0);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_backward_before_forward_is_state_error)
{
    static const net_shape s = {3, {5, 7, 3}};
    contrl_net *net = new_net(&s, CONTRL_ACT_TANH, CONTRL_ACT_IDENTITY, 1);
    float x[5] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, y[3], g[3] = {1.0f, 1.0f, 1.0f}, dx[5];
    ck_assert_ptr_null(contrl_net_output(net));
    ck_assert_fails(contrl_net_backward(net, g, dx), CONTRL_ERR_STATE, "contrl_net_backward");
    /* predict does not count as a forward */
    ck_assert_int_eq(contrl_net_predict(net, x, 1, y), CONTRL_OK);
    ck_assert_ptr_null(contrl_net_output(net));
    ck_assert_fails(contrl_net_backward(net, g, NULL), CONTRL_ERR_STATE, "contrl_net_backward");
    for (size_t i = 0; i < contrl_net_param_count(net); i++)
        ck_assert(contrl_net_grads(net)[i] == 0.0f);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_null_handle_queries_are_harmless)
{
    contrl_net_destroy(NULL);
    ck_assert_uint_eq(contrl_net_in(NULL), 0);
    ck_assert_uint_eq(contrl_net_out(NULL), 0);
    ck_assert_uint_eq(contrl_net_max_batch(NULL), 0);
    ck_assert_uint_eq(contrl_net_param_count(NULL), 0);
    ck_assert_uint_eq(contrl_net_layer_count(NULL), 0);
    ck_assert_ptr_null(contrl_net_params(NULL));
    ck_assert_ptr_null(contrl_net_grads(NULL));
    ck_assert_ptr_null(contrl_net_output(NULL));
}
END_TEST

/* ---- ABI: configs of other sizes ----------------------------------------- */

enum { TAIL = 32 };
typedef union config_buffer {
    contrl_net_config cfg;
    unsigned char bytes[sizeof(contrl_net_config) + TAIL];
} config_buffer;

static config_buffer abi_config(void)
{
    config_buffer b;
    memset(&b, 0, sizeof b);
    b.cfg = contrl_net_config_default();
    b.cfg.in = 4;
    b.cfg.out = 2;
    b.cfg.hidden[0] = 9;
    b.cfg.hidden[1] = 5;
    b.cfg.hidden_act = CONTRL_ACT_TANH;
    b.cfg.max_batch = 16;
    b.cfg.seed = 99;
    memset(b.bytes + sizeof(contrl_net_config), 0, TAIL);
    return b;
}

/* A caller built against the first layout: nothing after `seed` exists in
 * its struct. 0xAB garbage there (kernels 0xABABABAB, an allocator of wild
 * pointers) would fail or crash if it were read. */
START_TEST(net_accepts_v1_config_and_ignores_bytes_after_it)
{
    config_buffer full = abi_config(), v1 = abi_config();
    memset(v1.bytes + CONTRL_NET_CONFIG_SIZE_V1, 0xAB, sizeof v1 - CONTRL_NET_CONFIG_SIZE_V1);
    v1.cfg.size = CONTRL_NET_CONFIG_SIZE_V1;
    contrl_net *a = create_ok(&v1.cfg);
    contrl_net *b = create_ok(&full.cfg);
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(a), info.kernels); /* the AUTO default */
    /* every v1 field was read: same shape, same seed, same parameters */
    ck_assert_uint_eq(contrl_net_layer_count(a), 3);
    ck_assert_uint_eq(contrl_net_max_batch(a), 16);
    ck_assert_uint_eq(contrl_net_param_count(a), contrl_net_param_count(b));
    ck_assert_mem_eq(contrl_net_params(a), contrl_net_params(b),
                     contrl_net_param_count(a) * sizeof(float));
    contrl_net_layer_info li;
    ck_assert_int_eq(contrl_net_layer(a, 1, &li), CONTRL_OK);
    ck_assert_uint_eq(li.in, 9);
    ck_assert_uint_eq(li.out, 5);
    ck_assert_int_eq(li.act, CONTRL_ACT_TANH);
    float x[4] = {0.5f, -1.0f, 0.25f, 2.0f}, ya[2], yb[2];
    ck_assert_int_eq(contrl_net_forward(a, x, 1, ya), CONTRL_OK);
    ck_assert_int_eq(contrl_net_forward(b, x, 1, yb), CONTRL_OK);
    ck_assert_mem_eq(ya, yb, sizeof ya);
    contrl_net_destroy(a);
    contrl_net_destroy(b);
}
END_TEST

START_TEST(net_rejects_config_smaller_than_v1)
{
    const size_t sizes[] = {0, sizeof(size_t), CONTRL_NET_CONFIG_SIZE_V1 - 8,
                            CONTRL_NET_CONFIG_SIZE_V1 - 1};
    for (int k = 0; k < 4; k++) {
        config_buffer b = abi_config();
        b.cfg.size = sizes[k];
        expect_create_fails(&b.cfg, CONTRL_ERR_INVALID_ARG, "size below v1");
    }
}
END_TEST

START_TEST(net_accepts_larger_config_with_zero_tail)
{
    config_buffer b = abi_config();
    b.cfg.size = sizeof b;
    contrl_net *net = create_ok(&b.cfg);
    ck_assert_uint_eq(contrl_net_in(net), 4);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(net_rejects_larger_config_with_nonzero_tail)
{
    const size_t where[] = {sizeof(contrl_net_config), sizeof(contrl_net_config) + TAIL - 1};
    for (int k = 0; k < 2; k++) {
        config_buffer b = abi_config();
        b.cfg.size = sizeof b;
        b.bytes[where[k]] = 1;
        expect_create_fails(&b.cfg, CONTRL_ERR_INVALID_ARG, "non-zero tail");
    }
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60); /* Check's default is 4 s; sanitizers are ~5x slower */
    tcase_add_loop_test(tc, net_gradients_match_finite_differences_for_every_activation, 0, 16);
    tcase_add_loop_test(tc, net_gradients_match_finite_differences_on_64_column_relu_layers, 0, 2);
    tcase_add_loop_test(tc, net_gradients_match_finite_differences_on_every_forced_path, 0, 4);
    tcase_add_test(tc, net_gradients_match_finite_differences_on_libxsmm_kernels_from_creation);
    tcase_add_test(tc, net_gradients_match_finite_differences_on_own_products_without_libxsmm);
    tcase_add_loop_test(tc, net_gradients_match_finite_differences_with_every_kernel_set, 0, 5);
    tcase_add_test(tc, net_gradients_match_finite_differences_at_depth_0_and_max);
    tcase_add_test(tc, gradient_comparison_reports_one_wrong_element);
    tcase_add_test(tc, net_gradients_accumulate_over_backward_calls);
    tcase_add_test(tc, net_zero_grad_clears_gradients);
    tcase_add_test(tc, net_backward_without_dx_gives_same_parameter_gradients);
    tcase_add_test(tc, fused_layers_give_the_bits_of_the_separate_passes);
    tcase_add_loop_test(tc, net_backward_modes_set_and_none_match_zero_grad_and_add, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("forward");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, net_forward_matches_double_reference);
    tcase_add_test(tc, net_single_row_forward_matches_row_of_batch);
    tcase_add_test(tc, net_predict_matches_forward);
    tcase_add_test(tc, net_predict_keeps_forward_cache_for_backward);
    suite_add_tcase(s, tc);

    tc = tcase_create("init");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, net_same_seed_gives_bit_identical_params_and_outputs);
    tcase_add_test(tc, net_init_is_uniform_within_inverse_sqrt_fan_in);
    tcase_add_test(tc, net_out_init_range_bounds_last_layer);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, net_layers_tile_the_flat_parameter_array);
    tcase_add_test(tc, net_set_params_round_trips_and_drives_forward);
    tcase_add_test(tc, net_soft_update_follows_polyak_formula);
    tcase_add_test(tc, net_soft_update_tau_0_keeps_and_tau_1_copies);
    tcase_add_test(tc, net_copy_params_copies_exactly);
    tcase_add_test(tc, net_soft_update_and_copy_reject_shape_mismatch);
    tcase_add_test(tc, net_soft_update_rejects_tau_outside_0_1);
    tcase_add_test(tc, net_set_params_rejects_nonfinite_and_keeps_params);
    tcase_add_test(tc, net_param_arrays_reject_wrong_length_and_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, net_create_rejects_bad_config);
    tcase_add_test(tc, net_create_rejects_unknown_blis_arch_env);
    tcase_add_test(tc, net_calls_reject_null_and_batch_out_of_range);
    tcase_add_test(tc, net_backward_before_forward_is_state_error);
    tcase_add_test(tc, net_null_handle_queries_are_harmless);
    suite_add_tcase(s, tc);

    tc = tcase_create("abi");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, net_accepts_v1_config_and_ignores_bytes_after_it);
    tcase_add_test(tc, net_rejects_config_smaller_than_v1);
    tcase_add_test(tc, net_accepts_larger_config_with_zero_tail);
    tcase_add_test(tc, net_rejects_larger_config_with_nonzero_tail);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
