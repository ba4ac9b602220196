/* lib/io/safetensors.c - safetensors checkpoints (see safetensors.h and
 * docs/checkpoint-format.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "file.h"
#include "internal.h"
#include "json.h"
#include "safetensors.h"

/* Every safetensors dtype with a whole number of bytes per element; `ours`
 * is the contrl__dtype it reads as, or -1. The first N_OURS are in
 * contrl__dtype order, so dtypes[dt] describes contrl__dtype dt. */
typedef struct dtype_info {
    const char *name;
    uint8_t size;
    int8_t ours;
} dtype_info;

static const dtype_info dtypes[] = {
    {"F32", 4, CONTRL__DT_F32},
    {"F64", 8, CONTRL__DT_F64},
    {"I32", 4, CONTRL__DT_I32},
    {"I64", 8, CONTRL__DT_I64},
    {"U64", 8, CONTRL__DT_U64},
    {"U8", 1, CONTRL__DT_U8},
    {"BOOL", 1, -1},
    {"I8", 1, -1},
    {"F8_E5M2", 1, -1},
    {"F8_E4M3", 1, -1},
    {"I16", 2, -1},
    {"U16", 2, -1},
    {"F16", 2, -1},
    {"BF16", 2, -1},
    {"U32", 4, -1},
};
enum { N_OURS = CONTRL__DT_U8 + 1, N_DTYPES = sizeof dtypes / sizeof dtypes[0] };

static const char METADATA_KEY[] = "__metadata__";

/* Largest JSON nesting a valid header has is 3 (root, entry, shape). */
enum { HEADER_DEPTH = 8, NAME_IN_MESSAGE = 80 };

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Copy n elements of `size` bytes from src to dst, reversing the bytes of
 * each unless the host is little-endian (the file's order). */
static void copy_le(unsigned char *dst, const unsigned char *src, size_t n, size_t size)
{
    if (size == 1 || host_is_little_endian()) {
        if (n > 0)
            memcpy(dst, src, n * size);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < size; b++)
            dst[i * size + b] = src[i * size + size - 1 - b];
}

/* Index of the first non-finite F32/F64 element of n in little-endian
 * bytes, or n. Looks at the bits, so it holds under any float flags. */
static size_t first_nonfinite_le(const unsigned char *p, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = p + i * size;
        /* The exponent is in the two top bytes: all ones means NaN or Inf. */
        unsigned top = (unsigned)e[size - 1] << 8 | e[size - 2];
        unsigned mask = size == 4 ? 0x7f80u : 0x7ff0u;
        if ((top & mask) == mask)
            return i;
    }
    return n;
}

/* The same for n elements in host order. */
static size_t first_nonfinite_host(const void *p, size_t n, contrl__dtype dt)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (dt == CONTRL__DT_F32) {
            uint32_t x;
            memcpy(&x, b + 4 * i, 4);
            if ((x & 0x7f800000u) == 0x7f800000u)
                return i;
        } else {
            uint64_t x;
            memcpy(&x, b + 8 * i, 8);
            if ((x & 0x7ff0000000000000u) == 0x7ff0000000000000u)
                return i;
        }
    }
    return n;
}

/* numel of a shape; false on overflow (a shape with a 0 is never one). */
static bool shape_numel(const uint64_t *shape, uint32_t ndim, uint64_t *numel)
{
    for (uint32_t i = 0; i < ndim; i++)
        if (shape[i] == 0) {
            *numel = 0;
            return true;
        }
    uint64_t v = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        if (v > UINT64_MAX / shape[i])
            return false;
        v *= shape[i];
    }
    *numel = v;
    return true;
}

/* "[2, 3]" into buf, cut with "..." if long. */
static const char *shape_text(const uint64_t *shape, uint32_t ndim, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < ndim && k < cap; i++) {
        if (k + 24 >= cap) {
            snprintf(buf + k, cap - k, "...");
            return buf;
        }
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRIu64, i > 0 ? ", " : "", shape[i]);
    }
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
    return buf;
}

/* ---- Saving ------------------------------------------------------------- */

/* Text output that counts (dst NULL) or writes. */
typedef struct sink {
    char *dst;
    size_t n;
} sink;

static void put_bytes(sink *s, const char *p, size_t k)
{
    if (s->dst != NULL)
        memcpy(s->dst + s->n, p, k);
    s->n += k;
}

