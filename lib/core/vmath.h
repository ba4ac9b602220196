/* lib/core/vmath.h - e^x, tanh, log1p and SAC's tanh-squashing correction
 * over float arrays (internal).
 *
 * Same bits on every path: an AVX-512 path (16 lanes), an AVX2 + FMA path
 * (8 lanes) and a plain C path run the same sequence of IEEE
 * single-precision operations on each element (the C path calls fmaf where
 * the others fuse), so results do not depend on the CPU a run lands on, on
 * n, or on where an element sits in the array. The fastest path the CPU
 * runs is chosen once per process; the _path variants take one explicitly
 * (tests, benchmarks).
 *
 * Every function: n may be 0; y may equal x (th or lj may equal u, not each
 * other); pointers need only float alignment; no allocation; thread-safe.
 * The results assume the default floating-point environment (round to
 * nearest, no flush-to-zero): with FTZ/DAZ set, subnormal results and
 * inputs may differ between paths (glibc's fmaf does not flush).
 *
 * Accuracy: the largest error over all 2^32 float inputs, against the
 * double functions rounded to float (`bench_vmath ulp`, which also found
 * every path's bits equal to the AVX-512 path's for all 2^32 inputs):
 *   contrl__vexp          1.01 ulp (e^x, subnormal results included)
 *   contrl__vtanh         1.03 ulp (the same as th below)
 *   contrl__vtanh_logjac  th 1.03 ulp; lj 1.51 ulp, and 7.5e-8 absolute
 *                         where |lj| < 1 (against -2 log cosh u in double)
 *   contrl__vlog1p        0.93 ulp
 * Speed, ns per element on the development machine (a 2-core AMD EPYC VM
 * with AVX-512), n = 4096 (n = 100), against glibc 2.36's expf, tanhf and
 * log1pf per element (`bench_vmath`):
 *                   libm          avx512        avx2          scalar
 *   exp             1.7  (2.1)    0.20 (0.23)   0.37 (0.40)   16 (17)
 *   tanh            10   (10)     0.33 (0.38)   0.64 (0.67)   15 (15)
 *   tanh_logjac     21   (19)     0.65 (0.72)   1.25 (1.32)   32 (33)
 *   log1p           5.7  (7.3)    0.19 (0.25)   0.39 (0.44)   19 (21)
 * (tanh_logjac's libm figure: tanhf + expf + log1pf.) The scalar path is
 * slow on x86 because every fmaf is a call; it only runs on CPUs without
 * AVX2 and FMA. */
#ifndef CONTRL_VMATH_H
#define CONTRL_VMATH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum contrl__vmath_path {
    CONTRL__VMATH_SCALAR = 0, /* plain C, any CPU */
    CONTRL__VMATH_AVX2 = 1,   /* needs AVX2 and FMA */
    CONTRL__VMATH_AVX512 = 2, /* needs AVX-512F */
} contrl__vmath_path;

enum { CONTRL__VMATH_N_PATHS = 3 };

/* y = e^x. Above 88.7228 (the largest float's log) +Inf; below -103.972
 * (where e^x < 2^-150) 0; subnormal results are exact (rounded once, not
 * flushed); NaN gives NaN. */
void contrl__vexp(float *y, const float *x, size_t n);

/* y = tanh x. Odd bit-exactly (tanh(-x) = -tanh(x), tanh(-0) = -0); exactly
 * +-1 from |x| = 9.01; NaN gives NaN. */
void contrl__vtanh(float *y, const float *x, size_t n);

/* th = tanh u, the same bits as contrl__vtanh, and
 * lj = log(1 - tanh^2 u) = 2 (log 2 - |u| - log1p(e^-2|u|)), the log-Jacobian
 * of a = tanh(u) in SAC, computed without forming 1 - tanh^2: finite for
 * every finite u (it reaches -FLT_MAX at |u| = FLT_MAX / 2 and stays
 * there), -Inf for u = +-Inf, NaN for NaN. lj <= 0 (0 only where u^2
 * underflows). */
void contrl__vtanh_logjac(float *th, float *lj, const float *u, size_t n);

/* y = log(1 + x): -Inf for x = -1, NaN below (and for NaN), +Inf for
 * +Inf; -0 gives -0. */
void contrl__vlog1p(float *y, const float *x, size_t n);

/* The path the functions above take here, and its name ("avx512", "avx2",
 * "scalar"). */
contrl__vmath_path contrl__vmath_path_auto(void);
const char *contrl__vmath_path_name(void);

/* true if this CPU (and OS) runs path p. */
bool contrl__vmath_path_supported(contrl__vmath_path p);

/* The functions above on path p; an unsupported p runs the scalar path
 * (never an instruction the CPU lacks). */
void contrl__vexp_path(contrl__vmath_path p, float *y, const float *x, size_t n);
void contrl__vtanh_path(contrl__vmath_path p, float *y, const float *x, size_t n);
void contrl__vtanh_logjac_path(contrl__vmath_path p, float *th, float *lj, const float *u,
                               size_t n);
void contrl__vlog1p_path(contrl__vmath_path p, float *y, const float *x, size_t n);

#endif /* CONTRL_VMATH_H */
