/* lib/io/json.c - strict, non-recursive, allocation-free JSON parser (see json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json.h"

/* One parser runs both passes: `fill` false counts, true also writes. */
typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    uint32_t max_depth;
    bool fill;
    contrl__json_value *values;
    char *strings;
    contrl__json_sizes cap; /* storage given to the fill pass */
    contrl__json_sizes n;   /* what has been used (counted) so far */
    const char *what;       /* first syntax error, or NULL */
    size_t where;
    bool too_small; /* the fill pass ran out of storage */
} parser;

static bool syntax_error(parser *p, const char *what, size_t where)
{
    p->what = what;
    p->where = where;
    return false;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Length of the UTF-8 sequence at s (n bytes available), or 0 if it is not
 * a valid one (Unicode 15, table 3-7: no overlongs, no surrogates, nothing
 * above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

bool contrl__json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_sequence(u + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static bool new_value(parser *p, contrl__json_type type, uint32_t *idx)
{
    if (p->fill) {
        if (p->n.n_values >= p->cap.n_values) {
            p->too_small = true;
            return false;
        }
        contrl__json_value *v = &p->values[p->n.n_values];
        v->type = (uint32_t)type;
        v->pos = (uint32_t)p->pos;
        v->next = (uint32_t)p->n.n_values + 1;
        v->count = 0;
        v->data = 0;
    }
    /* Every value starts at a distinct byte, so this stays below len. */
    *idx = (uint32_t)p->n.n_values++;
    return true;
}

/* Four hex digits at s[at, at + 4) into *cp; false if they are not there. */
static bool hex4(const parser *p, size_t at, unsigned *cp)
{
    if (at > p->len || p->len - at < 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = p->s[at + i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10u;
        else
            return false;
        v = v * 16u + d;
    }
    *cp = v;
    return true;
}

/* Append one decoded byte of the current string (n bytes so far). */
static bool emit(parser *p, size_t *n, unsigned char byte)
{
    if (p->fill) {
        /* Keep one byte for the terminating NUL. */
        if (p->n.string_bytes + *n + 1 >= p->cap.string_bytes) {
            p->too_small = true;
            return false;
        }
        p->strings[p->n.string_bytes + *n] = (char)byte;
    }
    (*n)++;
    return true;
}

static bool emit_code_point(parser *p, size_t *n, unsigned cp)
{
    unsigned char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    for (size_t i = 0; i < k; i++)
        if (!emit(p, n, b[i]))
            return false;
    return true;
}

/* The string starting at p->pos (a '"'), decoded into value idx. */
static bool parse_string(parser *p, uint32_t idx)
{
    size_t start = p->pos++;
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len)
            return syntax_error(p, "unterminated string", start);
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20)
            return syntax_error(p, "control character in string", p->pos);
        if (c >= 0x80) {
            size_t k = utf8_sequence(p->s + p->pos, p->len - p->pos);
            if (k == 0)
                return syntax_error(p, "invalid UTF-8 in string", p->pos);
            for (size_t i = 0; i < k; i++)
                if (!emit(p, &n, p->s[p->pos + i]))
                    return false;
            p->pos += k;
            continue;
        }
        if (c != '\\') {
            if (!emit(p, &n, c))
                return false;
            p->pos++;
            continue;
        }
        size_t esc = p->pos;
        if (p->len - esc < 2)
            return syntax_error(p, "unterminated string", start);
        unsigned char e = p->s[esc + 1];
        unsigned char byte;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            byte = e;
            break;
        case 'b':
            byte = '\b';
            break;
        case 'f':
            byte = '\f';
            break;
        case 'n':
            byte = '\n';
            break;
        case 'r':
            byte = '\r';
            break;
        case 't':
            byte = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (!hex4(p, esc + 2, &cp))
                return syntax_error(p, "invalid \\u escape", esc);
            p->pos = esc + 6;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return syntax_error(p, "lone low surrogate in \\u escape", esc);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                    !hex4(p, p->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return syntax_error(p, "lone high surrogate in \\u escape", esc);
                cp = 0x10000u + ((cp - 0xd800u) << 10) + (lo - 0xdc00u);
                p->pos += 6;
            }
            if (!emit_code_point(p, &n, cp))
                return false;
            continue;
        }
        default:
            return syntax_error(p, "invalid escape in string", esc);
        }
        if (!emit(p, &n, byte))
            return false;
        p->pos = esc + 2;
    }
    if (p->fill) {
        /* emit kept room for the NUL unless the string is empty. */
        if (n == 0 && p->n.string_bytes >= p->cap.string_bytes) {
            p->too_small = true;
            return false;
        }
        p->strings[p->n.string_bytes + n] = '\0';
        p->values[idx].count = (uint32_t)n;
        p->values[idx].data = (uint32_t)p->n.string_bytes;
    }
    p->n.string_bytes += n + 1;
    return true;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool parse_number(parser *p, uint32_t idx)
{
    size_t start = p->pos;
    const unsigned char *s = p->s;
    if (s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !is_digit(s[p->pos]))
        return syntax_error(p, "invalid number", start);
    if (s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(s[p->pos]))
            return syntax_error(p, "leading zero in number", start);
    } else {
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return syntax_error(p, "expected a digit after '.' in number", p->pos);
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return syntax_error(p, "expected a digit in the exponent of a number", p->pos);
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->fill)
        p->values[idx].count = (uint32_t)(p->pos - start);
    return true;
}

