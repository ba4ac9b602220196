/* lib/blas/blas.h - libcontrl's one door to BLIS (internal).
 *
 * Matrices are passed BLIS-style: a pointer, a row stride and a column
 * stride, so transposes and sub-matrices are free. Everything else in the
 * library goes through contrl__gemm; only blas.c includes blis.h. */
#ifndef CONTRL_BLAS_H
#define CONTRL_BLAS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "internal.h"

/* libcontrl's own AVX-512 products (mm.c): C[m,n] = A[m,k] B[k,n], plus C
 * when `accumulate`, B and C row-major with row strides ldb and ldc, A with
 * strides rsa, csa of which one is 1; the same arithmetic as libxsmm's
 * kernels. The epilogue finishes each tile in registers (NULL: none):
 *   BIAS            C = A B + bias (bias: n floats)
 *   BIAS_RELU       C = max(A B + bias, 0), as z > 0 ? z : 0
 *   RELU_MASK_SUM   C = mask > 0 ? A B : 0 (mask m x n, row stride ldm), and
 *                   the column sums of that C in row order stored in db
 *                   (db_mode 2, as 0 + the first row), added to it (1), or
 *                   not kept (0). */
typedef enum contrl__epi_kind {
    CONTRL__EPI_NONE = 0,
    CONTRL__EPI_BIAS,
    CONTRL__EPI_BIAS_RELU,
    CONTRL__EPI_RELU_MASK_SUM,
} contrl__epi_kind;
typedef struct contrl__mm_epi {
    contrl__epi_kind kind;
    const float *bias;
    const float *mask;
    int64_t ldm;
    float *db;
    int db_mode;
} contrl__mm_epi;
/* Per-handle BLIS state: the resolved kernel set and a private BLIS runtime
 * (thread count 1), so no handle touches BLIS's process-wide settings. */
typedef struct contrl__blas contrl__blas;

/* Bytes to reserve for a contrl__blas (64-byte alignment suffices). */
size_t contrl__blas_size(void);
/* Resolve `requested` (AUTO: env CONTRL_BLIS_ARCH, then the CPU) into *b.
 * INVALID_ARG / UNSUPPORTED with a message naming `func`. */
contrl_status contrl__blas_init(contrl__blas *b, contrl_kernels requested, const char *func);
contrl_kernels contrl__blas_kernels(const contrl__blas *b);

/* C[m,n] = alpha * A[m,k] B[k,n] + beta * C[m,n]; C is not read when beta
 * is 0. Strides are in elements. Routes to the set's matrix-vector code for
 * m <= 4 (B and C with unit column stride), to BLIS's large-matrix
 * context when both sides are >= 32 and either both are >= 128 or k >= 128,
 * else to its small-matrix context. */
void contrl__gemm(contrl__blas *b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t rsa, int64_t csa,
                  const float *bm, int64_t rsb, int64_t csb, float beta,
                  float *c, int64_t rsc, int64_t csc);

/* Plain-loop reference of the same product, for tests. */
void contrl__gemm_ref(int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t rsa, int64_t csa,
                      const float *bm, int64_t rsb, int64_t csb, float beta,
                      float *c, int64_t rsc, int64_t csc);

/* Force the path contrl__gemm takes, for tests and benchmarks. */
typedef enum contrl__gemm_path {
    CONTRL__PATH_AUTO = 0,
    CONTRL__PATH_MATVEC, /* hand-written code (only m <= 4, unit col strides) */
    CONTRL__PATH_SMALL,  /* BLIS small-matrix context */
    CONTRL__PATH_LARGE,  /* BLIS large-matrix context */
    CONTRL__PATH_XSMM    /* libxsmm, JIT-compiled on the call (tests and benchmarks);
                            BLIS small where libxsmm cannot run the product */
} contrl__gemm_path;
void contrl__gemm_path_set(contrl__blas *b, contrl__gemm_path path);

/* libxsmm (built with -Dxsmm, docs/kernels.md). In AUTO, a product whose
 * shape the rule gives to libxsmm runs on a kernel of b's own cache, and
 * only kernels JIT-compiled while preparing are in that cache: an owner
 * runs every product it will need once between contrl__blas_prepare(b,
 * true) and (b, false), at creation, so that later calls neither compile
 * nor allocate; anything else goes to BLIS. Products whose B has a unit row
 * stride (B^T of a row-major matrix) are copied transposed into the
 * workspace first, and need n*k floats of it (else BLIS runs them). */
