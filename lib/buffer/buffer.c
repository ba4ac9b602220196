/*
 * lib/buffer/buffer.c - fixed-capacity ring replay buffer (see contrl/buffer.h
 * and docs/buffer.md).
 *
 * One block from the user's allocator holds, each part 64-byte aligned:
 *   [ handle | rows: capacity x (obs | action | reward | next_obs) floats | flags: capacity bytes ]
 * A transition's floats sit in one contiguous row, so add and sample are one
 * memcpy per field from one place (a field-per-array layout measured the
 * same within noise, see docs/buffer.md); the two flags take one byte
 * (bit 0 terminated, bit 1 truncated) instead of two floats.
 */
#include <string.h>

#include "contrl/buffer.h"
#include "internal.h"

enum { ALIGN = 64 };
enum { FLAG_TERMINATED = 1u, FLAG_TRUNCATED = 2u };

struct contrl_buffer {
    contrl_allocator allocator;
    float *rows;          /* capacity rows of `stride` floats */
    unsigned char *flags; /* capacity bytes */
    size_t stride;        /* 2 obs_dim + action_dim + 1 */
    size_t bytes;         /* size of the whole block, handle included */
    uint64_t capacity;
    uint64_t size;        /* transitions stored, <= capacity */
    uint64_t next;        /* slot the next add writes */
    uint32_t obs_dim;
    uint32_t action_dim;
    contrl_rng rng;
};

static contrl_buffer_config buffer_defaults(void)
{
    contrl_buffer_config cfg;
    memset(&cfg, 0, sizeof cfg); /* zero the padding too: it is compared by config_copy */
    cfg.size = sizeof cfg;
    cfg.obs_dim = 0;
    cfg.action_dim = 0;
    cfg.capacity = 1000000;
    cfg.seed = 0;
    return cfg;
}

/* *total += round_up(n, ALIGN), false on overflow. */
static bool add_aligned(size_t *total, size_t n)
{
    if (n > SIZE_MAX - (ALIGN - 1))
        return false;
    n = contrl__round_up(n, ALIGN);
    if (*total > SIZE_MAX - n)
        return false;
    *total += n;
    return true;
}

