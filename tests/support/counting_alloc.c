/* tests/support/counting_alloc.c - counting allocator and C library
 * allocation counts (see counting_alloc.h). */
#include "counting_alloc.h"

#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- counting contrl_allocator ------------------------------------------- */

void *alloc_counter_alloc(void *user, size_t size, size_t align)
{
    alloc_counter *c = user;
    c->attempts++;
    if (c->fail || (c->fail_at != 0 && c->attempts == c->fail_at))
        return NULL;
    if (align == 0 || align > 64 || (align & (align - 1)) != 0) {
        c->bad_align++;
        align = 64; /* honours any align the contract allows */
    }
    if (c->n_live == ALLOC_COUNTER_MAX_LIVE)
        return NULL;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p == NULL)
        return NULL;
    c->live[c->n_live].p = p;
    c->live[c->n_live].size = size;
    c->n_live++;
    c->allocs++;
    c->bytes += size;
    c->last = p;
    return p;
}

void alloc_counter_free(void *user, void *ptr, size_t size)
{
    alloc_counter *c = user;
    for (int i = 0; i < c->n_live; i++)
        if (c->live[i].p == ptr) {
            if (c->live[i].size != size)
                c->bad_free++;
            c->live[i] = c->live[--c->n_live];
            c->frees++;
            c->freed_bytes += size;
            free(ptr);
            return;
        }
    c->bad_free++; /* not ours: leak it rather than crash */
}

void *alloc_counter_alloc_checked(void *user, size_t size, size_t align)
{
    ck_assert_uint_le(align, 64);
    ck_assert_uint_eq(align & (align - 1), 0);
    return alloc_counter_alloc(user, size, align);
}

void alloc_counter_free_checked(void *user, void *ptr, size_t size)
{
    ck_assert_ptr_nonnull(ptr);
    alloc_counter_free(user, ptr, size);
}

void alloc_counter_reset(alloc_counter *c)
{
    memset(c, 0, sizeof *c);
}

contrl_allocator alloc_counter_allocator(alloc_counter *c)
{
    alloc_counter_reset(c);
    contrl_allocator a = {alloc_counter_alloc, alloc_counter_free, c};
    return a;
}

bool alloc_counter_holds(const alloc_counter *c, const void *p, size_t n)
{
    const unsigned char *q = p;
    for (int i = 0; i < c->n_live; i++)
        if (q >= c->live[i].p && q + n <= c->live[i].p + c->live[i].size)
            return true;
    return false;
}

void alloc_counter_assert_balanced(const alloc_counter *c, const char *what)
{
    ck_assert_msg(c->allocs == c->frees, "%s: %ld allocations, %ld frees", what, c->allocs,
                  c->frees);
    ck_assert_msg(c->bytes == c->freed_bytes, "%s: %zu bytes allocated, %zu freed", what,
                  c->bytes, c->freed_bytes);
    ck_assert_int_eq(c->n_live, 0);
    ck_assert_msg(c->bad_free == 0, "%s: %ld frees of unknown blocks or with a wrong size",
                  what, c->bad_free);
    ck_assert_msg(c->bad_align == 0, "%s: %ld requests with an invalid alignment", what,
                  c->bad_align);
}

/* ---- C library allocation counts ------------------------------------------ */

static atomic_int counting; /* count only while set */
static atomic_long n_allocs, n_frees;
static struct {
    void *p;
    size_t size;
} recorded[LIBC_COUNT_MAX_RECORDED];
static atomic_int n_recorded;

void libc_count_begin(void)
{
    atomic_store(&n_allocs, 0);
    atomic_store(&n_frees, 0);
    atomic_store(&n_recorded, 0);
    atomic_store(&counting, 1);
}

void libc_count_end(void)
{
    atomic_store(&counting, 0);
}

long libc_count_allocs(void)
{
    return atomic_load(&n_allocs);
}

long libc_count_frees(void)
{
    return atomic_load(&n_frees);
}

bool libc_count_holds(const void *p, size_t n)
{
    const unsigned char *q = p;
    int count = atomic_load(&n_recorded);
    for (int i = 0; i < count && i < LIBC_COUNT_MAX_RECORDED; i++) {
        const unsigned char *b = recorded[i].p;
        if (q >= b && q + n <= b + recorded[i].size)
            return true;
    }
    return false;
}

#if LIBC_COUNT_INTERPOSED
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);
extern void __libc_free(void *ptr);

/* Counts one allocation call and records the block p of `size` bytes. */
static void *note(void *p, size_t size)
{
    if (!atomic_load_explicit(&counting, memory_order_relaxed))
        return p;
    atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    if (p != NULL) {
        int i = atomic_fetch_add(&n_recorded, 1);
        if (i < LIBC_COUNT_MAX_RECORDED) {
            recorded[i].p = p;
            recorded[i].size = size;
        }
    }
    return p;
}

void *malloc(size_t size)
{
    return note(__libc_malloc(size), size);
}

void *calloc(size_t n, size_t size)
{
    return note(__libc_calloc(n, size), n * size);
}

void *realloc(void *ptr, size_t size)
{
    return note(__libc_realloc(ptr, size), size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return note(__libc_memalign(align, size), size);
}

void *memalign(size_t align, size_t size)
{
    return note(__libc_memalign(align, size), size);
}

void *valloc(size_t size)
{
    return note(__libc_valloc(size), size);
}

void *pvalloc(size_t size)
{
    return note(__libc_pvalloc(size), size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) {
        note(NULL, 0); /* a refused call is still a call */
        return EINVAL;
    }
    void *p = note(__libc_memalign(align, size), size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *ptr)
{
    if (ptr != NULL && atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&n_frees, 1, memory_order_relaxed);
    __libc_free(ptr);
}
#endif
