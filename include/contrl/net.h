/*
 * contrl/net.h - multi-layer perceptrons on float32 batches.
 *
 * A contrl_net is a stack of fully connected layers y = act(x W + b).
 * Batches are row-major: row r of a batch of inputs starts at x + r * in.
 * Layer l's weight W_l is stored row-major with shape [in_l, out_l] (the
 * transpose of PyTorch's nn.Linear.weight), followed by its bias [out_l];
 * the layers follow each other in one flat parameter array, and the
 * gradient array has the same layout. contrl_net_layer() gives the offsets.
 *
 * Lifecycle: create -> (forward -> backward)* / predict -> destroy.
 * Nothing is allocated after contrl_net_create. A net is used by one thread
 * at a time.
 */
#ifndef CONTRL_NET_H
#define CONTRL_NET_H

#include <stdbool.h>

#include "contrl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CONTRL_NET_MAX_HIDDEN 8

typedef enum contrl_activation {
    CONTRL_ACT_IDENTITY = 0,
    CONTRL_ACT_RELU = 1,
    CONTRL_ACT_TANH = 2,
    CONTRL_ACT_SIGMOID = 3
} contrl_activation;

typedef struct contrl_net contrl_net;

typedef struct contrl_net_config {
    size_t size;            /* sizeof(contrl_net_config), set by _default() */
    uint32_t in;            /* input width, >= 1 (no default) */
    uint32_t out;           /* output width, >= 1 (no default) */
    uint32_t n_hidden;      /* number of hidden layers, 0..CONTRL_NET_MAX_HIDDEN;
                               default 2 */
    uint32_t hidden[CONTRL_NET_MAX_HIDDEN]; /* widths; default 256, 256 */
    contrl_activation hidden_act;  /* default CONTRL_ACT_RELU */
    contrl_activation out_act;     /* default CONTRL_ACT_IDENTITY */
    /* 0: every layer initialised like PyTorch's nn.Linear, weights and biases
     * ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). > 0: the final layer's weights and
     * biases ~ U(-r, r) instead (the DDPG paper uses 3e-3). Default 0. */
    float out_init_range;
    uint32_t max_batch;     /* largest batch forward/backward accept, in
                               [1, 2^24], with max_batch times the widest
                               layer at most 2^32; workspaces are sized
                               from it. Default 256. */
    uint64_t seed;          /* initialisation seed; default 0 */
    /* ---- fields added after the first layout: callers built with a
     * smaller struct get these defaults ---- */
    contrl_kernels kernels; /* default CONTRL_KERNELS_AUTO */
    contrl_allocator allocator; /* default: zeroed, the C library's */
} contrl_net_config;

/* The smallest config a caller may pass (the first published layout). */
#define CONTRL_NET_CONFIG_SIZE_V1 (offsetof(contrl_net_config, seed) + sizeof(uint64_t))

/* Defaults as documented above, with in = out = 0 (to be set). */
CONTRL_API contrl_status contrl_net_config_init(contrl_net_config *cfg, size_t size);
static inline contrl_net_config contrl_net_config_default(void)
{
    contrl_net_config cfg;
    contrl_net_config_init(&cfg, sizeof cfg);
    return cfg;
}

/* Create a net. On success *out owns a new handle (free it with
 * contrl_net_destroy). On failure *out is set to NULL and: INVALID_ARG for a
 * NULL pointer, a config size that is too small, or too large with non-zero
 * unknown fields, zero sizes, unknown activations, a negative or non-finite
 * out_init_range; UNSUPPORTED if the kernel set cannot run on this CPU;
 * NOMEM if allocation fails. */
CONTRL_API contrl_status contrl_net_create(const contrl_net_config *cfg,
                                           contrl_net **out);
/* Free a net and everything it owns. NULL is allowed. */
CONTRL_API void contrl_net_destroy(contrl_net *net);