contrl_status contrl_buffer_create(const contrl_buffer_config *cfg, contrl_buffer **out)
{
    static const char func[] = "contrl_buffer_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", func);
    *out = NULL;
    if (cfg == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", func);

    contrl_buffer_config c = contrl_buffer_config_default();
    contrl_status st = contrl__config_copy(&c, cfg,
                                           offsetof(contrl_buffer_config, seed) + sizeof(uint64_t),
                                           sizeof c, func);
    if (st != CONTRL_OK)
        return st;
    st = contrl__check_allocator(&c.allocator, func);
    if (st != CONTRL_OK)
        return st;
    if (c.obs_dim == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg->obs_dim is 0", func);
    if (c.action_dim == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg->action_dim is 0", func);
    if (c.capacity == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg->capacity is 0", func);

    /* Sizes: fits in uint64 since both dims are 32-bit. */
    uint64_t stride64 = 2 * (uint64_t)c.obs_dim + c.action_dim + 1;
    size_t row_bytes, rows_bytes, total = 0;
    if (stride64 > SIZE_MAX || c.capacity > SIZE_MAX ||
        !contrl__mul_size((size_t)stride64, sizeof(float), &row_bytes) ||
        !contrl__mul_size((size_t)c.capacity, row_bytes, &rows_bytes) ||
        !add_aligned(&total, sizeof(contrl_buffer)) || !add_aligned(&total, rows_bytes) ||
        !add_aligned(&total, (size_t)c.capacity))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: capacity %llu x obs_dim %lu, action_dim %lu overflows size_t",
                            func, (unsigned long long)c.capacity, (unsigned long)c.obs_dim,
                            (unsigned long)c.action_dim);

    unsigned char *block = contrl__alloc(&c.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: could not allocate %zu bytes", func, total);

    contrl_buffer *buf = (contrl_buffer *)block;
    memset(buf, 0, sizeof *buf);
    buf->allocator = c.allocator;
    buf->rows = (float *)(block + contrl__round_up(sizeof *buf, ALIGN));
    buf->flags = (unsigned char *)buf->rows + contrl__round_up(rows_bytes, ALIGN);
    buf->stride = (size_t)stride64;
    buf->bytes = total;
    buf->capacity = c.capacity;
    buf->size = 0;
    buf->next = 0;
    buf->obs_dim = c.obs_dim;
    buf->action_dim = c.action_dim;
    contrl_rng_seed(&buf->rng, c.seed);
    *out = buf;
    return CONTRL_OK;
}

void contrl_buffer_destroy(contrl_buffer *buf)
{
    if (buf == NULL)
        return;
    contrl_allocator a = buf->allocator; /* the block holding it is about to go */
    contrl__free(&a, buf, buf->bytes);
}

/* Name the first non-finite value of x for the error message (slow path). */
static contrl_status fail_nonfinite(const char *func, const char *name, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return contrl__fail(CONTRL_ERR_NONFINITE, "%s: %s[%zu] is %s", func, name, i,
                                isnan(x[i]) ? "NaN" : x[i] < 0.0f ? "-Inf" : "Inf");
    return contrl__fail(CONTRL_ERR_NONFINITE, "%s: %s has a non-finite value", func, name);
}

contrl_status contrl_buffer_add(contrl_buffer *buf, const float *obs, const float *action,
                                float reward, const float *next_obs, bool terminated,
                                bool truncated)
{
    static const char func[] = "contrl_buffer_add";
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buf is NULL", func);
    if (obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: obs is NULL", func);
    if (action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: action is NULL", func);
    if (next_obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: next_obs is NULL", func);
    size_t od = buf->obs_dim, ad = buf->action_dim;
    /* Everything is checked before anything is written. */
    if (!contrl__all_finite(obs, od))
        return fail_nonfinite(func, "obs", obs, od);
    if (!contrl__all_finite(action, ad))
        return fail_nonfinite(func, "action", action, ad);
    if (!isfinite(reward))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: reward is %s", func,
                            isnan(reward) ? "NaN" : reward < 0.0f ? "-Inf" : "Inf");
    if (!contrl__all_finite(next_obs, od))
        return fail_nonfinite(func, "next_obs", next_obs, od);

    size_t slot = (size_t)buf->next;
    float *row = buf->rows + slot * buf->stride;
    memcpy(row, obs, od * sizeof(float));
    memcpy(row + od, action, ad * sizeof(float));
    row[od + ad] = reward;
    memcpy(row + od + ad + 1, next_obs, od * sizeof(float));
    buf->flags[slot] = (unsigned char)((terminated ? FLAG_TERMINATED : 0u) |
                                       (truncated ? FLAG_TRUNCATED : 0u));
    buf->next = buf->next + 1 == buf->capacity ? 0 : buf->next + 1;
    if (buf->size < buf->capacity)
        buf->size++;
    return CONTRL_OK;
}

/* Physical slot of logical index i (0 = oldest); i < size. */
static inline size_t slot_of(const contrl_buffer *buf, uint64_t i)
{
    /* Until the buffer is full the oldest is slot 0; afterwards it is `next`. */
    uint64_t oldest = buf->size < buf->capacity ? 0 : buf->next;
    uint64_t s = oldest + i;
    return (size_t)(s >= buf->capacity ? s - buf->capacity : s);
}

contrl_status contrl_buffer_sample(contrl_buffer *buf, uint32_t batch, float *obs,
                                   float *action, float *reward, float *next_obs,
                                   float *terminated, float *truncated)
{
    static const char func[] = "contrl_buffer_sample";
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buf is NULL", func);
    if (batch == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: batch is 0", func);
    if (obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: obs is NULL", func);
    if (action == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: action is NULL", func);
    if (reward == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: reward is NULL", func);
    if (next_obs == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: next_obs is NULL", func);
    if (terminated == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: terminated is NULL", func);
    if (buf->size == 0)
        return contrl__fail(CONTRL_ERR_STATE, "%s: the buffer is empty", func);

    /* Nothing can fail from here on, so the RNG advances only on success. */
    size_t od = buf->obs_dim, ad = buf->action_dim;
    const size_t row_bytes = buf->stride * sizeof(float);
    /* contrl_rng_below's draws, inline, a chunk at a time: the chunk's rows
     * are prefetched before any is copied, so their cache misses overlap
     * (copying each row as it was drawn waited on one miss at a time: 68%
     * of the sampling's samples sat on the first load of a row). Rows are
     * copied by plain loops: they are a few floats, and three memcpy calls
     * per row cost more than the copying. */
    enum { CHUNK = 32 };
    for (size_t b0 = 0; b0 < batch; b0 += CHUNK) {
        const size_t n = batch - b0 < CHUNK ? batch - b0 : CHUNK;
        size_t slots[CHUNK];
        for (size_t i = 0; i < n; i++) {
            slots[i] = slot_of(buf, contrl__rng_below(&buf->rng, buf->size));
            const char *row = (const char *)(buf->rows + slots[i] * buf->stride);
            __builtin_prefetch(row);
            __builtin_prefetch(row + row_bytes - 1);
            __builtin_prefetch(&buf->flags[slots[i]]);
        }
        for (size_t i = 0; i < n; i++) {
            const size_t b = b0 + i, slot = slots[i];
            const float *restrict row = buf->rows + slot * buf->stride;
            unsigned f = buf->flags[slot];
            float *restrict o = obs + b * od, *restrict a = action + b * ad,
                            *restrict no = next_obs + b * od;
            for (size_t k = 0; k < od; k++)
                o[k] = row[k];
            for (size_t k = 0; k < ad; k++)
                a[k] = row[od + k];
            reward[b] = row[od + ad];
            for (size_t k = 0; k < od; k++)
                no[k] = row[od + ad + 1 + k];
            terminated[b] = (f & FLAG_TERMINATED) ? 1.0f : 0.0f;
            if (truncated != NULL)
                truncated[b] = (f & FLAG_TRUNCATED) ? 1.0f : 0.0f;
        }
    }
    return CONTRL_OK;
}

contrl_status contrl_buffer_get(const contrl_buffer *buf, uint64_t i, float *obs,
                                float *action, float *reward, float *next_obs,
                                bool *terminated, bool *truncated)
{
    static const char func[] = "contrl_buffer_get";
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buf is NULL", func);
    if (i >= buf->size)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: index %llu is not below size %llu",
                            func, (unsigned long long)i, (unsigned long long)buf->size);
    size_t od = buf->obs_dim, ad = buf->action_dim;
    size_t slot = slot_of(buf, i);
    const float *row = buf->rows + slot * buf->stride;
    if (obs != NULL)
        memcpy(obs, row, od * sizeof(float));
    if (action != NULL)
        memcpy(action, row + od, ad * sizeof(float));
    if (reward != NULL)
        *reward = row[od + ad];
    if (next_obs != NULL)
        memcpy(next_obs, row + od + ad + 1, od * sizeof(float));
    if (terminated != NULL)
        *terminated = (buf->flags[slot] & FLAG_TERMINATED) != 0;
    if (truncated != NULL)
        *truncated = (buf->flags[slot] & FLAG_TRUNCATED) != 0;
    return CONTRL_OK;
}

uint64_t contrl_buffer_size(const contrl_buffer *buf)
{
    return buf == NULL ? 0 : buf->size;
}

uint64_t contrl_buffer_capacity(const contrl_buffer *buf)
{
    return buf == NULL ? 0 : buf->capacity;
}

uint32_t contrl_buffer_obs_dim(const contrl_buffer *buf)
{
    return buf == NULL ? 0 : buf->obs_dim;
}

uint32_t contrl_buffer_action_dim(const contrl_buffer *buf)
{
    return buf == NULL ? 0 : buf->action_dim;
}

size_t contrl_buffer_memory_bytes(const contrl_buffer *buf)
{
    return buf == NULL ? 0 : buf->bytes;
}

contrl_status contrl_buffer_clear(contrl_buffer *buf)
{
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_buffer_clear: buf is NULL");
    buf->size = 0;
    buf->next = 0;
    return CONTRL_OK;
}

contrl_status contrl_buffer_get_rng(const contrl_buffer *buf, contrl_rng *rng)
{
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_buffer_get_rng: buf is NULL");
    if (rng == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_buffer_get_rng: rng is NULL");
    *rng = buf->rng;
    return CONTRL_OK;
}

contrl_status contrl_buffer_set_rng(contrl_buffer *buf, const contrl_rng *rng)
{
    static const char func[] = "contrl_buffer_set_rng";
    if (buf == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: buf is NULL", func);
    if (rng == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: rng is NULL", func);
    /* xoshiro256** never leaves the all-zero state: it would only draw index 0. */
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: rng state is all zero (not a seeded generator)", func);
    buf->rng = *rng;
    return CONTRL_OK;
}

contrl_status contrl_buffer_config_init(contrl_buffer_config *cfg, size_t size)
{
    contrl_buffer_config d = buffer_defaults();
    return contrl__config_init(cfg, size, &d, offsetof(contrl_buffer_config, allocator), sizeof d, "contrl_buffer_config_init");
}
