/* tests/support/fd_mlp.c - double-precision reference MLP (see fd_mlp.h). */
#include "fd_mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fd_mlp_from_net(fd_mlp *m, const contrl_net *net)
{
    memset(m, 0, sizeof *m);
    m->n_layers = contrl_net_layer_count(net);
    if (m->n_layers == 0 || m->n_layers > FD_MLP_MAX_LAYERS)
        return -1;
    uint32_t max_width = 0;
    for (uint32_t l = 0; l < m->n_layers; l++) {
        contrl_net_layer_info info;
        if (contrl_net_layer(net, l, &info) != CONTRL_OK)
            return -1;
        m->width[l] = info.in;
        m->width[l + 1] = info.out;
        m->act[l] = info.act;
        m->w_off[l] = info.weight_offset;
        m->b_off[l] = info.bias_offset;
        if (info.in > max_width)
            max_width = info.in;
        if (info.out > max_width)
            max_width = info.out;
    }
    m->n_params = contrl_net_param_count(net);
    float *p = malloc(m->n_params * sizeof *p);
    m->params = malloc(m->n_params * sizeof *m->params);
    m->scratch = malloc(2 * (size_t)max_width * sizeof *m->scratch);
    if (p == NULL || m->params == NULL || m->scratch == NULL ||
        contrl_net_get_params(net, p, m->n_params) != CONTRL_OK) {
        free(p);
        fd_mlp_free(m);
        return -1;
    }
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = p[i];
    free(p);
    return 0;
}

void fd_mlp_free(fd_mlp *m)
{
    free(m->params);
    free(m->scratch);
    m->params = NULL;
    m->scratch = NULL;
}

static double activate(contrl_activation a, double z)
{
    switch (a) {
    case CONTRL_ACT_RELU:
        return z > 0.0 ? z : 0.0;
    case CONTRL_ACT_TANH:
        return tanh(z);
    case CONTRL_ACT_SIGMOID:
        return 1.0 / (1.0 + exp(-z));
    case CONTRL_ACT_IDENTITY:
    default:
        return z;
    }
}

fd_mlp_pass fd_mlp_forward(fd_mlp *m, const double *x, uint32_t batch, double *y)
{
    fd_mlp_pass pass = {INFINITY, 1469598103934665603ull}; /* FNV-1a offset basis */
    const uint32_t in0 = m->width[0], outL = m->width[m->n_layers];
    size_t half = 0;
    for (uint32_t l = 0; l <= m->n_layers; l++)
        if (m->width[l] > half)
            half = m->width[l];
    for (uint32_t r = 0; r < batch; r++) {
        double *cur = m->scratch, *next = m->scratch + half;
        memcpy(cur, x + (size_t)r * in0, in0 * sizeof *cur);
        for (uint32_t l = 0; l < m->n_layers; l++) {
            const uint32_t wi = m->width[l], wo = m->width[l + 1];
            const double *w = m->params + m->w_off[l], *b = m->params + m->b_off[l];
            for (uint32_t j = 0; j < wo; j++) {
                double z = b[j];
                for (uint32_t i = 0; i < wi; i++)
                    z += cur[i] * w[(size_t)i * wo + j];
                if (m->act[l] == CONTRL_ACT_RELU) {
                    if (fabs(z) < pass.min_relu_z)
                        pass.min_relu_z = fabs(z);
                    pass.relu_pattern = (pass.relu_pattern ^ (uint64_t)(z > 0.0)) *
                                        1099511628211ull; /* FNV-1a prime */
                }
                next[j] = activate(m->act[l], z);
            }
            double *t = cur;
            cur = next;
            next = t;
        }
        if (y != NULL)
            memcpy(y + (size_t)r * outL, cur, outL * sizeof *cur);
    }
    return pass;
}

double fd_mlp_loss(fd_mlp *m, const double *x, uint32_t batch, const double *g,
                   uint64_t *pattern)
{
    const uint32_t outL = m->width[m->n_layers];
    if (pattern != NULL)
        *pattern = 0;
    double *y = malloc((size_t)batch * outL * sizeof *y);
    if (y == NULL)
        return NAN;
    fd_mlp_pass pass = fd_mlp_forward(m, x, batch, y);
    double loss = 0.0;
    for (size_t i = 0; i < (size_t)batch * outL; i++)
        loss += g[i] * y[i];
    free(y);
    if (pattern != NULL)
        *pattern = pass.relu_pattern;
    return loss;
}

/* Central difference in coordinate *v, which is restored exactly. */
static double central_difference(fd_mlp *m, const double *x, uint32_t batch, const double *g,
                                 double h, double *v, uint64_t base_pattern)
{
    const double saved = *v;
    uint64_t p_plus = 0, p_minus = 0;
    *v = saved + h;
    double l_plus = fd_mlp_loss(m, x, batch, g, &p_plus);
    *v = saved - h;
    double l_minus = fd_mlp_loss(m, x, batch, g, &p_minus);
    *v = saved;
    if (p_plus != base_pattern || p_minus != base_pattern)
        return NAN;
    /* The step actually taken is (saved + h) - (saved - h), not exactly 2h. */
    return (l_plus - l_minus) / ((saved + h) - (saved - h));
}

size_t fd_mlp_gradients(fd_mlp *m, const double *x, uint32_t batch, const double *g,
                        double h, double *dparams, double *dx)
{
    const size_t nx = (size_t)batch * m->width[0];
    double *xc = malloc(nx * sizeof *xc);
    if (xc == NULL)
        return SIZE_MAX;
    memcpy(xc, x, nx * sizeof *xc);
    uint64_t base = 0;
    fd_mlp_loss(m, xc, batch, g, &base);
    size_t skipped = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        dparams[i] = central_difference(m, xc, batch, g, h, &m->params[i], base);
        skipped += isnan(dparams[i]) ? 1 : 0;
    }
    for (size_t i = 0; dx != NULL && i < nx; i++) {
        dx[i] = central_difference(m, xc, batch, g, h, &xc[i], base);
        skipped += isnan(dx[i]) ? 1 : 0;
    }
    free(xc);
    return skipped;
}
