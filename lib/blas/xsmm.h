/* lib/blas/xsmm.h - libxsmm's JIT kernels behind lib/blas (internal; only
 * xsmm.c includes libxsmm.h, only blas.c calls these). Built when meson
 * finds libxsmm (option xsmm); docs/kernels.md says when they run. */
#ifndef CONTRL_XSMM_H
#define CONTRL_XSMM_H

#include <stdbool.h>
#include <stdint.h>

/* A JIT-generated kernel, kept as a plain function pointer: calling it
 * neither looks anything up nor allocates. */
typedef struct contrl__xsmm_kernel {
    void (*fn)(void);
} contrl__xsmm_kernel;

/* Initialises libxsmm once (allocates its code registry); returns the
 * instruction level its JIT targets on this CPU: 2 for AVX-512 (SKX or
 * later), 1 for AVX2, 0 for anything else (not used then). */
int contrl__xsmm_init(void);

/* "libxsmm 1.17 (JIT cpx)": static, for contrl_blas_info. */
const char *contrl__xsmm_name(void);

/* Column-major C[M,N] = A[M,K] op(B) + beta C with op(B) = B (B stored
 * [K,N], leading dimension ldb) or, with trans_b, B^T (B stored [N,K]);
 * beta 0 (C not read) or 1. JIT-compiles the kernel on first request (this
 * allocates); false if libxsmm cannot generate it. */
bool contrl__xsmm_dispatch(int32_t M, int32_t N, int32_t K, int32_t lda, int32_t ldb,
                           int32_t ldc, bool trans_b, bool beta0, contrl__xsmm_kernel *out);

void contrl__xsmm_run(contrl__xsmm_kernel k, const float *a, const float *b, float *c);

#endif /* CONTRL_XSMM_H */
