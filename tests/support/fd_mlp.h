/* tests/support/fd_mlp.h - a plain double-precision copy of a contrl_net, to
 * check the library's float forward and backward against.
 *
 * The copy reads the net's shape through contrl_net_layer() and its float
 * parameters through contrl_net_get_params(), widened to double (exactly), so
 * the only difference between the two is the net's float arithmetic. It
 * computes y = act(x W + b) layer by layer in double, and gradients of
 * L = sum(g ⊙ y) by central finite differences. */
#ifndef CONTRL_TESTS_FD_MLP_H
#define CONTRL_TESTS_FD_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "contrl/net.h"

enum { FD_MLP_MAX_LAYERS = CONTRL_NET_MAX_HIDDEN + 1 };

typedef struct fd_mlp {
    uint32_t n_layers;
    uint32_t width[FD_MLP_MAX_LAYERS + 1];
    contrl_activation act[FD_MLP_MAX_LAYERS];
    size_t w_off[FD_MLP_MAX_LAYERS], b_off[FD_MLP_MAX_LAYERS];
    size_t n_params;
    double *params;  /* same layout as the net's flat array */
    double *scratch; /* two rows of the widest layer */
} fd_mlp;

/* Fill *m from `net` (shape, activations, parameters). Returns 0 on success,
 * -1 if a library call or an allocation fails. Free with fd_mlp_free. */
int fd_mlp_from_net(fd_mlp *m, const contrl_net *net);
void fd_mlp_free(fd_mlp *m);

/* Result of a reference forward pass. */
typedef struct fd_mlp_pass {
    double min_relu_z;     /* smallest |pre-activation| of any relu unit
                              (hidden or output); +inf if there is none */
    uint64_t relu_pattern; /* hash of which relu units are active */
} fd_mlp_pass;

/* y [batch, out] := the MLP applied to x [batch, in], in double. y may be
 * NULL when only the pass summary is wanted. */
fd_mlp_pass fd_mlp_forward(fd_mlp *m, const double *x, uint32_t batch, double *y);

/* L = sum over the batch of g ⊙ y, with g [batch, out]; *pattern (if not
 * NULL) receives the relu pattern hash of the pass. */
double fd_mlp_loss(fd_mlp *m, const double *x, uint32_t batch, const double *g,
                   uint64_t *pattern);

/* Central differences (L(θ+h) - L(θ-h)) / 2h of L = sum(g ⊙ y) with respect
 * to every parameter (into dparams, n_params values) and every input (into
 * dx, [batch, in], unless dx is NULL). A coordinate whose ±h perturbation
 * switches any relu unit on or off (a kink, where the difference quotient
 * is meaningless) gets NaN. Returns the number of such coordinates, or
 * SIZE_MAX if an allocation fails. m's parameters are restored exactly. */
size_t fd_mlp_gradients(fd_mlp *m, const double *x, uint32_t batch, const double *g,
                        double h, double *dparams, double *dx);

#endif /* CONTRL_TESTS_FD_MLP_H */
