/* tests/io/test_safetensors.c - safetensors checkpoints (lib/io/safetensors.h)
 * and the atomic file layer under them (lib/io/file.h). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "internal.h"
#include "safetensors.h"

/* ---- a scratch directory per test --------------------------------------- */

static char dir[64];

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[512];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/contrl-io-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    remove_tree(dir);
}

/* dir/name in one of a few rotating buffers. */
static const char *in_dir(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

/* Number of entries in a directory; their names joined by ' ' in *names. */
static int list_dir(const char *path, char *names, size_t cap)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    names[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        size_t k = strlen(names);
        snprintf(names + k, cap - k, "%s%s", k ? " " : "", e->d_name);
    }
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file (malloc'ed), its size in *n. */
static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t cap = 1 << 20;
    unsigned char *p = malloc(cap);
    ck_assert_ptr_nonnull(p);
    *n = fread(p, 1, cap, f);
    ck_assert_uint_lt(*n, cap);
    fclose(f);
    return p;
}

static bool file_equals(const char *path, const void *want, size_t n)
{
    size_t got_n;
    unsigned char *got = read_bytes(path, &got_n);
    bool same = got_n == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

/* ---- hand-made files ----------------------------------------------------- */

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

/* 8-byte little-endian `n_field`, the header bytes, then data (zeros if
 * data is NULL). */
static blob make_raw_n(uint64_t n_field, const char *header, size_t header_len, const void *data,
                       size_t data_len)
{
    blob b = {malloc(8 + header_len + data_len + 1), 8 + header_len + data_len};
    ck_assert_ptr_nonnull(b.p);
    for (int i = 0; i < 8; i++)
        b.p[i] = (unsigned char)(n_field >> (8 * i));
    memcpy(b.p + 8, header, header_len);
    if (data != NULL)
        memcpy(b.p + 8 + header_len, data, data_len);
    else
        memset(b.p + 8 + header_len, 0, data_len);
    return b;
}

static blob make_raw(const char *header, const void *data, size_t data_len)
{
    return make_raw_n(strlen(header), header, strlen(header), data, data_len);
}

/* Load from memory and from a file; both must give the same status. The
 * file must fail with the same message, naming the path. */
static contrl_status load_status(blob b)
{
    contrl__st_file *f = (contrl__st_file *)&f; /* must be set to NULL */
    contrl_status mem = contrl__st_load_memory(b.p, b.n, NULL, &f);
    if (mem == CONTRL_OK)
        contrl__st_close(f);
    else
        ck_assert_ptr_null(f);
    char mem_msg[512];
    snprintf(mem_msg, sizeof mem_msg, "%s", contrl_last_error());

    const char *path = in_dir("raw.safetensors");
    write_bytes(path, b.p, b.n);
    contrl_status disk = contrl__st_load(path, NULL, &f);
    ck_assert_int_eq(disk, mem);
    if (disk == CONTRL_OK) {
        contrl__st_close(f);
    } else {
        ck_assert_ptr_null(f);
        ck_assert(strncmp(contrl_last_error(), path, strlen(path)) == 0);
        ck_assert_str_eq(contrl_last_error() + strlen(path), mem_msg + strlen("<memory>"));
    }
    return mem;
}

static contrl__st_file *load_ok(blob b)
{
    contrl__st_file *f = NULL;
    contrl_status st = contrl__st_load_memory(b.p, b.n, NULL, &f);
    ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
    return f;
}

/* A counting allocator that can be told to fail its k-th call. */
typedef struct counting {
    size_t allocs, frees, live_bytes;
    long fail_at; /* -1: never */
} counting;

static void *counting_alloc(void *user, size_t size, size_t align)
{
    counting *c = user;
    if (c->fail_at >= 0 && (long)c->allocs == c->fail_at)
        return NULL;
    c->allocs++;
    c->live_bytes += size;
    return aligned_alloc(align, (size + align - 1) / align * align);
}

static void counting_free(void *user, void *ptr, size_t size)
{
    counting *c = user;
    c->frees++;
    c->live_bytes -= size;
    free(ptr);
}

/* ---- a checkpoint with every dtype --------------------------------------- */

static const float F32[6] = {1.5f, -0.0f, FLT_MIN / 2, FLT_MAX, -3.25f, 1e-30f};
static const double F64[3] = {3.141592653589793, -DBL_MAX, 5e-324};
static const int32_t I32[4] = {INT32_MIN, -1, 0, INT32_MAX};
static const int64_t I64[2] = {INT64_MIN, INT64_MAX};
static const uint64_t U64[3] = {0, 1, UINT64_MAX};
static const uint8_t U8[5] = {0, 1, 127, 128, 255};
static const float SCALAR = 42.0f;

enum { N_SAMPLE = 10 };

static void sample_tensors(contrl__tensor t[N_SAMPLE])
{
    const contrl__tensor all[N_SAMPLE] = {
        {"actor.w0", CONTRL__DT_F32, 2, {2, 3}, F32},
        {"critic.q", CONTRL__DT_F64, 1, {3}, F64},
        {"i32", CONTRL__DT_I32, 2, {2, 2}, I32},
        {"step", CONTRL__DT_I64, 1, {2}, I64},
        {"empty.f64", CONTRL__DT_F64, 2, {0, 3}, NULL},
        {"u64", CONTRL__DT_U64, 1, {3}, U64},
        {"bytes", CONTRL__DT_U8, 1, {5}, U8},
        {"scalar", CONTRL__DT_F32, 0, {0}, &SCALAR},
        {"four.d", CONTRL__DT_F32, 4, {1, 2, 1, 3}, F32},
        {"empty.u8", CONTRL__DT_U8, 2, {2, 0}, NULL},
    };
    memcpy(t, all, sizeof all);
}

static const contrl__meta SAMPLE_META[2] = {
    {"format", "pt"},
    {"algo", "td3 \"quoted\"\n\\ caf\xc3\xa9 \x01"},
};

static void save_sample(const char *path)
{
    contrl__tensor t[N_SAMPLE];
    sample_tensors(t);
    contrl_status st = contrl__st_save(path, t, N_SAMPLE, SAMPLE_META, 2, NULL);
    ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
}

static blob sample_blob(void)
{
    const char *path = in_dir("sample.safetensors");
    save_sample(path);
    blob b;
    b.p = read_bytes(path, &b.n);
    uint64_t n = 0;
    for (int i = 7; i >= 0 && b.n >= 8; i--)
        n = n << 8 | b.p[i];
    ck_assert_uint_gt(b.n, 8);
    ck_assert_uint_lt(n, b.n - 8);
    return b;
}

/* ---- round trips and reference files ------------------------------------ */

START_TEST(st_round_trip_of_every_dtype_is_bit_exact)
{
    const char *path = in_dir("ckpt.safetensors");
    save_sample(path);
    contrl__tensor t[N_SAMPLE];
    sample_tensors(t);

    counting c = {0, 0, 0, -1};
    contrl_allocator a = {counting_alloc, counting_free, &c};
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load(path, &a, &f), CONTRL_OK);
    ck_assert_uint_eq(contrl__st_count(f), N_SAMPLE);
    for (size_t i = 0; i < N_SAMPLE; i++) {
        ck_assert_str_eq(contrl__st_name(f, i), t[i].name); /* saved order */
        ck_assert(contrl__st_has(f, t[i].name));
        unsigned char got[64];
        memset(got, 0xA5, sizeof got);
        ck_assert_msg(contrl__st_get(f, t[i].name, t[i].dtype, t[i].ndim, t[i].shape, got) ==
                          CONTRL_OK,
                      "%s", contrl_last_error());
        size_t bytes = 0;
        if (t[i].data != NULL) {
            static const size_t size[] = {4, 8, 4, 8, 8, 1};
            bytes = size[t[i].dtype];
            for (uint32_t d = 0; d < t[i].ndim; d++)
                bytes *= (size_t)t[i].shape[d];
            ck_assert(memcmp(got, t[i].data, bytes) == 0);
        }
        ck_assert_int_eq(got[bytes], 0xA5); /* nothing written past the tensor */
    }
    ck_assert_ptr_null(contrl__st_name(f, N_SAMPLE));
    ck_assert_str_eq(contrl__st_meta(f, "format"), "pt");
    ck_assert_str_eq(contrl__st_meta(f, "algo"), SAMPLE_META[1].value);
    ck_assert_ptr_null(contrl__st_meta(f, "absent"));
    ck_assert_ptr_null(contrl__st_meta(f, "__metadata__"));
    ck_assert(!contrl__st_has(f, "__metadata__"));
    contrl__st_close(f);
    ck_assert_uint_eq(c.live_bytes, 0);
    ck_assert_uint_eq(c.allocs, c.frees);
}
END_TEST

START_TEST(st_saved_file_has_padded_header_and_packed_little_endian_data)
{
    blob b = sample_blob();
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b.p[i];
    ck_assert_uint_eq(n % 8, 0); /* data starts 8-aligned */
    ck_assert_int_eq(b.p[8], '{');
    size_t data = 4 * 6 + 8 * 3 + 4 * 4 + 8 * 2 + 8 * 3 + 5 + 4 + 4 * 6;
    ck_assert_uint_eq(b.n, 8 + n + data);
    /* The first tensor (F32 1.5 = 0x3fc00000) is first in the buffer,
     * little-endian on any host. */
    static const unsigned char one_and_half[4] = {0x00, 0x00, 0xc0, 0x3f};
    ck_assert(memcmp(b.p + 8 + n, one_and_half, 4) == 0);
    free(b.p);
}
END_TEST

START_TEST(st_save_writes_the_reference_layout_byte_for_byte)
{
    /* What the reference implementation writes for
     * save_file({"weight": torch.tensor([[1., 2.], [3., 4.]])}, metadata={"format": "pt"}):
     * header length 96, the header padded with 3 spaces, the floats LE. */
    static const char header[] = "{\"__metadata__\":{\"format\":\"pt\"},\"weight\":{\"dtype\":"
                                 "\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}   ";
    static const unsigned char len[8] = {96, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char data[16] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
                                           0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40};
    ck_assert_uint_eq(sizeof header - 1, 96);
    unsigned char want[8 + 96 + 16];
    memcpy(want, len, 8);
    memcpy(want + 8, header, 96);
    memcpy(want + 104, data, 16);

    const float w[4] = {1, 2, 3, 4};
    contrl__tensor t = {"weight", CONTRL__DT_F32, 2, {2, 2}, w};
    contrl__meta m = {"format", "pt"};
    const char *path = in_dir("ref.safetensors");
    ck_assert_int_eq(contrl__st_save(path, &t, 1, &m, 1, NULL), CONTRL_OK);
    ck_assert(file_equals(path, want, sizeof want));
}
END_TEST

START_TEST(st_loads_a_hand_built_reference_file)
{
    /* An nn.Linear(3, 2) as Python would save it, byte by byte from the
     * format description: keys in any order, whitespace, an escaped
     * metadata value, the header padded with spaces. */
    char header[512];
    snprintf(
        header, sizeof header, "%s",
        "{\n"
        "  \"linear.bias\": {\"shape\": [2], \"data_offsets\": [24, 32], \"dtype\": \"F32\"},\n"
        "  \"__metadata__\": {\"format\": \"pt\", \"note\": \"caf\\u00e9\"},\n"
        "  \"linear.weight\": {\"dtype\": \"F32\", \"data_offsets\": [0, 24], "
        "\"shape\": [2, 3]},\n"
        "  \"step\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [32, 40]}\n"
        "}");
    while (strlen(header) % 8 != 0)
        strcat(header, " ");
    static const unsigned char data[40] = {
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, /* 1 2 3 */
        0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40, /* 4 5 6 */
        0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0xbf,                         /* 0.5 -1 */
        0x14, 0x1a, 0x99, 0xbe, 0x1c, 0x00, 0x00, 0x00,                         /* 123456789012 */
    };
    blob b = make_raw(header, data, sizeof data);
    contrl__st_file *f = load_ok(b);
    ck_assert_uint_eq(contrl__st_count(f), 3);
    ck_assert_str_eq(contrl__st_name(f, 0), "linear.weight"); /* data order */
    ck_assert_str_eq(contrl__st_name(f, 1), "linear.bias");
    ck_assert_str_eq(contrl__st_name(f, 2), "step");
    float w[6], bias[2];
    int64_t step;
    ck_assert_int_eq(contrl__st_get(f, "linear.weight", CONTRL__DT_F32, 2, (uint64_t[]){2, 3}, w),
                     CONTRL_OK);
    for (int i = 0; i < 6; i++)
        ck_assert(w[i] == (float)(i + 1));
    ck_assert_int_eq(contrl__st_get(f, "linear.bias", CONTRL__DT_F32, 1, (uint64_t[]){2}, bias),
                     CONTRL_OK);
    ck_assert(bias[0] == 0.5f && bias[1] == -1.0f);
    ck_assert_int_eq(contrl__st_get(f, "step", CONTRL__DT_I64, 0, NULL, &step), CONTRL_OK);
    ck_assert(step == INT64_C(123456789012));
    ck_assert_str_eq(contrl__st_meta(f, "format"), "pt");
    ck_assert_str_eq(contrl__st_meta(f, "note"), "caf\xc3\xa9");
    contrl__st_close(f);
    free(b.p);
}
END_TEST

START_TEST(st_header_may_be_padded_with_spaces_only)
{
    static const char *const ok[] = {"{}", "{}      ", "{}  ", "{ }",
                                     ("{\"__metadata__\":{}}"
                                      "                    ")};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        blob b = make_raw(ok[i], NULL, 0);
        ck_assert_msg(load_status(b) == CONTRL_OK, "'%s': %s", ok[i], contrl_last_error());
        free(b.p);
    }
    static const char *const bad[] = {"{}\n", "{}\t     ", "{} \r", "{}     \n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        blob b = make_raw(bad[i], NULL, 0);
        ck_assert_int_eq(load_status(b), CONTRL_ERR_FORMAT);
        ck_assert(strstr(contrl_last_error(), "padded with bytes other than spaces") != NULL);
        free(b.p);
    }
    blob nul = make_raw_n(8, "{}\0\0\0\0\0\0", 8, NULL, 0);
    ck_assert_int_eq(load_status(nul), CONTRL_ERR_FORMAT);
    free(nul.p);
}
END_TEST