static bool parse_literal(parser *p, const char *word, contrl__json_type type)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return syntax_error(p, "invalid literal", p->pos);
    uint32_t idx;
    if (!new_value(p, type, &idx))
        return false;
    p->pos += n;
    return true;
}

/* A scalar value at p->pos (first byte c). */
static bool parse_scalar(parser *p, unsigned char c)
{
    uint32_t idx;
    switch (c) {
    case '"':
        return new_value(p, CONTRL__JSON_STRING, &idx) && parse_string(p, idx);
    case 't':
        return parse_literal(p, "true", CONTRL__JSON_TRUE);
    case 'f':
        return parse_literal(p, "false", CONTRL__JSON_FALSE);
    case 'n':
        return parse_literal(p, "null", CONTRL__JSON_NULL);
    default:
        if (c == '-' || is_digit(c))
            return new_value(p, CONTRL__JSON_NUMBER, &idx) && parse_number(p, idx);
        return syntax_error(p, "expected a value", p->pos);
    }
}

/* `"key" :` of a member of object `obj` (CONTRL__JSON_NONE when counting). */
static bool parse_key(parser *p, uint32_t obj)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return syntax_error(p, "unexpected end of input", p->pos);
    if (p->s[p->pos] != '"')
        return syntax_error(p, "expected a string key", p->pos);
    uint32_t idx;
    if (!new_value(p, CONTRL__JSON_STRING, &idx) || !parse_string(p, idx))
        return false;
    p->n.n_members++;
    if (p->fill)
        p->values[obj].count++;
    skip_ws(p);
    if (p->pos >= p->len)
        return syntax_error(p, "unexpected end of input", p->pos);
    if (p->s[p->pos] != ':')
        return syntax_error(p, "expected ':' after key", p->pos);
    p->pos++;
    return true;
}

/* The whole text. Nesting is a bit stack (1 = object) of at most
 * CONTRL__JSON_MAX_DEPTH levels; in the fill pass each open container keeps
 * its parent's index in its `next` field until it closes. */
