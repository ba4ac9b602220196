/* tests/nn/test_adam.c - contrl_adam against contrl/adam.h: steps against
 * torch.optim.Adam's formula computed in double, clipping, refusal of
 * non-finite gradients, checkpoint state, argument checks, and one small
 * regression fit.
 *
 * Tolerances. The optimiser works in float: each moment is two products
 * and a sum (a few 2^-24 relative), the update a sqrt, a division and a
 * product (a few more). 1e-6 relative on parameters and moments is ~10x
 * that; the step itself (p_after - p_before, ~lr) is compared to 1e-4
 * relative, since rounding p to float (2^-24 |p|) is ~1e-5 of a step of
 * 0.01 -- still 1000x finer than a missing bias correction or a misplaced
 * eps, which change the step by O(1) in the cases below. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contrl/adam.h"
#include "contrl/net.h"
#include "nn.h"

#define REL_TOL 1e-6
#define STEP_TOL 1e-4

static void *xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    ck_assert_ptr_nonnull(p);
    return p;
}

#define ck_assert_fails(call, status, fname)                                                  \
    do {                                                                                     \
        contrl_clear_error();                                                                \
        contrl_status st_ = (call);                                                          \
        ck_assert_msg(st_ == (status), "%s returned %d (%s), expected %d", #call, (int)st_,   \
                      contrl_last_error(), (int)(status));                                   \
        ck_assert_msg(strstr(contrl_last_error(), (fname)) != NULL,                          \
                      "error \"%s\" does not name %s", contrl_last_error(), (fname));        \
    } while (0)

/* 2 -> 1, identity, no hidden layer: parameters W[0], W[1], b. */
static contrl_net *tiny_net(void)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 2;
    cfg.out = 1;
    cfg.n_hidden = 0;
    cfg.out_act = CONTRL_ACT_IDENTITY;
    cfg.max_batch = 4;
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    ck_assert_uint_eq(contrl_net_param_count(net), 3);
    return net;
}

static contrl_net *mlp(uint32_t in, uint32_t h1, uint32_t h2, uint32_t out,
                       contrl_activation act, uint64_t seed)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = in;
    cfg.out = out;
    cfg.n_hidden = 2;
    cfg.hidden[0] = h1;
    cfg.hidden[1] = h2;
    cfg.hidden_act = act;
    cfg.max_batch = 256;
    cfg.seed = seed;
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    return net;
}

static contrl_adam *adam_ok(const contrl_adam_config *cfg, size_t n)
{
    contrl_adam *a = NULL;
    contrl_status st = contrl_adam_create(cfg, n, &a);
    ck_assert_msg(st == CONTRL_OK, "contrl_adam_create: %s", contrl_last_error());
    ck_assert_ptr_nonnull(a);
    return a;
}

/* ---- the double-precision reference (torch.optim.Adam) ------------------ */

enum { REF_MAX = 8 };
typedef struct adam_ref {
    double lr, beta1, beta2, eps, max_grad_norm;
    double p[REF_MAX], m[REF_MAX], v[REF_MAX];
    double m_mag[REF_MAX]; /* the same average of |g|: m's float error is
                              relative to it, not to m (which may cancel) */
    uint64_t t;
    size_t n;
} adam_ref;

static adam_ref ref_new(const contrl_adam_config *cfg, const float *p, size_t n)
{
    adam_ref r;
    memset(&r, 0, sizeof r);
    r.lr = cfg->lr;
    r.beta1 = cfg->beta1;
    r.beta2 = cfg->beta2;
    r.eps = cfg->eps;
    r.max_grad_norm = cfg->max_grad_norm;
    r.n = n;
    for (size_t i = 0; i < n; i++)
        r.p[i] = p[i];
    return r;
}

static void ref_step(adam_ref *r, const float *grad)
{
    double scale = 1.0;
    if (r->max_grad_norm > 0.0) {
        double ss = 0.0;
        for (size_t i = 0; i < r->n; i++)
            ss += (double)grad[i] * grad[i];
        const double norm = sqrt(ss);
        if (norm > r->max_grad_norm) /* torch.nn.utils.clip_grad_norm_ */
            scale = r->max_grad_norm / (norm + 1e-6);
    }
    r->t++;
    const double bc1 = 1.0 - pow(r->beta1, (double)r->t);
    const double bc2 = 1.0 - pow(r->beta2, (double)r->t);
    for (size_t i = 0; i < r->n; i++) {
        const double g = grad[i] * scale;
        r->m[i] = r->beta1 * r->m[i] + (1.0 - r->beta1) * g;
        r->m_mag[i] = r->beta1 * r->m_mag[i] + (1.0 - r->beta1) * fabs(g);
        r->v[i] = r->beta2 * r->v[i] + (1.0 - r->beta2) * g * g;
        r->p[i] -= r->lr / bc1 * r->m[i] / (sqrt(r->v[i]) / sqrt(bc2) + r->eps);
    }
}

