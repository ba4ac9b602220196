/* lib/blas/matvec.c - hand-written products for batches of 1 to 4 rows,
 * where BLIS's per-call cost dominates (acting is one row at a time).
 *
 * Each output is accumulated over k in a fixed order that depends only on
 * the kernel and the number of rows m: the AVX-512 code splits k into
 * interleaved partial sums when m == 1 (to keep eight FMA chains busy), so a
 * row computed alone may round differently from the same row in a batch of
 * two. Same inputs, same m, same kernel: same bits. The AVX2 and AVX-512
 * variants are compiled with target attributes and only called after the
 * CPU check in blas.c. */
#include <immintrin.h>

#include "blas.h"

static inline float finish(float acc, float alpha, float beta, const float *c)
{
    return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

void contrl__matvec_generic(int64_t m, int64_t n, int64_t k, float alpha,
                            const float *a, int64_t rsa, int64_t csa,
                            const float *bm, int64_t rsb, float beta, float *c,
                            int64_t rsc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; p++)
                acc += a[i * rsa + p * csa] * bm[p * rsb + j];
            c[i * rsc + j] = finish(acc, alpha, beta, &c[i * rsc + j]);
        }
}

/* ---- AVX-512: tiles of up to 4 rows x 64 columns (16 accumulators) ---- */

#define T512 __attribute__((target("avx512f")))

static inline __attribute__((always_inline)) T512 void
tile512(const int M, int64_t k, float alpha, const float *a, int64_t rsa,
        int64_t csa, const float *bm, int64_t rsb, float beta, float *c,
        int64_t rsc, const __mmask16 mask[4])
{
    __m512 acc[4][4];
    for (int r = 0; r < M; r++)
        for (int v = 0; v < 4; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        const float *brow = bm + p * rsb;
        __m512 b[4];
        for (int v = 0; v < 4; v++)
            b[v] = _mm512_maskz_loadu_ps(mask[v], brow + 16 * v);
        for (int r = 0; r < M; r++) {
            __m512 x = _mm512_set1_ps(a[r * rsa + p * csa]);
            for (int v = 0; v < 4; v++)
                acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < M; r++)
        for (int v = 0; v < 4; v++) {
            float *dst = c + r * rsc + 16 * v;
            __m512 out = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f)
                out = _mm512_add_ps(out, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask[v], dst)));
            _mm512_mask_storeu_ps(dst, mask[v], out);
        }
}

/* One row (acting: batch 1) is bound by FMA latency, not throughput: keep
 * 8 independent chains by splitting k into KS interleaved partial sums
 * (added in a fixed order) when the tile has fewer than 8 vectors. */
static inline __attribute__((always_inline)) T512 void
row512(const int NV, const int KS, int64_t k, float alpha, const float *a, int64_t csa,
       const float *bm, int64_t rsb, float beta, float *c, const __mmask16 mask[4])
{
    __m512 acc[8][4];
    for (int s = 0; s < KS; s++)
        for (int v = 0; v < NV; v++)
            acc[s][v] = _mm512_setzero_ps();
    int64_t p = 0;
    for (; p + KS <= k; p += KS)
        for (int s = 0; s < KS; s++) {
            __m512 x = _mm512_set1_ps(a[(p + s) * csa]);
            for (int v = 0; v < NV; v++)
                acc[s][v] = _mm512_fmadd_ps(
                    x, _mm512_maskz_loadu_ps(mask[v], bm + (p + s) * rsb + 16 * v), acc[s][v]);
        }
    for (; p < k; p++) {
        __m512 x = _mm512_set1_ps(a[p * csa]);
        for (int v = 0; v < NV; v++)
            acc[0][v] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(mask[v], bm + p * rsb + 16 * v),
                                        acc[0][v]);
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int v = 0; v < NV; v++) {
        __m512 sum = acc[0][v];
        for (int s = 1; s < KS; s++)
            sum = _mm512_add_ps(sum, acc[s][v]);
        __m512 out = _mm512_mul_ps(va, sum);
        if (beta != 0.0f)
            out = _mm512_add_ps(out, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask[v], c + 16 * v)));
        _mm512_mask_storeu_ps(c + 16 * v, mask[v], out);
    }
}

T512 void contrl__matvec_avx512(int64_t m, int64_t n, int64_t k, float alpha,
                                const float *a, int64_t rsa, int64_t csa,
                                const float *bm, int64_t rsb, float beta, float *c,
                                int64_t rsc)
{
    for (int64_t j = 0; j < n; j += 64) {
        __mmask16 mask[4];
        for (int v = 0; v < 4; v++) {
            int64_t left = n - j - 16 * v;
            mask[v] = left >= 16 ? (__mmask16)0xffff
                      : left <= 0 ? (__mmask16)0
                                  : (__mmask16)((1u << left) - 1);
        }
        int64_t width = n - j;
        if (m == 1) {
            if (width > 32)
                row512(4, 2, k, alpha, a, csa, bm + j, rsb, beta, c + j, mask);
            else if (width > 16)
                row512(2, 4, k, alpha, a, csa, bm + j, rsb, beta, c + j, mask);
            else
                row512(1, 8, k, alpha, a, csa, bm + j, rsb, beta, c + j, mask);
            continue;
        }
        switch (m) {
        case 1: tile512(1, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 2: tile512(2, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 3: tile512(3, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 4: tile512(4, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        default: break;
        }
    }
}

/* ---- AVX2+FMA: tiles of up to 4 rows x 24 columns (12 accumulators) ---- */

#define T256 __attribute__((target("avx2,fma")))

static inline __attribute__((always_inline)) T256 void
tile256(const int M, int64_t k, float alpha, const float *a, int64_t rsa,
        int64_t csa, const float *bm, int64_t rsb, float beta, float *c,
        int64_t rsc, const __m256i mask[3])
{
    __m256 acc[4][3];
    for (int r = 0; r < M; r++)
        for (int v = 0; v < 3; v++)
            acc[r][v] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        const float *brow = bm + p * rsb;
        __m256 b[3];
        for (int v = 0; v < 3; v++)
            b[v] = _mm256_maskload_ps(brow + 8 * v, mask[v]);
        for (int r = 0; r < M; r++) {
            __m256 x = _mm256_broadcast_ss(&a[r * rsa + p * csa]);
            for (int v = 0; v < 3; v++)
                acc[r][v] = _mm256_fmadd_ps(x, b[v], acc[r][v]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int r = 0; r < M; r++)
        for (int v = 0; v < 3; v++) {
            float *dst = c + r * rsc + 8 * v;
            __m256 out = _mm256_mul_ps(va, acc[r][v]);
            if (beta != 0.0f)
                out = _mm256_add_ps(out, _mm256_mul_ps(vb, _mm256_maskload_ps(dst, mask[v])));
            _mm256_maskstore_ps(dst, mask[v], out);
        }
}

T256 void contrl__matvec_avx2(int64_t m, int64_t n, int64_t k, float alpha,
                              const float *a, int64_t rsa, int64_t csa,
                              const float *bm, int64_t rsb, float beta, float *c,
                              int64_t rsc)
{
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t j = 0; j < n; j += 24) {
        __m256i mask[3];
        for (int v = 0; v < 3; v++) {
            int64_t left = n - j - 8 * v;
            int lim = left >= 8 ? 8 : left <= 0 ? 0 : (int)left;
            mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(lim), lanes);
        }
        switch (m) {
        case 1: tile256(1, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 2: tile256(2, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 3: tile256(3, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        case 4: tile256(4, k, alpha, a, rsa, csa, bm + j, rsb, beta, c + j, rsc, mask); break;
        default: break;
        }
    }
}
