/* tests/buffer/test_buffer.c - the replay buffer against contrl/buffer.h. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/buffer.h"

enum { OD = 3, AD = 2 }; /* obs_dim, action_dim of most tests */

/* Transition t has values no other transition has, so any mix-up shows. */
typedef struct transition {
    float obs[OD], action[AD], reward, next_obs[OD];
    bool terminated, truncated;
} transition;

static transition make_transition(int t)
{
    transition x;
    for (int j = 0; j < OD; j++) {
        x.obs[j] = (float)(t * 100 + j);
        x.next_obs[j] = (float)(t * 100 + j) + 50.0f;
    }
    for (int j = 0; j < AD; j++)
        x.action[j] = -(float)(t * 100 + j) - 0.5f;
    x.reward = (float)t + 0.25f;
    x.terminated = t % 3 == 0;
    x.truncated = t % 4 == 1;
    return x;
}

static contrl_status add_transition(contrl_buffer *buf, int t)
{
    transition x = make_transition(t);
    return contrl_buffer_add(buf, x.obs, x.action, x.reward, x.next_obs, x.terminated,
                             x.truncated);
}

static contrl_buffer *new_buffer(uint64_t capacity, uint64_t seed)
{
    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = OD;
    cfg.action_dim = AD;
    cfg.capacity = capacity;
    cfg.seed = seed;
    contrl_buffer *buf = NULL;
    ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_OK);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

/* The transition number stored at logical index i (recovered from reward),
 * after checking every field of it is that transition's, bit for bit. */
static int stored_transition(const contrl_buffer *buf, uint64_t i)
{
    transition got;
    ck_assert_int_eq(contrl_buffer_get(buf, i, got.obs, got.action, &got.reward, got.next_obs,
                                       &got.terminated, &got.truncated),
                     CONTRL_OK);
    int t = (int)lroundf(got.reward - 0.25f);
    transition want = make_transition(t);
    ck_assert(memcmp(got.obs, want.obs, sizeof want.obs) == 0);
    ck_assert(memcmp(got.action, want.action, sizeof want.action) == 0);
    ck_assert(memcmp(got.next_obs, want.next_obs, sizeof want.next_obs) == 0);
    ck_assert(got.reward == want.reward);
    ck_assert(got.terminated == want.terminated);
    ck_assert(got.truncated == want.truncated);
    return t;
}

/* Everything observable about a buffer, to prove a failed call changed nothing. */
typedef struct snapshot {
    uint64_t size;
    contrl_rng rng;
    transition items[16];
} snapshot;

static snapshot take_snapshot(const contrl_buffer *buf)
{
    snapshot s;
    memset(&s, 0, sizeof s);
    s.size = contrl_buffer_size(buf);
    ck_assert_uint_le(s.size, 16);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &s.rng), CONTRL_OK);
    for (uint64_t i = 0; i < s.size; i++) {
        transition *x = &s.items[i];
        ck_assert_int_eq(contrl_buffer_get(buf, i, x->obs, x->action, &x->reward, x->next_obs,
                                           &x->terminated, &x->truncated),
                         CONTRL_OK);
    }
    return s;
}

static void assert_same_snapshot(const snapshot *a, const snapshot *b)
{
    ck_assert_uint_eq(a->size, b->size);
    ck_assert(memcmp(&a->rng, &b->rng, sizeof a->rng) == 0);
    ck_assert(memcmp(a->items, b->items, sizeof a->items) == 0);
}

static void assert_error_mentions(const char *a, const char *b)
{
    const char *msg = contrl_last_error();
    ck_assert_msg(strstr(msg, a) != NULL && strstr(msg, b) != NULL,
                  "last error \"%s\" should name \"%s\" and \"%s\"", msg, a, b);
}

/* ---- Configuration and creation ---------------------------------------- */

START_TEST(buffer_config_default_has_documented_values)
{
    contrl_buffer_config cfg = contrl_buffer_config_default();
    ck_assert_uint_eq(cfg.size, sizeof cfg);
    ck_assert_uint_eq(cfg.obs_dim, 0);
    ck_assert_uint_eq(cfg.action_dim, 0);
    ck_assert_uint_eq(cfg.capacity, 1000000);
    ck_assert_uint_eq(cfg.seed, 0);
    ck_assert(cfg.allocator.alloc == NULL);
    ck_assert(cfg.allocator.free == NULL);
    ck_assert_ptr_null(cfg.allocator.user);
}
END_TEST

