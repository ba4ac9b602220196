/* lib/blas/xsmm.c - the only file that talks to libxsmm (see xsmm.h). */
#include <libxsmm.h>
#include <stdio.h>

#include "xsmm.h"

static char name[80];

int contrl__xsmm_init(void)
{
    libxsmm_init();
    const int arch = libxsmm_get_target_archid();
    snprintf(name, sizeof name, "libxsmm %s (JIT %s)", LIBXSMM_VERSION,
             libxsmm_get_target_arch());
    return arch >= LIBXSMM_X86_AVX512_CORE ? 2 : arch >= LIBXSMM_X86_AVX2 && arch < LIBXSMM_X86_AVX512 ? 1 : 0;
}

const char *contrl__xsmm_name(void)
{
    return name;
}

bool contrl__xsmm_dispatch(int32_t M, int32_t N, int32_t K, int32_t lda, int32_t ldb,
                           int32_t ldc, bool trans_b, bool beta0, contrl__xsmm_kernel *out)
{
    const libxsmm_blasint m = M, n = N, k = K, la = lda, lb = ldb, lc = ldc;
    const float alpha = 1.0f, beta = beta0 ? 0.0f : 1.0f;
    const int flags = (trans_b ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                      (beta0 ? LIBXSMM_GEMM_FLAG_BETA_0 : 0);
    const int prefetch = LIBXSMM_GEMM_PREFETCH_NONE; /* kernels take (a, b, c) only */
    libxsmm_smmfunction f =
        libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, &prefetch);
    if (f == NULL)
        return false;
    out->fn = (void (*)(void))f;
    return true;
}

void contrl__xsmm_run(contrl__xsmm_kernel k, const float *a, const float *b, float *c)
{
    ((libxsmm_smmfunction)k.fn)(a, b, c);
    /* The JIT code leaves the upper halves of the vector registers dirty;
     * without this the SSE code that follows (bias, activations) ran at a
     * fraction of its speed (measured: relu loops 5x slower). libxsmm runs
     * only on AVX2 or AVX-512 CPUs, so the instruction exists. */
    __asm__ volatile("vzeroupper" ::: "memory");
}