static bool run(parser *p)
{
    uint64_t is_object[CONTRL__JSON_MAX_DEPTH / 64] = {0};
    uint32_t depth = 0;
    uint32_t parent = CONTRL__JSON_NONE;

    for (;;) {
        /* A value is expected. */
        skip_ws(p);
        if (p->pos >= p->len)
            return syntax_error(p, p->n.n_values == 0 ? "empty input" : "unexpected end of input",
                                p->pos);
        unsigned char c = p->s[p->pos];
        if (p->fill && depth > 0 && !(is_object[(depth - 1) / 64] >> ((depth - 1) % 64) & 1))
            p->values[parent].count++;
        if (c == '{' || c == '[') {
            if (depth >= p->max_depth)
                return syntax_error(p, "nesting too deep", p->pos);
            bool obj = c == '{';
            uint32_t idx;
            if (!new_value(p, obj ? CONTRL__JSON_OBJECT : CONTRL__JSON_ARRAY, &idx))
                return false;
            uint64_t bit = (uint64_t)1 << (depth % 64);
            if (obj)
                is_object[depth / 64] |= bit;
            else
                is_object[depth / 64] &= ~bit;
            depth++;
            if (p->fill)
                p->values[idx].next = parent;
            parent = idx;
            p->pos++;
            skip_ws(p);
            /* Unless it is empty (then closed by the loop below), its first
             * member or element comes next. */
            if (p->pos >= p->len || p->s[p->pos] != (obj ? '}' : ']')) {
                if (obj && !parse_key(p, parent))
                    return false;
                continue;
            }
        } else if (!parse_scalar(p, c)) {
            return false;
        }

        /* After a value: close containers, then a ',' or the end. */
        for (;;) {
            skip_ws(p);
            if (depth == 0) {
                if (p->pos != p->len)
                    return syntax_error(p, "trailing characters after the JSON value", p->pos);
                return true;
            }
            if (p->pos >= p->len)
                return syntax_error(p, "unexpected end of input", p->pos);
            bool obj = is_object[(depth - 1) / 64] >> ((depth - 1) % 64) & 1;
            c = p->s[p->pos];
            if (c == (obj ? '}' : ']')) {
                p->pos++;
                depth--;
                if (p->fill) {
                    uint32_t idx = parent;
                    parent = p->values[idx].next;
                    p->values[idx].next = (uint32_t)p->n.n_values;
                }
                continue;
            }
            if (c != ',')
                return syntax_error(p, obj ? "expected ',' or '}'" : "expected ',' or ']'", p->pos);
            p->pos++;
            if (obj && !parse_key(p, parent))
                return false;
            break;
        }
    }
}

static contrl_status check_args(const char *text, size_t len, const contrl__json_options *opt,
                                const char *func, uint32_t *max_depth)
{
    if (text == NULL && len > 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: text is NULL", func);
    if (len > CONTRL__JSON_MAX_LEN)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: text of %zu bytes is longer than %zu",
                            func, len, CONTRL__JSON_MAX_LEN);
    *max_depth = opt == NULL || opt->max_depth == 0 ? CONTRL__JSON_DEFAULT_DEPTH : opt->max_depth;
    if (*max_depth > CONTRL__JSON_MAX_DEPTH)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: max_depth %u is above %u", func,
                            *max_depth, CONTRL__JSON_MAX_DEPTH);
    return CONTRL_OK;
}

static contrl_status report(const parser *p, const char *func)
{
    if (p->too_small)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: storage is smaller than contrl__json_measure reported", func);
    return contrl__fail(CONTRL_ERR_FORMAT, "JSON: %s at byte %zu", p->what, p->where);
}