START_TEST(buffer_create_reports_its_shape_and_starts_empty)
{
    contrl_buffer *buf = new_buffer(7, 1);
    ck_assert_uint_eq(contrl_buffer_size(buf), 0);
    ck_assert_uint_eq(contrl_buffer_capacity(buf), 7);
    ck_assert_uint_eq(contrl_buffer_obs_dim(buf), OD);
    ck_assert_uint_eq(contrl_buffer_action_dim(buf), AD);
    ck_assert_int_eq(contrl_buffer_get(buf, 0, NULL, NULL, NULL, NULL, NULL, NULL),
                     CONTRL_ERR_INVALID_ARG);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_create_rejects_bad_configs)
{
    contrl_buffer *buf = (contrl_buffer *)&buf; /* must come back NULL */
    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = OD;
    cfg.action_dim = AD;
    cfg.capacity = 10;

    contrl_buffer_config bad = cfg;
    bad.obs_dim = 0;
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    assert_error_mentions("contrl_buffer_create", "obs_dim");

    bad = cfg;
    bad.action_dim = 0;
    buf = (contrl_buffer *)&buf;
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    assert_error_mentions("contrl_buffer_create", "action_dim");

    bad = cfg;
    bad.capacity = 0;
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_buffer_create", "capacity");

    /* capacity x row bytes cannot be represented: an argument error, not NOMEM. */
    bad = cfg;
    bad.obs_dim = UINT32_MAX;
    bad.action_dim = UINT32_MAX;
    bad.capacity = UINT64_MAX;
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    assert_error_mentions("contrl_buffer_create", "overflows");

    bad = cfg;
    bad.size = offsetof(contrl_buffer_config, seed); /* smaller than the first layout */
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_buffer_create", "size");

    alloc_counter c = {0};
    bad = cfg;
    bad.allocator.alloc = alloc_counter_alloc_checked; /* free missing */
    bad.allocator.user = &c;
    ck_assert_int_eq(contrl_buffer_create(&bad, &buf), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(c.allocs, 0);
}
END_TEST

START_TEST(buffer_config_from_older_smaller_struct_works)
{
    /* A caller compiled against the first layout: its struct ends before
     * `allocator`. Only those bytes exist (a heap block of exactly that
     * size, so the sanitizer sees any read past it). */
    size_t v1 = offsetof(contrl_buffer_config, allocator);
    unsigned char *raw = malloc(v1);
    ck_assert_ptr_nonnull(raw);
    contrl_buffer_config full = contrl_buffer_config_default();
    full.size = v1;
    full.obs_dim = OD;
    full.action_dim = AD;
    full.capacity = 4;
    full.seed = 9;
    memcpy(raw, &full, v1);

    contrl_buffer *buf = NULL;
    ck_assert_int_eq(contrl_buffer_create((const contrl_buffer_config *)raw, &buf), CONTRL_OK);
    free(raw);
    ck_assert_uint_eq(contrl_buffer_capacity(buf), 4);
    ck_assert_uint_eq(contrl_buffer_obs_dim(buf), OD);
    ck_assert_uint_eq(contrl_buffer_action_dim(buf), AD);

    /* The seed was read, and the default allocator works end to end. */
    contrl_rng want, got;
    contrl_rng_seed(&want, 9);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &got), CONTRL_OK);
    ck_assert(memcmp(want.s, got.s, sizeof want.s) == 0);
    for (int t = 0; t < 6; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    ck_assert_int_eq(stored_transition(buf, 0), 2);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_rejects_unknown_nonzero_config_tail)
{
    /* A caller compiled against a newer header with one more field. */
    struct {
        contrl_buffer_config cfg;
        uint64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.cfg = contrl_buffer_config_default();
    newer.cfg.size = sizeof newer;
    newer.cfg.obs_dim = OD;
    newer.cfg.action_dim = AD;
    newer.cfg.capacity = 4;

    contrl_buffer *buf = NULL;
    newer.future_field = 1;
    ck_assert_int_eq(contrl_buffer_create(&newer.cfg, &buf), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    assert_error_mentions("contrl_buffer_create", "does not know");

    /* The same layout with the unknown field left at zero is accepted. */
    newer.future_field = 0;
    ck_assert_int_eq(contrl_buffer_create(&newer.cfg, &buf), CONTRL_OK);
    ck_assert_uint_eq(contrl_buffer_capacity(buf), 4);
    contrl_buffer_destroy(buf);
}
END_TEST

/* ---- Storage ----------------------------------------------------------- */

START_TEST(buffer_add_then_get_returns_exact_values)
{
    contrl_buffer *buf = new_buffer(8, 1);
    for (int t = 0; t < 5; t++) {
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
        ck_assert_uint_eq(contrl_buffer_size(buf), (uint64_t)t + 1);
    }
    for (uint64_t i = 0; i < 5; i++)
        ck_assert_int_eq(stored_transition(buf, i), (int)i);

    /* Values that are not small integers survive bit for bit, and each
     * output pointer may be NULL on its own. */
    float obs[OD] = {-0.0f, 1e-38f, 3.4e38f}, act[AD] = {0.1f, -1e-45f};
    float next[OD] = {1.0f / 3.0f, -2.5f, 7e-8f};
    ck_assert_int_eq(contrl_buffer_add(buf, obs, act, -1e30f, next, true, true), CONTRL_OK);
    float o[OD], a[AD], r, n[OD];
    bool term = false, trunc = false;
    ck_assert_int_eq(contrl_buffer_get(buf, 5, o, NULL, NULL, NULL, NULL, NULL), CONTRL_OK);
    ck_assert(memcmp(o, obs, sizeof o) == 0);
    ck_assert_int_eq(contrl_buffer_get(buf, 5, NULL, a, &r, n, &term, &trunc), CONTRL_OK);
    ck_assert(memcmp(a, act, sizeof a) == 0);
    ck_assert(memcmp(n, next, sizeof n) == 0);
    ck_assert(r == -1e30f);
    ck_assert(term && trunc);

    ck_assert_int_eq(contrl_buffer_get(buf, 6, o, a, &r, n, &term, &trunc),
                     CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_buffer_get", "index");
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_wraps_around_and_keeps_newest)
{
    contrl_buffer *buf = new_buffer(5, 1);
    for (int t = 0; t < 12; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    ck_assert_uint_eq(contrl_buffer_size(buf), 5);
    ck_assert_uint_eq(contrl_buffer_capacity(buf), 5);
    for (uint64_t i = 0; i < 5; i++)
        ck_assert_int_eq(stored_transition(buf, i), 7 + (int)i);
    ck_assert_int_eq(contrl_buffer_get(buf, 5, NULL, NULL, NULL, NULL, NULL, NULL),
                     CONTRL_ERR_INVALID_ARG);

    /* Capacity 1: every add replaces the only transition. */
    contrl_buffer *one = new_buffer(1, 1);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(add_transition(one, t), CONTRL_OK);
        ck_assert_uint_eq(contrl_buffer_size(one), 1);
        ck_assert_int_eq(stored_transition(one, 0), t);
    }
    contrl_buffer_destroy(one);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_clear_empties_and_keeps_capacity_and_rng)
{
    contrl_buffer *buf = new_buffer(5, 3);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    contrl_rng before, after;
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &before), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_clear(buf), CONTRL_OK);
    ck_assert_uint_eq(contrl_buffer_size(buf), 0);
    ck_assert_uint_eq(contrl_buffer_capacity(buf), 5);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &after), CONTRL_OK);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);

    float o[OD], a[AD], r, n[OD], d;
    ck_assert_int_eq(contrl_buffer_sample(buf, 1, o, a, &r, n, &d, NULL), CONTRL_ERR_STATE);
    /* Refilling after a clear starts from transition 0 again, in order. */
    for (int t = 20; t < 23; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    ck_assert_uint_eq(contrl_buffer_size(buf), 3);
    for (uint64_t i = 0; i < 3; i++)
        ck_assert_int_eq(stored_transition(buf, i), 20 + (int)i);
    ck_assert_int_eq(contrl_buffer_clear(NULL), CONTRL_ERR_INVALID_ARG);
    contrl_buffer_destroy(buf);
}
END_TEST

