/* lib/core/alloc.c - the allocator hook, config copying, finiteness checks. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { ALIGN = 64 };

void *contrl__alloc(const contrl_allocator *a, size_t size)
{
    if (size == 0)
        return NULL;
    if (a != NULL && a->alloc != NULL)
        return a->alloc(a->user, size, ALIGN);
    /* aligned_alloc wants a multiple of the alignment. */
    if (size > SIZE_MAX - ALIGN)
        return NULL;
    return aligned_alloc(ALIGN, contrl__round_up(size, ALIGN));
}

void contrl__free(const contrl_allocator *a, void *ptr, size_t size)
{
    if (ptr == NULL)
        return;
    if (a != NULL && a->free != NULL)
        a->free(a->user, ptr, size);
    else
        free(ptr);
}

contrl_status contrl__check_allocator(const contrl_allocator *a, const char *func)
{
    if ((a->alloc == NULL) != (a->free == NULL))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: allocator must set both alloc and free, or neither", func);
    return CONTRL_OK;
}

contrl_status contrl__config_copy(void *dst, const void *src, size_t min_size,
                                  size_t full_size, const char *func)
{
    size_t size;
    memcpy(&size, src, sizeof size); /* every config starts with its size */
    if (size < min_size)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: config size %zu is smaller than the first published "
                            "layout (%zu); initialise it with the _default() function",
                            func, size, min_size);
    if (size > full_size) {
        const unsigned char *extra = (const unsigned char *)src + full_size;
        for (size_t i = 0; i < size - full_size; i++)
            if (extra[i] != 0)
                return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                    "%s: config has fields this library version (%s) "
                                    "does not know set to non-zero values",
                                    func, CONTRL_VERSION_STRING);
        size = full_size;
    }
    memcpy(dst, src, size);
    memcpy(dst, &full_size, sizeof full_size);
    return CONTRL_OK;
}

contrl_status contrl__config_init(void *cfg, size_t size, const void *defaults, size_t min_size,
                                  size_t full_size, const char *func)
{
    if (cfg == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", func);
    if (size < min_size)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: size %zu is smaller than the first published layout (%zu)",
                            func, size, min_size);
    size_t known = size < full_size ? size : full_size;
    memcpy(cfg, defaults, known);
    memset((unsigned char *)cfg + known, 0, size - known);
    memcpy(cfg, &size, sizeof size);
    return CONTRL_OK;
}

bool contrl__all_finite(const float *x, size_t n)
{
    /* x*0 is NaN iff x is NaN or Inf. Sixteen independent lanes let the
     * compiler vectorise without reassociating anything. */
    float lane[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] += x[i + j] * 0.0f;
    for (; i < n; i++)
        lane[0] += x[i] * 0.0f;
    float acc = 0.0f;
    for (int j = 0; j < 16; j++)
        acc += lane[j];
    return acc == 0.0f;
}