/* Compare net and optimiser with the reference after a step from params
 * `before`. */
static void check_against_ref(const contrl_adam *a, const contrl_net *net, const adam_ref *r,
                              const double *before, const char *what)
{
    float m[REF_MAX], v[REF_MAX];
    uint64_t steps = 0;
    ck_assert_int_eq(contrl_adam_get_state(a, m, v, r->n, &steps), CONTRL_OK);
    ck_assert_uint_eq(steps, r->t);
    ck_assert_uint_eq(contrl_adam_steps(a), r->t);
    const float *p = contrl_net_params(net);
    for (size_t i = 0; i < r->n; i++) {
        ck_assert_msg(fabs(p[i] - r->p[i]) <= REL_TOL * fmax(1.0, fabs(r->p[i])),
                      "%s t=%llu p[%zu]: %.9g, expected %.9g", what, (unsigned long long)r->t,
                      i, (double)p[i], r->p[i]);
        const double step = p[i] - before[i], want_step = r->p[i] - before[i];
        /* plus p's own rounding to float, 2^-24 |p| */
        ck_assert_msg(fabs(step - want_step) <= STEP_TOL * fabs(want_step) + 0x1p-23 * fabs(r->p[i]),
                      "%s t=%llu step[%zu]: %.9g, expected %.9g", what,
                      (unsigned long long)r->t, i, step, want_step);
        ck_assert_msg(fabs(m[i] - r->m[i]) <= REL_TOL * r->m_mag[i],
                      "%s t=%llu m[%zu]: %.9g, expected %.9g", what, (unsigned long long)r->t,
                      i, (double)m[i], r->m[i]);
        ck_assert_msg(fabs(v[i] - r->v[i]) <= REL_TOL * r->v[i],
                      "%s t=%llu v[%zu]: %.9g, expected %.9g", what, (unsigned long long)r->t,
                      i, (double)v[i], r->v[i]);
    }
}