/* ---- Rejected input ---------------------------------------------------- */

/* buf holds transitions 0..6 in capacity 5 (wrapped, so a write in the
 * wrong slot would show). */
static contrl_buffer *wrapped_buffer(void)
{
    contrl_buffer *buf = new_buffer(5, 11);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    return buf;
}

/* After a rejected add the next good add must land where it would have. */
static void assert_next_add_lands_in_order(contrl_buffer *buf)
{
    ck_assert_int_eq(add_transition(buf, 7), CONTRL_OK);
    for (uint64_t i = 0; i < 5; i++)
        ck_assert_int_eq(stored_transition(buf, i), 3 + (int)i);
}

START_TEST(buffer_rejects_nan_reward_and_keeps_contents)
{
    contrl_buffer *buf = wrapped_buffer();
    snapshot before = take_snapshot(buf);
    transition x = make_transition(99);
    ck_assert_int_eq(contrl_buffer_add(buf, x.obs, x.action, NAN, x.next_obs, false, false),
                     CONTRL_ERR_NONFINITE);
    assert_error_mentions("contrl_buffer_add", "reward");
    ck_assert_int_eq(contrl_buffer_add(buf, x.obs, x.action, -INFINITY, x.next_obs, true, true),
                     CONTRL_ERR_NONFINITE);
    snapshot after = take_snapshot(buf);
    assert_same_snapshot(&before, &after);
    assert_next_add_lands_in_order(buf);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_rejects_inf_in_next_obs_and_keeps_contents)
{
    contrl_buffer *buf = wrapped_buffer();
    snapshot before = take_snapshot(buf);
    transition x = make_transition(99);
    x.next_obs[OD - 1] = INFINITY; /* the last value: the whole array is checked */
    ck_assert_int_eq(contrl_buffer_add(buf, x.obs, x.action, x.reward, x.next_obs, true, false),
                     CONTRL_ERR_NONFINITE);
    assert_error_mentions("contrl_buffer_add", "next_obs[2]");
    snapshot after = take_snapshot(buf);
    assert_same_snapshot(&before, &after);
    assert_next_add_lands_in_order(buf);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_rejects_nonfinite_obs_and_action_and_keeps_contents)
{
    contrl_buffer *buf = wrapped_buffer();
    snapshot before = take_snapshot(buf);
    for (int j = 0; j < OD; j++) {
        transition x = make_transition(99);
        x.obs[j] = j % 2 ? -INFINITY : NAN;
        ck_assert_int_eq(contrl_buffer_add(buf, x.obs, x.action, x.reward, x.next_obs, false,
                                           false),
                         CONTRL_ERR_NONFINITE);
        assert_error_mentions("contrl_buffer_add", "obs[");
    }
    for (int j = 0; j < AD; j++) {
        transition x = make_transition(99);
        x.action[j] = NAN;
        ck_assert_int_eq(contrl_buffer_add(buf, x.obs, x.action, x.reward, x.next_obs, false,
                                           false),
                         CONTRL_ERR_NONFINITE);
        assert_error_mentions("contrl_buffer_add", "action[");
    }
    snapshot after = take_snapshot(buf);
    assert_same_snapshot(&before, &after);
    assert_next_add_lands_in_order(buf);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_rejects_null_arguments)
{
    contrl_buffer *buf = wrapped_buffer();
    snapshot before = take_snapshot(buf);
    transition x = make_transition(99);
    float o[OD], a[AD], r, n[OD], d, tr;
    contrl_rng rng;

    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = OD;
    cfg.action_dim = AD;
    contrl_buffer *made = NULL;
    ck_assert_int_eq(contrl_buffer_create(NULL, &made), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_buffer_create", "cfg");
    ck_assert_int_eq(contrl_buffer_create(&cfg, NULL), CONTRL_ERR_INVALID_ARG);
    assert_error_mentions("contrl_buffer_create", "out");

#define EXPECT_NULL_ERR(call, func, arg)                                       \
    do {                                                                       \
        contrl_clear_error();                                                  \
        ck_assert_int_eq((call), CONTRL_ERR_INVALID_ARG);                      \
        assert_error_mentions(func, arg);                                      \
    } while (0)

    EXPECT_NULL_ERR(contrl_buffer_add(NULL, x.obs, x.action, 1.0f, x.next_obs, false, false),
                    "contrl_buffer_add", "buf");
    EXPECT_NULL_ERR(contrl_buffer_add(buf, NULL, x.action, 1.0f, x.next_obs, false, false),
                    "contrl_buffer_add", "obs");
    EXPECT_NULL_ERR(contrl_buffer_add(buf, x.obs, NULL, 1.0f, x.next_obs, false, false),
                    "contrl_buffer_add", "action");
    EXPECT_NULL_ERR(contrl_buffer_add(buf, x.obs, x.action, 1.0f, NULL, false, false),
                    "contrl_buffer_add", "next_obs");

    EXPECT_NULL_ERR(contrl_buffer_sample(NULL, 1, o, a, &r, n, &d, &tr),
                    "contrl_buffer_sample", "buf");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 0, o, a, &r, n, &d, &tr),
                    "contrl_buffer_sample", "batch");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 1, NULL, a, &r, n, &d, &tr),
                    "contrl_buffer_sample", "obs");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 1, o, NULL, &r, n, &d, &tr),
                    "contrl_buffer_sample", "action");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 1, o, a, NULL, n, &d, &tr),
                    "contrl_buffer_sample", "reward");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 1, o, a, &r, NULL, &d, &tr),
                    "contrl_buffer_sample", "next_obs");
    EXPECT_NULL_ERR(contrl_buffer_sample(buf, 1, o, a, &r, n, NULL, &tr),
                    "contrl_buffer_sample", "terminated");

    EXPECT_NULL_ERR(contrl_buffer_get(NULL, 0, o, a, &r, n, NULL, NULL), "contrl_buffer_get",
                    "buf");
    EXPECT_NULL_ERR(contrl_buffer_clear(NULL), "contrl_buffer_clear", "buf");
    EXPECT_NULL_ERR(contrl_buffer_get_rng(NULL, &rng), "contrl_buffer_get_rng", "buf");
    EXPECT_NULL_ERR(contrl_buffer_get_rng(buf, NULL), "contrl_buffer_get_rng", "rng");
    EXPECT_NULL_ERR(contrl_buffer_set_rng(NULL, &rng), "contrl_buffer_set_rng", "buf");
    EXPECT_NULL_ERR(contrl_buffer_set_rng(buf, NULL), "contrl_buffer_set_rng", "rng");
