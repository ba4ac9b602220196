/* tests/fuzz/fuzz_safetensors.c - the safetensors container alone
 * (lib/io/safetensors.c): header JSON, entries, offsets, tiling, metadata.
 * Invariants: a failure leaves NULL and a message; a file that loads
 * answers every query consistently: each listed name is found, lookups of
 * names and keys never crash, a tensor read with the wrong shape or dtype
 * is refused without writing; nothing leaks. */
#include <string.h>

#include "contrl/contrl.h"
#include "fuzz_support.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    contrl_allocator alloc = fuzz_allocator();
    contrl__st_file *f = (contrl__st_file *)&alloc;
    contrl_status st = contrl__st_load_memory(data, size, &alloc, &f);
    if (st != CONTRL_OK) {
        FUZZ_CHECK(f == NULL, "failed load left a file");
        FUZZ_CHECK(contrl_last_error()[0] != '\0', "failed load without a message");
        FUZZ_CHECK(st == CONTRL_ERR_FORMAT || st == CONTRL_ERR_NOMEM, "status %d", (int)st);
    } else {
        size_t n = contrl__st_count(f);
        FUZZ_CHECK(contrl__st_name(f, n) == NULL, "name past the end");
        for (size_t i = 0; i < n; i++) {
            const char *name = contrl__st_name(f, i);
            FUZZ_CHECK(name != NULL && contrl__st_has(f, name), "tensor %zu not found by name", i);
            /* A scalar read: refused unless the tensor is one, and then
             * reads at most 8 bytes. */
            unsigned char guard[16];
            memset(guard, 0xa5, sizeof guard);
            for (int dt = CONTRL__DT_F32; dt <= CONTRL__DT_U8; dt++)
                contrl__st_get(f, name, (contrl__dtype)dt, 0, NULL, guard);
            for (size_t b = 8; b < sizeof guard; b++)
                FUZZ_CHECK(guard[b] == 0xa5, "a scalar read wrote past 8 bytes");
        }
        static const char *keys[] = {"format", "algorithm", "obs_dim", "", "__metadata__"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            (void)contrl__st_meta(f, keys[i]);
        FUZZ_CHECK(contrl__st_data_bytes(f) <= size, "more data than bytes");
        contrl__st_close(f);
    }
    fuzz_allocator_check_balanced("safetensors");
    fuzz_accepted = st == CONTRL_OK;
    return 0;
}
