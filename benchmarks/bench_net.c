/* benchmarks/bench_net.c - one training update (forward, backward, Adam) of
 * a 17-256-256-6 relu MLP at batch 256 and a batch-1 forward, next to the
 * best BLIS sgemm measured in the same run on 1024^3 and on the net's own
 * products, with libcontrl's kernel choice and with BLIS's own. */
#include "bench_common.h"
#include "nn.h"

typedef struct result {
    double update_s, fwd1_s, predict1_s;
} result;

/* no_matvec: send 1-row products to BLIS's small-matrix path instead. */
static result bench_net(contrl_kernels kernels, int no_matvec)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 17;
    cfg.out = 6;
    cfg.kernels = kernels;
    contrl_net *net;
    if (contrl_net_create(&cfg, &net) != CONTRL_OK) {
        fprintf(stderr, "net: %s\n", contrl_last_error());
        exit(1);
    }
    if (no_matvec)
        contrl__gemm_path_set(contrl__net_blas(net), CONTRL__PATH_SMALL);
    contrl_adam_config acfg = contrl_adam_config_default();
    contrl_adam *adam;
    contrl_adam_create(&acfg, contrl_net_param_count(net), &adam);
    contrl_rng rng;
    contrl_rng_seed(&rng, 2);
    float *x = randv(256 * 17, &rng), *dy = randv(256 * 6, &rng), *y = randv(256 * 6, &rng);
    for (int i = 0; i < 256 * 6; i++)
        dy[i] *= 1e-3f;
    result r;
    TIME_IT(r.update_s, 0.2, {
        contrl_net_zero_grad(net);
        contrl_net_forward(net, x, 256, y);
        contrl_net_backward(net, dy, NULL);
        contrl_adam_step(adam, net);
    });
    TIME_IT(r.fwd1_s, 0.1, contrl_net_forward(net, x, 1, y));
    TIME_IT(r.predict1_s, 0.1, contrl_net_predict(net, x, 1, y));
    contrl_adam_destroy(adam);
    contrl_net_destroy(net);
    free(x);
    free(dy);
    free(y);
    return r;
}

int main(void)
{
    contrl_blas_info info = {.size = sizeof info};
    contrl_blas_query(print_kernels(), &info);
    printf("one thread; figures are medians of 5 timed rounds\n\n");

    /* 17-256-256-6 at batch 256: forward 3 products, backward 3 dW + 2 dX. */
    const int64_t B = 256;
    const int64_t shapes[][3] = {{1024, 1024, 1024}, {B, 256, 17}, {B, 256, 256}, {B, 6, 256},
                                 {17, 256, B},       {256, 256, B}, {256, 6, B},  {B, 256, 6}};
    const char *what[] = {"1024^3",           "fwd L1 256x256x17", "fwd L2 256x256x256",
                          "fwd L3 256x6x256", "dW1 17x256x256",    "dW2 256x256x256",
                          "dW3 256x6x256",    "dX3 256x256x6"};
    double peak = 0.0, net_flops = 0.0, net_best_time = 0.0;
    printf("best BLIS sgemm (over skx, zen3, haswell, BLIS-default contexts):\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char who[64];
        double gf = best_sgemm(shapes[i][0], shapes[i][1], shapes[i][2], who, sizeof who);
        double fl = 2.0 * (double)(shapes[i][0] * shapes[i][1] * shapes[i][2]);
        printf("  %-20s %7.1f GFLOP/s  (%s)\n", what[i], gf, who);
        if (i == 0)
            peak = gf;
        else {
            /* dX2 (256x256x256) has the same shape as fwd L2: count it twice. */
            int times = i == 2 ? 2 : 1;
            net_flops += times * fl;
            net_best_time += times * fl / (gf * 1e9);
        }
    }
    double net_best = net_flops / net_best_time * 1e-9;
    printf("  the net's products together at their best: %.1f GFLOP/s\n\n", net_best);

    const double update_flops = net_flops; /* Adam and bias terms not counted */
    contrl_kernels runs[] = {info.kernels, CONTRL_KERNELS_BLIS};
    for (int i = 0; i < 2; i++) {
        result r = bench_net(runs[i], 0);
        double gf = update_flops / r.update_s * 1e-9;
        printf("kernels %-8s update (batch 256): %8.1f us  %6.1f GFLOP/s  = %5.1f%% of 1024^3 "
               "peak, %5.1f%% of the net's best shapes\n",
               set_name(runs[i]), r.update_s * 1e6, gf, 100.0 * gf / peak, 100.0 * gf / net_best);
        printf("kernels %-8s forward batch 1:    %8.2f us (predict %.2f us)\n", set_name(runs[i]),
               r.fwd1_s * 1e6, r.predict1_s * 1e6);
    }
    result r = bench_net(info.kernels, 1);
    printf("kernels %-8s forward batch 1 through BLIS sup instead of libcontrl's code: %.2f us\n",
           info.name, r.fwd1_s * 1e6);
    return 0;
}