/* Sizes of the net. All return 0 for a NULL net. */
CONTRL_API uint32_t contrl_net_in(const contrl_net *net);
CONTRL_API uint32_t contrl_net_out(const contrl_net *net);
CONTRL_API uint32_t contrl_net_max_batch(const contrl_net *net);
CONTRL_API size_t contrl_net_param_count(const contrl_net *net);
/* Number of layers (hidden layers + 1); 0 for NULL. */
CONTRL_API uint32_t contrl_net_layer_count(const contrl_net *net);

typedef struct contrl_net_layer_info {
    uint32_t in, out;          /* weight shape [in, out] */
    size_t weight_offset;      /* index of W[0][0] in the flat parameters */
    size_t bias_offset;        /* index of b[0] */
    contrl_activation act;
} contrl_net_layer_info;
/* Describe layer `layer` (0 = the one reading the input). INVALID_ARG for a
 * NULL pointer or a layer out of range. */
CONTRL_API contrl_status contrl_net_layer(const contrl_net *net, uint32_t layer,
                                          contrl_net_layer_info *info);

/* The kernel set this net resolved to at creation. */
CONTRL_API contrl_kernels contrl_net_kernels(const contrl_net *net);

/* Forward pass for `batch` rows (1..max_batch): x is [batch, in], y receives
 * [batch, out] (y may be NULL when only a later backward is wanted). The
 * net keeps what backward needs. Inputs are not checked for NaN/Inf (this
 * is the hot path; callers that take outside data check it, as the agents
 * and the replay buffer do). INVALID_ARG for NULL x, a batch out of range;
 * the net is unchanged then. */
CONTRL_API contrl_status contrl_net_forward(contrl_net *net, const float *x,
                                            uint32_t batch, float *y);
/* Like forward, but leaves what the last forward cached untouched (for
 * acting and targets while a backward is pending). */
CONTRL_API contrl_status contrl_net_predict(contrl_net *net, const float *x,
                                            uint32_t batch, float *y);
/* Output of the last forward: [batch, out], valid until the next forward.
 * NULL if there was none. */
CONTRL_API const float *contrl_net_output(const contrl_net *net);

/* Backward pass for the last forward: dy is dL/dy, [batch, out]. Adds
 * dL/dparams to the gradients (call contrl_net_zero_grad first to start
 * afresh) and writes dL/dx, [batch, in], to dx unless dx is NULL.
 * STATE if no forward came before; INVALID_ARG for a NULL dy. */
CONTRL_API contrl_status contrl_net_backward(contrl_net *net, const float *dy,
                                             float *dx);
/* Set every gradient to 0. */
CONTRL_API contrl_status contrl_net_zero_grad(contrl_net *net);

/* Copy parameters or gradients out of / into the net; n must equal
 * contrl_net_param_count(). set_params rejects NaN/Inf (NONFINITE) and
 * leaves the net unchanged then. */
CONTRL_API contrl_status contrl_net_get_params(const contrl_net *net, float *dst, size_t n);
CONTRL_API contrl_status contrl_net_set_params(contrl_net *net, const float *src, size_t n);
CONTRL_API contrl_status contrl_net_get_grads(const contrl_net *net, float *dst, size_t n);
CONTRL_API contrl_status contrl_net_set_grads(contrl_net *net, const float *src, size_t n);

/* Direct read-only views of the flat arrays (param_count floats each), valid
 * for the life of the net. NULL for a NULL net. */
CONTRL_API const float *contrl_net_params(const contrl_net *net);
CONTRL_API const float *contrl_net_grads(const contrl_net *net);

/* dst's parameters := src's. Both nets must have the same layer shapes
 * (INVALID_ARG otherwise, dst unchanged). */
CONTRL_API contrl_status contrl_net_copy_params(contrl_net *dst, const contrl_net *src);
/* Polyak averaging: target = tau * src + (1 - tau) * target, tau in [0, 1].
 * Same shape rule as copy_params. */
CONTRL_API contrl_status contrl_net_soft_update(contrl_net *target,
                                                const contrl_net *src, float tau);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_NET_H */