static void put_lit(sink *s, const char *lit)
{
    put_bytes(s, lit, strlen(lit));
}

static void put_string(sink *s, const char *str)
{
    s->n += contrl__json_write_string(s->dst != NULL ? s->dst + s->n : NULL, str, strlen(str));
}

static void put_u64(sink *s, uint64_t v)
{
    char b[24];
    int k = snprintf(b, sizeof b, "%" PRIu64, v);
    put_bytes(s, b, (size_t)k);
}

static uint64_t tensor_bytes(const contrl__tensor *t)
{
    uint64_t numel = 0;
    shape_numel(t->shape, t->ndim, &numel); /* checked by check_save_args */
    return numel * dtypes[t->dtype].size;
}

/* {"__metadata__":{...},"name":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},...}
 * then spaces up to a multiple of 8 bytes: the layout the reference
 * implementation writes. */
static void build_header(sink *s, const contrl__tensor *t, size_t n, const contrl__meta *meta,
                         size_t n_meta)
{
    put_lit(s, "{");
    if (n_meta > 0) {
        put_string(s, METADATA_KEY);
        put_lit(s, ":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i > 0)
                put_lit(s, ",");
            put_string(s, meta[i].key);
            put_lit(s, ":");
            put_string(s, meta[i].value);
        }
        put_lit(s, "}");
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 || n_meta > 0)
            put_lit(s, ",");
        put_string(s, t[i].name);
        put_lit(s, ":{\"dtype\":");
        put_string(s, dtypes[t[i].dtype].name);
        put_lit(s, ",\"shape\":[");
        for (uint32_t d = 0; d < t[i].ndim; d++) {
            if (d > 0)
                put_lit(s, ",");
            put_u64(s, t[i].shape[d]);
        }
        put_lit(s, "],\"data_offsets\":[");
        put_u64(s, offset);
        put_lit(s, ",");
        offset += tensor_bytes(&t[i]);
        put_u64(s, offset);
        put_lit(s, "]}");
    }
    put_lit(s, "}");
    while (s->n % 8 != 0)
        put_lit(s, " ");
}

static int name_cmp(uint32_t a, uint32_t b, const void *ctx)
{
    const char *const *names = ctx;
    int c = strcmp(names[a], names[b]);
    return c != 0 ? c : (a > b) - (a < b);
}

/* INVALID_ARG if two of names[0, n) are equal; `what` names them in the
 * message. scratch holds n entries (n > 0). */
static contrl_status check_unique(const char **names, size_t n, uint32_t *scratch, const char *what)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = (uint32_t)i;
    contrl__sort_u32(scratch, n, name_cmp, names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[scratch[i - 1]], names[scratch[i]]) == 0) {
            char shown[NAME_IN_MESSAGE];
            const char *s = names[scratch[i]];
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_save: two %s named '%s'", what,
                                contrl__json_printable(s, strlen(s), shown, sizeof shown));
        }
    return CONTRL_OK;
}

static contrl_status check_text(const char *s, const char *what, size_t i)
{
    if (s == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_save: %s %zu is NULL", what, i);
    size_t len = strlen(s);
    if (len > CONTRL__ST_MAX_HEADER)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_save: %s %zu is too long", what, i);
    if (!contrl__json_utf8_valid(s, len))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_save: %s %zu is not valid UTF-8",
                            what, i);
    return CONTRL_OK;
}