#undef EXPECT_NULL_ERR

    /* None of that touched the buffer or its RNG. */
    snapshot after = take_snapshot(buf);
    assert_same_snapshot(&before, &after);

    /* Getters answer 0 for NULL; destroy accepts NULL. */
    ck_assert_uint_eq(contrl_buffer_size(NULL), 0);
    ck_assert_uint_eq(contrl_buffer_capacity(NULL), 0);
    ck_assert_uint_eq(contrl_buffer_obs_dim(NULL), 0);
    ck_assert_uint_eq(contrl_buffer_action_dim(NULL), 0);
    ck_assert_uint_eq(contrl_buffer_memory_bytes(NULL), 0);
    contrl_buffer_destroy(NULL);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_sample_empty_is_state_error)
{
    contrl_buffer *buf = new_buffer(4, 5);
    contrl_rng before, after;
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &before), CONTRL_OK);
    float o[OD], a[AD], r = 7.0f, n[OD], d = 7.0f, tr = 7.0f;
    ck_assert_int_eq(contrl_buffer_sample(buf, 1, o, a, &r, n, &d, &tr), CONTRL_ERR_STATE);
    assert_error_mentions("contrl_buffer_sample", "empty");
    /* Outputs untouched and RNG not advanced. */
    ck_assert(r == 7.0f && d == 7.0f && tr == 7.0f);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &after), CONTRL_OK);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_failed_sample_does_not_advance_rng)
{
    contrl_buffer *buf = wrapped_buffer();
    float o[OD], a[AD], r, n[OD], d;
    contrl_rng before, after;
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &before), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_sample(buf, 1, o, a, &r, n, NULL, NULL),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_buffer_sample(buf, 0, o, a, &r, n, &d, NULL),
                     CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &after), CONTRL_OK);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);
    /* ...and a successful one does. */
    ck_assert_int_eq(contrl_buffer_sample(buf, 1, o, a, &r, n, &d, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &after), CONTRL_OK);
    ck_assert(memcmp(&before, &after, sizeof before) != 0);
    contrl_buffer_destroy(buf);
}
END_TEST

