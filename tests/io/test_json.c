/* tests/io/test_json.c - the strict JSON parser of lib/io/json.h. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- helpers ------------------------------------------------------------ */

/* The text in a heap block of exactly len bytes, with no NUL after it, so
 * that AddressSanitizer catches any read past len. Free with free(). */
static char *exact_copy(const char *text, size_t len)
{
    char *p = malloc(len > 0 ? len : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, text, len);
    return p;
}

/* Status of measure and of parse_alloc (which must agree, apart from
 * duplicate keys, which only the second pass sees). */
static contrl_status parse_status(const char *text, size_t len, const contrl__json_options *opt)
{
    char *copy = exact_copy(text, len);
    contrl__json_sizes sizes;
    contrl_status measured = contrl__json_measure(copy, len, opt, &sizes);
    contrl__json_doc doc;
    contrl_status parsed = contrl__json_parse_alloc(copy, len, opt, NULL, &doc);
    if (opt == NULL || !opt->reject_duplicate_keys)
        ck_assert_int_eq(measured, parsed);
    if (parsed == CONTRL_OK)
        contrl__json_free(&doc, NULL);
    else
        ck_assert_ptr_null(doc.values);
    free(copy);
    return parsed;
}

static contrl_status status_of(const char *text)
{
    return parse_status(text, strlen(text), NULL);
}

/* Parse text (heap copy kept in *copy for the doc's lifetime). */
static contrl__json_doc parse_ok(const char *text, size_t len, char **copy)
{
    *copy = exact_copy(text, len);
    contrl__json_doc doc;
    contrl_status st = contrl__json_parse_alloc(*copy, len, NULL, NULL, &doc);
    ck_assert_msg(st == CONTRL_OK, "'%.*s': %s", (int)len, text, contrl_last_error());
    return doc;
}

static double number_of(const char *text)
{
    char *copy;
    contrl__json_doc doc = parse_ok(text, strlen(text), &copy);
    ck_assert_int_eq(doc.values[0].type, CONTRL__JSON_NUMBER);
    double v = NAN;
    ck_assert_msg(contrl__json_double(&doc, 0, &v), "%s did not convert", text);
    contrl__json_free(&doc, NULL);
    free(copy);
    return v;
}

static bool double_fails(const char *text)
{
    char *copy;
    contrl__json_doc doc = parse_ok(text, strlen(text), &copy);
    double v;
    bool ok = contrl__json_double(&doc, 0, &v);
    contrl__json_free(&doc, NULL);
    free(copy);
    return !ok;
}

