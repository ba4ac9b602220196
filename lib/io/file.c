/* lib/io/file.c - whole-file reads and atomic replacement (see file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "internal.h"

enum { BUFFER_SIZE = 16384, BASE_MAX = 64, RANDOM_CHARS = 12, CREATE_TRIES = 100 };

struct contrl__file_writer {
    int fd;
    const char *path; /* the target, for messages */
    size_t used;
    unsigned char buf[BUFFER_SIZE];
};

/* strerror text without strerror's shared buffer. */
static const char *os_error(int err, char *buf, size_t cap)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(err, buf, cap); /* the GNU variant returns the text */
#else
    if (strerror_r(err, buf, cap) != 0)
        snprintf(buf, cap, "error %d", err);
    return buf;
#endif
}

#define IO_FAIL(err, fmt, ...)                                                                     \
    do {                                                                                           \
        char os_text_[128];                                                                        \
        return contrl__fail(CONTRL_ERR_IO, fmt ": %s", __VA_ARGS__,                                \
                            os_error(err, os_text_, sizeof os_text_));                             \
    } while (0)

/* 0, or the errno of the failed write. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static contrl_status flush(contrl__file_writer *w)
{
    int err = write_all(w->fd, w->buf, w->used);
    w->used = 0;
    if (err != 0)
        IO_FAIL(err, "%s: cannot write the new file", w->path);
    return CONTRL_OK;
}

contrl_status contrl__file_put(contrl__file_writer *w, const void *data, size_t size)
{
    if (size <= BUFFER_SIZE - w->used) {
        if (size > 0)
            memcpy(w->buf + w->used, data, size);
        w->used += size;
        return CONTRL_OK;
    }
    contrl_status st = flush(w);
    if (st != CONTRL_OK)
        return st;
    if (size < BUFFER_SIZE) {
        memcpy(w->buf, data, size);
        w->used = size;
        return CONTRL_OK;
    }
    int err = write_all(w->fd, data, size);
    if (err != 0)
        IO_FAIL(err, "%s: cannot write the new file", w->path);
    return CONTRL_OK;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Fill `out` with RANDOM_CHARS characters that differ between processes,
 * threads, calls and attempts (unpredictability is not needed: O_EXCL
 * makes a clash a retry, not a risk). */
static void random_suffix(char *out, unsigned attempt)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz012345";
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = mix64((uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ (uint64_t)ts.tv_sec << 32 ^
                       (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts ^
                       (uint64_t)attempt * 0xd1b54a32d192ed03u);
    for (int i = 0; i < RANDOM_CHARS; i++, x >>= 5)
        out[i] = alphabet[x & 31];
}

static contrl_status write_ctx_buffer(contrl__file_writer *w, void *ctx)
{
    const struct {
        const void *data;
        size_t size;
    } *b = ctx;
    return contrl__file_put(w, b->data, b->size);
}

contrl_status contrl__file_write_atomic_buffer(const char *path, const void *data, size_t size,
                                               const contrl_allocator *a)
{
    if (data == NULL && size > 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl__file_write_atomic_buffer: data is NULL");
    struct {
        const void *data;
        size_t size;
    } b = {data, size};
    return contrl__file_write_atomic(path, write_ctx_buffer, &b, a);
}

/* Sync the directory holding a renamed file, so that the rename is durable. */
static contrl_status sync_dir(const char *dir, const char *path)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        IO_FAIL(errno, "%s: saved, but cannot open its directory to sync it", path);
    int err = fsync(fd) != 0 ? errno : 0;
    close(fd);
    /* EINVAL: this file system cannot sync directories (nothing to do). */
    if (err != 0 && err != EINVAL)
        IO_FAIL(err, "%s: saved, but cannot sync its directory", path);
    return CONTRL_OK;
}

contrl_status contrl__file_write_atomic(const char *path, contrl__file_write_fn fill, void *ctx,
                                        const contrl_allocator *a)
{
    static const char func[] = "contrl__file_write_atomic";
    if (path == NULL || path[0] == '\0' || fill == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s", func,
                            fill == NULL ? "fill is NULL" : "path is NULL or empty");
    size_t path_len = strlen(path);
    if (path[path_len - 1] == '/')
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: path '%s' names a directory", func, path);
    if (a != NULL) {
        contrl_status st = contrl__check_allocator(a, func);
        if (st != CONTRL_OK)
            return st;
    }

    /* One block: "<dir>/.<base>.tmp-<random>\0<dir>\0". */
    const char *slash = strrchr(path, '/');
    size_t prefix = slash == NULL ? 0 : (size_t)(slash - path) + 1; /* "<dir>/" */
    const char *base = path + prefix;
    size_t base_len = strlen(base);
    if (base_len > BASE_MAX)
        base_len = BASE_MAX;
    size_t tmp_len = prefix + 1 + base_len + 5 + RANDOM_CHARS;
    size_t dir_len = slash == NULL ? 1 : slash == path ? 1 : prefix - 1;
    size_t block_size = tmp_len + 1 + dir_len + 1;
    char *block = contrl__alloc(a, block_size);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", func, block_size);
    char *tmp = block, *dir = block + tmp_len + 1;
    memcpy(tmp, path, prefix);
    tmp[prefix] = '.';
    memcpy(tmp + prefix + 1, base, base_len);
    memcpy(tmp + prefix + 1 + base_len, ".tmp-", 5);
    tmp[tmp_len] = '\0';
    if (slash == NULL)
        memcpy(dir, ".", 1);
    else if (slash == path)
        memcpy(dir, "/", 1);
    else
        memcpy(dir, path, dir_len);
    dir[dir_len] = '\0';

    contrl_status st = CONTRL_OK;
    int fd = -1;
    for (unsigned attempt = 0; attempt < CREATE_TRIES && fd < 0; attempt++) {
        random_suffix(tmp + tmp_len - RANDOM_CHARS, attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd < 0 && errno != EEXIST) {
            char os_text[128];
            st = contrl__fail(CONTRL_ERR_IO, "%s: cannot create a temporary file in '%s': %s", path,
                              dir, os_error(errno, os_text, sizeof os_text));
            goto fail_free_block;
        }
    }
    if (fd < 0) {
        st = contrl__fail(CONTRL_ERR_IO,
                          "%s: cannot create a temporary file in '%s': %u names "
                          "taken",
                          path, dir, (unsigned)CREATE_TRIES);
        goto fail_free_block;
    }

    /* Keep an existing file's permissions; best effort, as a failure here
     * costs only the default mode, not the data. */
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode))
        (void)fchmod(fd, old.st_mode & 07777);

    contrl__file_writer *w = contrl__alloc(a, sizeof *w);
    if (w == NULL) {
        st = contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", func, sizeof *w);
        close(fd);
        goto fail_unlink;
    }
    w->fd = fd;
    w->path = path;
    w->used = 0;
    st = fill(w, ctx);
    if (st == CONTRL_OK)
        st = flush(w);
    contrl__free(a, w, sizeof *w);
    if (st == CONTRL_OK && fsync(fd) != 0) {
        char os_text[128];
        st = contrl__fail(CONTRL_ERR_IO, "%s: cannot sync the new file: %s", path,
                          os_error(errno, os_text, sizeof os_text));
    }
    /* close() can report a deferred write error (NFS, quotas). */
    if (close(fd) != 0 && st == CONTRL_OK) {
        char os_text[128];
        st = contrl__fail(CONTRL_ERR_IO, "%s: cannot close the new file: %s", path,
                          os_error(errno, os_text, sizeof os_text));
    }
    if (st != CONTRL_OK)
        goto fail_unlink;
    if (rename(tmp, path) != 0) {
        char os_text[128];
        st = contrl__fail(CONTRL_ERR_IO, "%s: cannot replace it with '%s': %s", path, tmp,
                          os_error(errno, os_text, sizeof os_text));
        goto fail_unlink;
    }
    st = sync_dir(dir, path);
    contrl__free(a, block, block_size);
    return st;