/* ---- Sampling ---------------------------------------------------------- */

enum { BATCH = 64 };

typedef struct batch_out {
    float obs[BATCH * OD], action[BATCH * AD], reward[BATCH], next_obs[BATCH * OD];
    float terminated[BATCH], truncated[BATCH];
} batch_out;

static void sample_batch(contrl_buffer *buf, uint32_t n, batch_out *out)
{
    ck_assert_uint_le(n, BATCH);
    ck_assert_int_eq(contrl_buffer_sample(buf, n, out->obs, out->action, out->reward,
                                          out->next_obs, out->terminated, out->truncated),
                     CONTRL_OK);
}

/* Transition number of sample b, after checking its fields all belong to
 * that one transition (no row mixes two transitions). */
static int sampled_transition(const batch_out *out, int b)
{
    int t = (int)lroundf(out->reward[b] - 0.25f);
    transition want = make_transition(t);
    ck_assert(out->reward[b] == want.reward);
    ck_assert(memcmp(out->obs + b * OD, want.obs, sizeof want.obs) == 0);
    ck_assert(memcmp(out->action + b * AD, want.action, sizeof want.action) == 0);
    ck_assert(memcmp(out->next_obs + b * OD, want.next_obs, sizeof want.next_obs) == 0);
    ck_assert(out->terminated[b] == (want.terminated ? 1.0f : 0.0f));
    ck_assert(out->truncated[b] == (want.truncated ? 1.0f : 0.0f));
    return t;
}

