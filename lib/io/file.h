/* lib/io/file.h - whole-file reads and atomic file replacement (internal, POSIX).
 *
 * Atomic write: the new contents go to a temporary file created next to the
 * target (same directory, so the same file system), which is written,
 * fsync()ed and closed, then rename()d over the target, and the directory
 * is fsync()ed so that the rename itself survives a crash. Readers, and the
 * target after a crash, see either the complete old file or the complete
 * new one, never a mix. If anything fails before the rename, the temporary
 * file is removed and the target is left exactly as it was.
 *
 * The temporary file is named ".<target name>.tmp-<12 random characters>"
 * (the target name cut to 64 bytes) and is created with mode 0666 less the
 * umask; when the target already exists as a regular file its permission
 * bits are copied to the new file. The owner, extended attributes and hard
 * links of an old file are not kept; a target that is a symbolic link is
 * replaced by a regular file (the link is not followed).
 *
 * Not safe against other processes writing the same target at the same time
 * (the last rename wins; each writer still produces a complete file).
 * Functions are reentrant. Errors from the OS are CONTRL_ERR_IO with the
 * path and strerror text in the message.
 */
#ifndef CONTRL_IO_FILE_H
#define CONTRL_IO_FILE_H

#include <stddef.h>

#include "contrl/core.h"

/* The stream handed to a write callback. */
typedef struct contrl__file_writer contrl__file_writer;

/* Writes the whole contents through contrl__file_put and returns CONTRL_OK,
 * or returns an error status to abandon the write (after recording a
 * message with contrl__fail). */
typedef contrl_status (*contrl__file_write_fn)(contrl__file_writer *w, void *ctx);

/* Replace the file at `path` atomically with what `fill` puts (see above).
 * `a` (NULL: the C library's) allocates the temporary path.
 * Returns CONTRL_OK once the new contents and the rename are on stable
 * storage; the status `fill` returned if it failed; CONTRL_ERR_IO if the
 * temporary file cannot be created, written or synced, or the rename fails
 * (e.g. the directory is missing or not writable, the disk is full, or
 * `path` is a directory) - in all these cases the target is untouched and no
 * temporary file remains. CONTRL_ERR_IO is also returned, with the new file
 * already in place, if only the final fsync of the directory fails (the
 * message says so). CONTRL_ERR_INVALID_ARG for a NULL or empty path, a path
 * ending in '/', or a NULL fill; CONTRL_ERR_NOMEM. */
contrl_status contrl__file_write_atomic(const char *path, contrl__file_write_fn fill, void *ctx,
                                        const contrl_allocator *a);

/* Append size bytes to the file being written (buffered). Returns
 * CONTRL_ERR_IO if writing fails; the callback should then return that
 * status. data may be NULL when size is 0. */
contrl_status contrl__file_put(contrl__file_writer *w, const void *data, size_t size);

/* contrl__file_write_atomic of one buffer. */
contrl_status contrl__file_write_atomic_buffer(const char *path, const void *data, size_t size,
                                               const contrl_allocator *a);

/* Read the regular file at `path` into a new buffer allocated through `a`
 * (NULL: the C library's): *data gets size + 1 bytes, the contents followed
 * by a NUL (so a text file is also a C string), *size the content size.
 * Free it with contrl__file_free. Opening never blocks (a FIFO is refused).
 * Returns CONTRL_ERR_IO if the file cannot be opened or read, is not a
 * regular file, or changes size while being read; CONTRL_ERR_FORMAT if it
 * is larger than max_size bytes (nothing is read then); CONTRL_ERR_NOMEM;
 * CONTRL_ERR_INVALID_ARG for NULL arguments. On error *data is NULL and
 * *size 0. */
contrl_status contrl__file_read(const char *path, size_t max_size, const contrl_allocator *a,
                                void **data, size_t *size);

/* Free a buffer from contrl__file_read (size: the *size it returned). NULL
 * is fine. */
void contrl__file_free(const contrl_allocator *a, void *data, size_t size);

#endif /* CONTRL_IO_FILE_H */
