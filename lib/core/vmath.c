/* lib/core/vmath.c - float array math, same bits on every path (vmath.h).
 *
 * The kernels are written once, in vmath_kernels.h, over a small vocabulary
 * of vector operations; this file defines that vocabulary for each path and
 * includes the kernels under it: plain C (floats, fmaf), AVX2 + FMA and
 * AVX-512F (intrinsics, in functions compiled for that target and only
 * called after the CPU check). Dispatch is a plain branch on flags read
 * once (pthread_once), not target_clones or ifunc: their resolvers run
 * before ThreadSanitizer starts. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "vmath.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define VMATH_X86 1
#include <immintrin.h>
#else
#define VMATH_X86 0
#endif

/* ---- plain C ------------------------------------------------------------ */

static inline uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#define VF float
#define VI uint32_t
#define VM bool
#define VL 1
#define TARGET
#define KERNEL
#define SUF(name) name##_scalar
#define F(c) (c)
#define I(c) ((uint32_t)(c))
#define ASI(v) f2u(v)
#define ASF(v) u2f(v)
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define DIV(a, b) ((a) / (b))
#define FMA(a, b, c) fmaf(a, b, c)
#define MIN(a, b) scalar_min(a, b)
#define MAX(a, b) scalar_max(a, b)
#define LT(a, b) ((a) < (b))
#define GT(a, b) ((a) > (b))
#define EQ(a, b) ((a) == (b))
#define ISNAN(a) ((a) != (a))
#define SEL(m, a, b) ((m) ? (a) : (b))
#define ANY(m) (m)
#define MOR(m1, m2) ((m1) || (m2))
#define MAND(m1, m2) ((m1) && (m2))
#define MNOT(m) (!(m))
#define IADD(a, b) ((uint32_t)((a) + (b)))
#define ISUB(a, b) ((uint32_t)((a) - (b)))
#define IAND(a, b) ((a) & (b))
#define IOR(a, b) ((a) | (b))
#define SHL(a, c) ((uint32_t)((a) << (c)))
#define SHR(a, c) ((a) >> (c))
#define CVT(a) ((float)(int32_t)(a)) /* lanes hold multiples of 2^23 here */
#define LOAD(p) (*(p))
#define STORE(p, v) (*(p) = (v))
#define LOADN(p, k) ((void)(k), *(p)) /* VL = 1: never a partial vector */
#define STOREN(p, v, k) ((void)(k), *(p) = (v))

static inline float scalar_min(float a, float b) { return a < b ? a : b; }
static inline float scalar_max(float a, float b) { return a > b ? a : b; }

#include "vmath_kernels.h"


#if VMATH_X86

/* ---- AVX2 + FMA --------------------------------------------------------- */

#define T256 __attribute__((target("avx2,fma")))

/* The first k (< 8) lanes. */
static inline __attribute__((always_inline)) T256 __m256i avx2_first(size_t k)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define VF __m256
#define VI __m256i
#define VM __m256
#define VL 8
#define TARGET T256
#define KERNEL __attribute__((always_inline)) T256
#define SUF(name) name##_avx2
#define F(c) _mm256_set1_ps(c)
#define I(c) _mm256_set1_epi32((int32_t)(uint32_t)(c))
#define ASI(v) _mm256_castps_si256(v)
#define ASF(v) _mm256_castsi256_ps(v)
#define ADD(a, b) _mm256_add_ps(a, b)
#define SUB(a, b) _mm256_sub_ps(a, b)
#define MUL(a, b) _mm256_mul_ps(a, b)
#define DIV(a, b) _mm256_div_ps(a, b)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define MIN(a, b) _mm256_min_ps(a, b) /* a < b ? a : b, as documented by Intel */
#define MAX(a, b) _mm256_max_ps(a, b)
#define LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define EQ(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define ISNAN(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define SEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define ANY(m) (_mm256_movemask_ps(m) != 0)
#define MOR(m1, m2) _mm256_or_ps(m1, m2)
#define MAND(m1, m2) _mm256_and_ps(m1, m2)
#define MNOT(m) _mm256_xor_ps(m, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))
#define IADD(a, b) _mm256_add_epi32(a, b)
#define ISUB(a, b) _mm256_sub_epi32(a, b)
#define IAND(a, b) _mm256_and_si256(a, b)
#define IOR(a, b) _mm256_or_si256(a, b)
#define SHL(a, c) _mm256_slli_epi32(a, c)
#define SHR(a, c) _mm256_srli_epi32(a, c)
#define CVT(a) _mm256_cvtepi32_ps(a)
#define LOAD(p) _mm256_loadu_ps(p)
#define STORE(p, v) _mm256_storeu_ps(p, v)
#define LOADN(p, k) _mm256_maskload_ps(p, avx2_first(k))
#define STOREN(p, v, k) _mm256_maskstore_ps(p, avx2_first(k), v)

#include "vmath_kernels.h"


/* ---- AVX-512F ----------------------------------------------------------- */

#define T512 __attribute__((target("avx512f")))