static bool u64_of(const char *text, uint64_t *out)
{
    char *copy;
    contrl__json_doc doc = parse_ok(text, strlen(text), &copy);
    bool ok = contrl__json_u64(&doc, 0, out);
    contrl__json_free(&doc, NULL);
    free(copy);
    return ok;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
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

/* ---- valid documents ---------------------------------------------------- */

START_TEST(json_parses_every_scalar_kind_at_top_level)
{
    static const struct {
        const char *text;
        contrl__json_type type;
    } cases[] = {
        {"null", CONTRL__JSON_NULL},     {"true", CONTRL__JSON_TRUE},
        {"false", CONTRL__JSON_FALSE},   {" \t\r\n42 \n", CONTRL__JSON_NUMBER},
        {"\"hi\"", CONTRL__JSON_STRING}, {"[]", CONTRL__JSON_ARRAY},
        {"{}", CONTRL__JSON_OBJECT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *copy;
        contrl__json_doc doc = parse_ok(cases[i].text, strlen(cases[i].text), &copy);
        ck_assert_uint_eq(doc.n_values, 1);
        ck_assert_int_eq(doc.values[0].type, cases[i].type);
        ck_assert_uint_eq(doc.values[0].next, 1);
        ck_assert_uint_eq(doc.values[0].count, cases[i].type == CONTRL__JSON_NUMBER   ? 2
                                               : cases[i].type == CONTRL__JSON_STRING ? 2
                                                                                      : 0);
        contrl__json_free(&doc, NULL);
        free(copy);
    }
}
END_TEST

START_TEST(json_nested_document_has_the_right_tree_and_sibling_links)
{
    const char *text = "{\"a\": [1, [2, 3], {}], \"b\": {\"c\": null}, \"d\": [], \"e\": \"x\"}";
    char *copy;
    contrl__json_doc doc = parse_ok(text, strlen(text), &copy);
    /* Pre-order: 0 {  1 "a"  2 [  3 1  4 [  5 2  6 3  7 {}  8 "b"  9 {  10 "c"
     * 11 null  12 "d"  13 []  14 "e"  15 "x" */
    ck_assert_uint_eq(doc.n_values, 16);
    ck_assert_uint_eq(doc.n_members, 5); /* a b d e in the root, c in b */
    const contrl__json_value *v = doc.values;
    ck_assert_int_eq(v[0].type, CONTRL__JSON_OBJECT);
    ck_assert_uint_eq(v[0].count, 4);
    ck_assert_uint_eq(v[0].next, 16);
    ck_assert_int_eq(v[2].type, CONTRL__JSON_ARRAY);
    ck_assert_uint_eq(v[2].count, 3);
    ck_assert_uint_eq(v[2].next, 8);
    ck_assert_uint_eq(v[3].next, 4);
    ck_assert_uint_eq(v[4].count, 2);
    ck_assert_uint_eq(v[4].next, 7);
    ck_assert_int_eq(v[7].type, CONTRL__JSON_OBJECT);
    ck_assert_uint_eq(v[7].count, 0);
    ck_assert_uint_eq(v[7].next, 8);
    ck_assert_uint_eq(v[9].count, 1);
    ck_assert_uint_eq(v[9].next, 12);
    ck_assert_int_eq(v[11].type, CONTRL__JSON_NULL);
    ck_assert_uint_eq(v[13].count, 0);
    ck_assert_uint_eq(v[1].pos, 1); /* "a" starts at byte 1 */

    ck_assert_uint_eq(contrl__json_get(&doc, 0, "a", 1), 2);
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "b", 1), 9);
    ck_assert_uint_eq(contrl__json_get(&doc, 9, "c", 1), 11);
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "d", 1), 13);
    ck_assert_str_eq(contrl__json_string(&doc, contrl__json_get(&doc, 0, "e", 1)), "x");
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "c", 1), CONTRL__JSON_NONE);
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "", 0), CONTRL__JSON_NONE);
    ck_assert_uint_eq(contrl__json_get(&doc, 2, "a", 1), CONTRL__JSON_NONE); /* an array */

    /* Walking the root with the documented loop visits the keys in order. */
    const char *keys[] = {"a", "b", "d", "e"};
    uint32_t k = 1;
    for (uint32_t m = 0; m < v[0].count; m++) {
        ck_assert_str_eq(contrl__json_string(&doc, k), keys[m]);
        k = v[k + 1].next;
    }
    ck_assert_uint_eq(k, 16);
    contrl__json_free(&doc, NULL);
    free(copy);
}
END_TEST

