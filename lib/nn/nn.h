/* lib/nn/nn.h - what the optimiser needs from the net (internal). */
#ifndef CONTRL_NN_H
#define CONTRL_NN_H

#include "contrl/net.h"

/* The net's flat parameter array, writable (contrl_net_params is const). */
float *contrl__net_params_mut(contrl_net *net);

/* The net's flat gradient array, writable (for weight decay). */
float *contrl__net_grads_mut(contrl_net *net);

/* The net's BLIS state, to force a kernel path in tests and benchmarks. */
struct contrl__blas;
struct contrl__blas *contrl__net_blas(contrl_net *net);

/* contrl_net_backward with a choice of what happens to the gradient:
 * ADD accumulates into it (the public function), SET overwrites it (as
 * zero_grad then ADD would, same bits, one pass less), NONE leaves it
 * untouched and computes dx only (differentiating through a critic). */
enum { CONTRL__GRADS_ADD = 0, CONTRL__GRADS_SET = 1, CONTRL__GRADS_NONE = 2 };
contrl_status contrl__net_backward_mode(contrl_net *net, const float *dy, float *dx, int mode);

/* Lend the net's large products a second thread (lib/core/duo.h), NULL to
 * take it back. */
struct contrl__duo;
void contrl__net_set_duo(contrl_net *net, struct contrl__duo *duo);

/* contrl_adam_step, then, with a target net of the same shape (not NULL),
 * contrl_net_soft_update(target, net, tau) in the same pass over the new
 * parameters (same bits as the two calls). On failure neither net changes. */
struct contrl_adam;
contrl_status contrl__adam_step_soft(struct contrl_adam *adam, contrl_net *net,
                                     contrl_net *target, float tau);

#endif /* CONTRL_NN_H */
