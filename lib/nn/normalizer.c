/*
 * lib/nn/normalizer.c - running mean/std normaliser (contrl/normalizer.h), as the
 * HER reference code (baselines/her/normalizer.py) computes it:
 *
 *     mean = sum / count
 *     std  = max(sqrt(max(sum_sq / count - mean^2, 0)), eps)
 *     out  = clip((x - mean) / std, -clip, clip)
 *
 * The statistics are kept in double; the float mean and std that apply uses
 * are recomputed whenever the statistics change (update, set_state), so the
 * hot path is one subtraction, one division and a clip per value.
 */
#include <string.h>

#include "contrl/normalizer.h"
#include "internal.h"

struct contrl_normalizer {
    contrl_allocator alloc; /* frees this block */
    size_t block_size;
    uint32_t dim;
    float clip, eps;
    uint64_t count;
    double *sum, *sum_sq; /* [dim] */
    float *mean, *std;    /* [dim], from the above; 0 and 1 while count is 0 */
};

static contrl_normalizer_config normalizer_defaults(void)
{
    contrl_normalizer_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.dim = 0; /* required */
    c.clip = 5.0f;
    c.eps = 0.01f;
    return c;
}

/* The whole struct is the first published layout: no smaller size exists. */
contrl_status contrl_normalizer_config_init(contrl_normalizer_config *cfg, size_t size)
{
    contrl_normalizer_config d = normalizer_defaults();
    return contrl__config_init(cfg, size, &d, sizeof d, sizeof d,
                               "contrl_normalizer_config_init");
}

static bool positive_finite(float x)
{
    return x > 0.0f && isfinite(x);
}

/* Recompute the float mean and std of every dimension from the sums. */
static void refresh(contrl_normalizer *nm)
{
    if (nm->count == 0) {
        for (uint32_t j = 0; j < nm->dim; j++) {
            nm->mean[j] = 0.0f;
            nm->std[j] = 1.0f;
        }
        return;
    }
    const double count = (double)nm->count, eps = (double)nm->eps;
    for (uint32_t j = 0; j < nm->dim; j++) {
        double mean = nm->sum[j] / count;
        double var = nm->sum_sq[j] / count - mean * mean;
        double sd = sqrt(var > 0.0 ? var : 0.0);
        nm->mean[j] = (float)mean;
        nm->std[j] = (float)(sd > eps ? sd : eps);
    }
}

contrl_status contrl_normalizer_create(const contrl_normalizer_config *cfg_in,
                                       contrl_normalizer **out)
{
    static const char fn[] = "contrl_normalizer_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", fn);
    contrl_normalizer_config cfg = normalizer_defaults();
    contrl_status st = contrl__config_copy(&cfg, cfg_in, sizeof cfg, sizeof cfg, fn);
    if (st != CONTRL_OK)
        return st;
    if (cfg.dim == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: dim is 0 (it is required)", fn);
    if (!positive_finite(cfg.clip))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: clip is %g; it must be finite and > 0",
                            fn, (double)cfg.clip);
    if (!positive_finite(cfg.eps))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: eps is %g; it must be finite and > 0",
                            fn, (double)cfg.eps);
    st = contrl__check_allocator(&cfg.allocator, fn);
    if (st != CONTRL_OK)
        return st;

    size_t head = contrl__round_up(sizeof(contrl_normalizer), 64);
    /* Two double and two float arrays, each padded to 64 bytes. */
    if (cfg.dim > (SIZE_MAX - head) / (2 * sizeof(double) + 2 * sizeof(float) + 4 * 64))
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: dim %lu is too large", fn,
                            (unsigned long)cfg.dim);
    size_t dvec = contrl__round_up((size_t)cfg.dim * sizeof(double), 64);
    size_t fvec = contrl__round_up((size_t)cfg.dim * sizeof(float), 64);
    size_t total = head + 2 * dvec + 2 * fvec;
    unsigned char *block = contrl__alloc(&cfg.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_normalizer *nm = (contrl_normalizer *)(void *)block;
    nm->alloc = cfg.allocator;
    nm->block_size = total;
    nm->dim = cfg.dim;
    nm->clip = cfg.clip;
    nm->eps = cfg.eps;
    nm->count = 0;
    nm->sum = (double *)(void *)(block + head);
    nm->sum_sq = (double *)(void *)(block + head + dvec);
    nm->mean = (float *)(void *)(block + head + 2 * dvec);
    nm->std = (float *)(void *)(block + head + 2 * dvec + fvec);
    refresh(nm);
    *out = nm;
    return CONTRL_OK;
}

void contrl_normalizer_destroy(contrl_normalizer *nm)
{
    if (nm == NULL)
        return;
    contrl_allocator al = nm->alloc;
    contrl__free(&al, nm, nm->block_size);
}

/* n rows of dim values as a count of floats; false on overflow. */
static bool total_values(const contrl_normalizer *nm, uint64_t n, size_t *out)
{
    if (n > SIZE_MAX)
        return false;
    return contrl__mul_size((size_t)n, nm->dim, out);
}