START_TEST(buffer_sample_returns_whole_stored_transitions_with_flags_as_floats)
{
    contrl_buffer *buf = wrapped_buffer(); /* holds 2..6 */
    batch_out out;
    int seen_term = 0, seen_trunc = 0;
    for (int round = 0; round < 20; round++) {
        sample_batch(buf, BATCH, &out);
        for (int b = 0; b < BATCH; b++) {
            int t = sampled_transition(&out, b);
            ck_assert_int_ge(t, 2);
            ck_assert_int_le(t, 6);
            seen_term += out.terminated[b] == 1.0f;
            seen_trunc += out.truncated[b] == 1.0f;
        }
    }
    ck_assert_int_gt(seen_term, 0); /* both flag values occur among 2..6 */
    ck_assert_int_gt(seen_trunc, 0);

    /* truncated may be NULL; the rest is still written. */
    float o[OD], a[AD], r = NAN, n[OD], d = NAN;
    ck_assert_int_eq(contrl_buffer_sample(buf, 1, o, a, &r, n, &d, NULL), CONTRL_OK);
    ck_assert(d == 0.0f || d == 1.0f);
    ck_assert(r >= 2.25f && r <= 6.25f);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_sampling_is_uniform_chi_square)
{
    enum { CAP = 50, DRAWS = 100000 };
    contrl_buffer *buf = new_buffer(CAP, 2024);
    /* Fill past capacity so the ring has wrapped: 30..79 are stored. */
    for (int t = 0; t < CAP + 30; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    long count[CAP] = {0};
    batch_out out;
    for (int done = 0; done < DRAWS; done += 50) {
        sample_batch(buf, 50, &out);
        for (int b = 0; b < 50; b++) {
            int t = (int)lroundf(out.reward[b] - 0.25f);
            ck_assert_int_ge(t, 30);
            ck_assert_int_lt(t, 30 + CAP);
            count[t - 30]++;
        }
    }
    double expected = (double)DRAWS / CAP, chi2 = 0.0;
    for (int i = 0; i < CAP; i++)
        chi2 += (count[i] - expected) * (count[i] - expected) / expected;
    /* chi-square with 49 degrees of freedom: 0.1% and 99.9% quantiles are
     * about 23.9 and 85.4. Too small would mean too even (not random). */
    ck_assert_msg(chi2 < 85.4 && chi2 > 23.0, "chi-square %.2f outside (23.0, 85.4)", chi2);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_partially_filled_samples_only_stored_transitions)
{
    enum { CAP = 100, FILLED = 7, DRAWS = 70000 };
    contrl_buffer *buf = new_buffer(CAP, 77);
    for (int t = 0; t < FILLED; t++)
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
    long count[FILLED] = {0};
    batch_out out;
    for (int done = 0; done < DRAWS; done += 50) {
        sample_batch(buf, 50, &out);
        for (int b = 0; b < 50; b++) {
            int t = sampled_transition(&out, b); /* an unfilled slot would fail here */
            ck_assert_int_ge(t, 0);
            ck_assert_int_lt(t, FILLED);
            count[t]++;
        }
    }
    /* Uniform over the 7 stored ones: chi-square with 6 degrees of freedom
     * below its 99.9% quantile, 22.46. (Drawing below capacity and reducing
     * modulo 7 would give about 70 here.) */
    double expected = (double)DRAWS / FILLED, chi2 = 0.0;
    for (int t = 0; t < FILLED; t++)
        chi2 += (count[t] - expected) * (count[t] - expected) / expected;
    ck_assert_msg(chi2 < 22.46, "chi-square %.2f >= 22.46", chi2);
    contrl_buffer_destroy(buf);
}
END_TEST

START_TEST(buffer_same_seed_same_samples)
{
    contrl_buffer *b1 = wrapped_buffer(), *b2 = wrapped_buffer();
    batch_out o1, o2;
    for (int round = 0; round < 5; round++) {
        sample_batch(b1, BATCH, &o1);
        sample_batch(b2, BATCH, &o2);
        ck_assert(memcmp(&o1, &o2, sizeof o1) == 0);
    }

    /* The draws are exactly get(contrl_rng_below(rng, size)) with the
     * buffer's seed (11), indices counted from the oldest transition. */
    contrl_buffer *b3 = wrapped_buffer();
    contrl_rng ref;
    contrl_rng_seed(&ref, 11);
    sample_batch(b3, BATCH, &o1);
    for (int b = 0; b < BATCH; b++) {
        uint64_t i = contrl_rng_below(&ref, 5);
        ck_assert_int_eq(sampled_transition(&o1, b), 2 + (int)i);
    }

    /* The same holds before the buffer is full: indices below size only. */
    contrl_buffer *b5 = new_buffer(100, 11);
    for (int t = 0; t < 3; t++)
        ck_assert_int_eq(add_transition(b5, t), CONTRL_OK);
    contrl_rng_seed(&ref, 11);
    sample_batch(b5, BATCH, &o1);
    for (int b = 0; b < BATCH; b++) {
        uint64_t i = contrl_rng_below(&ref, 3);
        ck_assert_int_eq(sampled_transition(&o1, b), (int)i);
    }
    contrl_buffer_destroy(b5);

    /* Another seed gives another sequence. */
    contrl_buffer *b4 = new_buffer(5, 12);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(add_transition(b4, t), CONTRL_OK);
    sample_batch(b3, BATCH, &o1);
    sample_batch(b4, BATCH, &o2);
    ck_assert(memcmp(o1.reward, o2.reward, sizeof o1.reward) != 0);
    contrl_buffer_destroy(b1);
    contrl_buffer_destroy(b2);
    contrl_buffer_destroy(b3);
    contrl_buffer_destroy(b4);
}
END_TEST

START_TEST(buffer_rng_state_round_trips)
{
    contrl_buffer *buf = wrapped_buffer();
    batch_out first, again;
    sample_batch(buf, 10, &first); /* move away from the seeded state */
    contrl_rng saved;
    ck_assert_int_eq(contrl_buffer_get_rng(buf, &saved), CONTRL_OK);
    sample_batch(buf, BATCH, &first);
    ck_assert_int_eq(contrl_buffer_set_rng(buf, &saved), CONTRL_OK);
    sample_batch(buf, BATCH, &again);
    ck_assert(memcmp(&first, &again, sizeof first) == 0);

    /* The state carries over to another buffer with the same contents. */
    contrl_buffer *other = new_buffer(5, 999);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(add_transition(other, t), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_set_rng(other, &saved), CONTRL_OK);
    sample_batch(other, BATCH, &again);
    ck_assert(memcmp(&first, &again, sizeof first) == 0);

    /* An all-zero state is not a generator's: rejected, nothing changed. */
    contrl_rng zero, now;
    memset(&zero, 0, sizeof zero);
    ck_assert_int_eq(contrl_buffer_get_rng(other, &saved), CONTRL_OK);
    ck_assert_int_eq(contrl_buffer_set_rng(other, &zero), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_buffer_get_rng(other, &now), CONTRL_OK);
    ck_assert(memcmp(&saved, &now, sizeof now) == 0);
    contrl_buffer_destroy(other);
    contrl_buffer_destroy(buf);
}
END_TEST

/* ---- Memory ------------------------------------------------------------ */

START_TEST(buffer_memory_within_5_percent_of_payload)
{
    static const uint32_t dims[][2] = {{1, 1}, {3, 1}, {17, 6}, {376, 17}, {64, 64}};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        alloc_counter c = {0};
        contrl_buffer_config cfg = contrl_buffer_config_default();
        cfg.obs_dim = dims[k][0];
        cfg.action_dim = dims[k][1];
        cfg.capacity = 10000;
        cfg.allocator =
            (contrl_allocator){alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
        contrl_buffer *buf = NULL;
        ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_OK);
        size_t bytes = contrl_buffer_memory_bytes(buf);
        /* The figure is the real allocation, not an estimate. */
        ck_assert_uint_eq(bytes, c.bytes);
        double payload = 10000.0 * (2.0 * cfg.obs_dim + cfg.action_dim + 3) * 4;
        /* At most 5% above the float32 payload (handle and alignment
         * included, flags stored in less than two floats)... */
        ck_assert_msg(bytes <= 1.05 * payload, "dims %u,%u: %zu bytes vs payload %.0f",
                      cfg.obs_dim, cfg.action_dim, bytes, payload);
        /* ...and at least the floats that must be stored plus 2 bits of flags. */
        double needed = 10000.0 * (2.0 * cfg.obs_dim + cfg.action_dim + 1) * 4 + 10000 / 4;
        ck_assert_msg(bytes >= needed, "dims %u,%u: %zu bytes < %.0f needed", cfg.obs_dim,
                      cfg.action_dim, bytes, needed);
        contrl_buffer_destroy(buf);
        ck_assert_uint_eq(c.freed_bytes, c.bytes);
    }
}
END_TEST

