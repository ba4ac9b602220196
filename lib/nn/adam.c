/* lib/nn/adam.c - Adam, as torch.optim.Adam computes it. */
#include <string.h>

#include "contrl/adam.h"
#include "internal.h"
#include "nn.h"

struct contrl_adam {
    contrl_allocator alloc;
    size_t block_size;
    contrl_adam_config cfg;
    size_t n;
    uint64_t t;
    float *m, *v;
    /* The step is computed into these, checked, then taken: m/v swap
     * places with m_next/v_next and p_next is copied into the net. */
    float *m_next, *v_next, *p_next;
};

static contrl_adam_config adam_defaults(void)
{
    contrl_adam_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.lr = 1e-3f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.max_grad_norm = 0.0f;
    return c;
}

static bool lr_valid(float lr)
{
    return lr > 0.0f && isfinite(lr);
}

contrl_status contrl_adam_create(const contrl_adam_config *cfg_in, size_t param_count,
                                 contrl_adam **out)
{
    static const char fn[] = "contrl_adam_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", fn);
    contrl_adam_config cfg = contrl_adam_config_default();
    contrl_status st = contrl__config_copy(&cfg, cfg_in, offsetof(contrl_adam_config, allocator),
                                           sizeof cfg, fn);
    if (st != CONTRL_OK)
        return st;
    if (!lr_valid(cfg.lr))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: lr must be finite and > 0", fn);
    if (!(cfg.beta1 >= 0.0f && cfg.beta1 < 1.0f) || !(cfg.beta2 >= 0.0f && cfg.beta2 < 1.0f))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: beta1 and beta2 must be in [0, 1)", fn);
    if (!(cfg.eps > 0.0f) || !isfinite(cfg.eps))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: eps must be finite and > 0", fn);
    if (!(cfg.max_grad_norm >= 0.0f) || !isfinite(cfg.max_grad_norm))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: max_grad_norm must be finite and >= 0", fn);
    if (param_count == 0 || param_count > ((size_t)1 << 32))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: param_count %zu out of range", fn,
                            param_count);
    st = contrl__check_allocator(&cfg.allocator, fn);
    if (st != CONTRL_OK)
        return st;
    size_t head = contrl__round_up(sizeof(contrl_adam), 64);
    size_t vec = contrl__round_up(param_count * sizeof(float), 64);
    size_t total = head + 5 * vec;
    unsigned char *block = contrl__alloc(&cfg.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_adam *a = (contrl_adam *)(void *)block;
    a->alloc = cfg.allocator;
    a->block_size = total;
    a->cfg = cfg;
    a->n = param_count;
    a->m = (float *)(void *)(block + head);
    a->v = (float *)(void *)(block + head + vec);
    a->m_next = (float *)(void *)(block + head + 2 * vec);
    a->v_next = (float *)(void *)(block + head + 3 * vec);
    a->p_next = (float *)(void *)(block + head + 4 * vec);
    *out = a;
    return CONTRL_OK;
}

void contrl_adam_destroy(contrl_adam *adam)
{
    if (adam == NULL)
        return;
    contrl_allocator al = adam->alloc;
    contrl__free(&al, adam, adam->block_size);
}

/* ThreadSanitizer instruments the ifunc resolvers that target_clones
 * generates, and they run during relocation, before TSan has started:
 * under TSan, one plain version (the clones compute the same bits anyway). */
#if defined(__SANITIZE_THREAD__)
#define ADAM_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ADAM_CLONES
#endif
#endif
#ifndef ADAM_CLONES
#define ADAM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

/* Sum of squares with 16 independent lanes (vectorisable without
 * reassociation, so the result is the same on every build of this code). */
static double sum_squares(const float *g, size_t n)
{
    double lane[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] += (double)g[i + j] * g[i + j];
    for (; i < n; i++)
        lane[0] += (double)g[i] * g[i];
    double s = 0.0;
    for (int j = 0; j < 16; j++)
        s += lane[j];
    return s;
}

/* The element-wise update, cloned for AVX-512 and AVX2. Each element is
 * computed by the same IEEE operations in every clone (no contraction in
 * ISO C mode), so the clones give bit-identical results. */
