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

/* Lane masks of the 4 vectors covering `left` (possibly <= 0) of 64. */
static inline __attribute__((always_inline)) T512 void masks64(int64_t left, __mmask16 mask[4])
{
    for (int v = 0; v < 4; v++, left -= 16)
        mask[v] = left >= 16 ? (__mmask16)0xffff
                  : left <= 0 ? (__mmask16)0
                              : (__mmask16)((1u << left) - 1);
}

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
        masks64(n - j, mask);
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

/* C[m, n] (n <= 4, any row stride) = alpha A B + beta C with A read
 * through its transpose (a[p * csa + i]): 64 rows of C accumulated per
 * pass over k in the order p = 0, 1, ... (the dW of 1-4 output columns). */
static inline __attribute__((always_inline)) T512 void
gemv_t512(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t csa,
          const float *bm, int64_t rsb, float beta, float *c, int64_t rsc)
{
    for (int64_t i = 0; i < m; i += 64) {
        __mmask16 mask[4];
        masks64(m - i, mask);
        __m512 acc[4][4];
        for (int j = 0; j < 4; j++)
            for (int v = 0; v < 4; v++)
                acc[j][v] = _mm512_setzero_ps();
        for (int64_t p = 0; p < k; p++) {
            const float *col = a + p * csa + i;
            __m512 x[4];
            for (int v = 0; v < 4; v++)
                x[v] = _mm512_maskz_loadu_ps(mask[v], col + 16 * v);
            for (int j = 0; j < n; j++) {
                const __m512 bj = _mm512_set1_ps(bm[p * rsb + j]);
                for (int v = 0; v < 4; v++)
                    acc[j][v] = _mm512_fmadd_ps(x[v], bj, acc[j][v]);
            }
        }
        float out[64];
        for (int j = 0; j < n; j++) {
            for (int v = 0; v < 4; v++)
                _mm512_storeu_ps(out + 16 * v, acc[j][v]);
            const int64_t rows = m - i < 64 ? m - i : 64;
            for (int64_t r = 0; r < rows; r++)
                c[(i + r) * rsc + j] = finish(out[r], alpha, beta, &c[(i + r) * rsc + j]);
        }
    }
}

/* ---- one output column (n == 1), AVX-512 --------------------------------
 * A critic's last layer: q = H w (H [m, k] row-major) and its weight
 * gradient dw = H^T d (A read through its transpose). BLIS's small-matrix
 * path ran these at 7-17 GFLOP/s. Row dot products use two 16-lane chains
 * and GCC's fixed reduction; the transposed form is gemv_t512's: same
 * inputs, same bits. */
/* The two chains' sum of one row: s0 + s1 over k in 32-float steps. */
static inline __attribute__((always_inline)) T512 __m512
row_sum(const float *ar, const float *bm, int64_t k32, int64_t left, __mmask16 m0,
        __mmask16 m1)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t p = 0; p < k32; p += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(ar + p), _mm512_loadu_ps(bm + p), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(ar + p + 16), _mm512_loadu_ps(bm + p + 16), s1);
    }
    if (left > 0) {
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, ar + k32), _mm512_maskz_loadu_ps(m0, bm + k32),
                             s0);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, ar + k32 + 16),
                             _mm512_maskz_loadu_ps(m1, bm + k32 + 16), s1);
    }
    return _mm512_add_ps(s0, s1);
}

/* The 16 lanes of each of 16 rows' sums, reduced as GCC's
 * _mm512_reduce_add_ps reduces one vector (lane i with i + 8, then with
 * i + 4, i + 2, i + 1), so each row gets the same bits as one reduction
 * per row; the 16 totals come back in row order. Row by row, the
 * reduction's shuffles cost more than the dot product of a 64-wide layer. */
