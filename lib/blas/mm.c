/* lib/blas/mm.c - libcontrl's own AVX-512 products for RL-sized layers.
 *
 * C[m,n] = A[m,k] B[k,n] (+ C), B and C row-major (unit column stride), A
 * row-major (unit column stride) or read through its transpose (unit row
 * stride). Tiles of up to 6 rows x 64 columns live in 24 zmm
 * accumulators; each k step loads one row of B (4 vectors, the last one
 * masked to n) and broadcasts one element of A per tile row. Every element
 * of C starts from 0 (or from C) and takes its k products in order, one FMA
 * each: the arithmetic of libxsmm's JIT kernels, whose products these
 * replace bit for bit (tests/blas checks every shape class against
 * libxsmm when it is built in).
 *
 * What a library call cannot do, this can: finish a tile while it is still
 * in registers. The epilogues add a bias and apply ReLU (a layer's
 * forward), or zero the entries whose ReLU output was not positive and sum
 * the columns in row order (a layer's backward and its bias gradient), with
 * the same operations as the separate passes in lib/nn/net.c, so fused and
 * unfused give the same bits. */
#include <immintrin.h>

#include "blas.h"

/* Not instrumented by ASan and UBSan (like libxsmm's JIT code, which these
 * products replace): ASan gives the 24 accumulator arrays stack redzones,
 * which keeps them out of registers, and made a sanitizer build's TD3 run
 * 11x slower (83.8 s against 7.7 s). tests/blas checks every product's
 * padding and guards in the plain build instead. */
#define T512 __attribute__((target("avx512f"), no_sanitize("address", "undefined")))
#define INLINE static inline __attribute__((always_inline))

enum { ROWS = 6, COLS = 64 };

typedef struct tile_args {
    const float *a;
    int64_t rsa, csa;
    const float *b;
    int64_t ldb;
    float *c;
    int64_t ldc;
    int64_t k;
    bool accumulate;
    __mmask16 last; /* lanes of the last of the tile's vectors */
} tile_args;

/* The epilogue of one tile, in registers: bias + ReLU, or the ReLU mask and
 * the column sums. db_acc holds the running column sums of the block. */
INLINE T512 void epilogue(int R, int V, __m512 acc[ROWS][4], const contrl__mm_epi *e,
                          int64_t row0, int64_t col0, __mmask16 last, float *db_acc)
{
    const __m512 zero = _mm512_setzero_ps();
    switch (e->kind) {
    case CONTRL__EPI_NONE:
        break;
    case CONTRL__EPI_BIAS:
    case CONTRL__EPI_BIAS_RELU:
        #pragma GCC unroll 8
        for (int j = 0; j < V; j++) {
            const __m512 bj = _mm512_maskz_loadu_ps(j == V - 1 ? last : 0xffff, e->bias + col0 + 16 * j);
            #pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                acc[r][j] = _mm512_add_ps(acc[r][j], bj);
                /* max(z, 0) gives 0 for NaN and -0, as z > 0 ? z : 0 does */
                if (e->kind == CONTRL__EPI_BIAS_RELU)
                    acc[r][j] = _mm512_max_ps(acc[r][j], zero);
            }
        }
        break;
    case CONTRL__EPI_RELU_MASK_SUM:
        #pragma GCC unroll 8
        for (int j = 0; j < V; j++) {
            const __mmask16 mj = j == V - 1 ? last : 0xffff;
            __m512 s = _mm512_loadu_ps(db_acc + 16 * j);
            #pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                const __m512 y =
                    _mm512_maskz_loadu_ps(mj, e->mask + (row0 + r) * e->ldm + col0 + 16 * j);
                const __mmask16 pos = _mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ);
                acc[r][j] = _mm512_maskz_mov_ps(pos, acc[r][j]);
                s = _mm512_add_ps(s, acc[r][j]);
            }
            _mm512_storeu_ps(db_acc + 16 * j, s);
        }
        break;
    }
}

