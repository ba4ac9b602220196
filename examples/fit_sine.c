/* examples/fit_sine.c - the network API in one page: fit y = sin(x) on
 * [-pi, pi] with a 1-64-64-1 tanh MLP and Adam, then print a few points.
 * Build: cc fit_sine.c $(pkg-config --cflags --libs contrl) -lm */
#include <contrl/contrl.h>
#include <math.h>
#include <stdio.h>

#define BATCH 64

static int check(contrl_status st, const char *what)
{
    if (st != CONTRL_OK)
        fprintf(stderr, "%s: %s (%s)\n", what, contrl_status_string(st), contrl_last_error());
    return st != CONTRL_OK;
}

int main(void)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 1;
    cfg.out = 1;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.hidden_act = CONTRL_ACT_TANH;
    cfg.max_batch = BATCH;
    cfg.seed = 1;
    contrl_net *net = NULL;
    if (check(contrl_net_create(&cfg, &net), "contrl_net_create"))
        return 1;

    contrl_adam_config acfg = contrl_adam_config_default();
    acfg.lr = 3e-3f;
    contrl_adam *adam = NULL;
    if (check(contrl_adam_create(&acfg, contrl_net_param_count(net), &adam), "contrl_adam_create"))
        return 1;

    contrl_rng rng;
    contrl_rng_seed(&rng, 7);
    float x[BATCH], y[BATCH], dy[BATCH];
    for (int step = 1; step <= 3000; step++) {
        for (int i = 0; i < BATCH; i++)
            x[i] = (2.0f * contrl_rng_uniform(&rng) - 1.0f) * 3.14159265f;
        contrl_net_zero_grad(net);
        contrl_net_forward(net, x, BATCH, y);
        float mse = 0.0f;
        for (int i = 0; i < BATCH; i++) {
            float err = y[i] - sinf(x[i]);
            mse += err * err / BATCH;
            dy[i] = 2.0f * err / BATCH; /* d(mse)/dy */
        }
        contrl_net_backward(net, dy, NULL);
        if (check(contrl_adam_step(adam, net), "contrl_adam_step"))
            return 1;
        if (step % 500 == 0)
            printf("step %4d  mse %.5f\n", step, (double)mse);
    }
    for (int i = 0; i <= 4; i++) {
        float xi = -3.0f + 1.5f * (float)i, yi;
        contrl_net_predict(net, &xi, 1, &yi);
        printf("sin(%+.2f) = %+.4f, net says %+.4f\n", (double)xi, (double)sinf(xi), (double)yi);
    }
    contrl_adam_destroy(adam);
    contrl_net_destroy(net);
    return 0;
}
