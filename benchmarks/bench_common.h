/* benchmarks/bench_common.h - timing and the BLIS baseline shared by the
 * benchmarks (header-only: every benchmark is one program). */
#ifndef CONTRL_BENCH_COMMON_H
#define CONTRL_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "contrl/contrl.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of the calling thread: steadier than wall time on a shared machine. */
static inline double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Median over 5 rounds of the mean time per call; each round lasts ~min_s. */
#define TIME_IT(result, min_s, body)                                           \
    do {                                                                       \
        double rounds_[5];                                                     \
        for (int w_ = 0; w_ < 3; w_++) { body; }                               \
        for (int r_ = 0; r_ < 5; r_++) {                                       \
            long n_ = 0;                                                       \
            double t0_ = now(), t_;                                            \
            do { body; n_++; t_ = now() - t0_; } while (t_ < (min_s));         \
            rounds_[r_] = t_ / (double)n_;                                     \
        }                                                                      \
        for (int i_ = 0; i_ < 5; i_++)                                         \
            for (int j_ = i_ + 1; j_ < 5; j_++)                                \
                if (rounds_[j_] < rounds_[i_]) {                               \
                    double s_ = rounds_[i_]; rounds_[i_] = rounds_[j_]; rounds_[j_] = s_; \
                }                                                              \
        (result) = rounds_[2];                                                 \
    } while (0)

static float *randv(size_t n, contrl_rng *rng)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = 2.0f * contrl_rng_uniform(rng) - 1.0f;
    return v;
}

static const char *set_name(contrl_kernels k)
{
    contrl_blas_info info = {.size = sizeof info};
    return contrl_blas_query(k, &info) == CONTRL_OK ? info.name : "?";
}

/* GFLOP/s of one row-major product on bl as it is set (kernel set, path),
 * on random operands, after preparing it as a net does at creation (so
 * libxsmm's kernel is cached); each timed round lasts ~min_s. */
static inline double gemm_gflops(contrl__blas *bl, int64_t m, int64_t n, int64_t k, double min_s)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, 1);
    float *a = randv((size_t)(m * k), &rng), *b = randv((size_t)(k * n), &rng);
    float *c = randv((size_t)(m * n), &rng);
    contrl__blas_prepare(bl, true);
    contrl__gemm(bl, m, n, k, 1.0f, a, k, 1, b, n, 1, 0.0f, c, n, 1);
    contrl__blas_prepare(bl, false);
    double t;
    TIME_IT(t, min_s, contrl__gemm(bl, m, n, k, 1.0f, a, k, 1, b, n, 1, 0.0f, c, n, 1));
    free(a);
    free(b);
    free(c);
    return 2.0 * (double)m * (double)n * (double)k / t * 1e-9;
}

/* Best sgemm GFLOP/s over BLIS's optimised contexts (both paths) for one shape. */
static inline double best_sgemm(int64_t m, int64_t n, int64_t k, char *who, size_t who_len)
{
    static const contrl_kernels sets[] = {CONTRL_KERNELS_SKX, CONTRL_KERNELS_ZEN3,
                                          CONTRL_KERNELS_HASWELL, CONTRL_KERNELS_BLIS};
    static const contrl__gemm_path paths[] = {CONTRL__PATH_LARGE, CONTRL__PATH_SMALL,
                                              CONTRL__PATH_XSMM};
    static const char *path_names[] = {"large", "small", "libxsmm"};
    _Alignas(64) unsigned char mem[4096];
    contrl__blas *bl = (contrl__blas *)(void *)mem;
    double best = 0.0;
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        if (contrl__blas_init(bl, sets[s], "bench") != CONTRL_OK)
            continue;
        for (int p = 0; p < 3; p++) {
            if (paths[p] == CONTRL__PATH_XSMM && !contrl__blas_uses_xsmm(bl))
                continue; /* the forced path falls back to BLIS small: measured already */
            contrl__gemm_path_set(bl, paths[p]);
            const double gf = gemm_gflops(bl, m, n, k, 0.05);
            if (gf > best) {
                best = gf;
                snprintf(who, who_len, "%s/%s", set_name(sets[s]), path_names[p]);
            }
        }
    }
    return best;
}


/* Prints the kernel set line every benchmark starts with; returns the set. */
static contrl_kernels print_kernels(void)
{
    contrl_blas_info info = {.size = sizeof info};
    if (contrl_blas_query(CONTRL_KERNELS_AUTO, &info) != CONTRL_OK) {
        fprintf(stderr, "kernels: %s\n", contrl_last_error());
        exit(1);
    }
    printf("libcontrl %s, BLIS %s (its own detection: %s)\n", contrl_version_string(),
           info.blis_version, info.blis_detected);
    printf("kernels: %s (chosen by %s): %s\n", info.name, info.source, info.description);
    printf("small products: %s\n", info.xsmm != NULL ? info.xsmm : "BLIS (libxsmm not in use)");
    return info.kernels;
}

#endif /* CONTRL_BENCH_COMMON_H */