START_TEST(buffer_uses_user_allocator)
{
    alloc_counter c = {0};
    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = OD;
    cfg.action_dim = AD;
    cfg.capacity = 20;
    cfg.allocator = (contrl_allocator){alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
    contrl_buffer *buf = NULL;
    ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_OK);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 0);
    ck_assert_ptr_eq(buf, c.last); /* the handle lives in the one block */

    batch_out out;
    for (int t = 0; t < 50; t++) {
        ck_assert_int_eq(add_transition(buf, t), CONTRL_OK);
        sample_batch(buf, BATCH, &out);
    }
    ck_assert_int_eq(contrl_buffer_clear(buf), CONTRL_OK);
    ck_assert_int_eq(add_transition(buf, 1), CONTRL_OK);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 0);

    contrl_buffer_destroy(buf);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 1);
    ck_assert_uint_eq(c.freed_bytes, c.bytes); /* free gets the size alloc was asked for */
}
END_TEST

START_TEST(buffer_alloc_failure_returns_nomem)
{
    alloc_counter c = {0};
    c.fail = 1;
    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = OD;
    cfg.action_dim = AD;
    cfg.capacity = 20;
    cfg.allocator = (contrl_allocator){alloc_counter_alloc_checked, alloc_counter_free_checked, &c};
    contrl_buffer *buf = (contrl_buffer *)&c;
    ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_ERR_NOMEM);
    ck_assert_ptr_null(buf);
    assert_error_mentions("contrl_buffer_create", "allocate");
    ck_assert_int_eq(c.frees, 0);

    /* The same config succeeds once memory is available. */
    c.fail = 0;
    ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_OK);
    contrl_buffer_destroy(buf);
    ck_assert_int_eq(c.allocs, 1);
    ck_assert_int_eq(c.frees, 1);
}
END_TEST