/* The Adam step into p_out, m_out, v_out (nothing of the current state is
 * written); true if every new parameter and first moment is finite. A
 * finite gradient can still overflow them: a learning rate near FLT_MAX,
 * or moments (set_state, a checkpoint) such as m = 1e38 with v = 0. One
 * pass: before, a checking pass and the update recomputed the same step. */
ADAM_CLONES static bool
adam_update_into(const float *restrict p, const float *restrict g, const float *restrict m,
                 const float *restrict v, float *restrict p_out, float *restrict m_out,
                 float *restrict v_out, size_t n, float scale, float b1, float b2,
                 float step_size, float bc2_sqrt, float eps)
{
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    float lane[16] = {0};
    /* Blocks of 16 with the lane as the inner index, so the compiler
     * vectorises it (lane[i & 15] in one loop it did not: 10x slower). */
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) {
            float gi = g[i + j] * scale;
            float mi = b1 * m[i + j] + c1 * gi;
            float vi = b2 * v[i + j] + c2 * (gi * gi);
            float pi = p[i + j] - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
            m_out[i + j] = mi;
            v_out[i + j] = vi;
            p_out[i + j] = pi;
            lane[j] += pi * 0.0f + mi * 0.0f; /* NaN iff either is NaN or Inf */
        }
    for (; i < n; i++) {
        float gi = g[i] * scale;
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * (gi * gi);
        float pi = p[i] - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
        m_out[i] = mi;
        v_out[i] = vi;
        p_out[i] = pi;
        lane[0] += pi * 0.0f + mi * 0.0f;
    }
    float acc = 0.0f;
    for (int j = 0; j < 16; j++)
        acc += lane[j];
    return acc == 0.0f;
}

/* Takes the step computed into p_next/m_next/v_next: the net's parameters
 * become p_next, and with a target (same parameter count) it moves toward
 * them as contrl_net_soft_update computes it, in the same pass. */
ADAM_CLONES static void adam_commit(float *restrict p, const float *restrict p_next,
                                    float *restrict target, float tau, size_t n)
{
    if (target == NULL) {
        memcpy(p, p_next, n * sizeof(float));
        return;
    }
    const float keep = 1.0f - tau;
    for (size_t i = 0; i < n; i++) {
        p[i] = p_next[i];
        target[i] = tau * p_next[i] + keep * target[i];
    }
}

contrl_status contrl__adam_step_soft(contrl_adam *adam, contrl_net *net, contrl_net *target,
                                     float tau)
{
    static const char fn[] = "contrl_adam_step";
    if (adam == NULL || net == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            adam == NULL ? "adam" : "net");
    if (contrl_net_param_count(net) != adam->n)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: net has %zu parameters, optimiser was made for %zu", fn,
                            contrl_net_param_count(net), adam->n);
    const float *g = contrl_net_grads(net);
    float scale = 1.0f;
    if (adam->cfg.max_grad_norm > 0.0f) {
        double norm = sqrt(sum_squares(g, adam->n));
        if (!isfinite(norm))
            return contrl__fail(CONTRL_ERR_NUMERIC, "%s: gradient contains NaN or Inf", fn);
        /* torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) when above. */
        if (norm > adam->cfg.max_grad_norm)
            scale = (float)(adam->cfg.max_grad_norm / (norm + 1e-6));
    }
    if (adam->t == UINT64_MAX)
        return contrl__fail(CONTRL_ERR_STATE, "%s: step count exhausted", fn);
    uint64_t t = adam->t + 1;
    double bc1 = 1.0 - pow(adam->cfg.beta1, (double)t);
    double bc2 = 1.0 - pow(adam->cfg.beta2, (double)t);
    const float step_size = (float)(adam->cfg.lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    /* A NaN or Inf in the gradient makes its first moment NaN or Inf
     * (1 - beta1 > 0), which the update's own check catches: no separate
     * pass over the gradient; the message tells the two causes apart. */
    if (!adam_update_into(contrl_net_params(net), g, adam->m, adam->v, adam->p_next,
                          adam->m_next, adam->v_next, adam->n, scale, adam->cfg.beta1,
                          adam->cfg.beta2, step_size, bc2_sqrt, adam->cfg.eps)) {
        if (!contrl__all_finite(g, adam->n))
            return contrl__fail(CONTRL_ERR_NUMERIC, "%s: gradient contains NaN or Inf", fn);
        return contrl__fail(CONTRL_ERR_NUMERIC,
                            "%s: the step would make a parameter or moment NaN or Inf (learning "
                            "rate %g too large?); nothing changed", fn, (double)adam->cfg.lr);
    }
    adam_commit(contrl__net_params_mut(net), adam->p_next,
                target != NULL ? contrl__net_params_mut(target) : NULL, tau, adam->n);
    float *swap = adam->m;
    adam->m = adam->m_next;
    adam->m_next = swap;
    swap = adam->v;
    adam->v = adam->v_next;
    adam->v_next = swap;
    adam->t = t;
    return CONTRL_OK;
}