#define VF __m512
#define VI __m512i
#define VM __mmask16
#define VL 16
#define TARGET T512
#define KERNEL __attribute__((always_inline)) T512
#define SUF(name) name##_avx512
#define F(c) _mm512_set1_ps(c)
#define I(c) _mm512_set1_epi32((int32_t)(uint32_t)(c))
#define ASI(v) _mm512_castps_si512(v)
#define ASF(v) _mm512_castsi512_ps(v)
#define ADD(a, b) _mm512_add_ps(a, b)
#define SUB(a, b) _mm512_sub_ps(a, b)
#define MUL(a, b) _mm512_mul_ps(a, b)
#define DIV(a, b) _mm512_div_ps(a, b)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define MIN(a, b) _mm512_min_ps(a, b)
#define MAX(a, b) _mm512_max_ps(a, b)
#define LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define EQ(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define ISNAN(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define SEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define ANY(m) ((m) != 0)
#define MOR(m1, m2) ((__mmask16)((m1) | (m2)))
#define MAND(m1, m2) ((__mmask16)((m1) & (m2)))
#define MNOT(m) ((__mmask16)~(m))
#define IADD(a, b) _mm512_add_epi32(a, b)
#define ISUB(a, b) _mm512_sub_epi32(a, b)
#define IAND(a, b) _mm512_and_si512(a, b)
#define IOR(a, b) _mm512_or_si512(a, b)
#define SHL(a, c) _mm512_slli_epi32(a, c)
#define SHR(a, c) _mm512_srli_epi32(a, c)
#define CVT(a) _mm512_cvtepi32_ps(a)
#define LOAD(p) _mm512_loadu_ps(p)
#define STORE(p, v) _mm512_storeu_ps(p, v)
#define LOADN(p, k) _mm512_maskz_loadu_ps((__mmask16)((1u << (k)) - 1), p)
#define STOREN(p, v, k) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (k)) - 1), v)

#include "vmath_kernels.h"


#endif /* VMATH_X86 */

/* ---- dispatch ----------------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool supported[CONTRL__VMATH_N_PATHS];
static contrl__vmath_path best = CONTRL__VMATH_SCALAR;

static void detect(void)
{
    supported[CONTRL__VMATH_SCALAR] = true;
#if VMATH_X86
    __builtin_cpu_init();
    supported[CONTRL__VMATH_AVX2] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    supported[CONTRL__VMATH_AVX512] = __builtin_cpu_supports("avx512f") != 0;
#endif
    for (int p = 0; p < CONTRL__VMATH_N_PATHS; p++)
        if (supported[p])
            best = (contrl__vmath_path)p;
}

bool contrl__vmath_path_supported(contrl__vmath_path p)
{
    pthread_once(&once, detect);
    return (unsigned)p < CONTRL__VMATH_N_PATHS && supported[p];
}

contrl__vmath_path contrl__vmath_path_auto(void)
{
    pthread_once(&once, detect);
    return best;
}

const char *contrl__vmath_path_name(void)
{
    static const char *const names[CONTRL__VMATH_N_PATHS] = {"scalar", "avx2", "avx512"};
    return names[contrl__vmath_path_auto()];
}

/* The path to run for a request: p if supported, else scalar. */
static contrl__vmath_path runnable(contrl__vmath_path p)
{
    return contrl__vmath_path_supported(p) ? p : CONTRL__VMATH_SCALAR;
}

#if VMATH_X86
#define DISPATCH(p, name, ...)                                                  \
    switch (p) {                                                                \
    case CONTRL__VMATH_AVX512: name##_avx512(__VA_ARGS__); break;               \
    case CONTRL__VMATH_AVX2: name##_avx2(__VA_ARGS__); break;                   \
    default: name##_scalar(__VA_ARGS__); break;                                 \
    }
#else
#define DISPATCH(p, name, ...) ((void)(p), name##_scalar(__VA_ARGS__))
#endif

void contrl__vexp_path(contrl__vmath_path p, float *y, const float *x, size_t n)
{
    DISPATCH(runnable(p), vexp, y, x, n);
}

void contrl__vtanh_path(contrl__vmath_path p, float *y, const float *x, size_t n)
{
    DISPATCH(runnable(p), vtanh, y, x, n);
}

void contrl__vtanh_logjac_path(contrl__vmath_path p, float *th, float *lj, const float *u,
                               size_t n)
{
    DISPATCH(runnable(p), vtanh_logjac, th, lj, u, n);
}

void contrl__vlog1p_path(contrl__vmath_path p, float *y, const float *x, size_t n)
{
    DISPATCH(runnable(p), vlog1p, y, x, n);
}

void contrl__vexp(float *y, const float *x, size_t n)
{
    DISPATCH(contrl__vmath_path_auto(), vexp, y, x, n);
}

void contrl__vtanh(float *y, const float *x, size_t n)
{
    DISPATCH(contrl__vmath_path_auto(), vtanh, y, x, n);
}

void contrl__vtanh_logjac(float *th, float *lj, const float *u, size_t n)
{
    DISPATCH(contrl__vmath_path_auto(), vtanh_logjac, th, lj, u, n);
}

void contrl__vlog1p(float *y, const float *x, size_t n)
{
    DISPATCH(contrl__vmath_path_auto(), vlog1p, y, x, n);
}