START_TEST(st_empty_checkpoint_round_trips)
{
    const char *path = in_dir("empty.safetensors");
    ck_assert_int_eq(contrl__st_save(path, NULL, 0, NULL, 0, NULL), CONTRL_OK);
    static const unsigned char want[16] = {8,   0,   0,   0,   0,   0,   0,   0,
                                           '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    ck_assert(file_equals(path, want, sizeof want));
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load(path, NULL, &f), CONTRL_OK);
    ck_assert_uint_eq(contrl__st_count(f), 0);
    ck_assert_ptr_null(contrl__st_name(f, 0));
    ck_assert(!contrl__st_has(f, ""));
    contrl__st_close(f);
}
END_TEST

START_TEST(st_names_keep_the_saved_order_including_empty_tensors)
{
    const float x[2] = {1, 2};
    const contrl__tensor t[] = {
        {"z.empty", CONTRL__DT_F32, 1, {0}, NULL},
        {"m", CONTRL__DT_F32, 1, {2}, x},
        {"y.empty", CONTRL__DT_F64, 2, {0, 0}, NULL},
        {"b.empty", CONTRL__DT_U8, 1, {0}, NULL},
        {"a", CONTRL__DT_F32, 1, {1}, x},
        {"c.empty", CONTRL__DT_I64, 1, {0}, NULL},
    };
    size_t n = sizeof t / sizeof t[0];
    const char *path = in_dir("order.safetensors");
    ck_assert_int_eq(contrl__st_save(path, t, n, NULL, 0, NULL), CONTRL_OK);
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load(path, NULL, &f), CONTRL_OK);
    ck_assert_uint_eq(contrl__st_count(f), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(contrl__st_name(f, i), t[i].name);
    contrl__st_close(f);
}
END_TEST