static contrl_status check_save_args(const char *path, const contrl__tensor *t, size_t n,
                                     const contrl__meta *meta, size_t n_meta)
{
    static const char func[] = "contrl__st_save";
    if (path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: path is NULL", func);
    if ((t == NULL && n > 0) || (meta == NULL && n_meta > 0))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", func,
                            t == NULL && n > 0 ? "t" : "meta");
    /* Each tensor and metadata entry takes more than 8 header bytes. */
    if (n > CONTRL__ST_MAX_HEADER / 8 || n_meta > CONTRL__ST_MAX_HEADER / 8)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: too many tensors or metadata entries",
                            func);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        contrl_status st = check_text(t[i].name, "name of tensor", i);
        if (st != CONTRL_OK)
            return st;
        if (t[i].name[0] == '\0' || strcmp(t[i].name, METADATA_KEY) == 0)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: tensor %zu has the reserved name '%s'",
                                func, i, t[i].name);
        if ((unsigned)t[i].dtype >= N_OURS)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: tensor '%s' has unknown dtype %d",
                                func, t[i].name, (int)t[i].dtype);
        if (t[i].ndim > CONTRL__ST_MAX_DIMS)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "%s: tensor '%s' has %u dimensions, "
                                "more than %d",
                                func, t[i].name, t[i].ndim, CONTRL__ST_MAX_DIMS);
        uint64_t numel;
        size_t size = dtypes[t[i].dtype].size;
        if (!shape_numel(t[i].shape, t[i].ndim, &numel) || numel > SIZE_MAX / size ||
            numel * size > UINT64_MAX - total)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: tensor '%s' is too large", func,
                                t[i].name);
        total += numel * size;
        if (numel > 0 && t[i].data == NULL)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: tensor '%s' has NULL data", func,
                                t[i].name);
        if (t[i].dtype == CONTRL__DT_F32 || t[i].dtype == CONTRL__DT_F64) {
            size_t bad = first_nonfinite_host(t[i].data, (size_t)numel, t[i].dtype);
            if (bad < numel)
                return contrl__fail(CONTRL_ERR_NONFINITE,
                                    "%s: tensor '%s' element %zu is NaN or infinite", func,
                                    t[i].name, bad);
        }
    }
    for (size_t i = 0; i < n_meta; i++) {
        contrl_status st = check_text(meta[i].key, "metadata key", i);
        if (st == CONTRL_OK)
            st = check_text(meta[i].value, "metadata value", i);
        if (st != CONTRL_OK)
            return st;
    }
    return CONTRL_OK;
}

typedef struct save_job {
    const char *header;
    size_t header_len;
    const contrl__tensor *t;
    size_t n;
} save_job;

static contrl_status write_file(contrl__file_writer *w, void *ctx)
{
    const save_job *job = ctx;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)job->header_len >> (8 * i));
    contrl_status st = contrl__file_put(w, len, sizeof len);
    if (st == CONTRL_OK)
        st = contrl__file_put(w, job->header, job->header_len);
    bool le = host_is_little_endian();
    for (size_t i = 0; i < job->n && st == CONTRL_OK; i++) {
        const contrl__tensor *t = &job->t[i];
        size_t size = dtypes[t->dtype].size;
        size_t bytes = (size_t)tensor_bytes(t);
        if (le || size == 1) {
            st = contrl__file_put(w, t->data, bytes);
            continue;
        }
        /* Big-endian host: swap through a small buffer. */
        unsigned char chunk[4096];
        const unsigned char *src = t->data;
        for (size_t done = 0; done < bytes && st == CONTRL_OK;) {
            size_t k = bytes - done < sizeof chunk ? bytes - done : sizeof chunk;
            copy_le(chunk, src + done, k / size, size);
            st = contrl__file_put(w, chunk, k);
            done += k;
        }
    }
    return st;
}

contrl_status contrl__st_save(const char *path, const contrl__tensor *t, size_t n,
                              const contrl__meta *meta, size_t n_meta, const contrl_allocator *a)
{
    static const char func[] = "contrl__st_save";
    if (a != NULL) {
        contrl_status st = contrl__check_allocator(a, func);
        if (st != CONTRL_OK)
            return st;
    }
    contrl_status st = check_save_args(path, t, n, meta, n_meta);
    if (st != CONTRL_OK)
        return st;

    size_t most = n > n_meta ? n : n_meta;
    if (most > 1) {
        size_t scratch_size = most * (sizeof(const char *) + sizeof(uint32_t));
        const char **names = contrl__alloc(a, scratch_size);
        if (names == NULL)
            return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", func,
                                scratch_size);
        uint32_t *scratch = (uint32_t *)(void *)(names + most);
        for (size_t i = 0; i < n; i++)
            names[i] = t[i].name;
        st = check_unique(names, n, scratch, "tensors");
        if (st == CONTRL_OK) {
            for (size_t i = 0; i < n_meta; i++)
                names[i] = meta[i].key;
            st = check_unique(names, n_meta, scratch, "metadata entries");
        }
        contrl__free(a, names, scratch_size);
        if (st != CONTRL_OK)
            return st;
    }

    sink count = {NULL, 0};
    build_header(&count, t, n, meta, n_meta);
    if (count.n > CONTRL__ST_MAX_HEADER)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: header of %zu bytes is above the limit "
                            "of %" PRIu64,
                            func, count.n, CONTRL__ST_MAX_HEADER);
    char *header = contrl__alloc(a, count.n);
    if (header == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", func, count.n);
    sink out = {header, 0};
    build_header(&out, t, n, meta, n_meta);
    save_job job = {header, out.n, t, n};
    st = contrl__file_write_atomic(path, write_file, &job, a);
    contrl__free(a, header, count.n);
    return st;
}