/* Set grads, step net and reference, compare. */
static void step_and_check(contrl_adam *a, contrl_net *net, adam_ref *r, const float *g,
                           const char *what)
{
    double before[REF_MAX];
    for (size_t i = 0; i < r->n; i++)
        before[i] = r->p[i];
    ck_assert_int_eq(contrl_net_set_grads(net, g, r->n), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    /* the gradients are left as they are */
    ck_assert_mem_eq(contrl_net_grads(net), g, r->n * sizeof *g);
    ref_step(r, g);
    check_against_ref(a, net, r, before, what);
}

typedef struct hand_case {
    const char *what;
    float lr, beta1, beta2, eps, max_grad_norm;
    float p0[3], g1[3], g2[3];
} hand_case;

/* Case 2 has |g| ~ eps, so eps added after the bias-corrected sqrt (as in
 * PyTorch) and eps added anywhere else give steps that differ by > 30%. */
static const hand_case hand_cases[] = {
    {"defaults, lr 1e-2", 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f,
     {0.5f, -1.25f, 2.0f}, {0.3f, -0.02f, 1.5f}, {-0.1f, 0.04f, 0.7f}},
    {"grad ~ eps", 0.1f, 0.5f, 0.8f, 1e-3f, 0.0f,
     {0.25f, 1.0f, -0.75f}, {1e-3f, -2e-3f, 5e-4f}, {3e-4f, -1e-3f, -2e-3f}},
    {"beta1 0", 3e-2f, 0.0f, 0.99f, 1e-6f, 0.0f,
     {-2.0f, 0.125f, 1.5f}, {2.0f, -0.5f, 0.0f}, {-1.0f, 0.25f, 4.0f}},
    {"clipped", 1e-2f, 0.9f, 0.999f, 1e-8f, 0.5f,  /* norms 5 and ~13.9: both clipped */
     {0.5f, -1.25f, 2.0f}, {3.0f, -4.0f, 0.0f}, {1.0f, 12.0f, -7.0f}},
    {"clip inactive", 1e-2f, 0.9f, 0.999f, 1e-8f, 10.0f, /* norm 5 < 10 */
     {0.5f, -1.25f, 2.0f}, {3.0f, -4.0f, 0.0f}, {-1.0f, 2.0f, 1.0f}},
    /* norm 2e-6 against max 1e-6: torch's + 1e-6 makes the scale 1/3, not
     * 1/2, so it is visible in m */
    {"clipped, tiny norm", 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-6f,
     {0.5f, -1.25f, 2.0f}, {1.2e-6f, -1.6e-6f, 0.0f}, {-4e-6f, 0.0f, 3e-6f}},
};
enum { N_HAND = sizeof hand_cases / sizeof hand_cases[0] };

START_TEST(adam_two_steps_match_pytorch_formula)
{
    const hand_case *h = &hand_cases[_i];
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.lr = h->lr;
    cfg.beta1 = h->beta1;
    cfg.beta2 = h->beta2;
    cfg.eps = h->eps;
    cfg.max_grad_norm = h->max_grad_norm;
    contrl_adam *a = adam_ok(&cfg, 3);
    ck_assert_uint_eq(contrl_adam_param_count(a), 3);
    ck_assert_uint_eq(contrl_adam_steps(a), 0);
    ck_assert_int_eq(contrl_net_set_params(net, h->p0, 3), CONTRL_OK);
    adam_ref r = ref_new(&cfg, h->p0, 3);
    step_and_check(a, net, &r, h->g1, h->what);
    step_and_check(a, net, &r, h->g2, h->what);
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

/* The first moment after one clipped step, written out: m = (1 - beta1) *
 * g * max / (norm + 1e-6), with g = (3, -4, 0), norm 5, max 0.5. */
START_TEST(adam_clips_global_norm_before_the_moments)
{
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.max_grad_norm = 0.5f;
    contrl_adam *a = adam_ok(&cfg, 3);
    const float g[3] = {3.0f, -4.0f, 0.0f};
    ck_assert_int_eq(contrl_net_set_grads(net, g, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    float m[3], v[3];
    ck_assert_int_eq(contrl_adam_get_state(a, m, v, 3, NULL), CONTRL_OK);
    const double scale = 0.5 / (5.0 + 1e-6);
    const double b1 = (double)0.9f, b2 = (double)0.999f;
    for (int i = 0; i < 3; i++) {
        const double want_m = (1.0 - b1) * g[i] * scale, want_v = (1.0 - b2) * pow(g[i] * scale, 2);
        ck_assert_msg(fabs(m[i] - want_m) <= REL_TOL * fabs(want_m), "m[%d] %.9g want %.9g", i,
                      (double)m[i], want_m);
        ck_assert_msg(fabs(v[i] - want_v) <= REL_TOL * fabs(want_v), "v[%d] %.9g want %.9g", i,
                      (double)v[i], want_v);
    }
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

/* 1e20^2 overflows float but not the norm's double accumulation: the
 * gradient is clipped to norm 0.5, not refused or turned into Inf. */
START_TEST(adam_clips_gradients_whose_squares_overflow_float)
{
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.max_grad_norm = 0.5f;
    contrl_adam *a = adam_ok(&cfg, 3);
    const float p0[3] = {1.0f, 2.0f, 3.0f}, g[3] = {1e20f, 0.0f, 0.0f};
    ck_assert_int_eq(contrl_net_set_params(net, p0, 3), CONTRL_OK);
    adam_ref r = ref_new(&cfg, p0, 3);
    double before[3] = {1.0, 2.0, 3.0};
    ck_assert_int_eq(contrl_net_set_grads(net, g, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    ref_step(&r, g);
    check_against_ref(a, net, &r, before, "1e20 gradient");
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

typedef struct adam_snapshot {
    float p[3], m[3], v[3], g[3];
    uint64_t steps;
} adam_snapshot;

static adam_snapshot snap(const contrl_adam *a, const contrl_net *net)
{
    adam_snapshot s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(contrl_net_get_params(net, s.p, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_grads(net, s.g, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_get_state(a, s.m, s.v, 3, &s.steps), CONTRL_OK);
    return s;
}

/* Forward does not check its inputs, so a NaN/huge input puts a NaN/Inf
 * into dW (set_grads would refuse it). */
START_TEST(adam_refuses_nonfinite_gradient_and_changes_nothing)
{
    const float bad_inputs[][2] = {{NAN, 1.0f}, {1e30f, 1.0f}, {INFINITY, 0.5f}};
    const float max_norms[] = {0.0f, 1.0f};
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 2; c++) {
            contrl_net *net = tiny_net();
            contrl_adam_config cfg = contrl_adam_config_default();
            cfg.max_grad_norm = max_norms[c];
            contrl_adam *a = adam_ok(&cfg, 3);
            const float g0[3] = {0.5f, -0.25f, 1.0f};
            ck_assert_int_eq(contrl_net_set_grads(net, g0, 3), CONTRL_OK);
            ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK); /* non-zero state */
            const float dy = k == 1 ? 1e30f : 1.0f;
            ck_assert_int_eq(contrl_net_zero_grad(net), CONTRL_OK);
            ck_assert_int_eq(contrl_net_forward(net, bad_inputs[k], 1, NULL), CONTRL_OK);
            ck_assert_int_eq(contrl_net_backward(net, &dy, NULL), CONTRL_OK);
            ck_assert(!isfinite(contrl_net_grads(net)[0]));
            adam_snapshot before = snap(a, net);
            ck_assert_fails(contrl_adam_step(a, net), CONTRL_ERR_NUMERIC, "contrl_adam_step");
            /* the update's own check caught it; the message names the cause */
            ck_assert_msg(strstr(contrl_last_error(), "gradient contains NaN or Inf") != NULL,
                          "message: %s", contrl_last_error());
            adam_snapshot after = snap(a, net);
            ck_assert_mem_eq(&before, &after, sizeof before);
            ck_assert_uint_eq(after.steps, 1);
            contrl_adam_destroy(a);
            contrl_net_destroy(net);
        }
}
END_TEST

/* Checkpoint after 3 steps, restore into a fresh optimiser and a copy of
 * the net: the next 3 steps are bit-identical. */
START_TEST(adam_state_round_trips_and_continues_identically)
{
    contrl_net *net = mlp(3, 40, 4, 2, CONTRL_ACT_TANH, 1);
    contrl_net *copy = mlp(3, 40, 4, 2, CONTRL_ACT_TANH, 2);
    const size_t n = contrl_net_param_count(net);
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.max_grad_norm = 1.0f;
    contrl_adam *a = adam_ok(&cfg, n), *b = adam_ok(&cfg, n);
    float *g = xmalloc(n * sizeof *g), *m = xmalloc(n * sizeof *m), *v = xmalloc(n * sizeof *v);
    float *m2 = xmalloc(n * sizeof *m2), *v2 = xmalloc(n * sizeof *v2);
    contrl_rng rng;
    contrl_rng_seed(&rng, 5);
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < n; i++)
            g[i] = contrl_rng_normal(&rng);
        ck_assert_int_eq(contrl_net_set_grads(net, g, n), CONTRL_OK);
        ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    }
    uint64_t steps = 0, steps2 = 0;
    ck_assert_int_eq(contrl_adam_get_state(a, m, v, n, &steps), CONTRL_OK);
    ck_assert_uint_eq(steps, 3);
    ck_assert_int_eq(contrl_adam_set_state(b, m, v, n, steps), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_get_state(b, m2, v2, n, &steps2), CONTRL_OK);
    ck_assert_mem_eq(m, m2, n * sizeof *m);
    ck_assert_mem_eq(v, v2, n * sizeof *v);
    ck_assert_uint_eq(steps2, 3);
    ck_assert_int_eq(contrl_net_copy_params(copy, net), CONTRL_OK);
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < n; i++)
            g[i] = contrl_rng_normal(&rng);
        ck_assert_int_eq(contrl_net_set_grads(net, g, n), CONTRL_OK);
        ck_assert_int_eq(contrl_net_set_grads(copy, g, n), CONTRL_OK);
        ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
        ck_assert_int_eq(contrl_adam_step(b, copy), CONTRL_OK);
    }
    ck_assert_mem_eq(contrl_net_params(net), contrl_net_params(copy), n * sizeof(float));
    ck_assert_int_eq(contrl_adam_get_state(a, m, v, n, &steps), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_get_state(b, m2, v2, n, &steps2), CONTRL_OK);
    ck_assert_mem_eq(m, m2, n * sizeof *m);
    ck_assert_mem_eq(v, v2, n * sizeof *v);
    ck_assert_uint_eq(steps, 6);
    ck_assert_uint_eq(steps2, 6);
    /* the step count is part of the state: with t = 0 instead of 3 the
     * bias corrections differ and so does the next step */
    contrl_adam *c = adam_ok(&cfg, n);
    ck_assert_int_eq(contrl_adam_set_state(c, m, v, n, 0), CONTRL_OK);
    ck_assert_int_eq(contrl_net_copy_params(copy, net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_set_grads(copy, g, n), CONTRL_OK);
    ck_assert_int_eq(contrl_net_set_grads(net, g, n), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(c, copy), CONTRL_OK);
    ck_assert(memcmp(contrl_net_params(net), contrl_net_params(copy), n * sizeof(float)) != 0);
    free(g);
    free(m);
    free(v);
    free(m2);
    free(v2);
    contrl_adam_destroy(a);
    contrl_adam_destroy(b);
    contrl_adam_destroy(c);
    contrl_net_destroy(net);
    contrl_net_destroy(copy);
}
END_TEST

START_TEST(adam_set_state_rejects_bad_values_and_keeps_state)
{
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a = adam_ok(&cfg, 3);
    const float g[3] = {0.5f, -0.25f, 1.0f};
    ck_assert_int_eq(contrl_net_set_grads(net, g, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    adam_snapshot before = snap(a, net);
    static const char fn[] = "contrl_adam_set_state";
    const float good[3] = {0.1f, 0.2f, 0.3f};
    const float bad_values[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++)
        for (int at = 0; at < 3; at++) {
            float bad[3] = {0.1f, 0.2f, 0.3f};
            bad[at] = bad_values[k];
            ck_assert_fails(contrl_adam_set_state(a, bad, good, 3, 7), CONTRL_ERR_NONFINITE, fn);
            ck_assert_fails(contrl_adam_set_state(a, good, bad, 3, 7), CONTRL_ERR_NONFINITE, fn);
        }
    const float negative[3] = {0.1f, -1e-30f, 0.3f};
    ck_assert_fails(contrl_adam_set_state(a, good, negative, 3, 7), CONTRL_ERR_INVALID_ARG, fn);
    ck_assert_fails(contrl_adam_set_state(a, good, good, 2, 7), CONTRL_ERR_INVALID_ARG, fn);
    ck_assert_fails(contrl_adam_set_state(a, good, good, 4, 7), CONTRL_ERR_INVALID_ARG, fn);
    ck_assert_fails(contrl_adam_set_state(a, NULL, good, 3, 7), CONTRL_ERR_INVALID_ARG, fn);
    ck_assert_fails(contrl_adam_set_state(a, good, NULL, 3, 7), CONTRL_ERR_INVALID_ARG, fn);
    ck_assert_fails(contrl_adam_set_state(NULL, good, good, 3, 7), CONTRL_ERR_INVALID_ARG, fn);
    adam_snapshot after = snap(a, net);
    ck_assert_mem_eq(&before, &after, sizeof before);
    /* negative m is fine (it is a signed average); -0.0 in v is not negative */
    const float m_ok[3] = {-0.1f, 0.0f, 0.3f}, v_ok[3] = {0.0f, -0.0f, 2.0f};
    ck_assert_int_eq(contrl_adam_set_state(a, m_ok, v_ok, 3, 7), CONTRL_OK);
    ck_assert_uint_eq(contrl_adam_steps(a), 7);
    float m[3], v[3];
    ck_assert_fails(contrl_adam_get_state(a, m, v, 2, NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_adam_get_state");
    ck_assert_fails(contrl_adam_get_state(NULL, m, v, 3, NULL), CONTRL_ERR_INVALID_ARG,
                    "contrl_adam_get_state");
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

/* A checkpoint's step count is outside data like m and v. With t =
 * UINT64_MAX the next t wraps to 0, 1 - beta1^0 = 0 and lr / 0 turns every
 * parameter into NaN under CONTRL_OK. Either set_state refuses the count or
 * the step refuses to run; a finite net must not come out non-finite. */
START_TEST(adam_step_count_cannot_wrap_into_nan_params)
{
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a = adam_ok(&cfg, 3);
    const float m[3] = {0.1f, 0.0f, 0.0f}, v[3] = {0.01f, 0.0f, 0.0f}, g[3] = {0.5f, 0.0f, 0.0f};
    ck_assert_int_eq(contrl_net_set_grads(net, g, 3), CONTRL_OK);
    if (contrl_adam_set_state(a, m, v, 3, UINT64_MAX) == CONTRL_OK &&
        contrl_adam_step(a, net) == CONTRL_OK) {
        const float *p = contrl_net_params(net);
        for (int i = 0; i < 3; i++)
            ck_assert_msg(isfinite(p[i]),
                          "step after set_state(steps = UINT64_MAX) returned CONTRL_OK and "
                          "left p[%d] = %g (steps now %llu)",
                          i, (double)p[i], (unsigned long long)contrl_adam_steps(a));
    }
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(adam_reset_forgets_moments_and_steps)
{
    contrl_net *net = tiny_net(), *fresh_net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a = adam_ok(&cfg, 3), *fresh = adam_ok(&cfg, 3);
    const float g[3] = {0.5f, -0.25f, 1.0f}, g2[3] = {-2.0f, 0.5f, 0.125f};
    ck_assert_int_eq(contrl_net_set_grads(net, g, 3), CONTRL_OK);
    for (int s = 0; s < 4; s++)
        ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_reset(a), CONTRL_OK);
    float m[3], v[3];
    uint64_t steps = 1;
    ck_assert_int_eq(contrl_adam_get_state(a, m, v, 3, &steps), CONTRL_OK);
    ck_assert_uint_eq(steps, 0);
    for (int i = 0; i < 3; i++)
        ck_assert(m[i] == 0.0f && v[i] == 0.0f);
    /* the next step is a first step */
    ck_assert_int_eq(contrl_net_copy_params(fresh_net, net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_set_grads(net, g2, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_net_set_grads(fresh_net, g2, 3), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    ck_assert_int_eq(contrl_adam_step(fresh, fresh_net), CONTRL_OK);
    ck_assert_mem_eq(contrl_net_params(net), contrl_net_params(fresh_net), 3 * sizeof(float));
    ck_assert_fails(contrl_adam_reset(NULL), CONTRL_ERR_INVALID_ARG, "contrl_adam_reset");
    contrl_adam_destroy(a);
    contrl_adam_destroy(fresh);
    contrl_net_destroy(net);
    contrl_net_destroy(fresh_net);
}
END_TEST

static void *never_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    (void)size;
    (void)align;
    return NULL;
}

static void expect_create_fails(const contrl_adam_config *cfg, size_t n, const char *what)
{
    contrl_adam *a = (contrl_adam *)(void *)&a; /* not NULL: create must clear it */
    contrl_clear_error();
    contrl_status st = contrl_adam_create(cfg, n, &a);
    ck_assert_msg(st == CONTRL_ERR_INVALID_ARG, "%s: got %d", what, (int)st);
    ck_assert_msg(a == NULL, "%s: *out not NULL after a failed create", what);
    ck_assert_msg(strstr(contrl_last_error(), "contrl_adam_create") != NULL,
                  "%s: error \"%s\" does not name contrl_adam_create", what, contrl_last_error());
}

START_TEST(adam_create_rejects_bad_config)
{
    const contrl_adam_config good = contrl_adam_config_default();
    ck_assert_float_eq(good.lr, 1e-3f);
    ck_assert_float_eq(good.beta1, 0.9f);
    ck_assert_float_eq(good.beta2, 0.999f);
    ck_assert_float_eq(good.eps, 1e-8f);
    ck_assert_float_eq(good.max_grad_norm, 0.0f);
    contrl_adam_config c;
#define BAD(change, what)                                                                      \
    do {                                                                                       \
        c = good;                                                                              \
        change;                                                                                \
        expect_create_fails(&c, 10, what);                                                     \
    } while (0)
    BAD(c.lr = 0.0f, "lr 0");
    BAD(c.lr = -1e-3f, "lr < 0");
    BAD(c.lr = NAN, "lr NaN");
    BAD(c.lr = INFINITY, "lr Inf");
    BAD(c.beta1 = 1.0f, "beta1 1");
    BAD(c.beta1 = -0.1f, "beta1 < 0");
    BAD(c.beta1 = NAN, "beta1 NaN");
    BAD(c.beta2 = 1.0f, "beta2 1");
    BAD(c.beta2 = 1.5f, "beta2 1.5");
    BAD(c.beta2 = NAN, "beta2 NaN");
    BAD(c.eps = 0.0f, "eps 0");
    BAD(c.eps = -1e-8f, "eps < 0");
    BAD(c.eps = NAN, "eps NaN");
    BAD(c.eps = INFINITY, "eps Inf");
    BAD(c.max_grad_norm = -1.0f, "max_grad_norm < 0");
    BAD(c.max_grad_norm = NAN, "max_grad_norm NaN");
    BAD(c.max_grad_norm = INFINITY, "max_grad_norm Inf");
    BAD(c.size = sizeof(size_t), "size too small");
    BAD(c.allocator.alloc = never_alloc, "alloc without free");
#undef BAD
    expect_create_fails(&good, 0, "param_count 0");
    expect_create_fails(NULL, 10, "cfg NULL");
    contrl_clear_error();
    ck_assert_int_eq(contrl_adam_create(&good, 10, NULL), CONTRL_ERR_INVALID_ARG);
    /* the edges of the ranges are accepted */
    c = good;
    c.beta1 = 0.0f;
    c.beta2 = 0.0f;
    c.max_grad_norm = 0.0f;
    contrl_adam *a = adam_ok(&c, 1);
    contrl_adam_destroy(a);
    contrl_adam_destroy(NULL);
}
END_TEST

START_TEST(adam_step_rejects_other_param_count_and_null)
{
    contrl_net *net = mlp(5, 7, 3, 2, CONTRL_ACT_RELU, 1);
    const size_t n = contrl_net_param_count(net);
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a = adam_ok(&cfg, n + 1), *b = adam_ok(&cfg, n - 1);
    float *before = xmalloc(n * sizeof *before), *g = xmalloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = 1.0f;
    ck_assert_int_eq(contrl_net_set_grads(net, g, n), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_params(net, before, n), CONTRL_OK);
    ck_assert_fails(contrl_adam_step(a, net), CONTRL_ERR_INVALID_ARG, "contrl_adam_step");
    ck_assert_fails(contrl_adam_step(b, net), CONTRL_ERR_INVALID_ARG, "contrl_adam_step");
    ck_assert_fails(contrl_adam_step(NULL, net), CONTRL_ERR_INVALID_ARG, "contrl_adam_step");
    ck_assert_fails(contrl_adam_step(a, NULL), CONTRL_ERR_INVALID_ARG, "contrl_adam_step");
    ck_assert_mem_eq(contrl_net_params(net), before, n * sizeof *before);
    ck_assert_uint_eq(contrl_adam_steps(a), 0);
    ck_assert_uint_eq(contrl_adam_steps(b), 0);
    free(before);
    free(g);
    contrl_adam_destroy(a);
    contrl_adam_destroy(b);
    contrl_net_destroy(net);
}
END_TEST

START_TEST(adam_set_lr_validates_and_takes_effect)
{
    contrl_net *net = tiny_net();
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a = adam_ok(&cfg, 3);
    ck_assert_float_eq(contrl_adam_lr(a), 1e-3f);
    const float bad[] = {0.0f, -0.01f, NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 5; k++) {
        ck_assert_fails(contrl_adam_set_lr(a, bad[k]), CONTRL_ERR_INVALID_ARG,
                        "contrl_adam_set_lr");
        ck_assert_float_eq(contrl_adam_lr(a), 1e-3f);
    }
    ck_assert_fails(contrl_adam_set_lr(NULL, 0.1f), CONTRL_ERR_INVALID_ARG,
                    "contrl_adam_set_lr");
    ck_assert(isnan(contrl_adam_lr(NULL)));
    ck_assert_uint_eq(contrl_adam_steps(NULL), 0);
    ck_assert_uint_eq(contrl_adam_param_count(NULL), 0);

    /* one step at 1e-3, then one at 0.05: the reference changes lr too */
    const float p0[3] = {0.5f, -1.25f, 2.0f}, g1[3] = {0.3f, -0.02f, 1.5f},
                g2[3] = {-0.1f, 0.04f, 0.7f};
    ck_assert_int_eq(contrl_net_set_params(net, p0, 3), CONTRL_OK);
    adam_ref r = ref_new(&cfg, p0, 3);
    step_and_check(a, net, &r, g1, "lr 1e-3");
    ck_assert_int_eq(contrl_adam_set_lr(a, 0.05f), CONTRL_OK);
    ck_assert_float_eq(contrl_adam_lr(a), 0.05f);
    r.lr = (double)0.05f;
    step_and_check(a, net, &r, g2, "lr 0.05");
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST

/* ---- a small learning check ---------------------------------------------- */

/* y = sin(x) on [-pi, pi], 1 -> 32 -> 32 -> 1 tanh, full batch of 128
 * points, MSE loss, Adam lr 1e-2, measured on 200 points between the
 * training points. The MSE starts at 0.94 and reaches ~1e-5 after 1000
 * steps (~0.1 s), so the 0.01 bar has a wide margin. */
enum { FIT_N = 128, FIT_EVAL = 200, FIT_STEPS = 1000 };

static double fit_mse(contrl_net *net, const float *x, int n)
{
    float y[FIT_EVAL];
    ck_assert_int_eq(contrl_net_predict(net, x, (uint32_t)n, y), CONTRL_OK);
    double se = 0.0;
    for (int i = 0; i < n; i++)
        se += pow(y[i] - sin((double)x[i]), 2);
    return se / n;
}

START_TEST(adam_fits_sine_to_mse_below_0_01)
{
    contrl_net *net = mlp(1, 32, 32, 1, CONTRL_ACT_TANH, 3);
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.lr = 1e-2f;
    contrl_adam *a = adam_ok(&cfg, contrl_net_param_count(net));
    float x[FIT_N], t[FIT_N], y[FIT_N], dy[FIT_N], xe[FIT_EVAL];
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < FIT_N; i++) {
        x[i] = (float)(-pi + 2.0 * pi * i / (FIT_N - 1));
        t[i] = (float)sin((double)x[i]);
    }
    for (int i = 0; i < FIT_EVAL; i++)
        xe[i] = (float)(-pi + 2.0 * pi * (i + 0.5) / FIT_EVAL);
    const double mse0 = fit_mse(net, xe, FIT_EVAL);
    ck_assert_msg(mse0 > 0.1, "initial MSE %g: the task is already solved", mse0);
    for (int s = 0; s < FIT_STEPS; s++) {
        ck_assert_int_eq(contrl_net_forward(net, x, FIT_N, y), CONTRL_OK);
        for (int i = 0; i < FIT_N; i++)
            dy[i] = 2.0f * (y[i] - t[i]) / FIT_N;
        ck_assert_int_eq(contrl_net_zero_grad(net), CONTRL_OK);
        ck_assert_int_eq(contrl_net_backward(net, dy, NULL), CONTRL_OK);
        ck_assert_int_eq(contrl_adam_step(a, net), CONTRL_OK);
    }
    const double mse = fit_mse(net, xe, FIT_EVAL);
    ck_assert_msg(mse < 0.01, "MSE %g after %d steps (started at %g)", mse, FIT_STEPS, mse0);
    ck_assert_uint_eq(contrl_adam_steps(a), FIT_STEPS);
    contrl_adam_destroy(a);
    contrl_net_destroy(net);
}
END_TEST


/* The agents' fused step (lib/nn/nn.h): Adam, then the target's soft update
 * in the same pass, gives the bits of contrl_adam_step followed by
 * contrl_net_soft_update; a refused step moves neither net. */
START_TEST(adam_step_with_soft_update_matches_the_two_calls)
{
    contrl_net *n1 = mlp(5, 33, 17, 3, CONTRL_ACT_TANH, 11), *n2 = mlp(5, 33, 17, 3, CONTRL_ACT_TANH, 11);
    contrl_net *t1 = mlp(5, 33, 17, 3, CONTRL_ACT_TANH, 12), *t2 = mlp(5, 33, 17, 3, CONTRL_ACT_TANH, 12);
    const size_t np = contrl_net_param_count(n1);
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_adam *a1 = adam_ok(&cfg, np), *a2 = adam_ok(&cfg, np);
    float *g = xmalloc(np * sizeof(float));
    for (int step = 0; step < 5; step++) {
        for (size_t i = 0; i < np; i++)
            g[i] = sinf((float)(i * 7 + (size_t)step * 13)) * 0.3f;
        ck_assert_int_eq(contrl_net_set_grads(n1, g, np), CONTRL_OK);
        ck_assert_int_eq(contrl_net_set_grads(n2, g, np), CONTRL_OK);
        ck_assert_int_eq(contrl_adam_step(a1, n1), CONTRL_OK);
        ck_assert_int_eq(contrl_net_soft_update(t1, n1, 0.005f), CONTRL_OK);
        ck_assert_int_eq(contrl__adam_step_soft(a2, n2, t2, 0.005f), CONTRL_OK);
        ck_assert_mem_eq(contrl_net_params(n1), contrl_net_params(n2), np * sizeof(float));
        ck_assert_mem_eq(contrl_net_params(t1), contrl_net_params(t2), np * sizeof(float));
    }
    float *before = xmalloc(np * sizeof(float));
    memcpy(before, contrl_net_params(t2), np * sizeof(float));
    g[np / 2] = NAN;
    ck_assert_int_eq(contrl_net_set_grads(n2, g, np), CONTRL_ERR_NONFINITE);
    float *grads = contrl__net_grads_mut(n2);
    grads[np / 2] = NAN;
    ck_assert_int_eq(contrl__adam_step_soft(a2, n2, t2, 0.005f), CONTRL_ERR_NUMERIC);
    ck_assert_mem_eq(contrl_net_params(t2), before, np * sizeof(float));
    ck_assert_mem_eq(contrl_net_params(n1), contrl_net_params(n2), np * sizeof(float));
    free(before);
    free(g);
    contrl_adam_destroy(a1);
    contrl_adam_destroy(a2);
    contrl_net_destroy(n1);
    contrl_net_destroy(n2);
    contrl_net_destroy(t1);
    contrl_net_destroy(t2);
}
END_TEST

static Suite *adam_suite(void)
{
    Suite *s = suite_create("adam");
    TCase *tc = tcase_create("steps");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, adam_two_steps_match_pytorch_formula, 0, N_HAND);
    tcase_add_test(tc, adam_clips_global_norm_before_the_moments);
    tcase_add_test(tc, adam_clips_gradients_whose_squares_overflow_float);
    tcase_add_test(tc, adam_refuses_nonfinite_gradient_and_changes_nothing);
    tcase_add_test(tc, adam_set_lr_validates_and_takes_effect);
    tcase_add_test(tc, adam_step_with_soft_update_matches_the_two_calls);
    suite_add_tcase(s, tc);

    tc = tcase_create("state");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, adam_state_round_trips_and_continues_identically);
    tcase_add_test(tc, adam_set_state_rejects_bad_values_and_keeps_state);
    tcase_add_test(tc, adam_reset_forgets_moments_and_steps);
    tcase_add_test(tc, adam_step_count_cannot_wrap_into_nan_params);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, adam_create_rejects_bad_config);
    tcase_add_test(tc, adam_step_rejects_other_param_count_and_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("learning");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, adam_fits_sine_to_mse_below_0_01);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(adam_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