/* ---- rejections --------------------------------------------------------- */

START_TEST(st_rejects_files_too_short_or_with_a_bad_header_length)
{
    unsigned char bytes[16] = {0};
    for (size_t n = 0; n < 8; n++) {
        blob b = {bytes, n};
        ck_assert_int_eq(load_status(b), CONTRL_ERR_FORMAT);
        ck_assert(strstr(contrl_last_error(), "shorter than the 8-byte header length") != NULL);
    }
    /* N larger than what follows it. */
    blob b = make_raw_n(11, "{}        ", 10, NULL, 0);
    ck_assert_int_eq(load_status(b), CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "header length 11 is beyond the 10 bytes") != NULL);
    free(b.p);
    /* Absurd N: refused before anything is parsed or allocated for it. */
    const uint64_t absurd[] = {100000001, UINT64_C(1) << 63, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        b = make_raw_n(absurd[i], "{}      ", 8, NULL, 0);
        ck_assert_int_eq(load_status(b), CONTRL_ERR_FORMAT);
        ck_assert(strstr(contrl_last_error(), "is above the limit of 100000000 bytes") != NULL);
        free(b.p);
    }
    /* N = 0: no header at all. */
    b = make_raw_n(0, "", 0, NULL, 0);
    ck_assert_int_eq(load_status(b), CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "does not start with '{'") != NULL);
    free(b.p);
}
END_TEST