contrl_status contrl__json_measure(const char *text, size_t len, const contrl__json_options *opt,
                                   contrl__json_sizes *sizes)
{
    if (sizes == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__json_measure: sizes is NULL");
    memset(sizes, 0, sizeof *sizes);
    parser p = {.s = (const unsigned char *)text, .len = len};
    contrl_status st = check_args(text, len, opt, "contrl__json_measure", &p.max_depth);
    if (st != CONTRL_OK)
        return st;
    if (!run(&p))
        return report(&p, "contrl__json_measure");
    *sizes = p.n;
    return CONTRL_OK;
}

static int key_cmp(uint32_t a, uint32_t b, const void *ctx)
{
    const contrl__json_doc *d = ctx;
    const contrl__json_value *va = &d->values[a], *vb = &d->values[b];
    size_t n = va->count < vb->count ? va->count : vb->count;
    int c = memcmp(d->strings + va->data, d->strings + vb->data, n);
    if (c != 0)
        return c;
    if (va->count != vb->count)
        return va->count < vb->count ? -1 : 1;
    return a < b ? -1 : a > b; /* equal keys: document order */
}

static bool same_key(const contrl__json_doc *d, uint32_t a, uint32_t b)
{
    const contrl__json_value *va = &d->values[a], *vb = &d->values[b];
    return va->count == vb->count &&
           memcmp(d->strings + va->data, d->strings + vb->data, va->count) == 0;
}

/* Fill each object's sorted run of keys in doc->members; with `unique`,
 * reject an object with two equal keys. */
static contrl_status index_members(contrl__json_doc *d, size_t cap_members, bool unique)
{
    size_t m = 0;
    for (size_t i = 0; i < d->n_values; i++) {
        contrl__json_value *v = &d->values[i];
        if (v->type != CONTRL__JSON_OBJECT)
            continue;
        v->data = (uint32_t)m;
        if (v->count == 0)
            continue; /* members may be NULL: no pointer arithmetic on it */
        if (cap_members - m < v->count)
            return contrl__fail(CONTRL_ERR_INVALID_ARG,
                                "contrl__json_parse: storage is smaller than "
                                "contrl__json_measure reported");
        uint32_t k = (uint32_t)i + 1;
        for (uint32_t j = 0; j < v->count; j++) {
            d->members[m + j] = k;
            k = d->values[k + 1].next;
        }
        uint32_t *run = d->members + m;
        contrl__sort_u32(run, v->count, key_cmp, d);
        m += v->count;
        if (!unique)
            continue;
        for (uint32_t j = 1; j < v->count; j++) {
            if (same_key(d, run[j - 1], run[j])) {
                const contrl__json_value *key = &d->values[run[j]];
                char name[72];
                return contrl__fail(
                    CONTRL_ERR_FORMAT, "JSON: duplicate key \"%s\" at byte %u",
                    contrl__json_printable(d->strings + key->data, key->count, name, sizeof name),
                    key->pos);
            }
        }
    }
    d->n_members = m;
    return CONTRL_OK;
}

contrl_status contrl__json_parse(const char *text, size_t len, const contrl__json_options *opt,
                                 const contrl__json_sizes *cap, contrl__json_doc *doc)
{
    if (cap == NULL || doc == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__json_parse: %s is NULL",
                            cap == NULL ? "cap" : "doc");
    contrl__json_doc d = *doc;
    d.text = NULL;
    d.len = d.n_values = d.n_members = d.string_bytes = 0;
    *doc = d;
    if ((d.values == NULL && cap->n_values > 0) || (d.members == NULL && cap->n_members > 0) ||
        (d.strings == NULL && cap->string_bytes > 0))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl__json_parse: NULL storage with a non-zero capacity");
    parser p = {.s = (const unsigned char *)text,
                .len = len,
                .fill = true,
                .values = d.values,
                .strings = d.strings,
                .cap = *cap};
    contrl_status st = check_args(text, len, opt, "contrl__json_parse", &p.max_depth);
    if (st != CONTRL_OK)
        return st;
    if (!run(&p))
        return report(&p, "contrl__json_parse");
    if (p.n.n_members > cap->n_members)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__json_parse: storage is smaller than "
                                                    "contrl__json_measure reported");
    d.text = text;
    d.len = len;
    d.n_values = p.n.n_values;
    d.string_bytes = p.n.string_bytes;
    st = index_members(&d, cap->n_members, opt != NULL && opt->reject_duplicate_keys);
    if (st != CONTRL_OK)
        return st;
    *doc = d;
    return CONTRL_OK;
}

