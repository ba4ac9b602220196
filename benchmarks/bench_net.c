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

/* One product of a layer, laid out as lib/nn/net.c passes it: forward
 * (C = X W, beta 0), dW (C += X^T delta, X read through its transpose) and
 * dX (C = delta W^T, W read through its transpose). */
typedef enum { FWD, DW, DX } kind;
static const char *kind_names[] = {"fwd", "dW", "dX"};

/* GFLOP/s of one product on one path of the skx set (xsmm: AUTO with
 * libxsmm on for every shape, after preparing the kernel as a net does at
 * creation; m <= 4 still goes to libcontrl's matrix-vector code). */
static double shape_gflops(kind kd, int64_t m, int64_t n, int64_t k, contrl__gemm_path path)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 3);
    float *a = randv((size_t)(m * k), &rng), *b = randv((size_t)(k * n), &rng);
    float *c = randv((size_t)(m * n), &rng), *ws = randv((size_t)(k * n), &rng);
    _Alignas(64) unsigned char mem[4096];
    contrl__blas *bl = (contrl__blas *)(void *)mem;
    if (contrl__blas_init(bl, CONTRL_KERNELS_SKX, "bench") != CONTRL_OK)
        return 0.0;
    contrl__blas_set_xsmm(bl, path == CONTRL__PATH_XSMM ? 2 : 0); /* 2: ignore the rule */
    if (path == CONTRL__PATH_XSMM && !contrl__blas_uses_xsmm(bl))
        return 0.0;
    contrl__blas_set_workspace(bl, ws, (size_t)(k * n));
    contrl__gemm_path_set(bl, path == CONTRL__PATH_XSMM ? CONTRL__PATH_AUTO : path);
    const int64_t rsa = kd == DW ? 1 : k, csa = kd == DW ? m : 1;
    const int64_t rsb = kd == DX ? 1 : n, csb = kd == DX ? k : 1;
    const float beta = kd == DW ? 1.0f : 0.0f;
#define PRODUCT contrl__gemm(bl, m, n, k, 1.0f, a, rsa, csa, b, rsb, csb, beta, c, n, 1)
    contrl__blas_prepare(bl, true);
    PRODUCT;
    contrl__blas_prepare(bl, false);
    double t;
    TIME_IT(t, 0.02, PRODUCT);
#undef PRODUCT
    free(a);
    free(b);
    free(c);
    free(ws);
    return 2.0 * (double)m * (double)n * (double)k / t * 1e-9;
}

/* The products of a w0-h-h-w3 net at batch B (forward, dW, dX) on each
 * path: the measurements behind the libxsmm rule in docs/kernels.md. */
static void small_shapes(void)
{
    static const struct {
        uint32_t w[4], batch;
    } nets[] = {{{4, 64, 64, 1}, 100}, {{3, 64, 64, 1}, 100}, {{17, 256, 256, 6}, 256},
                {{23, 256, 256, 1}, 256}, {{4, 64, 64, 2}, 1000}};
    printf("GFLOP/s per product as lib/nn/net.c lays it out (skx set; m x n x k; libxsmm "
           "after preparing the kernel):\n");
    printf("  %-4s %-16s %9s %9s %9s  %s\n", "", "m x n x k", "BLIS sup", "BLIS pack",
           "libxsmm", "best");
    printf("  (libxsmm for every shape here, whatever the rule of lib/blas/blas.c says)\n");
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        printf("  net %u-%u-%u-%u, batch %u\n", nets[i].w[0], nets[i].w[1], nets[i].w[2],
               nets[i].w[3], nets[i].batch);
        for (int l = 0; l < 3; l++)
            for (int kd = 0; kd < 3; kd++) {
                const int64_t wi = nets[i].w[l], wo = nets[i].w[l + 1], B = nets[i].batch;
                if (kd == DX && l == 0)
                    continue; /* agents' nets need dX of layer 0 only for the actor step */
                int64_t m = kd == FWD ? B : kd == DW ? wi : B;
                int64_t n = kd == FWD ? wo : kd == DW ? wo : wi;
                int64_t k = kd == FWD ? wi : kd == DW ? B : wo;
                double g[3] = {shape_gflops((kind)kd, m, n, k, CONTRL__PATH_SMALL),
                               shape_gflops((kind)kd, m, n, k, CONTRL__PATH_LARGE),
                               shape_gflops((kind)kd, m, n, k, CONTRL__PATH_XSMM)};
                int best = g[1] > g[0] ? 1 : 0;
                best = g[2] > g[best] ? 2 : best;
                char dims[80];
                snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)m, (long long)n,
                         (long long)k);
                printf("  %-4s %-16s %9.1f %9.1f %9.1f  %-9s %s\n", kind_names[kd], dims, g[0],
                       g[1], g[2], best == 2 ? "libxsmm" : best == 1 ? "BLIS pack" : "BLIS sup",
                       m <= 4 ? "(m <= 4: matvec in every column but BLIS's)" : "");
            }
    }
    printf("\n");
}