#define T1(name, rest) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" rest "}"

START_TEST(st_rejects_every_malformed_header_with_a_message_saying_why)
{
    static const struct {
        const char *header;
        size_t data_len;
        const char *why;
    } cases[] = {
        /* not JSON, not an object */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "not valid: JSON"},
        {"[]", 0, "does not start with '{'"},
        {" {}", 0, "does not start with '{'"},
        {"\xef\xbb\xbf{}", 0, "does not start with '{'"},
        {"{} x", 0, "trailing characters"},
        {"{}{}", 0, "trailing characters"},
        {"{\"\xff\":1}", 0, "invalid UTF-8"},
        /* entries */
        {"{\"a\":[1]}", 0, "tensor 'a': entry is not an object"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing \"dtype\""},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing \"shape\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': missing \"data_offsets\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4,
         "tensor 'a': unknown field \"extra\""},
        {"{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': unknown dtype \"F17\""},
        {"{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "unknown dtype \"f32\""},
        {"{\"a\":{\"dtype\":\"F32 \",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype"},
        {"{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is not a string"},
        /* shapes */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
         "shape has an entry that is not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]}}", 4,
         "not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4,
         "shape is not an array"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,0]}}",
         0, "more elements than can be stored"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0,
         "more elements than can be stored"},
        /* offsets */
        {"{" T1("a", "[0]") "}", 4, "data_offsets is not an array of two non-negative integers"},
        {"{" T1("a", "[0,4,8]") "}", 8, "data_offsets is not an array of two"},
        {"{" T1("a", "[0,\"4\"]") "}", 4, "data_offsets is not an array of two"},
        {"{" T1("a", "[-1,3]") "}", 4, "data_offsets is not an array of two"},
        {"{" T1("a", "[0.0,4]") "}", 4, "data_offsets is not an array of two"},
        {"{" T1("a", "{\"0\":4}") "}", 4, "data_offsets is not an array of two"},
        {"{" T1("a", "[0,8]") "}", 4, "tensor 'a': data_offsets end 8 is beyond the 4 bytes"},
        {"{" T1("a", "[4,18446744073709551615]") "}", 4, "is beyond the 4 bytes"},
        {"{" T1("a", "[4,0]") "}", 4, "tensor 'a': data_offsets end before they begin: [4, 0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': data_offsets hold 4 bytes, its shape and dtype need 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,4]}}", 4,
         "hold 4 bytes, its shape and dtype need 0"},
        /* tiling of the data buffer */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," T1("b", "[4,8]") "}", 8,
         "tensors 'a' and 'b' overlap"},
        {"{" T1("b", "[0,4]") "," T1("a", "[0,4]") "}", 4, "overlap"},
        {"{" T1("a", "[0,4]") "," T1("b", "[8,12]") "}", 12,
         "data bytes [4, 8) before tensor 'b' belong to no tensor"},
        {"{" T1("a", "[4,8]") "}", 8, "data bytes [0, 4) before tensor 'a' belong to no tensor"},
        {"{" T1("a", "[0,4]") "}", 8, "the last 4 bytes of data belong to no tensor"},
        {"{}", 1, "the last 1 bytes of data belong to no tensor"},
        {"{\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}," T1("a", "[0,4]") "}", 4,
         "tensors 'a' and 'e' overlap"},
        /* metadata */
        {"{\"__metadata__\":{\"a\":1}}", 0, "__metadata__ 'a' is not a string"},
        {"{\"__metadata__\":{\"a\":\"b\",\"c\":null}}", 0, "__metadata__ 'c' is not a string"},
        {"{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, "__metadata__ 'a' is not a string"},
        {"{\"__metadata__\":\"x\"}", 0, "__metadata__ is not an object"},
        {"{\"__metadata__\":[\"x\"]}", 0, "__metadata__ is not an object"},
        {"{\"__metadata__\":{\"a\":\"b\\u0000c\"}}", 0, "__metadata__ 'a' contains a NUL"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key \"__metadata__\""},
        /* names */
        {"{" T1("a", "[0,4]") "," T1("a", "[4,8]") "}", 8, "duplicate key \"a\""},
        {"{" T1("a", "[0,4]") "," T1("\\u0061", "[4,8]") "}", 8, "duplicate key \"a\""},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "duplicate key \"dtype\""},
        {"{" T1("a\\u0000b", "[0,4]") "}", 4, "tensor name 'a?b' contains a NUL character"},
        /* nesting far deeper than a header has */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[[[[[[[[[[1]]]]]]]]]],\"data_offsets\":[0,4]}}", 4,
         "nesting too deep"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        blob b = make_raw(cases[i].header, NULL, cases[i].data_len);
        contrl_clear_error();
        ck_assert_msg(load_status(b) == CONTRL_ERR_FORMAT, "accepted case %zu: %s", i,
                      cases[i].header);
        ck_assert_msg(strstr(contrl_last_error(), cases[i].why) != NULL,
                      "case %zu: message '%s' does not say '%s'", i, contrl_last_error(),
                      cases[i].why);
        free(b.p);
    }
}
END_TEST

START_TEST(st_every_truncation_of_a_valid_file_is_rejected)
{
    blob b = sample_blob();
    ck_assert_int_eq(load_status(b), CONTRL_OK);
    for (size_t n = 0; n < b.n; n++) {
        blob cut = {b.p, n};
        contrl_clear_error();
        ck_assert_msg(load_status(cut) == CONTRL_ERR_FORMAT, "truncated to %zu of %zu bytes", n,
                      b.n);
        ck_assert(contrl_last_error()[0] != '\0');
    }
    free(b.p);
}
END_TEST

