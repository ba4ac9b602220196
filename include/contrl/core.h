/*
 * contrl/core.h - status codes, errors, versions, allocators, RNG and the
 * choice of matrix kernels shared by every libcontrl handle.
 *
 * Threading: libcontrl has no global mutable state. A handle may be used by
 * one thread at a time; different handles may be used concurrently from
 * different threads. The last-error message is kept per thread.
 */
#ifndef CONTRL_CORE_H
#define CONTRL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "contrl/version.h"

#if defined(_WIN32)
#define CONTRL_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CONTRL_API __attribute__((visibility("default")))
#else
#define CONTRL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes -------------------------------------------------------
 * Every function that can fail returns a contrl_status. The numbers are
 * stable: new codes are only ever appended. */
#define CONTRL_STATUS_MAP(X)                                                   \
    X(CONTRL_OK, 0, "success")                                                 \
    X(CONTRL_ERR_INVALID_ARG, -1, "invalid argument")                          \
    X(CONTRL_ERR_NONFINITE, -2, "non-finite value (NaN or Inf)")      \
    X(CONTRL_ERR_NOMEM, -3, "out of memory")                                   \
    X(CONTRL_ERR_UNSUPPORTED, -4, "not supported on this machine or build")    \
    X(CONTRL_ERR_STATE, -5, "operation not valid in the object's state")       \
    X(CONTRL_ERR_IO, -6, "input/output error")                                 \
    X(CONTRL_ERR_FORMAT, -7, "malformed or corrupted data")                    \
    X(CONTRL_ERR_NUMERIC, -8, "computation produced a non-finite result")

typedef enum contrl_status {
#define CONTRL_STATUS_ENUM_(name, value, text) name = value,
    CONTRL_STATUS_MAP(CONTRL_STATUS_ENUM_)
#undef CONTRL_STATUS_ENUM_
} contrl_status;

/* Fixed English text for a status; never NULL ("unknown status" for values
 * outside the list). */
CONTRL_API const char *contrl_status_string(contrl_status status);

/* Detailed message for the last failure reported on the calling thread,
 * e.g. "contrl_buffer_add: reward is NaN". Empty string when no failure has
 * been recorded. The pointer stays valid until the thread's next libcontrl
 * call. Successful calls do not clear it. */
CONTRL_API const char *contrl_last_error(void);

/* Forget the calling thread's last error message. */
CONTRL_API void contrl_clear_error(void);

/* Record a message as the calling thread's last error and return `status`
 * unchanged, so that your own environments, callbacks and add-ons report
 * failures the way the library does:
 *     return contrl_set_error(CONTRL_ERR_IO, "my_env: cannot open %s", path);
 * The message is truncated to 511 bytes. A NULL fmt clears the message. */