contrl_status contrl__json_parse_alloc(const char *text, size_t len,
                                       const contrl__json_options *opt, const contrl_allocator *a,
                                       contrl__json_doc *doc)
{
    if (doc == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl__json_parse_alloc: doc is NULL");
    memset(doc, 0, sizeof *doc);
    contrl__json_sizes need;
    contrl_status st = contrl__json_measure(text, len, opt, &need);
    if (st != CONTRL_OK)
        return st;
    size_t values_size, members_size;
    /* Counts are below 2^32 (len < 2^31), so these products cannot
     * overflow a 64-bit size_t; check for 32-bit hosts. */
    if (!contrl__mul_size(need.n_values, sizeof(contrl__json_value), &values_size) ||
        !contrl__mul_size(need.n_members, sizeof(uint32_t), &members_size))
        return contrl__fail(CONTRL_ERR_NOMEM, "contrl__json_parse_alloc: document too large");
    contrl__json_doc d = {0};
    d.values = contrl__alloc(a, values_size);
    d.members = contrl__alloc(a, members_size);
    d.strings = contrl__alloc(a, need.string_bytes);
    if ((values_size > 0 && d.values == NULL) || (members_size > 0 && d.members == NULL) ||
        (need.string_bytes > 0 && d.strings == NULL)) {
        st = contrl__fail(CONTRL_ERR_NOMEM,
                          "contrl__json_parse_alloc: cannot allocate %zu bytes for the document",
                          values_size + members_size + need.string_bytes);
        goto fail_free;
    }
    st = contrl__json_parse(text, len, opt, &need, &d);
    if (st != CONTRL_OK)
        goto fail_free;
    *doc = d;
    return CONTRL_OK;

fail_free:
    contrl__free(a, d.values, values_size);
    contrl__free(a, d.members, members_size);
    contrl__free(a, d.strings, need.string_bytes);
    return st;
}

void contrl__json_free(contrl__json_doc *doc, const contrl_allocator *a)
{
    if (doc == NULL)
        return;
    /* After a successful parse the used counts equal the measured sizes
     * that were allocated. */
    contrl__free(a, doc->values, doc->n_values * sizeof(contrl__json_value));
    contrl__free(a, doc->members, doc->n_members * sizeof(uint32_t));
    contrl__free(a, doc->strings, doc->string_bytes);
    memset(doc, 0, sizeof *doc);
}

uint32_t contrl__json_get(const contrl__json_doc *doc, uint32_t obj, const char *key,
                          size_t key_len)
{
    if (doc == NULL || obj >= doc->n_values || doc->values[obj].type != CONTRL__JSON_OBJECT ||
        doc->values[obj].count == 0 || (key == NULL && key_len > 0))
        return CONTRL__JSON_NONE;
    const uint32_t *run = doc->members + doc->values[obj].data;
    /* Upper bound: the first key greater than `key`; the one before it is
     * then the last equal key in document order, if any. */
    size_t lo = 0, hi = doc->values[obj].count;
    int c = 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const contrl__json_value *k = &doc->values[run[mid]];
        size_t n = k->count < key_len ? k->count : key_len;
        c = n > 0 ? memcmp(doc->strings + k->data, key, n) : 0;
        if (c == 0)
            c = k->count < key_len ? -1 : k->count > key_len;
        if (c <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return CONTRL__JSON_NONE;
    uint32_t k = run[lo - 1];
    const contrl__json_value *kv = &doc->values[k];
    if (kv->count != key_len || (key_len > 0 && memcmp(doc->strings + kv->data, key, key_len) != 0))
        return CONTRL__JSON_NONE;
    return k + 1;
}

const char *contrl__json_string(const contrl__json_doc *doc, uint32_t i)
{
    if (doc == NULL || i >= doc->n_values || doc->values[i].type != CONTRL__JSON_STRING)
        return NULL;
    return doc->strings + doc->values[i].data;
}

bool contrl__json_u64(const contrl__json_doc *doc, uint32_t i, uint64_t *out)
{
    if (doc == NULL || out == NULL || i >= doc->n_values ||
        doc->values[i].type != CONTRL__JSON_NUMBER)
        return false;
    const char *s = doc->text + doc->values[i].pos;
    size_t n = doc->values[i].count;
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        if (!is_digit((unsigned char)s[k]))
            return false; /* sign, fraction or exponent */
        unsigned d = (unsigned)(s[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool contrl__json_double(const contrl__json_doc *doc, uint32_t i, double *out)
{
    if (doc == NULL || out == NULL || i >= doc->n_values ||
        doc->values[i].type != CONTRL__JSON_NUMBER)
        return false;
    const char *s = doc->text + doc->values[i].pos;
    size_t n = doc->values[i].count, k = 0;

    /* Rewrite the number as "<digits>e<exp>", with no decimal point, so
     * strtod reads it the same in every locale. 768 significant digits
     * decide the rounding of any double; a nonzero digit past them is
     * kept as a final '1' (a sticky digit) so that halfway cases still
     * round the right way. */
    enum { MAX_DIGITS = 780 };
    char buf[MAX_DIGITS + 32];
    size_t nd = 0;
    int64_t exp10 = 0; /* value = digits * 10^exp10; |exp10| <= len < 2^31 */
    bool sticky = false, negative = false;
    if (k < n && s[k] == '-') {
        negative = true;
        k++;
    }
    for (; k < n && is_digit((unsigned char)s[k]); k++) {
        if (nd == 0 && s[k] == '0')
            continue;
        if (nd < MAX_DIGITS) {
            buf[nd++] = s[k];
        } else {
            exp10++;
            sticky |= s[k] != '0';
        }
    }
    if (k < n && s[k] == '.') {
        for (k++; k < n && is_digit((unsigned char)s[k]); k++) {
            if (nd == 0 && s[k] == '0') {
                exp10--; /* zeros right after the point only scale */
            } else if (nd < MAX_DIGITS) {
                buf[nd++] = s[k];
                exp10--;
            } else {
                sticky |= s[k] != '0';
            }
        }
    }
    int64_t e = 0;
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        bool eneg = false;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            eneg = s[k++] == '-';
        for (; k < n && is_digit((unsigned char)s[k]); k++)
            if (e < INT64_C(1000000000000)) /* saturate: far past any double */
                e = e * 10 + (s[k] - '0');
        if (eneg)
            e = -e;
    }
    if (nd == 0) {
        *out = negative ? -0.0 : 0.0;
        return true;
    }
    if (sticky) {
        buf[nd++] = '1';
        exp10--;
    }
    int64_t scale = exp10 + e;
    /* digits * 10^scale lies in [10^(scale + nd - 1), 10^(scale + nd)). */
    if (scale + (int64_t)nd - 1 > 309)
        return false; /* above DBL_MAX (1.8e308) */
    if (scale + (int64_t)nd < -400) {
        *out = negative ? -0.0 : 0.0; /* below half the smallest subnormal (4.9e-324) */
        return true;
    }
    snprintf(buf + nd, sizeof buf - nd, "e%d", (int)scale);
    double v = strtod(buf, NULL);
    if (isinf(v))
        return false;
    *out = negative ? -v : v;
    return true;
}

size_t contrl__json_write_string(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (dst != NULL)                                                                           \
            dst[k] = (char)(c);                                                                    \
        k++;                                                                                       \
    } while (0)
    PUT('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char short_esc = 0;
        switch (c) {
        case '"':
            short_esc = '"';
            break;
        case '\\':
            short_esc = '\\';
            break;
        case '\b':
            short_esc = 'b';
            break;
        case '\f':
            short_esc = 'f';
            break;
        case '\n':
            short_esc = 'n';
            break;
        case '\r':
            short_esc = 'r';
            break;
        case '\t':
            short_esc = 't';
            break;
        default:
            break;
        }
        if (short_esc != 0) {
            PUT('\\');
            PUT(short_esc);
        } else if (c < 0x20) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT(c);
        }
    }
    PUT('"');
#undef PUT
    return k;
}

const char *contrl__json_printable(const char *s, size_t n, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    size_t room = cap - 1, k = 0;
    bool cut = n > room;
    if (cut)
        room = room > 3 ? room - 3 : 0;
    for (size_t i = 0; i < n && k < room; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (cut)
        for (int i = 0; i < 3 && k < cap - 1; i++)
            buf[k++] = '.';
    buf[k] = '\0';
    return buf;
}

static void sift_down(uint32_t *a, size_t root, size_t n,
                      int (*cmp)(uint32_t, uint32_t, const void *), const void *ctx)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(a[child], a[child + 1], ctx) < 0)
            child++;
        if (cmp(a[root], a[child], ctx) >= 0)
            return;
        uint32_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

void contrl__sort_u32(uint32_t *idx, size_t n, int (*cmp)(uint32_t a, uint32_t b, const void *ctx),
                      const void *ctx)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(idx, i, n, cmp, ctx);
    for (size_t end = n - 1; end > 0; end--) {
        uint32_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(idx, 0, end, cmp, ctx);
    }
}