START_TEST(st_changing_any_header_byte_gives_an_error_or_a_valid_file)
{
    blob b = sample_blob();
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b.p[i];
    static const unsigned char subst[] = {0xff, '"', '0', '9',  ' ',  '{', '}', '[',
                                          ']',  ',', ':', '\\', 0x00, 'x', 0x80};
    size_t still_valid = 0, rejected = 0;
    for (size_t i = 0; i < 8 + n; i++) {
        unsigned char orig = b.p[i];
        for (size_t s = 0; s < sizeof subst; s++) {
            if (subst[s] == orig)
                continue;
            b.p[i] = subst[s];
            contrl__st_file *f = NULL;
            contrl_status st = contrl__st_load_memory(b.p, b.n, NULL, &f);
            if (st == CONTRL_OK) {
                /* Whatever it now says must be self-consistent. */
                still_valid++;
                for (size_t k = 0; k < contrl__st_count(f); k++)
                    ck_assert(contrl__st_has(f, contrl__st_name(f, k)));
                contrl__st_close(f);
            } else {
                rejected++;
                ck_assert_msg(st == CONTRL_ERR_FORMAT, "byte %zu -> 0x%02x: %s", i, subst[s],
                              contrl_last_error());
                ck_assert_ptr_null(f);
            }
        }
        b.p[i] = orig;
    }
    ck_assert_uint_gt(rejected, still_valid); /* most changes break the file */
    ck_assert_uint_gt(still_valid, 0);        /* e.g. a changed metadata character */
    free(b.p);
}
END_TEST

/* ---- reading tensors ---------------------------------------------------- */

START_TEST(st_get_rejects_nan_and_infinity_and_leaves_dst_untouched)
{
    const char *header = "{\"f\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                         "\"g\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]},"
                         "\"h\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[28,36]},"
                         "\"ok\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[36,44]}}";
    static const unsigned char data[44] = {
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0x00, 0x40, /* 1 NaN 2 */
        0,    0,    0,    0,    0,    0,    0,    0,    0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xf0, 0x7f,                         /* 0 +Inf */
        0x00, 0x00, 0x80, 0xff, 0x01, 0x00, 0x80, 0x7f, /* -Inf sNaN */
        0xff, 0xff, 0x7f, 0x7f, 0x01, 0x00, 0x00, 0x80, /* FLT_MAX -tiny */
    };
    blob b = make_raw(header, data, sizeof data);
    contrl__st_file *f = load_ok(b); /* loading does not look at values */
    float x[3] = {7, 7, 7};
    double y[2] = {7, 7};
    ck_assert_int_eq(contrl__st_get(f, "f", CONTRL__DT_F32, 1, (uint64_t[]){3}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(), "<memory>: tensor 'f' element 1 is NaN or infinite");
    ck_assert(x[0] == 7 && x[1] == 7 && x[2] == 7);
    ck_assert_int_eq(contrl__st_get(f, "g", CONTRL__DT_F64, 1, (uint64_t[]){2}, y),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "'g' element 1") != NULL);
    ck_assert(y[0] == 7 && y[1] == 7);
    ck_assert_int_eq(contrl__st_get(f, "h", CONTRL__DT_F32, 1, (uint64_t[]){2}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "'h' element 0") != NULL);
    ck_assert_int_eq(contrl__st_get(f, "ok", CONTRL__DT_F32, 1, (uint64_t[]){2}, x), CONTRL_OK);
    ck_assert(x[0] == FLT_MAX && x[1] < 0 && x[1] > -FLT_MIN);
    contrl__st_close(f);
    free(b.p);
}
END_TEST