/* ---- Loading ------------------------------------------------------------ */

typedef struct entry {
    const char *name;
    const uint64_t *shape;
    uint64_t begin, end; /* in the data buffer */
    uint32_t ndim;
    uint32_t dtype;      /* index in dtypes[] */
    uint32_t header_pos; /* orders empty tensors that share an offset */
} entry;

typedef struct meta_entry {
    const char *key, *value;
} meta_entry;

struct contrl__st_file {
    contrl_allocator alloc;
    void *block; /* this struct and everything below but the file */
    size_t block_size;
    unsigned char *bytes; /* the whole file (+ 1 byte), owned */
    size_t size;
    const unsigned char *data; /* the byte buffer after the header */
    uint64_t data_size;
    const char *label; /* the path, for messages */
    entry *entries;    /* header order */
    size_t n;
    uint32_t *by_offset; /* entries in data order */
    uint32_t *by_name;   /* entries by strcmp of names */
    meta_entry *meta;    /* by strcmp of keys */
    size_t n_meta;
};

/* What a header needs in the file's block, counted while validating. */
typedef struct header_counts {
    size_t tensors, dims, meta, string_bytes;
} header_counts;

/* Check the tensor entry `v` of the header (key `k`); fill *e but its name
 * and shape, write the shape to `shape` unless it is NULL, and count what
 * the entry needs. */
static contrl_status check_entry(const char *label, const contrl__json_doc *d, uint32_t k,
                                 uint32_t v, uint64_t data_size, entry *e, uint64_t *shape,
                                 header_counts *c)
{
    const char *name = contrl__json_string(d, k);
    size_t name_len = d->values[k].count;
    char shown[NAME_IN_MESSAGE], text[NAME_IN_MESSAGE];
    const char *sname = contrl__json_printable(name, name_len, shown, sizeof shown);
    if (memchr(name, '\0', name_len) != NULL)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor name '%s' contains a NUL character",
                            label, sname);
    if (d->values[v].type != CONTRL__JSON_OBJECT)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': entry is not an object", label,
                            sname);
    uint32_t dt = contrl__json_get(d, v, "dtype", 5);
    uint32_t sh = contrl__json_get(d, v, "shape", 5);
    uint32_t off = contrl__json_get(d, v, "data_offsets", 12);
    if (dt == CONTRL__JSON_NONE || sh == CONTRL__JSON_NONE || off == CONTRL__JSON_NONE)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': missing \"%s\"", label, sname,
                            dt == CONTRL__JSON_NONE   ? "dtype"
                            : sh == CONTRL__JSON_NONE ? "shape"
                                                      : "data_offsets");
    if (d->values[v].count != 3) {
        /* Keys are unique, so some member is none of the three. */
        uint32_t m = v + 1;
        for (uint32_t i = 0; i < d->values[v].count; i++, m = d->values[m + 1].next)
            if (m + 1 != dt && m + 1 != sh && m + 1 != off)
                break;
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': unknown field \"%s\"", label,
                            sname,
                            contrl__json_printable(contrl__json_string(d, m), d->values[m].count,
                                                   text, sizeof text));
    }

    const char *dname = contrl__json_string(d, dt);
    if (dname == NULL)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", label,
                            sname);
    e->dtype = N_DTYPES;
    for (uint32_t i = 0; i < N_DTYPES; i++)
        if (d->values[dt].count == strlen(dtypes[i].name) && strcmp(dname, dtypes[i].name) == 0)
            e->dtype = i;
    if (e->dtype == N_DTYPES)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': unknown dtype \"%s\"", label,
                            sname,
                            contrl__json_printable(dname, d->values[dt].count, text, sizeof text));

    if (d->values[sh].type != CONTRL__JSON_ARRAY)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s': shape is not an array", label,
                            sname);
    e->ndim = d->values[sh].count;
    uint64_t numel = 1;
    bool overflow = false, empty = false;
    for (uint32_t i = 0, x = sh + 1; i < e->ndim; i++, x = d->values[x].next) {
        uint64_t dim;
        if (!contrl__json_u64(d, x, &dim))
            return contrl__fail(CONTRL_ERR_FORMAT,
                                "%s: tensor '%s': shape has an entry that is not a non-negative "
                                "integer",
                                label, sname);
        if (shape != NULL)
            shape[i] = dim;
        empty |= dim == 0;
        if (!overflow && dim > 0 && numel > UINT64_MAX / dim)
            overflow = true;
        else if (!overflow)
            numel *= dim;
    }
    if (empty)
        numel = 0;
    uint64_t size = dtypes[e->dtype].size;
    if ((!empty && overflow) || numel > UINT64_MAX / size)
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: tensor '%s': shape has more elements than can be stored", label,
                            sname);

    if (d->values[off].type != CONTRL__JSON_ARRAY || d->values[off].count != 2 ||
        !contrl__json_u64(d, off + 1, &e->begin) || !contrl__json_u64(d, off + 2, &e->end))
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets is not an array of two non-negative "
                            "integers",
                            label, sname);
    if (e->end < e->begin)
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets end before they begin: [%" PRIu64
                            ", %" PRIu64 "]",
                            label, sname, e->begin, e->end);
    if (e->end > data_size)
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets end %" PRIu64 " is beyond the %" PRIu64
                            " bytes of data",
                            label, sname, e->end, data_size);
    if (e->end - e->begin != numel * size)
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets hold %" PRIu64
                            " bytes, its shape and dtype need %" PRIu64,
                            label, sname, e->end - e->begin, numel * size);
    e->header_pos = k;
    c->tensors++;
    c->dims += e->ndim;
    c->string_bytes += name_len + 1;
    return CONTRL_OK;
}

