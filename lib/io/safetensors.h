/* lib/io/safetensors.h - checkpoint files in the safetensors format (internal).
 *
 * The layout and every rule the loader enforces are in
 * docs/checkpoint-format.md. In short: an 8-byte little-endian header
 * length N, N bytes of JSON mapping each tensor name to its dtype, shape
 * and byte range, an optional "__metadata__" object of strings, then the
 * tensors' bytes, little-endian, row-major, packed with no gap.
 *
 * Files written here load in Python with safetensors.torch.load_file /
 * safetensors.numpy.load_file (an F32 tensor of shape [out, in] goes
 * straight into torch.nn.Linear.weight), and files written by those load
 * here when all their dtypes are ones this loader knows.
 *
 * A contrl__st_file is read-only once loaded: it may be read from several
 * threads at once. Other functions are reentrant.
 */
#ifndef CONTRL_IO_SAFETENSORS_H
#define CONTRL_IO_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrl/core.h"

/* Element types libcontrl reads and writes ("F32", "F64", "I32", "I64",
 * "U64", "U8" in the file). The loader also accepts files holding the
 * other safetensors dtypes (BOOL, I8, I16, U16, U32, F16, BF16, F8_E4M3,
 * F8_E5M2) and lists them, but contrl__st_get cannot read those. */
typedef enum contrl__dtype {
    CONTRL__DT_F32,
    CONTRL__DT_F64,
    CONTRL__DT_I32,
    CONTRL__DT_I64,
    CONTRL__DT_U64,
    CONTRL__DT_U8
} contrl__dtype;

/* Most dimensions of a tensor given to contrl__st_save. */
#define CONTRL__ST_MAX_DIMS 4
/* Largest header accepted or written (the limit of the reference
 * implementation). */
#define CONTRL__ST_MAX_HEADER ((uint64_t)100000000)

typedef struct contrl__tensor {
    const char *name; /* NUL-terminated UTF-8, not empty, not "__metadata__" */
    contrl__dtype dtype;
    uint32_t ndim;                       /* 0 (a scalar) to CONTRL__ST_MAX_DIMS */
    uint64_t shape[CONTRL__ST_MAX_DIMS]; /* first ndim used; any may be 0 */
    const void *data;                    /* numel elements, host byte order, row-major; may
                                            be NULL when numel is 0 */
} contrl__tensor;

typedef struct contrl__meta {
    const char *key;   /* NUL-terminated UTF-8 */
    const char *value; /* NUL-terminated UTF-8 */
} contrl__meta;

/* Write n tensors and n_meta metadata strings to `path`, atomically
 * (lib/io/file.h: the old file stays intact on any failure). Tensors are
 * stored in the order given, packed back to back after a header padded with
 * spaces to a multiple of 8 bytes; put 8-byte types first for aligned data.
 * t may be NULL if n is 0, meta if n_meta is 0. `a` (NULL: the C library's)
 * allocates the header.
 * Returns CONTRL_OK; CONTRL_ERR_INVALID_ARG for a NULL path, a NULL or empty
 * name, a name "__metadata__", two tensors with one name, two metadata
 * entries with one key, a name, key or value that is not valid UTF-8, an
 * unknown dtype, ndim above CONTRL__ST_MAX_DIMS, NULL data for a non-empty
 * tensor, sizes that overflow or a header above CONTRL__ST_MAX_HEADER;
 * CONTRL_ERR_NONFINITE if an F32 or F64 tensor holds a NaN or an infinity
 * (a checkpoint is never written with values the loader would refuse);
 * CONTRL_ERR_NOMEM; CONTRL_ERR_IO (see contrl__file_write_atomic). Nothing
 * is written unless every argument is valid. */
contrl_status contrl__st_save(const char *path, const contrl__tensor *t, size_t n,
                              const contrl__meta *meta, size_t n_meta, const contrl_allocator *a);

typedef struct contrl__st_file contrl__st_file;

/* Read the file at `path` whole and validate it completely (every rule of
 * docs/checkpoint-format.md) before returning; *out then owns a copy of the
 * file and everything parsed from it, allocated through `a` (NULL: the C
 * library's; the struct is copied, its functions and user data must stay
 * valid until contrl__st_close).
 * Returns CONTRL_OK; CONTRL_ERR_FORMAT, with a message naming the path and
 * what is wrong, for a file that is not a valid safetensors file;
 * CONTRL_ERR_IO if it cannot be read; CONTRL_ERR_NOMEM;
 * CONTRL_ERR_INVALID_ARG for a NULL path or out. *out is NULL on error. */
contrl_status contrl__st_load(const char *path, const contrl_allocator *a, contrl__st_file **out);

/* contrl__st_load of size bytes already in memory (copied; the caller
 * keeps `bytes`). Messages name the file "<memory>". */
contrl_status contrl__st_load_memory(const void *bytes, size_t size, const contrl_allocator *a,
                                     contrl__st_file **out);

/* Copy tensor `name` into dst (numel elements, host byte order). The
 * tensor must have this dtype and exactly this shape (ndim dimensions,
 * shape may be NULL if ndim is 0).
 * Returns CONTRL_OK; CONTRL_ERR_FORMAT if the file has no such tensor, or
 * it has another dtype or shape, or (F32, F64) holds a NaN or infinity - the
 * message says which; CONTRL_ERR_INVALID_ARG for NULL f, name, shape (ndim
 * > 0) or dst (non-empty tensor), or an unknown dtype. dst is written only
 * on success. Allocates nothing. */
contrl_status contrl__st_get(const contrl__st_file *f, const char *name, contrl__dtype dtype,
                             uint32_t ndim, const uint64_t *shape, void *dst);

/* true if the file has a tensor `name` (false for NULL arguments). */
bool contrl__st_has(const contrl__st_file *f, const char *name);

/* The metadata value for `key`, or NULL if absent (or NULL arguments).
 * Owned by f. */
const char *contrl__st_meta(const contrl__st_file *f, const char *key);

/* Number of tensors, and the name of tensor i (in the order of their data
 * in the file, which is the order contrl__st_save was given), or NULL if i
 * is out of range. Names are owned by f. */
size_t contrl__st_count(const contrl__st_file *f);
const char *contrl__st_name(const contrl__st_file *f, size_t i);

/* Bytes of tensor data in the file (after the header); 0 for NULL. */
uint64_t contrl__st_data_bytes(const contrl__st_file *f);

/* Free everything of f, through the allocator it was loaded with. NULL is
 * fine. */
void contrl__st_close(contrl__st_file *f);

#endif /* CONTRL_IO_SAFETENSORS_H */