START_TEST(st_get_rejects_wrong_name_dtype_or_shape_and_leaves_dst_untouched)
{
    const char *path = in_dir("ckpt.safetensors");
    save_sample(path);
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load(path, NULL, &f), CONTRL_OK);
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = -1;
    ck_assert_int_eq(contrl__st_get(f, "actor.w1", CONTRL__DT_F32, 2, (uint64_t[]){2, 3}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "no tensor 'actor.w1'") != NULL);
    ck_assert_int_eq(contrl__st_get(f, "actor.w0", CONTRL__DT_F64, 2, (uint64_t[]){2, 3}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "tensor 'actor.w0' is F32, expected F64") != NULL);
    ck_assert_int_eq(contrl__st_get(f, "actor.w0", CONTRL__DT_F32, 2, (uint64_t[]){3, 2}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "tensor 'actor.w0' has shape [2, 3], expected [3, 2]") !=
              NULL);
    ck_assert_int_eq(contrl__st_get(f, "actor.w0", CONTRL__DT_F32, 1, (uint64_t[]){6}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert_int_eq(contrl__st_get(f, "actor.w0", CONTRL__DT_F32, 3, (uint64_t[]){2, 3, 1}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert_int_eq(contrl__st_get(f, "scalar", CONTRL__DT_F32, 1, (uint64_t[]){1}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "has shape [], expected [1]") != NULL);
    ck_assert_int_eq(contrl__st_get(f, "bytes", CONTRL__DT_U8, 1, (uint64_t[]){5}, NULL),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_get(f, "bytes", (contrl__dtype)99, 1, (uint64_t[]){5}, x),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_get(f, NULL, CONTRL__DT_F32, 0, NULL, x), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_get(f, "actor.w0", CONTRL__DT_F32, 2, NULL, x),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_get(NULL, "actor.w0", CONTRL__DT_F32, 0, NULL, x),
                     CONTRL_ERR_INVALID_ARG);
    for (int i = 0; i < 8; i++)
        ck_assert(x[i] == -1);
    /* An empty tensor needs no destination. */
    ck_assert_int_eq(contrl__st_get(f, "empty.f64", CONTRL__DT_F64, 2, (uint64_t[]){0, 3}, NULL),
                     CONTRL_OK);
    ck_assert(!contrl__st_has(f, "actor"));
    ck_assert(!contrl__st_has(f, NULL));
    ck_assert(!contrl__st_has(NULL, "actor.w0"));
    contrl__st_close(f);
    contrl__st_close(NULL);
}
END_TEST

START_TEST(st_lists_dtypes_it_cannot_read_but_get_rejects_them)
{
    const char *header = "{\"h\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                         "\"b\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[4,5]}}";
    blob b = make_raw(header, NULL, 5);
    contrl__st_file *f = load_ok(b);
    ck_assert_uint_eq(contrl__st_count(f), 2);
    ck_assert(contrl__st_has(f, "h"));
    unsigned char x[8];
    ck_assert_int_eq(contrl__st_get(f, "h", CONTRL__DT_F32, 1, (uint64_t[]){2}, x),
                     CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "tensor 'h' is BF16, expected F32") != NULL);
    ck_assert_int_eq(contrl__st_get(f, "b", CONTRL__DT_U8, 1, (uint64_t[]){1}, x),
                     CONTRL_ERR_FORMAT);
    contrl__st_close(f);
    free(b.p);
}
END_TEST

/* ---- saving: arguments and memory --------------------------------------- */

START_TEST(st_save_rejects_invalid_arguments_and_writes_nothing)
{
    const float x[2] = {1, 2};
    const float nan_x[2] = {1, NAN};
    const double inf_x[1] = {-INFINITY};
    const contrl__tensor good = {"w", CONTRL__DT_F32, 1, {2}, x};
    const struct {
        contrl__tensor t[2];
        size_t n;
        contrl__meta m[2];
        size_t n_meta;
        contrl_status want;
        const char *why;
    } cases[] = {
        {{good, good}, 2, {{0}}, 0, CONTRL_ERR_INVALID_ARG, "two tensors named 'w'"},
        {{{NULL, CONTRL__DT_F32, 1, {2}, x}}, 1, {{0}}, 0, CONTRL_ERR_INVALID_ARG, "is NULL"},
        {{{"", CONTRL__DT_F32, 1, {2}, x}}, 1, {{0}}, 0, CONTRL_ERR_INVALID_ARG, "reserved name"},
        {{{"__metadata__", CONTRL__DT_F32, 1, {2}, x}},
         1,
         {{0}},
         0,
         CONTRL_ERR_INVALID_ARG,
         "reserved name"},
        {{{"w\xff", CONTRL__DT_F32, 1, {2}, x}},
         1,
         {{0}},
         0,
         CONTRL_ERR_INVALID_ARG,
         "not valid UTF-8"},
        {{{"w", (contrl__dtype)17, 1, {2}, x}},
         1,
         {{0}},
         0,
         CONTRL_ERR_INVALID_ARG,
         "unknown dtype"},
        {{{"w", CONTRL__DT_F32, 5, {2}, x}}, 1, {{0}}, 0, CONTRL_ERR_INVALID_ARG, "5 dimensions"},
        {{{"w", CONTRL__DT_F32, 1, {2}, NULL}}, 1, {{0}}, 0, CONTRL_ERR_INVALID_ARG, "NULL data"},
        {{{"w", CONTRL__DT_F64, 2, {UINT64_C(1) << 40, UINT64_C(1) << 40}, x}},
         1,
         {{0}},
         0,
         CONTRL_ERR_INVALID_ARG,
         "too large"},
        {{good},
         1,
         {{"k", "a"}, {"k", "b"}},
         2,
         CONTRL_ERR_INVALID_ARG,
         "two metadata entries named 'k'"},
        {{good}, 1, {{"k", NULL}}, 1, CONTRL_ERR_INVALID_ARG, "metadata value 0 is NULL"},
        {{good}, 1, {{"k", "\xc0\x80"}}, 1, CONTRL_ERR_INVALID_ARG, "not valid UTF-8"},
        {{{"w", CONTRL__DT_F32, 1, {2}, nan_x}},
         1,
         {{0}},
         0,
         CONTRL_ERR_NONFINITE,
         "tensor 'w' element 1 is NaN or infinite"},
        {{{"w", CONTRL__DT_F64, 1, {1}, inf_x}}, 1, {{0}}, 0, CONTRL_ERR_NONFINITE, "element 0"},
    };
    const char *path = in_dir("never.safetensors");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        contrl_status st =
            contrl__st_save(path, cases[i].t, cases[i].n, cases[i].m, cases[i].n_meta, NULL);
        ck_assert_msg(st == cases[i].want, "case %zu gave %d", i, st);
        ck_assert_msg(strstr(contrl_last_error(), cases[i].why) != NULL,
                      "case %zu: message '%s' does not say '%s'", i, contrl_last_error(),
                      cases[i].why);
    }
    ck_assert_int_eq(contrl__st_save(NULL, &good, 1, NULL, 0, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_save(path, NULL, 1, NULL, 0, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_save(path, &good, 1, NULL, 1, NULL), CONTRL_ERR_INVALID_ARG);
    contrl_allocator half = {counting_alloc, NULL, NULL};
    ck_assert_int_eq(contrl__st_save(path, &good, 1, NULL, 0, &half), CONTRL_ERR_INVALID_ARG);
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 0);
}
END_TEST

START_TEST(st_load_rejects_null_arguments_and_unreadable_paths)
{
    contrl__st_file *f = (contrl__st_file *)&f;
    ck_assert_int_eq(contrl__st_load(NULL, NULL, &f), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(contrl__st_load("x", NULL, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__st_load_memory(NULL, 8, NULL, &f), CONTRL_ERR_INVALID_ARG);
    f = (contrl__st_file *)&f;
    ck_assert_int_eq(contrl__st_load(in_dir("missing.safetensors"), NULL, &f), CONTRL_ERR_IO);
    ck_assert_ptr_null(f);
    ck_assert(strstr(contrl_last_error(), "No such file or directory") != NULL);
    ck_assert(strstr(contrl_last_error(), "missing.safetensors") != NULL);
    ck_assert_int_eq(contrl__st_load(dir, NULL, &f), CONTRL_ERR_IO);
    ck_assert(strstr(contrl_last_error(), "not a regular file") != NULL);
}
END_TEST

START_TEST(st_load_and_save_use_the_given_allocator_and_recover_from_each_failure)
{
    blob b = sample_blob();
    const char *path = in_dir("alloc.safetensors");
    contrl__tensor t[N_SAMPLE];
    sample_tensors(t);
    /* Count the allocations of a successful load and save... */
    counting c = {0, 0, 0, -1};
    contrl_allocator a = {counting_alloc, counting_free, &c};
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load_memory(b.p, b.n, &a, &f), CONTRL_OK);
    contrl__st_close(f);
    size_t load_allocs = c.allocs;
    ck_assert_uint_gt(load_allocs, 1);
    ck_assert_uint_eq(c.live_bytes, 0);
    c = (counting){0, 0, 0, -1};
    ck_assert_int_eq(contrl__st_save(path, t, N_SAMPLE, SAMPLE_META, 2, &a), CONTRL_OK);
    size_t save_allocs = c.allocs;
    ck_assert_uint_gt(save_allocs, 1);
    ck_assert_uint_eq(c.live_bytes, 0);
    ck_assert(file_equals(path, b.p, b.n));

    /* ...then fail each one in turn: NOMEM, nothing leaked, old file kept. */
    for (long k = 0; k < (long)load_allocs; k++) {
        c = (counting){0, 0, 0, k};
        f = (contrl__st_file *)&f;
        ck_assert_int_eq(contrl__st_load_memory(b.p, b.n, &a, &f), CONTRL_ERR_NOMEM);
        ck_assert_ptr_null(f);
        ck_assert_uint_eq(c.live_bytes, 0);
        ck_assert_uint_eq(c.allocs, c.frees);
    }
    const float other[1] = {9};
    contrl__tensor small = {"x", CONTRL__DT_F32, 1, {1}, other};
    for (long k = 0; k < (long)save_allocs; k++) {
        c = (counting){0, 0, 0, k};
        contrl__tensor two[2] = {small, t[1]};
        ck_assert_int_eq(contrl__st_save(path, two, 2, SAMPLE_META, 2, &a), CONTRL_ERR_NOMEM);
        ck_assert_uint_eq(c.live_bytes, 0);
        ck_assert(file_equals(path, b.p, b.n));
    }
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 2); /* alloc + sample */
    free(b.p);
}
END_TEST

/* ---- atomic replacement --------------------------------------------------- */

START_TEST(atomic_save_replaces_an_existing_file_and_keeps_its_permissions)
{
    const char *path = in_dir("ckpt.safetensors");
    write_bytes(path, "old contents", 12);
    ck_assert_int_eq(chmod(path, 0640), 0);
    blob b = sample_blob(); /* saved to sample.safetensors */
    save_sample(path);
    ck_assert(file_equals(path, b.p, b.n));
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    /* And again over the checkpoint itself, with different contents. */
    const float w[1] = {5};
    contrl__tensor t = {"w", CONTRL__DT_F32, 1, {1}, w};
    ck_assert_int_eq(contrl__st_save(path, &t, 1, NULL, 0, NULL), CONTRL_OK);
    contrl__st_file *f = NULL;
    ck_assert_int_eq(contrl__st_load(path, NULL, &f), CONTRL_OK);
    ck_assert_uint_eq(contrl__st_count(f), 1);
    contrl__st_close(f);
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 2);
    free(b.p);
}
END_TEST

START_TEST(atomic_save_into_a_missing_directory_fails_and_creates_nothing)
{
    const float w[1] = {5};
    contrl__tensor t = {"w", CONTRL__DT_F32, 1, {1}, w};
    ck_assert_int_eq(contrl__st_save(in_dir("missing/ckpt.safetensors"), &t, 1, NULL, 0, NULL),
                     CONTRL_ERR_IO);
    ck_assert(strstr(contrl_last_error(), "cannot create a temporary file") != NULL);
    ck_assert(strstr(contrl_last_error(), "No such file or directory") != NULL);
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 0);
}
END_TEST