/* A critic's pass as the agents run it (forward with its cache, then the
 * backward that sets the gradient without dx) with libcontrl's fused layer
 * kernels and without them (contrl__blas_set_own off: libxsmm's product,
 * then net.c's bias/activation and mask/bias-gradient passes), on two
 * identical nets, alternating: same bits, the time is the difference. */
static void fused_layers(void)
{
    static const struct {
        uint32_t w[4], batch;
    } nets[] = {{{4, 64, 64, 1}, 100}, {{3, 64, 64, 1}, 100}, {{35, 256, 256, 1}, 256},
                {{27, 256, 256, 8}, 256}};
    printf("a net's forward + backward (gradients set, no dx), one thread, median of 5 "
           "rounds; fused: the skx set's own layer kernels, unfused: libxsmm + net.c's "
           "passes\n");
    printf("  %-16s %6s %12s %12s %8s\n", "net", "batch", "fused us", "unfused us", "ratio");
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        contrl_net_config cfg = contrl_net_config_default();
        cfg.in = nets[i].w[0];
        cfg.n_hidden = 2;
        cfg.hidden[0] = nets[i].w[1];
        cfg.hidden[1] = nets[i].w[2];
        cfg.out = nets[i].w[3];
        cfg.max_batch = nets[i].batch;
        contrl_net *net[2];
        for (int f = 0; f < 2; f++)
            if (contrl_net_create(&cfg, &net[f]) != CONTRL_OK) {
                fprintf(stderr, "net: %s\n", contrl_last_error());
                exit(1);
            }
        contrl__blas_set_own(contrl__net_blas(net[1]), false);
        if (!contrl__blas_uses_own(contrl__net_blas(net[0]))) {
            printf("  (the kernel set here has no fused layer kernels)\n");
            contrl_net_destroy(net[0]);
            contrl_net_destroy(net[1]);
            return;
        }
        contrl_rng rng;
        contrl_rng_seed(&rng, 3);
        const uint32_t B = nets[i].batch;
        float *x = randv((size_t)B * cfg.in, &rng), *dy = randv((size_t)B * cfg.out, &rng);
        double t[2][3];
        for (int rep = 0; rep < 3; rep++)
            for (int f = 0; f < 2; f++)
                TIME_IT(t[f][rep], 0.1, {
                    contrl_net_forward(net[f], x, B, NULL);
                    contrl__net_backward_mode(net[f], dy, NULL, CONTRL__GRADS_SET);
                });
        double best[2];
        for (int f = 0; f < 2; f++) {
            best[f] = t[f][0];
            for (int rep = 1; rep < 3; rep++)
                best[f] = t[f][rep] < best[f] ? t[f][rep] : best[f];
        }
        char name[40];
        snprintf(name, sizeof name, "%u-%u-%u-%u", nets[i].w[0], nets[i].w[1], nets[i].w[2],
                 nets[i].w[3]);
        printf("  %-16s %6u %12.2f %12.2f %8.3f\n", name, B, best[0] * 1e6, best[1] * 1e6,
               best[1] / best[0]);
        free(x);
        free(dy);
        contrl_net_destroy(net[0]);
        contrl_net_destroy(net[1]);
    }
    printf("  (ratio: unfused / fused time, the best of 3 alternating medians each)\n\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shapes") == 0) {
        print_kernels();
        small_shapes();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "fused") == 0) {
        print_kernels();
        fused_layers();
        return 0;
    }
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