CONTRL_API contrl_status contrl_set_error(contrl_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- Version ------------------------------------------------------------ */

/* CONTRL_VERSION_NUMBER of the library actually loaded (compare with the
 * macro of the headers you compiled against). */
CONTRL_API unsigned contrl_version(void);
/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
CONTRL_API const char *contrl_version_string(void);

/* ---- Allocator ----------------------------------------------------------
 * Every create and load function allocates through the allocator in its
 * config, and the handle frees through the same one. Nothing is allocated
 * after creation on the hot paths (forward, backward, optimiser steps,
 * buffer add and sample). A zeroed contrl_allocator ({NULL, NULL, NULL})
 * means the C library's allocator. */
typedef struct contrl_allocator {
    /* Return `size` bytes aligned to `align` (a power of two, at most 64),
     * or NULL on failure. */
    void *(*alloc)(void *user, size_t size, size_t align);
    /* Release a block from alloc(); `size` is the size that was requested.
     * Never called with NULL. */
    void (*free)(void *user, void *ptr, size_t size);
    void *user;
} contrl_allocator;

/* ---- Random numbers -----------------------------------------------------
 * xoshiro256** seeded through splitmix64. The struct is plain data: copy it
 * to save the generator's state and copy it back to restore it. The same
 * seed gives the same sequence, bit for bit, on every machine for the
 * integer and uniform draws; normal draws use the C library's logf/cosf/sinf
 * and so match bit for bit on the same machine and build. */
typedef struct contrl_rng {
    uint64_t s[4];
    float spare;        /* second Box-Muller value, valid if has_spare */
    uint32_t has_spare;
} contrl_rng;

/* Seed a generator. Returns CONTRL_ERR_INVALID_ARG if rng is NULL. */
CONTRL_API contrl_status contrl_rng_seed(contrl_rng *rng, uint64_t seed);
/* Next 64 random bits. rng must not be NULL (returns 0 and records an error
 * if it is). */
CONTRL_API uint64_t contrl_rng_next(contrl_rng *rng);
/* Uniform float in [0, 1), 24 random bits. NaN if rng is NULL. */
CONTRL_API float contrl_rng_uniform(contrl_rng *rng);
/* Uniform integer in [0, n), without modulo bias. 0 if rng is NULL or n is
 * 0 (and an error is recorded). */
CONTRL_API uint64_t contrl_rng_below(contrl_rng *rng, uint64_t n);
/* Standard normal float (Box-Muller, second value cached). NaN if rng is
 * NULL. */
CONTRL_API float contrl_rng_normal(contrl_rng *rng);

/* ---- Matrix kernels -----------------------------------------------------
 * libcontrl does its matrix work through BLIS, with the kernel set chosen
 * by libcontrl itself rather than by BLIS's own CPU detection, which does
 * not know CPUs newer than the BLIS release (BLIS 0.9 runs AMD Zen 4/5 on
 * its slow generic kernels). See docs/kernels.md.
 *
 * CONTRL_KERNELS_AUTO resolves, in order, to: the CONTRL_BLIS_ARCH
 * environment variable if set (one of "skx", "zen3", "haswell", "generic",
 * "blis"), else CONTRL_KERNELS_SKX if the CPU has AVX-512F, else
 * CONTRL_KERNELS_ZEN3 if it has AVX2 and FMA, else CONTRL_KERNELS_BLIS. */
typedef enum contrl_kernels {
    CONTRL_KERNELS_AUTO = 0,
    CONTRL_KERNELS_SKX = 1,     /* AVX-512F: BLIS skx kernels for large
                                   products, zen3 small-matrix (sup) kernels
                                   for small or skinny ones, AVX-512
                                   matrix-vector code for batches of 1-4
                                   (docs/kernels.md gives the rule) */
    CONTRL_KERNELS_ZEN3 = 2,    /* AVX2+FMA: BLIS zen3 context (with its sup
                                   path), AVX2 matrix-vector code */
    CONTRL_KERNELS_HASWELL = 3, /* AVX2+FMA: BLIS haswell context, AVX2
                                   matrix-vector code */
    CONTRL_KERNELS_GENERIC = 4, /* BLIS generic (portable C) kernels and
                                   plain C matrix-vector code */
    CONTRL_KERNELS_BLIS = 5     /* whatever BLIS's own CPU detection picks,
                                   for every product (no libcontrl code) */
} contrl_kernels;

typedef struct contrl_blas_info {
    size_t size;                 /* set by the caller: sizeof(contrl_blas_info) */
    contrl_kernels kernels;      /* the resolved set, never AUTO */
    const char *name;            /* "skx", "zen3", "haswell", "generic", "blis" */
    const char *description;     /* one line naming every kernel in use */
    const char *source;          /* why: "config", "env CONTRL_BLIS_ARCH", "cpu" */
    const char *blis_version;    /* version of the BLIS linked in */
    const char *blis_detected;   /* what BLIS's own detection would use */
    int cpu_avx512f;             /* CPU feature flags seen by libcontrl, 0 or 1 */
    int cpu_avx2_fma;
    /* "libxsmm 1.17 (JIT cpx)" when the set runs small products on
     * libxsmm's JIT kernels (a build with libxsmm, its JIT at the set's
     * instruction level, and CONTRL_XSMM not "0"/"off"), else NULL */
    const char *xsmm;
} contrl_blas_info;

/* Resolve `requested` as a handle created with it would, and describe the
 * result in *info. The caller sets info->size to sizeof(contrl_blas_info)
 * as its headers declare it: at least offsetof(contrl_blas_info,
 * cpu_avx512f) (the first layout), else INVALID_ARG; fields beyond it are
 * not written, and info->size is set to the number of bytes written.
 * Returns CONTRL_ERR_UNSUPPORTED if the set needs instructions this CPU
 * lacks, CONTRL_ERR_INVALID_ARG for an unknown value, a NULL info or a
 * CONTRL_BLIS_ARCH value that names no set. Strings are static. */
CONTRL_API contrl_status contrl_blas_query(contrl_kernels requested,
                                           contrl_blas_info *info);

#ifdef __cplusplus
}
#endif

#endif /* CONTRL_CORE_H */