bool contrl__blas_uses_xsmm(const contrl__blas *b);
/* A second thread for products of at least 4 MFLOP on libxsmm: split by
 * rows of C while the thread is idle (same bits as unsplit). NULL: none. */
struct contrl__duo;
void contrl__blas_set_duo(contrl__blas *b, struct contrl__duo *duo);
uint64_t contrl__blas_splits(const contrl__blas *b); /* products split so far */
/* libcontrl's own products (mm.c) on the sets that have them (skx), on
 * unless turned off here (tests and benchmarks compare). */
void contrl__blas_set_own(contrl__blas *b, bool on);
bool contrl__blas_uses_own(const contrl__blas *b);
uint64_t contrl__blas_own_runs(const contrl__blas *b); /* products run on it so far */
/* The product of contrl__gemm (alpha 1, C with unit column stride) with
 * its epilogue (not NULL), on libcontrl's own code; false, nothing done,
 * where that code does not take it: the caller then runs contrl__gemm and
 * finishes C itself, which gives the same bits. */
bool contrl__gemm_epi(contrl__blas *b, int64_t m, int64_t n, int64_t k, const float *a,
                      int64_t rsa, int64_t csa, const float *bm, int64_t rsb, int64_t csb,
                      float beta, float *c, int64_t rsc, const contrl__mm_epi *epi);
/* 0 off, 1 on (by the shape rule), 2 on for every shape libxsmm can run
 * (benchmarks); on only if available */
void contrl__blas_set_xsmm(contrl__blas *b, int mode);
void contrl__blas_prepare(contrl__blas *b, bool on);
void contrl__blas_set_workspace(contrl__blas *b, float *ws, size_t len);
uint32_t contrl__blas_xsmm_kernels(const contrl__blas *b); /* cached kernels */
/* Calls into libxsmm's dispatcher (which may JIT-compile) made by b: with
 * AUTO, none after preparing (tests/nn checks). */
uint64_t contrl__blas_xsmm_dispatches(const contrl__blas *b);

/* Small-batch kernels (matvec.c): C[m,n] = alpha A B + beta C for m <= 4,
 * B with unit column stride, C with unit column stride. */
typedef void (*contrl__matvec_fn)(int64_t m, int64_t n, int64_t k, float alpha,
                                  const float *a, int64_t rsa, int64_t csa,
                                  const float *bm, int64_t rsb, float beta,
                                  float *c, int64_t rsc);
void contrl__matvec_generic(int64_t m, int64_t n, int64_t k, float alpha,
                            const float *a, int64_t rsa, int64_t csa,
                            const float *bm, int64_t rsb, float beta, float *c,
                            int64_t rsc);
void contrl__matvec_avx2(int64_t m, int64_t n, int64_t k, float alpha,
                         const float *a, int64_t rsa, int64_t csa,
                         const float *bm, int64_t rsb, float beta, float *c,
                         int64_t rsc);
void contrl__matvec_avx512(int64_t m, int64_t n, int64_t k, float alpha,
                           const float *a, int64_t rsa, int64_t csa,
                           const float *bm, int64_t rsb, float beta, float *c,
                           int64_t rsc);
enum { CONTRL__MATVEC_MAX_M = 4 };

/* C[m,1] = alpha A[m,k] b + beta C for one output column, b contiguous; A
 * with a unit column stride, or a unit row stride (then C contiguous too).
 * False, C untouched, for other layouts. */
bool contrl__gemv1_avx512(int64_t m, int64_t k, float alpha, const float *a, int64_t rsa,
                          int64_t csa, const float *bm, float beta, float *c, int64_t rsc);
/* The same for 2 to 4 columns, B row-major (unit column stride, row
 * stride rsb), C with unit column stride. */
bool contrl__gemvn_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                          int64_t rsa, int64_t csa, const float *bm, int64_t rsb, float beta,
                          float *c, int64_t rsc);
/* libcontrl's own AVX-512 products: contrl__mm_epi above. */
void contrl__mm_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa,
                       int64_t csa, const float *bm, int64_t ldb, bool accumulate, float *c,
                       int64_t ldc, const contrl__mm_epi *epi);
/* dst[p * n + j] = src[j * ld + p] for j < n, p < k (AVX2). */
void contrl__transpose_avx2(int64_t n, int64_t k, const float *src, int64_t ld, float *dst);
void contrl__transpose_avx512(int64_t n, int64_t k, const float *src, int64_t ld, float *dst);

#endif /* CONTRL_BLAS_H */
