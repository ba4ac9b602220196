/*
 * contrl/adam.h - the Adam optimiser (Kingma & Ba 2015) stepping a net.
 *
 *   g   = grad (scaled so that ||g||_2 <= max_grad_norm when that is > 0)
 *   m   = beta1 m + (1 - beta1) g
 *   v   = beta2 v + (1 - beta2) g^2
 *   p  -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 *
 * as in PyTorch's torch.optim.Adam. An optimiser is bound to nets with a
 * fixed parameter count at creation; it allocates nothing afterwards.
 */
#ifndef CONTRL_ADAM_H
#define CONTRL_ADAM_H

#include "contrl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contrl_adam contrl_adam;

typedef struct contrl_adam_config {
    size_t size;          /* sizeof(contrl_adam_config), set by _default() */
    float lr;             /* > 0, default 1e-3 */
    float beta1;          /* [0, 1), default 0.9 */
    float beta2;          /* [0, 1), default 0.999 */
    float eps;            /* > 0, default 1e-8 */
    float max_grad_norm;  /* 0 = no clipping (default); > 0 clips the global
                             L2 norm of the gradient before the step */
    contrl_allocator allocator; /* default: the C library's */
} contrl_adam_config;

CONTRL_API contrl_status contrl_adam_config_init(contrl_adam_config *cfg, size_t size);
static inline contrl_adam_config contrl_adam_config_default(void)
{
    contrl_adam_config cfg;
    contrl_adam_config_init(&cfg, sizeof cfg);
    return cfg;
}

/* Create an optimiser for nets of `param_count` parameters (as given by
 * contrl_net_param_count). *out is NULL on failure: INVALID_ARG (NULL,
 * bad size, hyper-parameter out of range or non-finite, param_count 0),
 * NOMEM. */
CONTRL_API contrl_status contrl_adam_create(const contrl_adam_config *cfg,
                                            size_t param_count, contrl_adam **out);
CONTRL_API void contrl_adam_destroy(contrl_adam *adam);

/* One Adam step on net's parameters from net's gradients (the gradients are
 * left as they are). If any gradient is NaN/Inf, or the step would make a
 * parameter or a first moment NaN/Inf (a learning rate near FLT_MAX,
 * extreme moments from set_state), the step is refused with NUMERIC and
 * neither the net nor the optimiser changes. INVALID_ARG for
 * NULL or a net of another parameter count; STATE once the step count has
 * reached UINT64_MAX. Gradients so large that their squares overflow float
 * (|g| above ~1.8e19) make v infinite and freeze those parameters: clip
 * with max_grad_norm when that can happen. */
CONTRL_API contrl_status contrl_adam_step(contrl_adam *adam, contrl_net *net);

/* Learning rate, readable and changeable between steps (> 0, finite). */
CONTRL_API float contrl_adam_lr(const contrl_adam *adam);
CONTRL_API contrl_status contrl_adam_set_lr(contrl_adam *adam, float lr);

/* Steps taken so far (t in the formula). 0 for NULL. */
CONTRL_API uint64_t contrl_adam_steps(const contrl_adam *adam);
CONTRL_API size_t contrl_adam_param_count(const contrl_adam *adam);

/* Optimiser state for checkpoints: the moment vectors m and v (param_count
 * floats each) and the step count. set_state rejects NaN/Inf (NONFINITE),
 * negative v and a step count of UINT64_MAX (INVALID_ARG) and leaves the
 * optimiser unchanged then. */
CONTRL_API contrl_status contrl_adam_get_state(const contrl_adam *adam, float *m,
                                               float *v, size_t n, uint64_t *steps);
CONTRL_API contrl_status contrl_adam_set_state(contrl_adam *adam, const float *m,
                                               const float *v, size_t n, uint64_t steps);
/* Forget the moments and the step count. */
CONTRL_API contrl_status contrl_adam_reset(contrl_adam *adam);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_ADAM_H */
