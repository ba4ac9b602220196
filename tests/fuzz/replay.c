/* tests/fuzz/replay.c - runs a fuzz target without libFuzzer, for the
 * gcc builds of the suite (plain and ASan+UBSan):
 *
 *     replay_X CORPUS_DIR [MUTATIONS [SEED]]
 *
 * replays every file of CORPUS_DIR (in name order), then MUTATIONS inputs
 * (default 2000) made from them by a fixed pseudo-random sequence (SEED,
 * default 1): bit flips, interesting bytes and numbers, insertions,
 * deletions, truncations, repeated and spliced chunks. The same arguments
 * give the same inputs on every machine, so a failure here reproduces
 * exactly: a crash names its mutation index, and
 *     replay_X CORPUS_DIR MUTATIONS SEED INDEX
 * writes that one input to ./replay-input.bin and runs only it.
 * Coverage-guided fuzzing proper is the clang build (docs/reliability.md). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_support.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static uint64_t rng_state;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static size_t below(size_t n)
{
    return n == 0 ? 0 : (size_t)(next_u64() % n);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t read_corpus(const char *dir, blob **out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open corpus directory %s\n", dir);
        exit(2);
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    blob *b = calloc(n ? n : 1, sizeof *b);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "replay: cannot read %s\n", path);
            exit(2);
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        b[i].p = malloc(size > 0 ? (size_t)size : 1);
        b[i].n = fread(b[i].p, 1, (size_t)size, f);
        fclose(f);
        free(names[i]);
    }
    free(names);
    *out = b;
    return n;
}

/* Overwrite a run of ASCII digits at p (if any) with a chosen number. */
static void mutate_number(uint8_t *p, size_t n)
{
    static const char *numbers[] = {"0", "1", "4294967295", "4294967296", "18446744073709551615",
                                    "18446744073709551616", "99999999999999999999", "65536",
                                    "1048576", "2", "-1", "1e308", "3.4e39", "nan", "1e-45"};
    size_t start = below(n);
    while (start < n && (p[start] < '0' || p[start] > '9'))
        start++;
    if (start == n)
        return;
    size_t end = start;
    while (end < n && p[end] >= '0' && p[end] <= '9')
        end++;
    const char *s = numbers[below(sizeof numbers / sizeof numbers[0])];
    size_t k = strlen(s), room = end - start;
    /* Same length only (offsets elsewhere stay valid): pad or cut. */
    for (size_t i = 0; i < room; i++)
        p[start + i] = i < k ? (uint8_t)s[i] : (uint8_t)' ';
}

static blob mutate(const blob *corpus, size_t n_corpus)
{
    const blob *src = &corpus[below(n_corpus)];
    size_t cap = src->n * 2 + 64;
    blob m = {malloc(cap), src->n};
    memcpy(m.p, src->p, src->n);
    int rounds = 1 + (int)below(4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = below(m.n + 1);
        switch (below(9)) {
        case 0: /* flip a bit */
            if (m.n > 0)
                m.p[below(m.n)] ^= (uint8_t)(1u << below(8));
            break;
        case 1: { /* an interesting byte */
            static const uint8_t bytes[] = {0, 0xff, 0x7f, 0x80, '"', '{', '}', '[', ']',
                                            ',', ':', '\\', '9', '-', ' ', 'e'};
            if (m.n > 0)
                m.p[below(m.n)] = bytes[below(sizeof bytes)];
            break;
        }
        case 2: /* the 8-byte header length */
            if (m.n >= 8)
                for (int i = 0; i < 8; i++)
                    m.p[i] = (uint8_t)next_u64() & (below(4) == 0 ? 0xff : (i == 0 ? 0xff : 0));
            break;
        case 3: /* a number in the text */
            mutate_number(m.p, m.n);
            break;
        case 4: /* truncate */
            m.n = pos;
            break;
        case 5: { /* delete a run */
            size_t k = below(m.n - (pos < m.n ? pos : m.n) + 1);
            if (pos + k <= m.n) {
                memmove(m.p + pos, m.p + pos + k, m.n - pos - k);
                m.n -= k;
            }
            break;
        }
        case 6: { /* insert random bytes */
            size_t k = 1 + below(16);
            if (m.n + k <= cap) {
                memmove(m.p + pos + k, m.p + pos, m.n - pos);
                for (size_t i = 0; i < k; i++)
                    m.p[pos + i] = (uint8_t)next_u64();
                m.n += k;
            }
            break;
        }
        case 7: { /* repeat a chunk of itself */
            if (m.n == 0)
                break;
            size_t from = below(m.n), k = 1 + below(m.n - from);
            if (k > 256)
                k = 256;
            if (m.n + k <= cap) {
                memmove(m.p + pos + k, m.p + pos, m.n - pos);
                memmove(m.p + pos, m.p + (from < pos ? from : from + k), k);
                m.n += k;
            }
            break;
        }
        default: { /* splice: the tail of another input */
            const blob *o = &corpus[below(n_corpus)];
            size_t at = below(o->n + 1), k = o->n - at;
            if (pos + k <= cap) {
                memcpy(m.p + pos, o->p + at, k);
                m.n = pos + k;
            }
            break;
        }
        }
    }
    return m;
}

static void save_input(const blob *b, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(b->p, 1, b->n, f);
        fclose(f);
    }
}

/* The input being run, for the message of a crash. */
static volatile long current_index = -1;
static void on_fatal(int sig)
{
    char msg[128];
    int k = snprintf(msg, sizeof msg,
                     "replay: signal %d in mutation %ld (rerun with that index as 4th argument "
                     "to get it in replay-input.bin)\n",
                     sig, (long)current_index);
    if (write(2, msg, (size_t)k) < 0)
        _exit(3);
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS [SEED]]\n", argv[0]);
        return 2;
    }
    long mutations = argc > 2 ? atol(argv[2]) : 2000;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    blob *corpus;
    size_t n = read_corpus(argv[1], &corpus);
    if (n == 0) {
        fprintf(stderr, "replay: %s is empty\n", argv[1]);
        return 2;
    }
    long only = argc > 4 ? atol(argv[4]) : -1;
    signal(SIGABRT, on_fatal);
    signal(SIGSEGV, on_fatal);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The seeds are valid inputs: one that is refused means the corpus is
     * stale (regenerate it with make_seeds) or the loader broke. */
    for (size_t i = 0; i < n && only < 0; i++) {
        fuzz_accepted = 0;
        LLVMFuzzerTestOneInput(corpus[i].p, corpus[i].n);
        if (!fuzz_accepted) {
            fprintf(stderr, "replay: seed %zu of %s is refused: %s\n", i, argv[1],
                    contrl_last_error());
            return 1;
        }
    }
    for (long i = 0; i < mutations; i++) {
        blob m = mutate(corpus, n);
        current_index = i;
        if (only < 0 || i == only) {
            if (i == only)
                save_input(&m, "replay-input.bin");
            LLVMFuzzerTestOneInput(m.p, m.n);
        }
        free(m.p);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("replay: %zu corpus files and %ld mutations in %.2f s, no failure\n", n, mutations, s);
    for (size_t i = 0; i < n; i++)
        free(corpus[i].p);
    free(corpus);
    return 0;
}