START_TEST(atomic_save_over_a_directory_fails_and_leaves_it_and_no_temp_file)
{
    const char *target = in_dir("ckpt");
    ck_assert_int_eq(mkdir(target, 0755), 0);
    const char *inner = in_dir("ckpt/inner");
    write_bytes(inner, "keep me", 7);
    const float w[1] = {5};
    contrl__tensor t = {"w", CONTRL__DT_F32, 1, {1}, w};
    ck_assert_int_eq(contrl__st_save(target, &t, 1, NULL, 0, NULL), CONTRL_ERR_IO);
    ck_assert(strstr(contrl_last_error(), "cannot replace it") != NULL);
    ck_assert(file_equals(inner, "keep me", 7));
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 1);
    ck_assert_str_eq(names, "ckpt");
    ck_assert_int_eq(contrl__file_write_atomic_buffer(in_dir("ckpt/"), "x", 1, NULL),
                     CONTRL_ERR_INVALID_ARG);
}
END_TEST

typedef struct half_writer {
    size_t put_before_failing;
} half_writer;

static contrl_status write_then_fail(contrl__file_writer *w, void *ctx)
{
    const half_writer *h = ctx;
    static unsigned char chunk[1000];
    memset(chunk, 'n', sizeof chunk);
    for (size_t done = 0; done < h->put_before_failing; done += sizeof chunk) {
        contrl_status st = contrl__file_put(w, chunk, sizeof chunk);
        if (st != CONTRL_OK)
            return st;
    }
    return contrl__fail(CONTRL_ERR_FORMAT, "test: gave up after %zu bytes", h->put_before_failing);
}