static Suite *buffer_suite(void)
{
    Suite *s = suite_create("buffer");
    TCase *tc = tcase_create("buffer");
    tcase_add_test(tc, buffer_config_default_has_documented_values);
    tcase_add_test(tc, buffer_create_reports_its_shape_and_starts_empty);
    tcase_add_test(tc, buffer_create_rejects_bad_configs);
    tcase_add_test(tc, buffer_config_from_older_smaller_struct_works);
    tcase_add_test(tc, buffer_rejects_unknown_nonzero_config_tail);
    tcase_add_test(tc, buffer_add_then_get_returns_exact_values);
    tcase_add_test(tc, buffer_wraps_around_and_keeps_newest);
    tcase_add_test(tc, buffer_clear_empties_and_keeps_capacity_and_rng);
    tcase_add_test(tc, buffer_rejects_nan_reward_and_keeps_contents);
    tcase_add_test(tc, buffer_rejects_inf_in_next_obs_and_keeps_contents);
    tcase_add_test(tc, buffer_rejects_nonfinite_obs_and_action_and_keeps_contents);
    tcase_add_test(tc, buffer_rejects_null_arguments);
    tcase_add_test(tc, buffer_sample_empty_is_state_error);
    tcase_add_test(tc, buffer_failed_sample_does_not_advance_rng);
    tcase_add_test(tc, buffer_sample_returns_whole_stored_transitions_with_flags_as_floats);
    tcase_add_test(tc, buffer_sampling_is_uniform_chi_square);
    tcase_add_test(tc, buffer_partially_filled_samples_only_stored_transitions);
    tcase_add_test(tc, buffer_same_seed_same_samples);
    tcase_add_test(tc, buffer_rng_state_round_trips);
    tcase_add_test(tc, buffer_memory_within_5_percent_of_payload);
    tcase_add_test(tc, buffer_uses_user_allocator);
    tcase_add_test(tc, buffer_alloc_failure_returns_nomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buffer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
