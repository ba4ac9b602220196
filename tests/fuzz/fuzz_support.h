/* tests/fuzz/fuzz_support.h - what the fuzz targets share: a capped,
 * balance-checking contrl_allocator and an in-memory file.
 *
 * Each target defines LLVMFuzzerTestOneInput (libFuzzer's entry point). It
 * is linked either with libFuzzer (clang -fsanitize=fuzzer: coverage-guided
 * runs, tests/fuzz/README in docs/reliability.md) or with replay.c, a plain
 * main() that replays the seed corpus plus deterministic mutations of it,
 * so that the gcc builds of the suite run every target too. */
#ifndef CONTRL_TESTS_FUZZ_SUPPORT_H
#define CONTRL_TESTS_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "contrl/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Set by each target for the input it last ran: 1 if that input was
 * accepted whole (the file loaded, the text parsed, the command line
 * succeeded). replay.c checks that every seed of the committed corpus is. */
extern int fuzz_accepted;

/* Stop the process with a message: a broken invariant is a finding. */
void fuzz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__VA_ARGS__);                                                                \
    } while (0)

/* A contrl_allocator that refuses any request that would take the live
 * total above FUZZ_MEMORY_CAP (so a file asking for gigabytes costs a NOMEM,
 * not the machine), and counts allocations and frees. */
enum { FUZZ_MEMORY_CAP = 64 << 20 };
contrl_allocator fuzz_allocator(void);
/* Fails (fuzz_fail) unless every block handed out since the last call was
 * freed, with the size it was allocated with. */
void fuzz_allocator_check_balanced(const char *what);

/* A memfd holding data[0, size); *path gets "/proc/self/fd/N" (a regular
 * file for open/fstat/read). Reused between calls: the descriptor stays
 * open for the life of the process. Returns the path. */
const char *fuzz_memfile(const uint8_t *data, size_t size);

#endif /* CONTRL_TESTS_FUZZ_SUPPORT_H */
