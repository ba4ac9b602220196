/* tests/support/counting_alloc.h - memory accounting for the test suites:
 * a counting contrl_allocator, and a count of the C library's malloc-family
 * calls made while a window is open.
 *
 * Compile counting_alloc.c into the test executable. It defines malloc,
 * calloc, realloc, free, aligned_alloc, memalign, valloc, pvalloc and
 * posix_memalign, forwarding to glibc's __libc_* functions, so that an
 * executable linked with export_dynamic also sees the calls made inside
 * libcontrl.so, its BLIS and libgomp. Under AddressSanitizer or
 * ThreadSanitizer, which own malloc, those definitions are left out
 * (LIBC_COUNT_INTERPOSED is 0): the window then counts nothing.
 *
 * Not thread-safe except where stated: one alloc_counter per test; the
 * C library counts are process-wide and atomic. */
#ifndef CONTRL_TESTS_COUNTING_ALLOC_H
#define CONTRL_TESTS_COUNTING_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "contrl/core.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LIBC_COUNT_INTERPOSED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LIBC_COUNT_INTERPOSED 0
#endif
#endif
#ifndef LIBC_COUNT_INTERPOSED
#define LIBC_COUNT_INTERPOSED 1
#endif

/* ---- counting contrl_allocator ------------------------------------------- */

enum { ALLOC_COUNTER_MAX_LIVE = 128 };

/* Zero it (alloc_counter_reset, or `= {0}`) before use. */
typedef struct alloc_counter {
    long allocs;        /* successful allocations */
    long frees;         /* frees of blocks this counter handed out */
    long attempts;      /* alloc calls, failed ones included */
    size_t bytes;       /* sizes asked for by the successful allocations */
    size_t freed_bytes; /* sizes passed to free */
    long fail_at;       /* knob: fail the fail_at-th attempt (1-based); 0: never */
    bool fail;          /* knob: fail every attempt while set */
    long bad_align;     /* align not a power of two in [1, 64] */
    long bad_free;      /* free of an unknown pointer or with another size */
    void *last;         /* the block the last successful allocation returned */
    struct {
        unsigned char *p;
        size_t size;
    } live[ALLOC_COUNTER_MAX_LIVE]; /* blocks handed out and not yet freed */
    int n_live;
} alloc_counter;

/* contrl_allocator callbacks; `user` is the alloc_counter. They make no
 * Check assertion and exactly one C library call each (aligned_alloc or
 * free), so they may run inside a libc_count window. A bad align is counted
 * (and served 64-aligned), a bad free counted (and the block leaked). alloc
 * returns NULL when a knob says so or when ALLOC_COUNTER_MAX_LIVE blocks are
 * live. Blocks are exactly `size` rounded up to `align`, so AddressSanitizer
 * sees overruns. */
void *alloc_counter_alloc(void *user, size_t size, size_t align);
void alloc_counter_free(void *user, void *ptr, size_t size);

/* The same, after Check-asserting the arguments the contract promises
 * (align a power of two, at most 64; ptr not NULL). A passing Check
 * assertion allocates: never use these inside a libc_count window. */
void *alloc_counter_alloc_checked(void *user, size_t size, size_t align);
void alloc_counter_free_checked(void *user, void *ptr, size_t size);

/* Zero every count and knob. Blocks still live are forgotten, not freed. */
void alloc_counter_reset(alloc_counter *c);

/* alloc_counter_reset(c), then an allocator of the unchecked callbacks
 * counting into c. */
contrl_allocator alloc_counter_allocator(alloc_counter *c);

/* true if [p, p + n) lies inside a live block of c. */
bool alloc_counter_holds(const alloc_counter *c, const void *p, size_t n);

/* Check-asserts that everything allocated was freed with the size it was
 * allocated with, and that no call had a bad argument; `what` names the
 * case in the failure message. */
void alloc_counter_assert_balanced(const alloc_counter *c, const char *what);

/* ---- C library allocation counts ------------------------------------------
 * Between libc_count_begin and libc_count_end, every malloc-family call in
 * the process (any thread) is counted, and the first LIBC_COUNT_MAX_RECORDED
 * blocks returned are recorded. No Check assertion inside a window: a
 * passing one allocates. Without LIBC_COUNT_INTERPOSED the counts stay 0. */

enum { LIBC_COUNT_MAX_RECORDED = 32 };

/* Zero the counts and the record, and start counting. */
void libc_count_begin(void);
/* Stop counting; the counts keep their values until the next begin. */
void libc_count_end(void);
/* malloc, calloc, realloc, aligned_alloc, memalign, valloc, pvalloc and
 * posix_memalign calls counted in the last window. */
long libc_count_allocs(void);
/* free calls with a non-NULL pointer counted in the last window. */
long libc_count_frees(void);
/* true if [p, p + n) lies inside a block recorded in the last window. */
bool libc_count_holds(const void *p, size_t n);

#endif /* CONTRL_TESTS_COUNTING_ALLOC_H */