static inline __attribute__((always_inline)) T512 __m512 reduce16(const __m512 s[16])
{
    __m512 u[8], v[4], w[2];
    for (int j = 0; j < 8; j++) /* lanes i + (i + 8): two rows per vector */
        u[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)),
                             _mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)));
    for (int j = 0; j < 4; j++) /* i + (i + 4): one row per 128-bit lane */
        v[j] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * j], u[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)),
                             _mm512_shuffle_f32x4(u[2 * j], u[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)));
    for (int j = 0; j < 2; j++) /* i + (i + 2) */
        w[j] = _mm512_add_ps(_mm512_shuffle_ps(v[2 * j], v[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(v[2 * j], v[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    /* i + (i + 1): element 4q + t holds row 4t + q */
    const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, z);
}

T512 bool contrl__gemv1_avx512(int64_t m, int64_t k, float alpha, const float *a, int64_t rsa,
                               int64_t csa, const float *bm, float beta, float *c, int64_t rsc)
{
    if (csa == 1) {
        const int64_t k32 = k & ~(int64_t)31;
        const int64_t left = k - k32;
        __mmask16 mk[4];
        masks64(left, mk);
        const __mmask16 m0 = mk[0], m1 = mk[1];
        int64_t i = 0;
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        for (; i + 16 <= m; i += 16) {
            __m512 s[16];
            for (int r = 0; r < 16; r++)
                s[r] = row_sum(a + (i + r) * rsa, bm, k32, left, m0, m1);
            const __m512 acc = reduce16(s);
            if (rsc == 1) { /* finish's operations, 16 at a time */
                __m512 out = _mm512_mul_ps(va, acc);
                if (beta != 0.0f)
                    out = _mm512_add_ps(out, _mm512_mul_ps(vb, _mm512_loadu_ps(c + i)));
                _mm512_storeu_ps(c + i, out);
            } else {
                float t[16];
                _mm512_storeu_ps(t, acc);
                for (int r = 0; r < 16; r++)
                    c[(i + r) * rsc] = finish(t[r], alpha, beta, &c[(i + r) * rsc]);
            }
        }
        for (; i < m; i++) {
            const float acc = _mm512_reduce_add_ps(row_sum(a + i * rsa, bm, k32, left, m0, m1));
            c[i * rsc] = finish(acc, alpha, beta, &c[i * rsc]);
        }
        return true;
    }
    if (rsa != 1)
        return false;
    gemv_t512(m, 1, k, alpha, a, csa, bm, 1, beta, c, rsc);
    return true;
}

/* ---- transposed copy for libxsmm (AVX2: every CPU libxsmm runs on) ------
 * dst[p * n + j] = src[j * ld + p] for j < n, p < k, in 8x8 register
 * transposes (a plain loop cost 6% of a small TD3 run). */
T256 void contrl__transpose_avx2(int64_t n, int64_t k, const float *src, int64_t ld, float *dst)
{
    const int64_t n8 = n & ~(int64_t)7, k8 = k & ~(int64_t)7;
    for (int64_t j = 0; j < n8; j += 8) {
        for (int64_t p = 0; p < k8; p += 8) {
            __m256 r[8], t[8];
            for (int q = 0; q < 8; q++)
                r[q] = _mm256_loadu_ps(src + (j + q) * ld + p);
            for (int q = 0; q < 8; q += 2) {
                t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
                t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
            }
            for (int q = 0; q < 8; q += 4) {
                r[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
                r[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xee);
                r[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
                r[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xee);
            }
            for (int q = 0; q < 4; q++) {
                t[q] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x20);
                t[q + 4] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x31);
            }
            for (int q = 0; q < 8; q++) /* t[q]: column p + q of the block */
                _mm256_storeu_ps(dst + (p + q) * n + j, t[q]);
        }
        for (int64_t p = k8; p < k; p++)
            for (int q = 0; q < 8; q++)
                dst[p * n + j + q] = src[(j + q) * ld + p];
    }
    for (int64_t j = n8; j < n; j++)
        for (int64_t p = 0; p < k; p++)
            dst[p * n + j] = src[j * ld + p];
}

/* The same in 16x16 AVX-512 register transposes (4 shuffle stages of 16
 * vectors: 64 shuffles per 256 floats against the 8x8 version's 96 per 256),
 * 8x8 AVX2 blocks for a remaining band of 8, scalar for the rest. */
T512 void contrl__transpose_avx512(int64_t n, int64_t k, const float *src, int64_t ld, float *dst)
{
    const int64_t n16 = n & ~(int64_t)15, k16 = k & ~(int64_t)15;
    for (int64_t j = 0; j < n16; j += 16) {
        for (int64_t p = 0; p < k16; p += 16) {
            __m512 r[16], t[16];
            for (int q = 0; q < 16; q++)
                r[q] = _mm512_loadu_ps(src + (j + q) * ld + p);
            for (int q = 0; q < 16; q += 2) {
                t[q] = _mm512_unpacklo_ps(r[q], r[q + 1]);
                t[q + 1] = _mm512_unpackhi_ps(r[q], r[q + 1]);
            }
            for (int q = 0; q < 16; q += 4) {
                r[q] = _mm512_castpd_ps(
                    _mm512_unpacklo_pd(_mm512_castps_pd(t[q]), _mm512_castps_pd(t[q + 2])));
                r[q + 1] = _mm512_castpd_ps(
                    _mm512_unpackhi_pd(_mm512_castps_pd(t[q]), _mm512_castps_pd(t[q + 2])));
                r[q + 2] = _mm512_castpd_ps(
                    _mm512_unpacklo_pd(_mm512_castps_pd(t[q + 1]), _mm512_castps_pd(t[q + 3])));
                r[q + 3] = _mm512_castpd_ps(
                    _mm512_unpackhi_pd(_mm512_castps_pd(t[q + 1]), _mm512_castps_pd(t[q + 3])));
            }
            /* r[4g + c]: rows 4g..4g+3, columns c, c+4, c+8, c+12 of each lane */
            for (int g = 0; g < 16; g += 8)
                for (int c = 0; c < 4; c++) {
                    t[g + c] = _mm512_shuffle_f32x4(r[g + c], r[g + 4 + c], 0x88);
                    t[g + 4 + c] = _mm512_shuffle_f32x4(r[g + c], r[g + 4 + c], 0xdd);
                }
            for (int c = 0; c < 8; c++) {
                r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
                r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
            }
            for (int q = 0; q < 16; q++)
                _mm512_storeu_ps(dst + (p + q) * n + j, r[q]);
        }
        for (int64_t p = k16; p < k; p++)
            for (int q = 0; q < 16; q++)
                dst[p * n + j + q] = src[(j + q) * ld + p];
    }
    if (n16 < n) {
        /* the last n - n16 rows of src, element by element */
        float *band = dst + n16;
        const int64_t rest = n - n16;
        for (int64_t p = 0; p < k; p++)
            for (int64_t q = 0; q < rest; q++)
                band[p * n + q] = src[(n16 + q) * ld + p];
    }
}

/* ---- 2 to 4 output columns (n <= 4), AVX-512 ------------------------------
 * SAC's actor head (mean and log std per action dimension): libxsmm ran
 * these at ~20 GFLOP/s. With A row-major, B's columns are first gathered
 * into a contiguous copy (k * n <= NMAX_COPY floats) and each output is a
 * dot product as in contrl__gemv1_avx512; with A read through its
 * transpose, 64 rows of C are accumulated per pass over k in order. */
enum { NMAX_COPY = 4096 };

T512 bool contrl__gemvn_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                               int64_t rsa, int64_t csa, const float *bm, int64_t rsb,
                               float beta, float *c, int64_t rsc)
{
    if (n < 2 || n > 4)
        return false;
    if (csa == 1) {
        if (k * n > NMAX_COPY)
            return false;
        float bt[NMAX_COPY];
        for (int64_t j = 0; j < n; j++)
            for (int64_t p = 0; p < k; p++)
                bt[j * k + p] = bm[p * rsb + j];
        for (int64_t j = 0; j < n; j++)
            contrl__gemv1_avx512(m, k, alpha, a, rsa, 1, bt + j * k, beta, c + j, rsc);
        return true;
    }
    if (rsa != 1)
        return false;
    gemv_t512(m, n, k, alpha, a, csa, bm, rsb, beta, c, rsc);
    return true;
}
