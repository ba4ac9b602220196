/* lib/io/json.h - a strict JSON (RFC 8259) parser and string writer (internal).
 *
 * Made for reading checkpoint headers that may come from anywhere, so it
 * treats its input as hostile:
 *   - the input is a length-delimited buffer, never read past `len`, and need
 *     not be NUL-terminated;
 *   - no recursion: nesting is tracked in a fixed bit stack, and deeper
 *     nesting than the caller's limit is an error, not a stack overflow;
 *   - strict grammar: one value, optionally surrounded by JSON whitespace
 *     (space, tab, CR, LF), nothing after it; no trailing commas, comments,
 *     single quotes, unquoted keys, leading zeros, '+' signs, NaN or Infinity;
 *     strings are valid UTF-8 (no overlong forms, no encoded surrogates,
 *     nothing above U+10FFFF) with no raw control characters (< 0x20), and
 *     escapes are exactly \" \\ \/ \b \f \n \r \t \uXXXX, where a \u
 *     surrogate must be a high one directly followed by a \u low one;
 *   - duplicate keys in an object are an error if the caller asks;
 *   - no allocation of its own: a first pass (contrl__json_measure) checks
 *     the syntax and counts what the document needs, the caller provides that
 *     storage, and a second pass (contrl__json_parse) fills it.
 *     contrl__json_parse_alloc does both through a contrl_allocator.
 *
 * Every function is reentrant and keeps no state between calls.
 *
 * The parsed document is a flat array of values in document order (a
 * pre-order walk of the tree). Value 0 is the root. The children of an
 * array or object value i start at i + 1; values[j].next is the index just
 * past j and all its descendants, i.e. j's next sibling. An object's
 * children alternate key (a STRING value), value, key, value... so
 * iterating an object looks like:
 *
 *     uint32_t k = obj + 1;
 *     for (uint32_t m = 0; m < d->values[obj].count; m++) {
 *         uint32_t v = k + 1;                  (k: key, v: its value)
 *         ...
 *         k = d->values[v].next;
 *     }
 *
 * Decoded strings live in doc->strings, NUL-terminated; their length in
 * bytes is values[i].count (a string may hold "\u0000", so use the count
 * when that matters). Numbers keep their text (doc->text + pos, count
 * bytes) and are converted on request, exactly, by contrl__json_u64 and
 * contrl__json_double.
 */
#ifndef CONTRL_IO_JSON_H
#define CONTRL_IO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrl/core.h"

/* Longest input accepted (2 GiB - 1): every offset and count fits 32 bits. */
#define CONTRL__JSON_MAX_LEN ((size_t)0x7fffffff)
/* Nesting limits: the default, and the most a caller may ask for. */
#define CONTRL__JSON_DEFAULT_DEPTH 64u
#define CONTRL__JSON_MAX_DEPTH 1024u
/* "No such value", returned by contrl__json_get. */
#define CONTRL__JSON_NONE UINT32_MAX

typedef enum contrl__json_type {
    CONTRL__JSON_NULL,
    CONTRL__JSON_FALSE,
    CONTRL__JSON_TRUE,
    CONTRL__JSON_NUMBER,
    CONTRL__JSON_STRING,
    CONTRL__JSON_ARRAY,
    CONTRL__JSON_OBJECT
} contrl__json_type;

typedef struct contrl__json_value {
    uint32_t type;  /* a contrl__json_type */
    uint32_t pos;   /* byte offset in the text where the value starts */
    uint32_t next;  /* index one past this value and its descendants */
    uint32_t count; /* ARRAY: elements; OBJECT: members; STRING: decoded
                       bytes (without the NUL); NUMBER: bytes of its text */
    uint32_t data;  /* STRING: offset of its bytes in doc->strings; OBJECT:
                       first of its `count` entries in doc->members */
} contrl__json_value;

typedef struct contrl__json_options {
    uint32_t max_depth;         /* 0: CONTRL__JSON_DEFAULT_DEPTH; at most
                                   CONTRL__JSON_MAX_DEPTH. An array or object
                                   is one level: "[[1]]" has depth 2. */
    bool reject_duplicate_keys; /* an object with two equal keys (compared
                                   after unescaping) is an error */
} contrl__json_options;

/* What a document needs: the sizes of the three arrays of a contrl__json_doc. */
typedef struct contrl__json_sizes {
    size_t n_values;     /* every value, keys included */
    size_t n_members;    /* members of all objects together */
    size_t string_bytes; /* decoded bytes of all strings plus one NUL each */
} contrl__json_sizes;

typedef struct contrl__json_doc {
    const char *text; /* the input, borrowed: must outlive the doc */
    size_t len;
    contrl__json_value *values;
    size_t n_values;
    /* For each object, the indices of its keys sorted by key bytes (then by
     * position): values[obj].data is where its run starts. */
    uint32_t *members;
    size_t n_members;
    char *strings;
    size_t string_bytes;
} contrl__json_doc;