/* One tile of R rows and V vectors (R, V constants after inlining). */
INLINE T512 void tile(int R, int V, int TA, int FULL, const tile_args *t, const contrl__mm_epi *e, int64_t row0,
                      int64_t col0, float *db_acc)
{
    __m512 acc[ROWS][4];
    const __mmask16 last = FULL ? 0xffff : t->last;
    float *c = t->c + row0 * t->ldc + col0;
    #pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        #pragma GCC unroll 8
        for (int j = 0; j < V; j++)
            acc[r][j] = t->accumulate ? _mm512_maskz_loadu_ps(j == V - 1 ? last : 0xffff,
                                                              c + r * t->ldc + 16 * j)
                                      : _mm512_setzero_ps();
    const float *b = t->b + col0;
    const float *a = t->a + row0 * t->rsa;
    const int64_t rsa = t->rsa, csa = t->csa, ldb = t->ldb;
#pragma GCC unroll 4
    for (int64_t p = 0; p < t->k; p++) {
        __m512 bv[4];
        #pragma GCC unroll 8
        for (int j = 0; j < V; j++)
            bv[j] = j == V - 1 && !FULL ? _mm512_maskz_loadu_ps(last, b + p * ldb + 16 * j)
                                        : _mm512_loadu_ps(b + p * ldb + 16 * j);
        #pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            /* A row-major (csa 1) or read through its transpose (rsa 1) */
            const __m512 av = _mm512_set1_ps(TA ? a[r + p * csa] : a[r * rsa + p]);
            #pragma GCC unroll 8
            for (int j = 0; j < V; j++)
                acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
        }
    }
    epilogue(R, V, acc, e, row0, col0, last, db_acc);
    #pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        #pragma GCC unroll 8
        for (int j = 0; j < V; j++) {
            if (j == V - 1 && !FULL)
                _mm512_mask_storeu_ps(c + r * t->ldc + 16 * j, last, acc[r][j]);
            else
                _mm512_storeu_ps(c + r * t->ldc + 16 * j, acc[r][j]);
        }
}

/* Every row of one column block of V vectors: full tiles, then the rest. */
INLINE T512 void column_block(int V, int TA, int FULL, const tile_args *t, const contrl__mm_epi *e, int64_t m,
                              int64_t col0, float *db_acc)
{
    int64_t r = 0;
    for (; r + ROWS <= m; r += ROWS)
        tile(ROWS, V, TA, FULL, t, e, r, col0, db_acc);
    switch (m - r) {
    case 5: tile(5, V, TA, FULL, t, e, r, col0, db_acc); break;
    case 4: tile(4, V, TA, FULL, t, e, r, col0, db_acc); break;
    case 3: tile(3, V, TA, FULL, t, e, r, col0, db_acc); break;
    case 2: tile(2, V, TA, FULL, t, e, r, col0, db_acc); break;
    case 1: tile(1, V, TA, FULL, t, e, r, col0, db_acc); break;
    default: break;
    }
}

T512 void contrl__mm_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa,
                            int64_t csa, const float *bm, int64_t ldb, bool accumulate, float *c,
                            int64_t ldc, const contrl__mm_epi *epi)
{
    static const contrl__mm_epi none = {CONTRL__EPI_NONE, NULL, NULL, 0, NULL, 0};
    const contrl__mm_epi *e = epi != NULL ? epi : &none;
    tile_args t = {a, rsa, csa, bm, ldb, c, ldc, k, accumulate, 0xffff};
    for (int64_t col0 = 0; col0 < n; col0 += COLS) {
        const int64_t w = n - col0 < COLS ? n - col0 : COLS;
        const int v = (int)((w + 15) / 16);
        const int64_t tail = w - 16 * (v - 1);
        t.last = (__mmask16)(tail == 16 ? 0xffff : (1u << tail) - 1u);
        /* the column sums of this block, 0 + first row as the separate pass
         * starts them (db_mode 2), or db + first row (1) */
        float db_acc[COLS];
        if (e->kind == CONTRL__EPI_RELU_MASK_SUM)
            for (int64_t j = 0; j < COLS; j++)
                db_acc[j] = j < w && e->db_mode == 1 ? e->db[col0 + j] : 0.0f;
        /* A row-major or transposed; full vectors or a masked last one */
        const int ta = t.csa != 1, full = tail == 16;
#define BLOCKS(TA, FULL)                                                                  \
    switch (v) {                                                                          \
    case 4: column_block(4, TA, FULL, &t, e, m, col0, db_acc); break;                     \
    case 3: column_block(3, TA, FULL, &t, e, m, col0, db_acc); break;                     \
    case 2: column_block(2, TA, FULL, &t, e, m, col0, db_acc); break;                     \
    default: column_block(1, TA, FULL, &t, e, m, col0, db_acc); break;                    \
    }
        if (ta) {
            if (full) { BLOCKS(1, 1) } else { BLOCKS(1, 0) }
        } else {
            if (full) { BLOCKS(0, 1) } else { BLOCKS(0, 0) }
        }
#undef BLOCKS
        if (e->kind == CONTRL__EPI_RELU_MASK_SUM && e->db_mode != 0)
            for (int64_t j = 0; j < w; j++)
                e->db[col0 + j] = db_acc[j];
    }
}
