/* tests/fuzz/fuzz_support.c - see fuzz_support.h. */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int fuzz_accepted;

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FUZZ INVARIANT BROKEN: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    abort();
}

static struct {
    size_t live_bytes;
    long live_blocks;
    long bad_frees;
} mem;

/* Each block carries its requested size in a 64-byte prefix, so that a
 * free with another size than the allocation is caught. */
enum { PREFIX = 64 };

static void *capped_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    if (align == 0 || align > 64 || (align & (align - 1)) != 0)
        fuzz_fail("allocator called with align %zu", align);
    if (size > FUZZ_MEMORY_CAP - mem.live_bytes)
        return NULL;
    unsigned char *p = aligned_alloc(PREFIX, PREFIX + (size + PREFIX - 1) / PREFIX * PREFIX);
    if (p == NULL)
        return NULL;
    *(size_t *)(void *)p = size;
    mem.live_bytes += size;
    mem.live_blocks++;
    return p + PREFIX;
}

static void capped_free(void *user, void *ptr, size_t size)
{
    (void)user;
    if (ptr == NULL)
        fuzz_fail("allocator free called with NULL");
    unsigned char *p = (unsigned char *)ptr - PREFIX;
    size_t had = *(size_t *)(void *)p;
    if (had != size)
        fuzz_fail("block of %zu bytes freed as %zu bytes", had, size);
    mem.live_bytes -= had;
    mem.live_blocks--;
    free(p);
}

contrl_allocator fuzz_allocator(void)
{
    contrl_allocator a = {capped_alloc, capped_free, NULL};
    return a;
}

void fuzz_allocator_check_balanced(const char *what)
{
    if (mem.live_blocks != 0 || mem.live_bytes != 0)
        fuzz_fail("%s: %ld blocks (%zu bytes) not freed", what, mem.live_blocks, mem.live_bytes);
}

const char *fuzz_memfile(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("contrl-fuzz", MFD_CLOEXEC);
        if (fd < 0)
            fuzz_fail("memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        fuzz_fail("cannot write the memfd");
    return path;
}