/* Pass 1: check the syntax of text[0, len) and report in *sizes what
 * contrl__json_parse will need. opt may be NULL (defaults). Duplicate keys
 * are not checked here (they are found while parsing), so a success here
 * does not promise a success there.
 * Returns CONTRL_OK; CONTRL_ERR_FORMAT for invalid JSON, with a message
 * "JSON: <what> at byte <offset>"; CONTRL_ERR_INVALID_ARG for NULL
 * arguments, len > CONTRL__JSON_MAX_LEN or a bad max_depth. Allocates
 * nothing; *sizes is zeroed on error. */
contrl_status contrl__json_measure(const char *text, size_t len, const contrl__json_options *opt,
                                   contrl__json_sizes *sizes);

/* Pass 2: parse text[0, len) into caller storage. On entry doc->values,
 * doc->members and doc->strings point to arrays of at least cap->n_values,
 * cap->n_members and cap->string_bytes elements (any may be NULL when its
 * capacity is 0); pass the sizes contrl__json_measure gave for the same text
 * and options. On success doc->text/len and the n_ fields describe the
 * document. Returns what contrl__json_measure returns, plus
 * CONTRL_ERR_FORMAT for a duplicate key when the options reject them, and
 * CONTRL_ERR_INVALID_ARG if the storage is too small. On error the arrays'
 * contents are unspecified and the n_ fields are 0. Allocates nothing. */
contrl_status contrl__json_parse(const char *text, size_t len, const contrl__json_options *opt,
                                 const contrl__json_sizes *cap, contrl__json_doc *doc);

/* Both passes, with the storage allocated through `a` (NULL: the C
 * library's). Same statuses, plus CONTRL_ERR_NOMEM. On error *doc is zeroed
 * and nothing stays allocated. Free with contrl__json_free. */
contrl_status contrl__json_parse_alloc(const char *text, size_t len,
                                       const contrl__json_options *opt, const contrl_allocator *a,
                                       contrl__json_doc *doc);

/* Free what contrl__json_parse_alloc allocated (through the same allocator)
 * and zero *doc. A zeroed doc, or NULL, is fine. */
void contrl__json_free(contrl__json_doc *doc, const contrl_allocator *a);

/* The value of member `key` (key_len bytes, compared after unescaping) of
 * object `obj`, or CONTRL__JSON_NONE if obj is not an object or has no such
 * key. With duplicate keys allowed, the last one in the text wins. O(log
 * members). */
uint32_t contrl__json_get(const contrl__json_doc *doc, uint32_t obj, const char *key,
                          size_t key_len);

/* The NUL-terminated bytes of string value i (length: values[i].count), or
 * NULL if i is not a string. */
const char *contrl__json_string(const contrl__json_doc *doc, uint32_t i);

/* Value i as an unsigned 64-bit integer, exactly: true only for a number
 * written as plain digits (no sign, fraction or exponent) at most
 * 18446744073709551615. */
bool contrl__json_u64(const contrl__json_doc *doc, uint32_t i, uint64_t *out);

/* Value i as the nearest double (round-to-nearest-even, independent of the
 * C locale): true for any number whose magnitude does not overflow a double
 * (values too small to represent become 0 or a subnormal). */
bool contrl__json_double(const contrl__json_doc *doc, uint32_t i, double *out);

/* ---- Writing ------------------------------------------------------------ */

/* true if s[0, n) is valid UTF-8 under the rules the parser applies. */
bool contrl__json_utf8_valid(const char *s, size_t n);

/* Write s[0, n) as a JSON string literal, quotes included, to dst (NULL:
 * only count) and return its length. '"' and '\\' are escaped, control
 * characters become \b \f \n \r \t or \u00XX, everything else is copied, so
 * s must be valid UTF-8 for the result to be valid JSON. */
size_t contrl__json_write_string(char *dst, const char *s, size_t n);

/* ---- Helpers shared with the other io files ------------------------------ */

/* Copy at most cap - 1 bytes of s[0, n) into buf, NUL-terminated, with every
 * byte outside printable ASCII replaced by '?' and "..." marking a cut: safe
 * to put a name read from a file into an error message. Returns buf. */
const char *contrl__json_printable(const char *s, size_t n, char *buf, size_t cap);

/* Sort idx[0, n) in place so that cmp(idx[k], idx[k + 1], ctx) <= 0.
 * Heapsort: O(n log n) comparisons in the worst case, no recursion, no
 * allocation, not stable (break ties in cmp). */
void contrl__sort_u32(uint32_t *idx, size_t n, int (*cmp)(uint32_t a, uint32_t b, const void *ctx),
                      const void *ctx);

#endif /* CONTRL_IO_JSON_H */
