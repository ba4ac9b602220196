/* tests/fuzz/fuzz_json.c - the strict JSON parser (lib/io/json.c) that
 * reads checkpoint headers. The input's first byte picks the options
 * (depth limit, duplicate keys); the rest is the text, which is copied to
 * a buffer of exactly its size so that any read past the end is an ASan
 * report. Invariants: measure and parse agree; parse_alloc leaves nothing
 * allocated and a zeroed doc on error; the tree is well formed (next
 * pointers move forward and stay in bounds, every object's member index
 * finds each of its keys); numbers convert without crashing. */
#include <stdlib.h>
#include <string.h>

#include "contrl/contrl.h"
#include "fuzz_support.h"
#include "json.h"

static void walk(const contrl__json_doc *d)
{
    for (uint32_t i = 0; i < d->n_values; i++) {
        const contrl__json_value *v = &d->values[i];
        FUZZ_CHECK(v->next > i && v->next <= d->n_values, "value %u: next %u", i, v->next);
        FUZZ_CHECK(v->pos < d->len, "value %u starts past the text", i);
        if (v->type == CONTRL__JSON_NUMBER) {
            uint64_t u;
            double x;
            (void)contrl__json_u64(d, i, &u);
            (void)contrl__json_double(d, i, &x);
        } else if (v->type == CONTRL__JSON_STRING) {
            const char *s = contrl__json_string(d, i);
            FUZZ_CHECK(s != NULL && s[v->count] == '\0', "string %u not terminated", i);
        } else if (v->type == CONTRL__JSON_OBJECT) {
            uint32_t k = i + 1;
            for (uint32_t m = 0; m < v->count; m++) {
                FUZZ_CHECK(k < d->n_values && d->values[k].type == CONTRL__JSON_STRING,
                           "object %u: key %u is not a string", i, m);
                uint32_t got = contrl__json_get(d, i, contrl__json_string(d, k), d->values[k].count);
                FUZZ_CHECK(got != CONTRL__JSON_NONE, "object %u: key %u not found", i, m);
                k = d->values[k + 1].next;
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    contrl__json_options opt = {(uint32_t)(data[0] & 0x7f) + 1, (data[0] & 0x80) != 0};
    size_t len = size - 1;
    char *text = malloc(len > 0 ? len : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);

    contrl__json_sizes sizes;
    contrl_status measured = contrl__json_measure(text, len, &opt, &sizes);
    contrl_allocator alloc = fuzz_allocator();
    contrl__json_doc doc;
    memset(&doc, 0xff, sizeof doc);
    contrl_status st = contrl__json_parse_alloc(text, len, &opt, &alloc, &doc);
    if (measured != CONTRL_OK)
        FUZZ_CHECK(st == measured, "measure %d but parse %d", (int)measured, (int)st);
    if (st == CONTRL_OK) {
        FUZZ_CHECK(doc.n_values == sizes.n_values && doc.n_members == sizes.n_members &&
                       doc.string_bytes == sizes.string_bytes,
                   "measure and parse disagree on sizes");
        walk(&doc);
        contrl__json_free(&doc, &alloc);
    } else {
        FUZZ_CHECK(doc.values == NULL && doc.n_values == 0, "failed parse left a document");
        FUZZ_CHECK(contrl_last_error()[0] != '\0', "failed parse without a message");
    }
    fuzz_allocator_check_balanced("json");
    fuzz_accepted = st == CONTRL_OK;
    free(text);
    return 0;
}