static contrl_status check_metadata(const char *label, const contrl__json_doc *d, uint32_t v,
                                    header_counts *c)
{
    if (d->values[v].type != CONTRL__JSON_OBJECT)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: __metadata__ is not an object", label);
    uint32_t k = v + 1;
    for (uint32_t i = 0; i < d->values[v].count; i++, k = d->values[k + 1].next) {
        const char *key = contrl__json_string(d, k);
        size_t key_len = d->values[k].count;
        char shown[NAME_IN_MESSAGE];
        const char *value = contrl__json_string(d, k + 1);
        if (value == NULL)
            return contrl__fail(CONTRL_ERR_FORMAT, "%s: __metadata__ '%s' is not a string", label,
                                contrl__json_printable(key, key_len, shown, sizeof shown));
        size_t value_len = d->values[k + 1].count;
        if (memchr(key, '\0', key_len) != NULL || memchr(value, '\0', value_len) != NULL)
            return contrl__fail(CONTRL_ERR_FORMAT, "%s: __metadata__ '%s' contains a NUL character",
                                label, contrl__json_printable(key, key_len, shown, sizeof shown));
        c->string_bytes += key_len + value_len + 2;
    }
    c->meta = d->values[v].count;
    return CONTRL_OK;
}

static int offset_cmp(uint32_t a, uint32_t b, const void *ctx)
{
    const entry *e = ctx;
    if (e[a].begin != e[b].begin)
        return e[a].begin < e[b].begin ? -1 : 1;
    if (e[a].end != e[b].end)
        return e[a].end < e[b].end ? -1 : 1;
    return (e[a].header_pos > e[b].header_pos) - (e[a].header_pos < e[b].header_pos);
}

/* The tensors must tile the data buffer exactly: sorted by offset, each
 * begins where the previous ends, the first at 0, the last at the end. */
static contrl_status check_tiling(const contrl__st_file *f)
{
    uint64_t expected = 0;
    const char *prev = NULL;
    char shown[NAME_IN_MESSAGE], shown2[NAME_IN_MESSAGE];
    for (size_t i = 0; i < f->n; i++) {
        const entry *e = &f->entries[f->by_offset[i]];
        const char *name = contrl__json_printable(e->name, strlen(e->name), shown, sizeof shown);
        if (e->begin < expected)
            return contrl__fail(
                CONTRL_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", f->label,
                prev == NULL ? "" /* unreachable: expected > 0 */
                             : contrl__json_printable(prev, strlen(prev), shown2, sizeof shown2),
                name);
        if (e->begin > expected)
            return contrl__fail(CONTRL_ERR_FORMAT,
                                "%s: data bytes [%" PRIu64 ", %" PRIu64 ") before tensor '%s' "
                                "belong to no tensor",
                                f->label, expected, e->begin, name);
        if (e->end > e->begin) { /* an empty tensor ends nothing */
            expected = e->end;
            prev = e->name;
        }
    }
    if (expected != f->data_size)
        return contrl__fail(CONTRL_ERR_FORMAT,
                            "%s: the last %" PRIu64 " bytes of data belong to no tensor", f->label,
                            f->data_size - expected);
    return CONTRL_OK;
}