START_TEST(atomic_write_abandoned_midway_leaves_the_old_file_identical_and_no_temp_file)
{
    const char *path = in_dir("ckpt.safetensors");
    blob b = sample_blob();
    write_bytes(path, b.p, b.n);
    /* Before anything is written, inside the buffer, and after 100 kB
     * have reached the temporary file. */
    const size_t amounts[] = {0, 3000, 100000};
    for (size_t i = 0; i < 3; i++) {
        half_writer h = {amounts[i]};
        ck_assert_int_eq(contrl__file_write_atomic(path, write_then_fail, &h, NULL),
                         CONTRL_ERR_FORMAT);
        ck_assert(strstr(contrl_last_error(), "test: gave up") != NULL); /* the callback's */
        ck_assert(file_equals(path, b.p, b.n));
        char names[256];
        ck_assert_int_eq(list_dir(dir, names, sizeof names), 2);
    }
    free(b.p);
}
END_TEST

START_TEST(atomic_save_failing_on_a_full_file_size_limit_keeps_the_old_file)
{
    /* RLIMIT_FSIZE makes write() fail with EFBIG like a full disk would,
     * even for root; restored at the end for runs without fork. */
    const char *path = in_dir("ckpt.safetensors");
    write_bytes(path, "old contents", 12);
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {4096, old.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);

    enum { N = 65536 };
    float *w = calloc(N, sizeof *w);
    ck_assert_ptr_nonnull(w);
    contrl__tensor t = {"w", CONTRL__DT_F32, 1, {N}, w};
    contrl_status st = contrl__st_save(path, &t, 1, NULL, 0, NULL);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", contrl_last_error());

    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    free(w);
    ck_assert_int_eq(st, CONTRL_ERR_IO);
    ck_assert_msg(strstr(msg, "cannot write the new file") != NULL, "%s", msg);
    ck_assert(file_equals(path, "old contents", 12));
    char names[256];
    ck_assert_int_eq(list_dir(dir, names, sizeof names), 1);
}
END_TEST

START_TEST(file_read_returns_contents_with_a_nul_and_enforces_its_limit)
{
    const char *path = in_dir("data");
    write_bytes(path, "0123456789", 10);
    void *data = (void *)path;
    size_t size = 99;
    ck_assert_int_eq(contrl__file_read(path, 9, NULL, &data, &size), CONTRL_ERR_FORMAT);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(size, 0);
    ck_assert(strstr(contrl_last_error(), "larger than the limit of 9 bytes") != NULL);
    ck_assert_int_eq(contrl__file_read(path, 10, NULL, &data, &size), CONTRL_OK);
    ck_assert_uint_eq(size, 10);
    ck_assert_str_eq(data, "0123456789");
    contrl__file_free(NULL, data, size);
    /* An empty file. */
    write_bytes(path, "", 0);
    ck_assert_int_eq(contrl__file_read(path, 0, NULL, &data, &size), CONTRL_OK);
    ck_assert_uint_eq(size, 0);
    ck_assert_str_eq(data, "");
    contrl__file_free(NULL, data, size);
    ck_assert_int_eq(contrl__file_read(NULL, 0, NULL, &data, &size), CONTRL_ERR_INVALID_ARG);
}
END_TEST

START_TEST(file_read_refuses_a_fifo_without_blocking)
{
    const char *fifo = in_dir("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    void *data;
    size_t size;
    alarm(10); /* a blocking open would fail the test instead of hanging */
    ck_assert_int_eq(contrl__file_read(fifo, 100, NULL, &data, &size), CONTRL_ERR_IO);
    ck_assert(strstr(contrl_last_error(), "not a regular file") != NULL);
    contrl__st_file *f;
    ck_assert_int_eq(contrl__st_load(fifo, NULL, &f), CONTRL_ERR_IO);
    alarm(0);
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, st_round_trip_of_every_dtype_is_bit_exact);
    tcase_add_test(tc, st_saved_file_has_padded_header_and_packed_little_endian_data);
    tcase_add_test(tc, st_save_writes_the_reference_layout_byte_for_byte);
    tcase_add_test(tc, st_loads_a_hand_built_reference_file);
    tcase_add_test(tc, st_header_may_be_padded_with_spaces_only);
    tcase_add_test(tc, st_empty_checkpoint_round_trips);
    tcase_add_test(tc, st_names_keep_the_saved_order_including_empty_tensors);
    tcase_add_test(tc, st_rejects_files_too_short_or_with_a_bad_header_length);
    tcase_add_test(tc, st_rejects_every_malformed_header_with_a_message_saying_why);
    tcase_add_test(tc, st_every_truncation_of_a_valid_file_is_rejected);
    tcase_add_test(tc, st_changing_any_header_byte_gives_an_error_or_a_valid_file);
    tcase_add_test(tc, st_get_rejects_nan_and_infinity_and_leaves_dst_untouched);
    tcase_add_test(tc, st_get_rejects_wrong_name_dtype_or_shape_and_leaves_dst_untouched);
    tcase_add_test(tc, st_lists_dtypes_it_cannot_read_but_get_rejects_them);
    tcase_add_test(tc, st_save_rejects_invalid_arguments_and_writes_nothing);
    tcase_add_test(tc, st_load_rejects_null_arguments_and_unreadable_paths);
    tcase_add_test(tc, st_load_and_save_use_the_given_allocator_and_recover_from_each_failure);
    tcase_add_test(tc, atomic_save_replaces_an_existing_file_and_keeps_its_permissions);
    tcase_add_test(tc, atomic_save_into_a_missing_directory_fails_and_creates_nothing);
    tcase_add_test(tc, atomic_save_over_a_directory_fails_and_leaves_it_and_no_temp_file);
    tcase_add_test(tc,
                   atomic_write_abandoned_midway_leaves_the_old_file_identical_and_no_temp_file);
    tcase_add_test(tc, atomic_save_failing_on_a_full_file_size_limit_keeps_the_old_file);
    tcase_add_test(tc, file_read_returns_contents_with_a_nul_and_enforces_its_limit);
    tcase_add_test(tc, file_read_refuses_a_fifo_without_blocking);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(safetensors_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
