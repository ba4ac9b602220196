/* lib/core/vmath_kernels.h - the operations of vmath.c's kernels, written
 * once for every path (internal; no include guard on purpose).
 *
 * vmath.c includes this file once per path after defining the vector
 * vocabulary below for it: VF (floats), VI (32-bit integers), VM (lane
 * masks), VL (lanes), TARGET (the path's target attribute, for the array
 * functions), KERNEL (TARGET and always_inline, for the per-vector ones),
 * SUF(name) (the path's suffix), and the operations. Each operation is one IEEE
 * single-precision operation (FMA is fused, rounded once) or an exact bit
 * operation, with the same meaning in every path:
 *   ADD SUB MUL DIV FMA(a, b, c) = a * b + c
 *   MIN(a, b) = a < b ? a : b      MAX(a, b) = a > b ? a : b   (so NaN a gives b)
 *   LT GT EQ (ordered: false for NaN)   ISNAN   SEL(m, a, b) = m ? a : b
 *   ANY(m)   MOR MAND MNOT (mask logic)
 *   F(c) splat float   I(c) splat uint32   ASI / ASF reinterpret bits
 *   IADD ISUB IAND IOR (mod 2^32)   SHL SHR (logical, by a constant)
 *   CVT (int32 lanes to float, exact here)   LOAD STORE LOADN STOREN (first k lanes)
 * Since every path runs the same sequence of these operations on each
 * element, every path gives the same bits; tests/core/test_vmath.c checks.
 * Polynomial coefficients: discrete minimax fits (Lawson's algorithm, 40
 * digits) rounded to float; each comment gives the interval and the fit's
 * weighted error before rounding. */

/* No product here feeds an addition except exact ones (z + z, z + 1 below,
 * with z = p 2^n), so a compiler contracting a * b + c into an FMA could not
 * change a result either.
 *
 * ---- e^x = 2^n * p --------------------------------------------------------
 * n = round(x / ln 2) by the 1.5 * 2^23 shifter (exact for |x| < 2^21;
 * callers clamp x to [-104, 89]); r = x - n ln 2 in two FMAs (ln2_hi * n is
 * exact); e^r = 1 + r + r^2 P(r), P on |r| <= 0.348: weighted error 2^-28.3.
 * Returns p in [0.70, 1.42] and t = the shifter sum, whose low bits hold n. */
static inline KERNEL VF SUF(exp_parts)(VF x, VF *t)
{
    const VF shifter = F(0x1.8p23f);
    VF tt = FMA(x, F(0x1.715476p+0f), shifter); /* 1 / ln 2 */
    VF n = SUB(tt, shifter);
    VF r = FMA(n, F(-0x1.62e43p-1f), x);        /* ln 2 hi */
    r = FMA(n, F(0x1.05c61p-29f), r);          /* -(ln 2 lo) */
    VF q = FMA(F(0x1.6a2176p-10f), r, F(0x1.123b8ap-7f));
    q = FMA(q, r, F(0x1.5558fcp-5f));
    q = FMA(q, r, F(0x1.55549p-3f));
    q = FMA(q, r, F(0x1.fffffcp-2f));
    *t = tt;
    return ADD(FMA(q, MUL(r, r), r), F(1.0f));
}

/* n + 127 from the shifter sum: 2^n is ASF(SHL(n + 127, 23)) for
 * -126 <= n <= 127. The shifter's bits are 0x4b400000, so
 * t's bits - 0x4b400000 = n (mod 2^32). */
#define EXP_BIASED_N(t, bias) IADD(ASI(t), I((uint32_t)(bias) - 0x4b400000u))

static inline KERNEL VF SUF(exp)(VF x)
{
    /* e^89 overflows and e^-104 < 2^-150 rounds to 0: the clamped value
     * gives the same result as x beyond. */
    VF xc = MAX(MIN(x, F(89.0f)), F(-104.0f));
    VF t, p = SUF(exp_parts)(xc, &t);
    /* n in [-150, 129]: scale by 2^n1 * 2^n2 with n1 = floor(n / 2) and
     * n2 = n - n1 in [-75, 65], both normal. p * 2^n1 is exact, so the
     * result is rounded once: correctly rounded p * 2^n, subnormals too. */
    VI b = EXP_BIASED_N(t, 256);         /* n + 256 > 0 */
    VI h = SHR(b, 1);                    /* n1 + 128 */
    VF s1 = ASF(SHL(ISUB(h, I(1)), 23)); /* 2^n1 */
    VF s2 = ASF(SHL(ISUB(ISUB(b, h), I(1)), 23)); /* 2^n2 */
    VF y = MUL(MUL(p, s1), s2);
    return SEL(ISNAN(x), ADD(x, x), y);
}