/* Carve `size` bytes aligned to 8 from *at. */
static void *carve(unsigned char **at, size_t size)
{
    void *p = *at;
    *at += contrl__round_up(size, 8);
    return p;
}

/* Validate bytes[0, size) (owned: freed here on error, kept by *out on
 * success; its allocation is size + 1 bytes). */
static contrl_status open_owned(unsigned char *bytes, size_t size, const char *label,
                                const contrl_allocator *a, contrl__st_file **out)
{
    contrl_status st;
    contrl__json_doc doc = {0};
    const contrl__json_options opt = {HEADER_DEPTH, true};

    if (size < 8) {
        st = contrl__fail(CONTRL_ERR_FORMAT,
                          "%s: file of %zu bytes is shorter than the 8-byte "
                          "header length",
                          label, size);
        goto fail_free_bytes;
    }
    uint64_t n = load_le64(bytes);
    if (n > CONTRL__ST_MAX_HEADER) {
        st = contrl__fail(CONTRL_ERR_FORMAT,
                          "%s: header length %" PRIu64 " is above the limit "
                          "of %" PRIu64 " bytes",
                          label, n, CONTRL__ST_MAX_HEADER);
        goto fail_free_bytes;
    }
    if (n > size - 8) {
        st = contrl__fail(CONTRL_ERR_FORMAT,
                          "%s: header length %" PRIu64 " is beyond the %zu "
                          "bytes that follow it",
                          label, n, size - 8);
        goto fail_free_bytes;
    }
    const char *header = (const char *)bytes + 8;
    if (n == 0 || header[0] != '{') {
        st = contrl__fail(CONTRL_ERR_FORMAT, "%s: header does not start with '{'", label);
        goto fail_free_bytes;
    }
    st = contrl__json_parse_alloc(header, (size_t)n, &opt, a, &doc);
    if (st != CONTRL_OK) {
        if (st == CONTRL_ERR_FORMAT) {
            char why[256];
            snprintf(why, sizeof why, "%s", contrl_last_error());
            contrl__fail(st, "%s: header is not valid: %s", label, why);
        }
        goto fail_free_bytes;
    }
    /* Only 0x20 may pad the header: the parser let any JSON whitespace
     * follow the root object, so its last non-space byte must be '}'. */
    size_t last = (size_t)n;
    while (header[last - 1] == ' ')
        last--;
    if (header[last - 1] != '}') {
        st = contrl__fail(CONTRL_ERR_FORMAT, "%s: header is padded with bytes other than spaces",
                          label);
        goto fail_free_doc;
    }

    uint64_t data_size = size - 8 - n;
    uint32_t root = 0, meta_v = CONTRL__JSON_NONE;
    header_counts c = {0};
    size_t label_len = strlen(label);
    c.string_bytes = label_len + 1;
    /* Pass 1: validate every entry and count. Entries are filled in pass 2
     * into the block; here a stack entry takes the numbers. */
    uint32_t k = root + 1;
    for (uint32_t i = 0; i < doc.values[root].count; i++, k = doc.values[k + 1].next) {
        if (doc.values[k].count == sizeof METADATA_KEY - 1 &&
            memcmp(contrl__json_string(&doc, k), METADATA_KEY, sizeof METADATA_KEY - 1) == 0) {
            meta_v = k + 1;
            st = check_metadata(label, &doc, meta_v, &c);
        } else {
            entry e;
            st = check_entry(label, &doc, k, k + 1, data_size, &e, NULL, &c);
        }
        if (st != CONTRL_OK)
            goto fail_free_doc;
    }

    size_t sizes[7] = {sizeof(contrl__st_file), 0, 0, 0, 0, 0, c.string_bytes};
    if (!contrl__mul_size(c.tensors, sizeof(entry), &sizes[1]) ||
        !contrl__mul_size(c.tensors, sizeof(uint32_t), &sizes[2]) ||
        !contrl__mul_size(c.meta, sizeof(meta_entry), &sizes[4]) ||
        !contrl__mul_size(c.dims, sizeof(uint64_t), &sizes[5])) {
        st = contrl__fail(CONTRL_ERR_NOMEM, "%s: header describes too much to index", label);
        goto fail_free_doc;
    }
    sizes[3] = sizes[2];
    size_t block_size = 0;
    for (int i = 0; i < 7; i++) {
        size_t s = contrl__round_up(sizes[i], 8);
        if (s < sizes[i] || s > SIZE_MAX - block_size) {
            st = contrl__fail(CONTRL_ERR_NOMEM, "%s: header describes too much to index", label);
            goto fail_free_doc;
        }
        block_size += s;
    }
    unsigned char *block = contrl__alloc(a, block_size);
    if (block == NULL) {
        st = contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", label, block_size);
        goto fail_free_doc;
    }
    unsigned char *at = block;
    contrl__st_file *f = carve(&at, sizes[0]);
    memset(f, 0, sizeof *f);
    if (a != NULL)
        f->alloc = *a;
    f->block = block;
    f->block_size = block_size;
    f->bytes = bytes;
    f->size = size;
    f->data = bytes + 8 + n;
    f->data_size = data_size;
    f->entries = carve(&at, sizes[1]);
    f->by_offset = carve(&at, sizes[2]);
    f->by_name = carve(&at, sizes[3]);
    f->meta = carve(&at, sizes[4]);
    uint64_t *shapes = carve(&at, sizes[5]);
    char *strings = carve(&at, sizes[6]);
    memcpy(strings, label, label_len + 1);
    f->label = strings;
    strings += label_len + 1;

    /* Pass 2: fill. The root's sorted run of keys gives names in strcmp
     * order (keys hold no NUL, so byte order is strcmp order). */
    header_counts unused = {0};
    for (uint32_t i = 0; i < doc.values[root].count; i++) {
        uint32_t key = doc.members[doc.values[root].data + i];
        if (key + 1 == meta_v)
            continue;
        entry *e = &f->entries[f->n];
        /* Passed in pass 1; now it also copies the shape. */
        check_entry(label, &doc, key, key + 1, data_size, e, shapes, &unused);
        size_t len = doc.values[key].count;
        memcpy(strings, contrl__json_string(&doc, key), len + 1);
        e->name = strings;
        strings += len + 1;
        e->shape = shapes;
        shapes += e->ndim;
        f->by_name[f->n] = (uint32_t)f->n;
        f->by_offset[f->n] = (uint32_t)f->n;
        f->n++;
    }
    if (meta_v != CONTRL__JSON_NONE) {
        for (uint32_t i = 0; i < doc.values[meta_v].count; i++) {
            uint32_t key = doc.members[doc.values[meta_v].data + i];
            size_t klen = doc.values[key].count, vlen = doc.values[key + 1].count;
            memcpy(strings, contrl__json_string(&doc, key), klen + 1);
            f->meta[i].key = strings;
            strings += klen + 1;
            memcpy(strings, contrl__json_string(&doc, key + 1), vlen + 1);
            f->meta[i].value = strings;
            strings += vlen + 1;
        }
        f->n_meta = doc.values[meta_v].count;
    }
    contrl__json_free(&doc, a);

    contrl__sort_u32(f->by_offset, f->n, offset_cmp, f->entries);
    st = check_tiling(f);
    if (st != CONTRL_OK) {
        contrl__free(a, block, block_size);
        goto fail_free_bytes;
    }
    *out = f;
    return CONTRL_OK;

fail_free_doc:
    contrl__json_free(&doc, a);
fail_free_bytes:
    contrl__free(a, bytes, size + 1);
    return st;
}

