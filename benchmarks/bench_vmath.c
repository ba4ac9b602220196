/* benchmarks/bench_vmath.c - lib/core/vmath.c's array math.
 *
 *   bench_vmath            ns per element of each function on every path
 *                          this CPU runs, next to libm's scalar expf, tanhf
 *                          and log1pf on the same inputs, n = 100 and 4096
 *   bench_vmath ulp [step] the largest error of each function over every
 *                          step-th float (default 1: all 2^32) against the
 *                          double functions, on the chosen path, and every
 *                          other path's bits against it (the scalar path
 *                          takes minutes)
 * Links the static internal library for lib/core/vmath.h. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "../tests/support/vmath_ref.h"


/* ---- speed --------------------------------------------------------------- */

enum { MAX_N = 4096 };
static float in[MAX_N], out[MAX_N], out2[MAX_N];

static void fill(float lo, float hi, contrl_rng *rng)
{
    for (size_t i = 0; i < MAX_N; i++)
        in[i] = lo + (hi - lo) * contrl_rng_uniform(rng);
}

static void libm_exp(size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = expf(in[i]);
}

static void libm_tanh(size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(in[i]);
}

/* What update.c did before vmath: tanhf, and the correction from expf and
 * log1pf. */
static void libm_tanh_logjac(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(in[i]);
        out[i] = tanhf(in[i]);
        out2[i] = 2.0f * (0.69314718f - a - log1pf(expf(-2.0f * a)));
    }
}

static void libm_log1p(size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = log1pf(in[i]);
}

typedef struct bench_fn {
    const char *name;
    float lo, hi; /* inputs uniform in [lo, hi) */
    void (*libm)(size_t n);
    int which;
} bench_fn;

static void run_path(int which, contrl__vmath_path p, size_t n)
{
    switch (which) {
    case 0: contrl__vexp_path(p, out, in, n); break;
    case 1: contrl__vtanh_path(p, out, in, n); break;
    case 2: contrl__vtanh_logjac_path(p, out, out2, in, n); break;
    default: contrl__vlog1p_path(p, out, in, n); break;
    }
}

static int speed(void)
{
    static const bench_fn fns[] = {
        {"exp", -10.0f, 10.0f, libm_exp, 0},
        {"tanh", -4.0f, 4.0f, libm_tanh, 1},
        {"tanh_logjac", -4.0f, 4.0f, libm_tanh_logjac, 2},
        {"log1p", 0.0f, 2.0f, libm_log1p, 3},
    };
    static const size_t sizes[] = {100, MAX_N};
    contrl_rng rng;
    contrl_rng_seed(&rng, 7);
    print_kernels();
    printf("vmath: ns per element, median of 5 rounds; the library's choice here: %s\n",
           contrl__vmath_path_name());
    printf("(tanh_logjac's libm baseline: tanhf + expf + log1pf per element)\n");
    printf("%-12s %5s %8s", "function", "n", "libm");
    for (int p = 0; p < CONTRL__VMATH_N_PATHS; p++)
        printf(" %8s", path_names[p]);
    printf("  speed-up of %s over libm\n", contrl__vmath_path_name());
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        fill(fns[f].lo, fns[f].hi, &rng);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            /* each timed call does 4096 elements, as 4096 / n calls of n, so
             * that TIME_IT's clock reads do not count */
            const size_t n = sizes[s], calls = MAX_N / n;
            const double per_element = 1e9 / (double)(calls * n);
            double t_libm, t_best = 0.0;
            TIME_IT(t_libm, 0.02, for (size_t c = 0; c < calls; c++) fns[f].libm(n));
            printf("%-12s %5zu %8.2f", fns[f].name, n, t_libm * per_element);
            for (int p = 0; p < CONTRL__VMATH_N_PATHS; p++) {
                if (!contrl__vmath_path_supported((contrl__vmath_path)p)) {
                    printf(" %8s", "-");
                    continue;
                }
                double t;
                TIME_IT(t, 0.02, for (size_t c = 0; c < calls; c++)
                                     run_path(fns[f].which, (contrl__vmath_path)p, n));
                printf(" %8.2f", t * per_element);
                if (p == (int)contrl__vmath_path_auto())
                    t_best = t;
            }
            printf("  %.1fx\n", t_libm / t_best);
        }
    }
    return 0;
}

/* ---- accuracy over every float ------------------------------------------- */

typedef struct worst {
    double err;
    float at;
} worst;

static void note(worst *w, double err, float x)
{
    if (err > w->err) {
        w->err = err;
        w->at = x;
    }
}

static int ulp(uint32_t step)
{
    static float x[CHUNK], best[N_OUT][CHUNK], other[N_OUT][CHUNK];
    const contrl__vmath_path chosen = contrl__vmath_path_auto();
    worst w[N_OUT] = {{0}};
    double lj_abs = 0.0; /* largest absolute error of lj where |lj| < 1 */
    uint64_t count = 0, mismatches[CONTRL__VMATH_N_PATHS] = {0};
    for (uint64_t base = 0; base < (1ull << 32);) {
        size_t n = 0;
        for (; n < CHUNK && base < (1ull << 32); n++, base += step)
            x[n] = bits_float((uint32_t)base);
        vmath_outputs(chosen, x, n, best);
        for (size_t i = 0; i < n; i++) {
            const double xd = x[i];
            note(&w[OUT_EXP], ulp_error(best[OUT_EXP][i], exp(xd)), x[i]);
            note(&w[OUT_TANH], ulp_error(best[OUT_TANH][i], tanh(xd)), x[i]);
            note(&w[OUT_TH], ulp_error(best[OUT_TH][i], tanh(xd)), x[i]);
            const double lj = ref_logjac(xd);
            note(&w[OUT_LJ], ulp_error(best[OUT_LJ][i], lj), x[i]);
            if (fabs(lj) < 1.0 && fabs(best[OUT_LJ][i] - lj) > lj_abs)
                lj_abs = fabs(best[OUT_LJ][i] - lj);
            note(&w[OUT_LOG1P], ulp_error(best[OUT_LOG1P][i], xd < -1.0 ? NAN : log1p(xd)), x[i]);
        }
        for (int p = 0; p < CONTRL__VMATH_N_PATHS; p++) {
            if (p == (int)chosen || !contrl__vmath_path_supported((contrl__vmath_path)p))
                continue;
            vmath_outputs((contrl__vmath_path)p, x, n, other);
            for (int o = 0; o < N_OUT; o++)
                for (size_t i = 0; i < n; i++)
                    mismatches[p] += float_bits(other[o][i]) != float_bits(best[o][i]);
        }
        count += n;
    }
    printf("vmath accuracy over %llu floats (every %u-th bit pattern), path %s, against the "
           "double functions:\n", (unsigned long long)count, step, path_names[chosen]);
    for (int o = 0; o < N_OUT; o++)
        printf("  %-15s %.3f ulp (at %a)\n", out_names[o], w[o].err, (double)w[o].at);
    printf("  lj's largest absolute error where |lj| < 1: %.3g\n", lj_abs);
    int bad = 0;
    for (int p = 0; p < CONTRL__VMATH_N_PATHS; p++) {
        if (p == (int)chosen || !contrl__vmath_path_supported((contrl__vmath_path)p))
            continue;
        printf("  path %s: %llu outputs with other bits than %s\n", path_names[p],
               (unsigned long long)mismatches[p], path_names[chosen]);
        bad |= mismatches[p] != 0;
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "ulp") == 0) {
        long step = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
        return ulp(step >= 1 ? (uint32_t)step : 1u);
    }
    return speed();
}