fail_unlink:
    unlink(tmp);
fail_free_block:
    contrl__free(a, block, block_size);
    return st;
}

contrl_status contrl__file_read(const char *path, size_t max_size, const contrl_allocator *a,
                                void **data, size_t *size)
{
    static const char func[] = "contrl__file_read";
    if (data != NULL)
        *data = NULL;
    if (size != NULL)
        *size = 0;
    if (path == NULL || data == NULL || size == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", func,
                            path == NULL   ? "path"
                            : data == NULL ? "data"
                                           : "size");
    if (a != NULL) {
        contrl_status st = contrl__check_allocator(a, func);
        if (st != CONTRL_OK)
            return st;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        IO_FAIL(errno, "%s: cannot open", path);
    contrl_status st;
    unsigned char *buf = NULL;
    size_t n = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        char os_text[128];
        st = contrl__fail(CONTRL_ERR_IO, "%s: cannot stat: %s", path,
                          os_error(errno, os_text, sizeof os_text));
        goto fail_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = contrl__fail(CONTRL_ERR_IO, "%s: not a regular file", path);
        goto fail_close;
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > max_size || (uintmax_t)sb.st_size >= SIZE_MAX) {
        st = contrl__fail(CONTRL_ERR_FORMAT,
                          "%s: file of %jd bytes is larger than the limit of "
                          "%zu bytes",
                          path, (intmax_t)sb.st_size, max_size);
        goto fail_close;
    }
    n = (size_t)sb.st_size;
    buf = contrl__alloc(a, n + 1);
    if (buf == NULL) {
        st =
            contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, n + 1);
        goto fail_close;
    }
    /* Read exactly n bytes, then make sure the file has no more: a file
     * that changes size under us is an error rather than a torn read. */
    size_t got = 0;
    for (;;) {
        unsigned char extra;
        bool at_end = got == n;
        ssize_t r = at_end ? read(fd, &extra, 1) : read(fd, buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            char os_text[128];
            st = contrl__fail(CONTRL_ERR_IO, "%s: cannot read: %s", path,
                              os_error(errno, os_text, sizeof os_text));
            goto fail_free;
        }
        if (at_end && r == 0)
            break;
        if (at_end || r == 0) {
            st = contrl__fail(CONTRL_ERR_IO, "%s: file changed size while being read", path);
            goto fail_free;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return CONTRL_OK;

fail_free:
    contrl__free(a, buf, n + 1);
fail_close:
    close(fd);
    return st;
}

void contrl__file_free(const contrl_allocator *a, void *data, size_t size)
{
    contrl__free(a, data, size + 1);
}