START_TEST(json_strings_decode_every_escape_and_surrogate_pairs_to_utf8)
{
    static const struct {
        const char *text, *want;
        size_t want_len;
    } cases[] = {
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4}, /* U+1F600 */
        {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
        {"\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf",
         11},
        {"\"a\\u0000b\"", "a\0b", 3},
        {"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f",
         10},
        {"\"\"", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *copy;
        contrl__json_doc doc = parse_ok(cases[i].text, strlen(cases[i].text), &copy);
        const char *s = contrl__json_string(&doc, 0);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(doc.values[0].count, cases[i].want_len);
        ck_assert_msg(memcmp(s, cases[i].want, cases[i].want_len) == 0, "case %zu", i);
        ck_assert_int_eq(s[cases[i].want_len], '\0');
        contrl__json_free(&doc, NULL);
        free(copy);
    }
}
END_TEST

START_TEST(json_numbers_convert_to_the_nearest_double)
{
    ck_assert(same_bits(number_of("0"), 0.0));
    ck_assert(same_bits(number_of("-0"), -0.0));
    ck_assert(same_bits(number_of("-0.0e5"), -0.0));
    ck_assert(number_of("-12.5e-3") == -0.0125);
    ck_assert(number_of("1E+2") == 100.0);
    ck_assert(number_of("1e2") == 100.0);
    ck_assert(number_of("25E-1") == 2.5);
    ck_assert(number_of("0.1") == 0.1);
    ck_assert(number_of("-123456.789") == -123456.789);
    ck_assert(number_of("3.14159265358979323846264338327950288") == 3.141592653589793);
    ck_assert(number_of("1.7976931348623157e308") == 1.7976931348623157e308);
    ck_assert(number_of("4.9406564584124654e-324") == 4.9406564584124654e-324);
    ck_assert(number_of("2.2250738585072014e-308") == 2.2250738585072014e-308);
    ck_assert(number_of("0.000000000000000000000000000001") == 1e-30);
    ck_assert(same_bits(number_of("1e-400"), 0.0));
    ck_assert(same_bits(number_of("-1e-99999999999999999999"), -0.0));
    /* Integers up to 2^53 are exact; 2^53 + 1 rounds to even (down). */
    ck_assert(number_of("9007199254740992") == 9007199254740992.0);
    ck_assert(number_of("-9007199254740992") == -9007199254740992.0);
    ck_assert(number_of("9007199254740993") == 9007199254740992.0);
    ck_assert(number_of("9007199254740995") == 9007199254740996.0);
    /* A number too large for a double is not converted. */
    ck_assert(double_fails("1e309"));
    ck_assert(double_fails("-1e99999999999999999999"));
    /* 2^1024 - 2^970 is halfway from DBL_MAX to 2^1024: rounds up, out of
     * range; one less rounds down to DBL_MAX. */
    ck_assert(double_fails("179769313486231580793728971405303415079934132710037826936173778980444"
                           "968292764750946649017977587207096330286416692887910946555547851940402"
                           "630657488671505820681908902000708383676273854845817711531764475730270"
                           "069855571366959622842914819860834936475292719074168444365510704342711"
                           "559699508093042880177904174497792"));
    ck_assert(number_of("179769313486231580793728971405303415079934132710037826936173778980444"
                        "968292764750946649017977587207096330286416692887910946555547851940402"
                        "630657488671505820681908902000708383676273854845817711531764475730270"
                        "069855571366959622842914819860834936475292719074168444365510704342711"
                        "559699508093042880177904174497791") == 1.7976931348623157e308);
}
END_TEST

START_TEST(json_number_beyond_768_digits_keeps_a_sticky_digit_for_rounding)
{
    /* 2^53 + 1 is halfway between two doubles; a 1 far past the 780th
     * digit puts it just above halfway, so it must round up. */
    char text[1200];
    size_t k = (size_t)snprintf(text, sizeof text, "9007199254740993.");
    for (int i = 0; i < 1000; i++)
        text[k++] = '0';
    text[k++] = '1';
    text[k] = '\0';
    ck_assert(number_of(text) == 9007199254740994.0);
    text[k - 1] = '0'; /* exactly halfway: rounds to even, down */
    ck_assert(number_of(text) == 9007199254740992.0);
    /* 1000 integer digits with a large negative exponent. */
    k = 0;
    text[k++] = '1';
    for (int i = 0; i < 999; i++)
        text[k++] = '0';
    snprintf(text + k, sizeof text - k, "e-999");
    ck_assert(number_of(text) == 1.0);
}
END_TEST

START_TEST(json_u64_is_exact_up_to_2_pow_64_minus_1_and_rejects_other_forms)
{
    uint64_t v = 0;
    ck_assert(u64_of("0", &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(u64_of("9007199254740993", &v));
    ck_assert(v == 9007199254740993u);
    ck_assert(u64_of("18446744073709551615", &v));
    ck_assert(v == UINT64_MAX);
    ck_assert(!u64_of("18446744073709551616", &v));
    ck_assert(!u64_of("99999999999999999999999", &v));
    ck_assert(!u64_of("-1", &v));
    ck_assert(!u64_of("-0", &v));
    ck_assert(!u64_of("1.0", &v));
    ck_assert(!u64_of("1e3", &v));
    ck_assert(!u64_of("\"1\"", &v));
    ck_assert(v == UINT64_MAX); /* failures do not write */
}
END_TEST

/* ---- invalid documents -------------------------------------------------- */

START_TEST(json_rejects_every_proper_prefix_of_a_valid_document)
{
    const char *text = "{\"name\": [1, -2.5e+3, true, false, null, \"s\\u00e9\\n\\ud83d\\ude00\"],"
                       " \"o\": {\"k\": {}, \"l\": []}, \"z\": 0}";
    size_t len = strlen(text);
    ck_assert_int_eq(parse_status(text, len, NULL), CONTRL_OK);
    for (size_t n = 0; n < len; n++)
        ck_assert_msg(parse_status(text, n, NULL) == CONTRL_ERR_FORMAT, "prefix of %zu bytes", n);
}
END_TEST

START_TEST(json_rejects_malformed_documents)
{
    static const char *const bad[] = {
        /* structure */
        "",
        "   ",
        "[",
        "]",
        "{",
        "}",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "[,1]",
        "[1,,2]",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{\"a\":1 \"b\":2}",
        "{\"a\"}",
        "{1:2}",
        "{a:1}",
        "{'a':1}",
        "['a']",
        "1 2",
        "[1]x",
        "{}{}",
        "[1]]",
        "{\"a\":1}}",
        "/*c*/1",
        "1//c",
        "[1];",
        /* literals */
        "nul",
        "tru",
        "fals",
        "True",
        "NULL",
        "nulll",
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "inf",
        "undefined",
        /* numbers */
        "01",
        "-01",
        "00",
        "00.5",
        "1.",
        ".5",
        "-.5",
        "+1",
        "1e",
        "1e+",
        "1E-",
        "-",
        "--1",
        "0x10",
        "1.5.2",
        "1e5.5",
        "0.e1",
        "1_000",
        /* strings */
        "\"abc",
        "\"\\\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"\\U0041\"",
        "\"\\a\"",
        "\"\\'\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800x\"",
        "\"\\ud800\\ud800\"",
        "\"\\udfff\\ud800\"",
        "\"a\x01\"",
        "\"a\nb\"",
        "\"\t\"",
        "\"\x1f\"",
        /* invalid UTF-8 in strings */
        "\"\x80\"",
        "\"\xc0\x80\"",
        "\"\xc1\xbf\"",
        "\"\xe0\x80\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xf5\x80\x80\x80\"",
        "\"\xff\"",
        "\"\xe2\x82\"",
        "\"\xc3\"",
        "\"\xf0\x9f\x98\"",
        /* bytes outside strings */
        "\xef\xbb\xbf{}",
        "[\xc3\xa9]",
        "\x0c{}",
        "[1,\v2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        contrl_clear_error();
        ck_assert_msg(status_of(bad[i]) == CONTRL_ERR_FORMAT, "accepted '%s'", bad[i]);
        ck_assert_msg(strncmp(contrl_last_error(), "JSON: ", 6) == 0, "'%s': message '%s'", bad[i],
                      contrl_last_error());
    }
    /* A NUL byte is a control character in a string and garbage outside. */
    ck_assert_int_eq(parse_status("\"a\0b\"", 5, NULL), CONTRL_ERR_FORMAT);
    ck_assert_int_eq(parse_status("[1]\0", 4, NULL), CONTRL_ERR_FORMAT);
    ck_assert_int_eq(parse_status("\0", 1, NULL), CONTRL_ERR_FORMAT);
}
END_TEST

START_TEST(json_error_message_names_the_problem_and_its_byte_offset)
{
    ck_assert_int_eq(status_of("[1, 2, x]"), CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(), "JSON: expected a value at byte 7");
    ck_assert_int_eq(status_of("{\"a\": 01}"), CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(), "JSON: leading zero in number at byte 6");
    ck_assert_int_eq(status_of("[\"\\ud800\"]"), CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(), "JSON: lone high surrogate in \\u escape at byte 2");
    ck_assert_int_eq(status_of("[1] x"), CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(),
                     "JSON: trailing characters after the JSON value at byte 4");
}
END_TEST

START_TEST(json_rejects_nesting_10000_deep_without_recursion)
{
    enum { DEEP = 10000 };
    char *text = malloc(2 * DEEP);
    ck_assert_ptr_nonnull(text);
    memset(text, '[', DEEP);
    memset(text + DEEP, ']', DEEP);
    contrl__json_options most = {CONTRL__JSON_MAX_DEPTH, false};
    ck_assert_int_eq(parse_status(text, 2 * DEEP, NULL), CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "nesting too deep") != NULL);
    ck_assert_int_eq(parse_status(text, 2 * DEEP, &most), CONTRL_ERR_FORMAT);
    ck_assert_int_eq(parse_status(text, DEEP, NULL), CONTRL_ERR_FORMAT); /* unbalanced */
    /* {"a":{"a":... 10000 deep */
    size_t k = 0;
    char *obj = malloc(6 * DEEP + 8);
    ck_assert_ptr_nonnull(obj);
    for (int i = 0; i < DEEP; i++) {
        memcpy(obj + k, "{\"a\":", 5);
        k += 5;
    }
    obj[k++] = '1';
    memset(obj + k, '}', DEEP);
    k += DEEP;
    ck_assert_int_eq(parse_status(obj, k, &most), CONTRL_ERR_FORMAT);
    ck_assert(strstr(contrl_last_error(), "nesting too deep") != NULL);
    free(obj);
    free(text);
}
END_TEST

START_TEST(json_depth_limit_is_exact)
{
    char text[2 * CONTRL__JSON_MAX_DEPTH + 2];
    for (uint32_t depth = 1; depth <= CONTRL__JSON_MAX_DEPTH + 1; depth++) {
        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        contrl__json_options opt = {0, false};
        contrl_status want_default =
            depth <= CONTRL__JSON_DEFAULT_DEPTH ? CONTRL_OK : CONTRL_ERR_FORMAT;
        ck_assert_int_eq(parse_status(text, 2 * depth, &opt), want_default);
        opt.max_depth = CONTRL__JSON_MAX_DEPTH;
        ck_assert_int_eq(parse_status(text, 2 * depth, &opt),
                         depth <= CONTRL__JSON_MAX_DEPTH ? CONTRL_OK : CONTRL_ERR_FORMAT);
        opt.max_depth = 3;
        ck_assert_int_eq(parse_status(text, 2 * depth, &opt),
                         depth <= 3 ? CONTRL_OK : CONTRL_ERR_FORMAT);
    }
    contrl__json_options too_deep = {CONTRL__JSON_MAX_DEPTH + 1, false};
    contrl__json_sizes sizes;
    ck_assert_int_eq(contrl__json_measure("1", 1, &too_deep, &sizes), CONTRL_ERR_INVALID_ARG);
}
END_TEST

START_TEST(json_rejects_duplicate_keys_only_when_asked)
{
    contrl__json_options strict = {0, true};
    const char *dup = "{\"a\": 1, \"b\": 2, \"a\": 3}";
    ck_assert_int_eq(parse_status(dup, strlen(dup), &strict), CONTRL_ERR_FORMAT);
    ck_assert_str_eq(contrl_last_error(), "JSON: duplicate key \"a\" at byte 17");
    /* Equal after unescaping; nested; in an object inside an array. */
    const char *also[] = {
        "{\"a\": 1, \"\\u0061\": 2}",
        "{\"x\": {\"k\": 1, \"k\": 2}}",
        "[{}, {\"\": 1, \"\": 2}]",
        "{\"\\ud83d\\ude00\": 1, \"\xf0\x9f\x98\x80\": 2}",
    };
    for (size_t i = 0; i < sizeof also / sizeof also[0]; i++)
        ck_assert_msg(parse_status(also[i], strlen(also[i]), &strict) == CONTRL_ERR_FORMAT, "%s",
                      also[i]);
    /* Keys that differ only after an embedded NUL or in length are distinct. */
    const char *distinct = "{\"a\": 1, \"a\\u0000\": 2, \"a\\u0000b\": 3, \"ab\": 4, \"\": 5}";
    ck_assert_int_eq(parse_status(distinct, strlen(distinct), &strict), CONTRL_OK);

    /* Allowed by default; the last one wins. */
    char *copy;
    contrl__json_doc doc = parse_ok(dup, strlen(dup), &copy);
    uint32_t v = contrl__json_get(&doc, 0, "a", 1);
    double x = 0;
    ck_assert(contrl__json_double(&doc, v, &x));
    ck_assert(x == 3.0);
    contrl__json_free(&doc, NULL);
    free(copy);
}
END_TEST

START_TEST(json_never_reads_past_len)
{
    /* Each valid prefix is parsed from a block of exactly its length; the
     * bytes after it in the literal would change the result if read. */
    static const struct {
        const char *text;
        size_t len;
        contrl_status want;
    } cases[] = {
        {"[1]]]", 3, CONTRL_OK},           {"123456", 3, CONTRL_OK},
        {"true!", 4, CONTRL_OK},           {"\"ab\"c", 4, CONTRL_OK},
        {"tru", 3, CONTRL_ERR_FORMAT},     {"\"ab", 3, CONTRL_ERR_FORMAT},
        {"\"\\u00", 5, CONTRL_ERR_FORMAT}, {"\"\\ud83d\\ude", 10, CONTRL_ERR_FORMAT},
        {"\"\\", 2, CONTRL_ERR_FORMAT},    {"\"\xe2\x82", 3, CONTRL_ERR_FORMAT},
        {"1e", 2, CONTRL_ERR_FORMAT},      {"-", 1, CONTRL_ERR_FORMAT},
        {"1.", 2, CONTRL_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(parse_status(cases[i].text, cases[i].len, NULL) == cases[i].want, "case %zu",
                      i);
}
END_TEST

/* ---- storage and allocation --------------------------------------------- */

START_TEST(json_two_pass_parse_fills_caller_storage_and_checks_its_size)
{
    const char *text = "{\"k\": [\"ab\", {\"x\": \"\\u00e9\"}], \"n\": 7}";
    size_t len = strlen(text);
    contrl__json_sizes need;
    ck_assert_int_eq(contrl__json_measure(text, len, NULL, &need), CONTRL_OK);
    ck_assert_uint_eq(need.n_values, 9);
    ck_assert_uint_eq(need.n_members, 3);
    /* "k" "ab" "x" "é" "n" with a NUL each */
    ck_assert_uint_eq(need.string_bytes, 2 + 3 + 2 + 3 + 2);

    contrl__json_value values[9];
    uint32_t members[3];
    char strings[12];
    contrl__json_doc doc = {.values = values, .members = members, .strings = strings};
    ck_assert_int_eq(contrl__json_parse(text, len, NULL, &need, &doc), CONTRL_OK);
    ck_assert_uint_eq(doc.n_values, 9);
    ck_assert_ptr_eq(doc.text, text);
    uint32_t k = contrl__json_get(&doc, 0, "k", 1);
    ck_assert_str_eq(contrl__json_string(&doc, k + 1), "ab");
    ck_assert_str_eq(contrl__json_string(&doc, contrl__json_get(&doc, k + 2, "x", 1)), "\xc3\xa9");

    /* One element short of any array is refused, not overrun. */
    for (int which = 0; which < 3; which++) {
        contrl__json_sizes small = need;
        if (which == 0)
            small.n_values--;
        else if (which == 1)
            small.n_members--;
        else
            small.string_bytes--;
        contrl__json_doc d2 = {.values = values, .members = members, .strings = strings};
        ck_assert_int_eq(contrl__json_parse(text, len, NULL, &small, &d2), CONTRL_ERR_INVALID_ARG);
        ck_assert_uint_eq(d2.n_values, 0);
    }
}
END_TEST

START_TEST(json_parse_alloc_uses_the_given_allocator_and_frees_everything)
{
    const char *text = "{\"a\": [1, 2, {\"b\": \"c\"}], \"d\": \"e\"}";
    counting c = {0, 0, 0, -1};
    contrl_allocator a = {counting_alloc, counting_free, &c};
    contrl__json_doc doc;
    ck_assert_int_eq(contrl__json_parse_alloc(text, strlen(text), NULL, &a, &doc), CONTRL_OK);
    ck_assert_uint_eq(c.allocs, 3);
    contrl__json_free(&doc, &a);
    ck_assert_uint_eq(c.frees, 3);
    ck_assert_uint_eq(c.live_bytes, 0);
    ck_assert_ptr_null(doc.values);

    /* Each allocation failing in turn: NOMEM and nothing left allocated. */
    for (long k = 0; k < 3; k++) {
        counting f = {0, 0, 0, k};
        contrl_allocator fa = {counting_alloc, counting_free, &f};
        ck_assert_int_eq(contrl__json_parse_alloc(text, strlen(text), NULL, &fa, &doc),
                         CONTRL_ERR_NOMEM);
        ck_assert_uint_eq(f.live_bytes, 0);
        ck_assert_uint_eq(f.allocs, f.frees);
    }
    /* A duplicate key found in pass 2 frees the storage too. */
    contrl__json_options strict = {0, true};
    counting d = {0, 0, 0, -1};
    contrl_allocator da = {counting_alloc, counting_free, &d};
    ck_assert_int_eq(contrl__json_parse_alloc("{\"a\":1,\"a\":2}", 13, &strict, &da, &doc),
                     CONTRL_ERR_FORMAT);
    ck_assert_uint_eq(d.live_bytes, 0);
    ck_assert_uint_eq(d.allocs, d.frees);
}
END_TEST

START_TEST(json_rejects_null_arguments)
{
    contrl__json_sizes sizes;
    contrl__json_doc doc;
    ck_assert_int_eq(contrl__json_measure(NULL, 1, NULL, &sizes), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__json_measure("1", 1, NULL, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__json_parse_alloc("1", 1, NULL, NULL, NULL), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__json_parse("1", 1, NULL, NULL, &doc), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl__json_measure(NULL, 0, NULL, &sizes), CONTRL_ERR_FORMAT); /* empty */
}
END_TEST

/* ---- writing ------------------------------------------------------------ */

START_TEST(json_written_strings_parse_back_to_the_same_bytes)
{
    /* Every byte 0x01-0x7f, then multi-byte UTF-8 and an embedded NUL. */
    char s[160];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        s[n++] = (char)c;
    const char tail[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    memcpy(s + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    s[n++] = '\0';
    s[n++] = 'z';
    ck_assert(contrl__json_utf8_valid(s, n));

    size_t len = contrl__json_write_string(NULL, s, n);
    char *out = malloc(len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(contrl__json_write_string(out, s, n), len);
    ck_assert_int_eq(out[0], '"');
    ck_assert(contains(out, len, "\\u0001"));
    ck_assert(contains(out, len, "\\n"));
    ck_assert(contains(out, len, "\\u0000"));
    char *copy;
    contrl__json_doc doc = parse_ok(out, len, &copy);
    ck_assert_uint_eq(doc.values[0].count, n);
    ck_assert(memcmp(contrl__json_string(&doc, 0), s, n) == 0);
    contrl__json_free(&doc, NULL);
    free(copy);
    free(out);
}
END_TEST

START_TEST(json_utf8_validator_accepts_exactly_well_formed_utf8)
{
    static const char *const good[] = {"",
                                       "abc",
                                       "\xc2\x80",
                                       "\xdf\xbf",
                                       "\xe0\xa0\x80",
                                       "\xed\x9f\xbf",
                                       "\xee\x80\x80",
                                       "\xf0\x90\x80\x80",
                                       "\xf4\x8f\xbf\xbf"};
    static const char *const bad[] = {"\x80",
                                      "\xc0\xaf",
                                      "\xc1\xbf",
                                      "\xe0\x9f\xbf",
                                      "\xed\xa0\x80",
                                      "\xed\xbf\xbf",
                                      "\xf0\x8f\xbf\xbf",
                                      "\xf4\x90\x80\x80",
                                      "\xf5\x80\x80\x80",
                                      "\xfe",
                                      "\xff",
                                      "\xc2",
                                      "\xe0\xa0",
                                      "\xc2\x41",
                                      "a\xe2\x28\xa1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(contrl__json_utf8_valid(good[i], strlen(good[i])), "good %zu", i);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!contrl__json_utf8_valid(bad[i], strlen(bad[i])), "bad %zu", i);
}
END_TEST

/* ---- helpers shared with the other io files ----------------------------- */

static int u32_cmp(uint32_t a, uint32_t b, const void *ctx)
{
    const uint32_t *keys = ctx;
    return (keys[a] > keys[b]) - (keys[a] < keys[b]);
}

START_TEST(json_sort_u32_sorts_any_input)
{
    enum { N = 1000 };
    uint32_t keys[N] = {0}, idx[N] = {0};
    uint64_t x = 12345;
    for (size_t n = 0; n <= N; n = n < 20 ? n + 1 : n * 3) {
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            keys[i] = (uint32_t)(x >> 33) % (uint32_t)(n / 2 + 1); /* with repeats */
            idx[i] = (uint32_t)i;
        }
        contrl__sort_u32(idx, n, u32_cmp, keys);
        bool seen[N] = {false};
        for (size_t i = 0; i < n; i++) {
            ck_assert(!seen[idx[i]]);
            seen[idx[i]] = true;
            if (i > 0)
                ck_assert_uint_le(keys[idx[i - 1]], keys[idx[i]]);
        }
    }
}
END_TEST

START_TEST(json_printable_replaces_unprintable_bytes_and_marks_cuts)
{
    char buf[8];
    ck_assert_str_eq(contrl__json_printable("a\nb\xc3\xa9", 5, buf, sizeof buf), "a?b??");
    ck_assert_str_eq(contrl__json_printable("abcdefghij", 10, buf, sizeof buf), "abcd...");
    ck_assert_str_eq(contrl__json_printable("abcdefg", 7, buf, sizeof buf), "abcdefg");
}
END_TEST

START_TEST(json_get_finds_every_key_of_a_large_object)
{
    enum { N = 2000 };
    char *text = malloc(N * 24 + 4);
    ck_assert_ptr_nonnull(text);
    size_t k = 0;
    text[k++] = '{';
    for (int i = 0; i < N; i++)
        k += (size_t)sprintf(text + k, "%s\"key%d\":%d", i ? "," : "", (i * 7919) % N,
                             (i * 7919) % N);
    text[k++] = '}';
    contrl__json_options strict = {0, true};
    contrl__json_doc doc;
    ck_assert_int_eq(contrl__json_parse_alloc(text, k, &strict, NULL, &doc), CONTRL_OK);
    for (int i = 0; i < N; i++) {
        char key[16];
        int n = sprintf(key, "key%d", i);
        uint32_t v = contrl__json_get(&doc, 0, key, (size_t)n);
        uint64_t got = UINT64_MAX;
        ck_assert(contrl__json_u64(&doc, v, &got));
        ck_assert_uint_eq(got, (uint64_t)i);
    }
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "key", 3), CONTRL__JSON_NONE);
    ck_assert_uint_eq(contrl__json_get(&doc, 0, "key20000", 8), CONTRL__JSON_NONE);
    contrl__json_free(&doc, NULL);
    free(text);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, json_parses_every_scalar_kind_at_top_level);
    tcase_add_test(tc, json_nested_document_has_the_right_tree_and_sibling_links);
    tcase_add_test(tc, json_strings_decode_every_escape_and_surrogate_pairs_to_utf8);
    tcase_add_test(tc, json_numbers_convert_to_the_nearest_double);
    tcase_add_test(tc, json_number_beyond_768_digits_keeps_a_sticky_digit_for_rounding);
    tcase_add_test(tc, json_u64_is_exact_up_to_2_pow_64_minus_1_and_rejects_other_forms);
    tcase_add_test(tc, json_rejects_every_proper_prefix_of_a_valid_document);
    tcase_add_test(tc, json_rejects_malformed_documents);
    tcase_add_test(tc, json_error_message_names_the_problem_and_its_byte_offset);
    tcase_add_test(tc, json_rejects_nesting_10000_deep_without_recursion);
    tcase_add_test(tc, json_depth_limit_is_exact);
    tcase_add_test(tc, json_rejects_duplicate_keys_only_when_asked);
    tcase_add_test(tc, json_never_reads_past_len);
    tcase_add_test(tc, json_two_pass_parse_fills_caller_storage_and_checks_its_size);
    tcase_add_test(tc, json_parse_alloc_uses_the_given_allocator_and_frees_everything);
    tcase_add_test(tc, json_rejects_null_arguments);
    tcase_add_test(tc, json_written_strings_parse_back_to_the_same_bytes);
    tcase_add_test(tc, json_utf8_validator_accepts_exactly_well_formed_utf8);
    tcase_add_test(tc, json_sort_u32_sorts_any_input);
    tcase_add_test(tc, json_printable_replaces_unprintable_bytes_and_marks_cuts);
    tcase_add_test(tc, json_get_finds_every_key_of_a_large_object);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
