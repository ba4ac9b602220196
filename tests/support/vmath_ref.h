/* tests/support/vmath_ref.h - what tests/core/test_vmath.c and
 * benchmarks/bench_vmath.c share about lib/core/vmath.h: the five outputs
 * of its four functions on one path, and the double references they are
 * measured against (header-only). */
#ifndef CONTRL_TEST_VMATH_REF_H
#define CONTRL_TEST_VMATH_REF_H

#include <float.h>
#include <math.h>

#include "float_bits.h"
#include "vmath.h"

static const char *const path_names[CONTRL__VMATH_N_PATHS] = {"scalar", "avx2", "avx512"};

enum { OUT_EXP, OUT_TANH, OUT_TH, OUT_LJ, OUT_LOG1P, N_OUT };
static const char *const out_names[N_OUT] = {"exp", "tanh", "tanh_logjac th", "tanh_logjac lj",
                                              "log1p"};

enum { CHUNK = 4096 };

/* The five outputs for x[0..n) (n <= CHUNK) on path p. */
static inline void vmath_outputs(contrl__vmath_path p, const float *x, size_t n,
                                 float o[N_OUT][CHUNK])
{
    contrl__vexp_path(p, o[OUT_EXP], x, n);
    contrl__vtanh_path(p, o[OUT_TANH], x, n);
    contrl__vtanh_logjac_path(p, o[OUT_TH], o[OUT_LJ], x, n);
    contrl__vlog1p_path(p, o[OUT_LOG1P], x, n);
}

/* |y - ref| in units of the last place of ref (2^-149 below FLT_MIN; a
 * result beyond FLT_MAX counts as 2^128); 0 if y is ref rounded (zeros,
 * infinities), 1e9 for a NaN or infinity where ref has none. */
static inline double ulp_error(float y, double ref)
{
    if (isnan(ref))
        return isnan(y) ? 0.0 : 1e9;
    if ((float)ref == y)
        return 0.0;
    if (isnan(y) || isinf(y))
        return 1e9;
    if (fabs(ref) > FLT_MAX)
        ref = copysign(0x1p128, ref);
    int e;
    frexp(fabs(ref), &e);
    double ulp = fabs(ref) < FLT_MIN ? 0x1p-149 : ldexp(1.0, e - 24);
    return fabs((double)y - ref) / ulp;
}

/* log(1 - tanh^2 u) in double, accurate also where it is tiny; -FLT_MAX
 * below -FLT_MAX for finite u, as vmath.h documents. */
static inline double ref_logjac(double u)
{
    double a = fabs(u);
    if (isnan(u))
        return NAN;
    if (a < 1.0) {
        double sh = sinh(a / 2.0);
        return -2.0 * log1p(2.0 * sh * sh); /* cosh a = 1 + 2 sinh^2(a/2) */
    }
    double r = 2.0 * (log(2.0) - a - log1p(exp(-2.0 * a)));
    return r < -FLT_MAX && !isinf(u) ? -FLT_MAX : r;
}

#endif /* CONTRL_TEST_VMATH_REF_H */