contrl_status contrl_normalizer_update(contrl_normalizer *nm, const float *x, uint64_t n)
{
    static const char fn[] = "contrl_normalizer_update";
    if (nm == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: norm is NULL", fn);
    if (n == 0)
        return CONTRL_OK;
    if (x == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: x is NULL", fn);
    size_t total;
    if (!total_values(nm, n, &total) || n > UINT64_MAX - nm->count)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n = %llu rows is too many", fn,
                            (unsigned long long)n);
    if (!contrl__all_finite(x, total))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: x holds NaN or Inf; nothing was added",
                            fn);

    const uint32_t dim = nm->dim;
    double *restrict sum = nm->sum, *restrict sum_sq = nm->sum_sq;
    for (uint64_t r = 0; r < n; r++) {
        const float *row = x + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++) {
            double v = (double)row[j];
            sum[j] += v;
            sum_sq[j] += v * v;
        }
    }
    nm->count += n;
    refresh(nm);
    return CONTRL_OK;
}

contrl_status contrl_normalizer_apply(const contrl_normalizer *nm, const float *x, uint64_t n,
                                      float *out)
{
    static const char fn[] = "contrl_normalizer_apply";
    if (nm == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: norm is NULL", fn);
    if (n == 0)
        return CONTRL_OK;
    if (x == NULL || out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            x == NULL ? "x" : "out");
    size_t total;
    if (!total_values(nm, n, &total))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n = %llu rows is too many", fn,
                            (unsigned long long)n);
    /* Checked before writing, so that with out == x a refused call leaves x as it was. */
    if (!contrl__all_finite(x, total))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: x holds NaN or Inf; nothing was written",
                            fn);

    const uint32_t dim = nm->dim;
    const float *mean = nm->mean, *std = nm->std;
    const float hi = nm->clip, lo = -nm->clip;
    /* No restrict on x and out: they may be the same array. Each value is
     * read before it is written, so in place is safe. */
    for (uint64_t r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * dim;
        float *yr = out + (size_t)r * dim;
        for (uint32_t j = 0; j < dim; j++) {
            float z = (xr[j] - mean[j]) / std[j];
            yr[j] = z < lo ? lo : z > hi ? hi : z;
        }
    }
    return CONTRL_OK;
}

uint32_t contrl_normalizer_dim(const contrl_normalizer *nm)
{
    return nm != NULL ? nm->dim : 0;
}

contrl_status contrl_normalizer_get_state(const contrl_normalizer *nm, uint64_t *count,
                                          double *sum, double *sum_sq)
{
    static const char fn[] = "contrl_normalizer_get_state";
    if (nm == NULL || count == NULL || sum == NULL || sum_sq == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            nm == NULL       ? "norm"
                            : count == NULL  ? "count"
                            : sum == NULL    ? "sum"
                                             : "sum_sq");
    *count = nm->count;
    memcpy(sum, nm->sum, nm->dim * sizeof(double));
    memcpy(sum_sq, nm->sum_sq, nm->dim * sizeof(double));
    return CONTRL_OK;
}

contrl_status contrl_normalizer_set_state(contrl_normalizer *nm, uint64_t count,
                                          const double *sum, const double *sum_sq)
{
    static const char fn[] = "contrl_normalizer_set_state";
    if (nm == NULL || sum == NULL || sum_sq == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            nm == NULL    ? "norm"
                            : sum == NULL ? "sum"
                                          : "sum_sq");
    /* Everything is checked before anything is written. */
    for (uint32_t j = 0; j < nm->dim; j++) {
        if (!isfinite(sum[j]))
            return contrl__fail(CONTRL_ERR_NONFINITE, "%s: sum[%lu] is %g", fn,
                                (unsigned long)j, sum[j]);
        if (!isfinite(sum_sq[j]))
            return contrl__fail(CONTRL_ERR_NONFINITE, "%s: sum_sq[%lu] is %g", fn,
                                (unsigned long)j, sum_sq[j]);
        if (sum_sq[j] < 0.0)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: sum_sq[%lu] is %g; a sum of squares is >= 0", fn,
                                (unsigned long)j, sum_sq[j]);
        if (count == 0 && (sum[j] != 0.0 || sum_sq[j] != 0.0))
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: count is 0 but sum[%lu] = %g, sum_sq[%lu] = %g (both "
                                "must be 0 with no data)", fn, (unsigned long)j, sum[j],
                                (unsigned long)j, sum_sq[j]);
    }
    nm->count = count;
    memcpy(nm->sum, sum, nm->dim * sizeof(double));
    memcpy(nm->sum_sq, sum_sq, nm->dim * sizeof(double));
    refresh(nm);
    return CONTRL_OK;
}

contrl_status contrl_normalizer_stats(const contrl_normalizer *nm, float *mean, float *std)
{
    if (nm == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_normalizer_stats: norm is NULL");
    if (mean != NULL)
        memcpy(mean, nm->mean, nm->dim * sizeof(float));
    if (std != NULL)
        memcpy(std, nm->std, nm->dim * sizeof(float));
    return CONTRL_OK;
}