static contrl_status check_load_args(const contrl_allocator *a, contrl__st_file **out,
                                     const char *func)
{
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", func);
    *out = NULL;
    if (a != NULL)
        return contrl__check_allocator(a, func);
    return CONTRL_OK;
}

contrl_status contrl__st_load(const char *path, const contrl_allocator *a, contrl__st_file **out)
{
    contrl_status st = check_load_args(a, out, "contrl__st_load");
    if (st != CONTRL_OK)
        return st;
    if (path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_load: path is NULL");
    void *bytes;
    size_t size;
    st = contrl__file_read(path, SIZE_MAX, a, &bytes, &size);
    if (st != CONTRL_OK)
        return st;
    return open_owned(bytes, size, path, a, out);
}

contrl_status contrl__st_load_memory(const void *bytes, size_t size, const contrl_allocator *a,
                                     contrl__st_file **out)
{
    contrl_status st = check_load_args(a, out, "contrl__st_load_memory");
    if (st != CONTRL_OK)
        return st;
    if (bytes == NULL && size > 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__st_load_memory: bytes is NULL");
    if (size == SIZE_MAX)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl__st_load_memory: too large");
    unsigned char *copy = contrl__alloc(a, size + 1);
    if (copy == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl__st_load_memory: cannot allocate %zu bytes",
                            size + 1);
    if (size > 0)
        memcpy(copy, bytes, size);
    return open_owned(copy, size, "<memory>", a, out);
}

static const entry *find(const contrl__st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const entry *e = &f->entries[f->by_name[mid]];
        int c = strcmp(e->name, name);
        if (c == 0)
            return e;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

contrl_status contrl__st_get(const contrl__st_file *f, const char *name, contrl__dtype dtype,
                             uint32_t ndim, const uint64_t *shape, void *dst)
{
    static const char func[] = "contrl__st_get";
    if (f == NULL || name == NULL || (shape == NULL && ndim > 0))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", func,
                            f == NULL      ? "f"
                            : name == NULL ? "name"
                                           : "shape");
    if ((unsigned)dtype >= N_OURS)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown dtype %d", func, (int)dtype);
    char shown[NAME_IN_MESSAGE];
    const char *sname = contrl__json_printable(name, strlen(name), shown, sizeof shown);
    const entry *e = find(f, name);
    if (e == NULL)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: no tensor '%s'", f->label, sname);
    if (dtypes[e->dtype].ours != (int)dtype)
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s' is %s, expected %s", f->label,
                            sname, dtypes[e->dtype].name, dtypes[dtype].name);
    bool same = e->ndim == ndim;
    for (uint32_t i = 0; same && i < ndim; i++)
        same = e->shape[i] == shape[i];
    if (!same) {
        char have[96], want[96];
        return contrl__fail(CONTRL_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s",
                            f->label, sname, shape_text(e->shape, e->ndim, have, sizeof have),
                            shape_text(shape, ndim, want, sizeof want));
    }
    size_t size = dtypes[e->dtype].size;
    size_t numel = (size_t)((e->end - e->begin) / size);
    if (numel == 0)
        return CONTRL_OK;
    if (dst == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: dst is NULL", func);
    const unsigned char *src = f->data + e->begin;
    if (dtype == CONTRL__DT_F32 || dtype == CONTRL__DT_F64) {
        size_t i = first_nonfinite_le(src, numel, size);
        if (i < numel)
            return contrl__fail(CONTRL_ERR_FORMAT,
                                "%s: tensor '%s' element %zu is NaN or "
                                "infinite",
                                f->label, sname, i);
    }
    copy_le(dst, src, numel, size);
    return CONTRL_OK;
}

bool contrl__st_has(const contrl__st_file *f, const char *name)
{
    return f != NULL && name != NULL && find(f, name) != NULL;
}

const char *contrl__st_meta(const contrl__st_file *f, const char *key)
{
    if (f == NULL || key == NULL)
        return NULL;
    size_t lo = 0, hi = f->n_meta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->meta[mid].key, key);
        if (c == 0)
            return f->meta[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t contrl__st_count(const contrl__st_file *f)
{
    return f == NULL ? 0 : f->n;
}

const char *contrl__st_name(const contrl__st_file *f, size_t i)
{
    if (f == NULL || i >= f->n)
        return NULL;
    return f->entries[f->by_offset[i]].name;
}

uint64_t contrl__st_data_bytes(const contrl__st_file *f)
{
    return f == NULL ? 0 : f->data_size;
}

void contrl__st_close(contrl__st_file *f)
{
    if (f == NULL)
        return;
    contrl_allocator a = f->alloc; /* f lives in the block it frees */
    unsigned char *bytes = f->bytes;
    size_t size = f->size;
    contrl__free(&a, f->block, f->block_size);
    contrl__free(&a, bytes, size + 1);
}