/* ---- log1p ----------------------------------------------------------------
 * 1 + x = 2^k (1 + t) with 1 + t in (3/4, 3/2], k read from the bits of
 * m = 1 + x; t = x 2^-k + (2^-k - 1) is computed from x, not m (the rounding
 * of m only moves k), and is exact for |k| <= 24 (Sterbenz: the two terms
 * are within a factor 2 of each other). That is why 1 + t starts at 3/4
 * and not at sqrt(1/2), and why m = 3/2 itself keeps k = 0: x just below
 * 1/2 rounds m up to 3/2, and k = 1 would make x / 2 - 1/2 inexact. 2^-k
 * is built as 4 * 2^-k * 0.25 so that it stays normal for k = 128.
 * log1p(t) = t + t^2 P(t), P on [-0.2501, 0.5001]: weighted error 2^-27.6.
 * log1p_finite is valid for finite x > -1 (x = -0 gives +0): log1p fixes
 * the rest. */
static inline KERNEL VF SUF(log1p_poly)(VF t)
{
    VF q = FMA(F(-0x1.6ff438p-5f), t, F(0x1.ac05d6p-4f));
    q = FMA(q, t, F(-0x1.0d9496p-3f));
    q = FMA(q, t, F(0x1.28981ep-3f));
    q = FMA(q, t, F(-0x1.54f1dep-3f));
    q = FMA(q, t, F(0x1.996848p-3f));
    q = FMA(q, t, F(-0x1.000026p-2f));
    q = FMA(q, t, F(0x1.5555a6p-2f));
    q = FMA(q, t, F(-0x1p-1f));
    return FMA(MUL(t, t), q, t);
}

static inline KERNEL VF SUF(log1p_finite)(VF x)
{
    VF m = ADD(x, F(1.0f));
    VI k = IAND(ISUB(ASI(m), I(0x3f400001u)), I(0xff800000u)); /* k << 23 */
    VF xs = ASF(ISUB(ASI(x), k));                 /* x 2^-k (x itself when k = 0) */
    VF four_s = ASF(ISUB(I(0x40800000u), k));     /* 4 * 2^-k */
    VF t = ADD(xs, FMA(four_s, F(0.25f), F(-1.0f)));
    VF kf = MUL(CVT(k), F(0x1p-23f));
    VF y = SUF(log1p_poly)(t);
    return FMA(kf, F(0x1.62e43p-1f), FMA(kf, F(-0x1.05c61p-29f), y)); /* + k ln 2 */
}

static inline KERNEL VF SUF(log1p)(VF x)
{
    VF y = SUF(log1p_finite)(x);
    VM usual = MAND(GT(x, F(-1.0f)), LT(x, F(INFINITY)));
    VM zero = EQ(x, F(0.0f));
    if (ANY(MOR(MNOT(usual), zero))) {
        y = SEL(zero, x, y);                          /* keeps -0 */
        y = SEL(EQ(x, F(INFINITY)), x, y);
        y = SEL(EQ(x, F(-1.0f)), F(-INFINITY), y);
        y = SEL(LT(x, F(-1.0f)), F(NAN), y);
        y = SEL(ISNAN(x), ADD(x, x), y);
    }
    return y;
}

/* ---- tanh and log(1 - tanh^2) ---------------------------------------------
 * a = |u|. Below TANH_SMALL: tanh a = a + a^3 P(a^2), P on a in [0, 1]:
 * relative error 2^-27.9. From there (tanh a >= 0.76, so the subtraction
 * below loses little): with z = e^-2a, tanh a = 1 - 2z / (1 + z); a is
 * clamped to 10, where that rounds to 1 (as it does from a = 9.01). The
 * sign is copied from u afterwards, so tanh(-u) = -tanh(u) exactly. */
#define TANH_SMALL 1.0f

static inline KERNEL VF SUF(tanh_small)(VF a, VF s)
{
    VF q = FMA(F(-0x1.7c22c6p-12f), s, F(0x1.2f7e7ap-9f));
    q = FMA(q, s, F(-0x1.05012cp-7f));
    q = FMA(q, s, F(0x1.603f1p-6f));
    q = FMA(q, s, F(-0x1.b96b2ap-5f));
    q = FMA(q, s, F(0x1.110c3cp-3f));
    q = FMA(q, s, F(-0x1.55553ep-2f));
    return FMA(MUL(a, s), q, a);
}

/* e^-2a for a <= 10: n in [-29, 0], one exact scaling. */
static inline KERNEL VF SUF(exp_minus_2a)(VF a)
{
    VF t, p = SUF(exp_parts)(MUL(MIN(a, F(10.0f)), F(-2.0f)), &t);
    return MUL(p, ASF(SHL(EXP_BIASED_N(t, 127), 23)));
}