contrl_status contrl_adam_step(contrl_adam *adam, contrl_net *net)
{
    return contrl__adam_step_soft(adam, net, NULL, 0.0f);
}

float contrl_adam_lr(const contrl_adam *adam)
{
    return adam ? adam->cfg.lr : NAN;
}

contrl_status contrl_adam_set_lr(contrl_adam *adam, float lr)
{
    if (adam == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_adam_set_lr: adam is NULL");
    if (!lr_valid(lr))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl_adam_set_lr: lr %g must be finite and > 0", (double)lr);
    adam->cfg.lr = lr;
    return CONTRL_OK;
}

uint64_t contrl_adam_steps(const contrl_adam *adam)
{
    return adam ? adam->t : 0;
}

size_t contrl_adam_param_count(const contrl_adam *adam)
{
    return adam ? adam->n : 0;
}

static contrl_status check_state_args(const contrl_adam *adam, const void *m, const void *v,
                                      size_t n, const char *fn)
{
    if (adam == NULL || m == NULL || v == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            adam == NULL ? "adam" : m == NULL ? "m" : "v");
    if (n != adam->n)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n is %zu, optimiser has %zu", fn, n,
                            adam->n);
    return CONTRL_OK;
}

contrl_status contrl_adam_get_state(const contrl_adam *adam, float *m, float *v, size_t n,
                                    uint64_t *steps)
{
    contrl_status st = check_state_args(adam, m, v, n, "contrl_adam_get_state");
    if (st != CONTRL_OK)
        return st;
    memcpy(m, adam->m, n * sizeof(float));
    memcpy(v, adam->v, n * sizeof(float));
    if (steps != NULL)
        *steps = adam->t;
    return CONTRL_OK;
}

contrl_status contrl_adam_set_state(contrl_adam *adam, const float *m, const float *v, size_t n,
                                    uint64_t steps)
{
    static const char fn[] = "contrl_adam_set_state";
    contrl_status st = check_state_args(adam, m, v, n, fn);
    if (st != CONTRL_OK)
        return st;
    if (!contrl__all_finite(m, n) || !contrl__all_finite(v, n))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: m or v contains NaN or Inf", fn);
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0.0f)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: v[%zu] is negative", fn, i);
    if (steps == UINT64_MAX)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: step count %llu out of range", fn,
                            (unsigned long long)steps);
    memcpy(adam->m, m, n * sizeof(float));
    memcpy(adam->v, v, n * sizeof(float));
    adam->t = steps;
    return CONTRL_OK;
}

contrl_status contrl_adam_reset(contrl_adam *adam)
{
    if (adam == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_adam_reset: adam is NULL");
    memset(adam->m, 0, adam->n * sizeof(float));
    memset(adam->v, 0, adam->n * sizeof(float));
    adam->t = 0;
    return CONTRL_OK;
}

contrl_status contrl_adam_config_init(contrl_adam_config *cfg, size_t size)
{
    contrl_adam_config d = adam_defaults();
    return contrl__config_init(cfg, size, &d, offsetof(contrl_adam_config, allocator), sizeof d, "contrl_adam_config_init");
}
