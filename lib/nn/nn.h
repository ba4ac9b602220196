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

#endif /* CONTRL_NN_H */