/* |tanh a| and the z it used; NaN a gives something finite: callers fix. */
static inline KERNEL VF SUF(tanh_abs)(VF a, VF *z_out)
{
    VF z = SUF(exp_minus_2a)(a);
    VF large = SUB(F(1.0f), DIV(ADD(z, z), ADD(z, F(1.0f))));
    *z_out = z;
    return SEL(LT(a, F(TANH_SMALL)), SUF(tanh_small)(a, MUL(a, a)), large);
}

/* Copy u's sign onto th >= 0; NaN u gives u + u. */
static inline KERNEL VF SUF(tanh_finish)(VF th, VF u)
{
    th = ASF(IOR(ASI(th), IAND(ASI(u), I(0x80000000u))));
    return SEL(ISNAN(u), ADD(u, u), th);
}

static inline KERNEL VF SUF(tanh)(VF u)
{
    VF z, a = ASF(IAND(ASI(u), I(0x7fffffffu)));
    return SUF(tanh_finish)(SUF(tanh_abs)(a, &z), u);
}

/* log(1 - tanh^2 a) = -2 log cosh a. Below TANH_SMALL: -s + s^2 R(s),
 * s = a^2, R on a in [0, 1]: weighted error 2^-28.7. From there:
 * 2 ((ln 2 - a) - log1p(z)) with z = e^-2a <= e^-2, so log1p(z) needs no
 * reduction (k = 0); ln 2 in two parts, as ln 2 - a cancels for a near 1.
 * a is capped at FLT_MAX / 2 so that every finite u gives a finite result;
 * infinite u gives -Inf. */
static inline KERNEL VF SUF(logjac)(VF a, VF z)
{
    VF s = MUL(a, a);
    VF r = FMA(F(0x1.fcef54p-15f), s, F(-0x1.92c444p-12f));
    r = FMA(r, s, F(0x1.6f155ep-10f));
    r = FMA(r, s, F(-0x1.1d06f6p-8f));
    r = FMA(r, s, F(0x1.b9fb1cp-7f));
    r = FMA(r, s, F(-0x1.6c1646p-5f));
    r = FMA(r, s, F(0x1.555556p-3f));
    VF small = FMA(s, MUL(s, r), SUB(F(0.0f), s));
    VF ac = MIN(a, F(0x1.fffffep126f));
    VF h = ADD(SUB(F(0x1.62e43p-1f), ac), SUB(F(-0x1.05c61p-29f), SUF(log1p_poly)(z)));
    VF lj = SEL(LT(a, F(TANH_SMALL)), small, ADD(h, h));
    return SEL(EQ(a, F(INFINITY)), F(-INFINITY), lj);
}

static inline KERNEL void SUF(tanh_logjac)(VF u, VF *th, VF *lj)
{
    VF z, a = ASF(IAND(ASI(u), I(0x7fffffffu)));
    VF t = SUF(tanh_abs)(a, &z);
    *th = SUF(tanh_finish)(t, u);
    *lj = SEL(ISNAN(u), ADD(u, u), SUF(logjac)(a, z));
}

/* ---- array drivers ------------------------------------------------------- */

#define VMATH_MAP(name)                                                         \
    static TARGET void SUF(v##name)(float *y, const float *x, size_t n)          \
    {                                                                           \
        size_t i = 0;                                                           \
        for (; n - i >= VL; i += VL)                                            \
            STORE(y + i, SUF(name)(LOAD(x + i)));                               \
        if (i < n)                                                              \
            STOREN(y + i, SUF(name)(LOADN(x + i, n - i)), n - i);               \
    }
VMATH_MAP(exp)
VMATH_MAP(tanh)
VMATH_MAP(log1p)
#undef VMATH_MAP

static TARGET void SUF(vtanh_logjac)(float *th, float *lj, const float *u, size_t n)
{
    size_t i = 0;
    VF t, l;
    for (; n - i >= VL; i += VL) {
        SUF(tanh_logjac)(LOAD(u + i), &t, &l);
        STORE(th + i, t);
        STORE(lj + i, l);
    }
    if (i < n) {
        SUF(tanh_logjac)(LOADN(u + i, n - i), &t, &l);
        STOREN(th + i, t, n - i);
        STOREN(lj + i, l, n - i);
    }
}

#undef EXP_BIASED_N
#undef TANH_SMALL

/* The includer defines the vocabulary afresh for the next path. */
#undef VF
#undef VI
#undef VM
#undef VL
#undef TARGET
#undef KERNEL
#undef SUF
#undef F
#undef I
#undef ASI
#undef ASF
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef FMA
#undef MIN
#undef MAX
#undef LT
#undef GT
#undef EQ
#undef ISNAN
#undef SEL
#undef ANY
#undef MOR
#undef MAND
#undef MNOT
#undef IADD
#undef ISUB
#undef IAND
#undef IOR
#undef SHL
#undef SHR
#undef CVT
#undef LOAD
#undef STORE
#undef LOADN
#undef STOREN
