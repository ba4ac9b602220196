/* tests/abi/test_abi.c - callers compiled against older, smaller config
 * structs keep working (the size-prefixed config scheme of contrl/core.h),
 * newer callers are refused cleanly, and contrl_blas_info takes a smaller
 * size. Links the shared library, as such a caller would.
 *
 * To show that a v1 caller gets the C library's allocator, this executable
 * also defines the C allocation functions (tests/support/counting_alloc.c,
 * forwarding to glibc's __libc_*) and records which blocks they hand out;
 * that part is left out under AddressSanitizer, which owns malloc. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"

/* ---- the v1 layouts, as an old header declared them ---------------------- */

typedef struct net_config_v1 {
    size_t size;
    uint32_t in, out, n_hidden;
    uint32_t hidden[CONTRL_NET_MAX_HIDDEN];
    contrl_activation hidden_act, out_act;
    float out_init_range;
    uint32_t max_batch;
    uint64_t seed;
} net_config_v1;

typedef struct adam_config_v1 {
    size_t size;
    float lr, beta1, beta2, eps, max_grad_norm;
} adam_config_v1;

typedef struct buffer_config_v1 {
    size_t size;
    uint32_t obs_dim, action_dim;
    uint64_t capacity, seed;
} buffer_config_v1;

typedef struct learn_config_v1 {
    size_t size;
    contrl_env *eval_env;
    uint64_t eval_interval;
    uint32_t eval_episodes;
    uint64_t progress_interval;
    contrl_progress_fn callback;
    void *user;
} learn_config_v1;

/* Each v1 field sits where the current struct has it: v1 is a prefix. */
#define SAME_FIELD(v1, cur, f)                                                 \
    _Static_assert(offsetof(v1, f) == offsetof(cur, f) &&                      \
                       sizeof(((v1 *)0)->f) == sizeof(((cur *)0)->f),          \
                   #f " moved")
SAME_FIELD(net_config_v1, contrl_net_config, size);
SAME_FIELD(net_config_v1, contrl_net_config, in);
SAME_FIELD(net_config_v1, contrl_net_config, out);
SAME_FIELD(net_config_v1, contrl_net_config, n_hidden);
SAME_FIELD(net_config_v1, contrl_net_config, hidden);
SAME_FIELD(net_config_v1, contrl_net_config, hidden_act);
SAME_FIELD(net_config_v1, contrl_net_config, out_act);
SAME_FIELD(net_config_v1, contrl_net_config, out_init_range);
SAME_FIELD(net_config_v1, contrl_net_config, max_batch);
SAME_FIELD(net_config_v1, contrl_net_config, seed);
SAME_FIELD(adam_config_v1, contrl_adam_config, size);
SAME_FIELD(adam_config_v1, contrl_adam_config, lr);
SAME_FIELD(adam_config_v1, contrl_adam_config, beta1);
SAME_FIELD(adam_config_v1, contrl_adam_config, beta2);
SAME_FIELD(adam_config_v1, contrl_adam_config, eps);
SAME_FIELD(adam_config_v1, contrl_adam_config, max_grad_norm);
SAME_FIELD(buffer_config_v1, contrl_buffer_config, size);
SAME_FIELD(buffer_config_v1, contrl_buffer_config, obs_dim);
SAME_FIELD(buffer_config_v1, contrl_buffer_config, action_dim);
SAME_FIELD(buffer_config_v1, contrl_buffer_config, capacity);
SAME_FIELD(buffer_config_v1, contrl_buffer_config, seed);
SAME_FIELD(learn_config_v1, contrl_learn_config, size);
SAME_FIELD(learn_config_v1, contrl_learn_config, eval_env);
SAME_FIELD(learn_config_v1, contrl_learn_config, eval_interval);
SAME_FIELD(learn_config_v1, contrl_learn_config, eval_episodes);
SAME_FIELD(learn_config_v1, contrl_learn_config, progress_interval);
SAME_FIELD(learn_config_v1, contrl_learn_config, callback);
SAME_FIELD(learn_config_v1, contrl_learn_config, user);
_Static_assert(sizeof(learn_config_v1) == CONTRL_LEARN_CONFIG_SIZE_V1,
               "the published 0.1 size of contrl_learn_config changed");
_Static_assert(sizeof(net_config_v1) == CONTRL_NET_CONFIG_SIZE_V1,
               "the published v1 size of contrl_net_config changed");

/* ---- helpers -------------------------------------------------------------- */

static contrl_kernels auto_kernels(void)
{
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    return info.kernels;
}

/* An old caller's struct, alone in a heap block of exactly its size, so a
 * library that reads past `size` is caught by AddressSanitizer. */
static void *exact_copy(const void *src, size_t size)
{
    void *p = malloc(size);
    ck_assert_ptr_nonnull(p);
    memcpy(p, src, size);
    return p;
}

/* The same struct followed by 0xA5 garbage up to the current size: a
 * library that reads fields past `size` gets kernels 0xA5A5A5A5 (invalid)
 * and an allocator of garbage pointers. */
static void *garbage_tail_copy(const void *src, size_t size, size_t full)
{
    unsigned char *p = malloc(full);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xA5, full);
    memcpy(p, src, size);
    return p;
}

static net_config_v1 net_v1(void)
{
    net_config_v1 c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.in = 5;
    c.out = 3;
    c.n_hidden = 2;
    c.hidden[0] = 16;
    c.hidden[1] = 12;
    c.hidden_act = CONTRL_ACT_TANH;
    c.out_act = CONTRL_ACT_SIGMOID;
    c.out_init_range = 3e-3f;
    c.max_batch = 8;
    c.seed = 123;
    return c;
}

/* The current config with the same values as net_v1(). */
static contrl_net_config net_current(void)
{
    contrl_net_config c = contrl_net_config_default();
    net_config_v1 v = net_v1();
    memcpy((unsigned char *)&c + sizeof(size_t), (unsigned char *)&v + sizeof(size_t),
           sizeof v - sizeof(size_t));
    return c;
}

/* ---- v1 callers ------------------------------------------------------------ */

START_TEST(current_defaults_declare_the_current_size)
{
    ck_assert_uint_eq(contrl_net_config_default().size, sizeof(contrl_net_config));
    ck_assert_uint_eq(contrl_adam_config_default().size, sizeof(contrl_adam_config));
    ck_assert_uint_eq(contrl_buffer_config_default().size, sizeof(contrl_buffer_config));
    /* Fields added after v1 have the documented defaults. */
    contrl_net_config d = contrl_net_config_default();
    ck_assert_int_eq(d.kernels, CONTRL_KERNELS_AUTO);
    ck_assert(d.allocator.alloc == NULL && d.allocator.free == NULL && d.allocator.user == NULL);
    ck_assert_uint_gt(sizeof(contrl_net_config), CONTRL_NET_CONFIG_SIZE_V1);
}
END_TEST

START_TEST(net_v1_config_creates_with_default_kernels_and_c_allocator)
{
    unsetenv("CONTRL_BLIS_ARCH");
    net_config_v1 v = net_v1();
    contrl_net_config cur = net_current();
    contrl_net *ref = NULL;
    ck_assert_int_eq(contrl_net_create(&cur, &ref), CONTRL_OK);

    for (int variant = 0; variant < 2; variant++) {
        void *cfg = variant == 0 ? exact_copy(&v, sizeof v)
                                 : garbage_tail_copy(&v, sizeof v, sizeof(contrl_net_config));
        contrl_net *net = NULL;
        libc_count_begin();
        contrl_status st = contrl_net_create((const contrl_net_config *)cfg, &net);
        libc_count_end();
        ck_assert_msg(st == CONTRL_OK, "variant %d: %s", variant, contrl_last_error());
        /* Every v1 field was taken... */
        ck_assert_uint_eq(contrl_net_in(net), 5);
        ck_assert_uint_eq(contrl_net_out(net), 3);
        ck_assert_uint_eq(contrl_net_max_batch(net), 8);
        ck_assert_uint_eq(contrl_net_layer_count(net), 3);
        contrl_net_layer_info li;
        ck_assert_int_eq(contrl_net_layer(net, 1, &li), CONTRL_OK);
        ck_assert_uint_eq(li.in, 16);
        ck_assert_uint_eq(li.out, 12);
        ck_assert_int_eq(li.act, CONTRL_ACT_TANH);
        ck_assert_int_eq(contrl_net_layer(net, 2, &li), CONTRL_OK);
        ck_assert_int_eq(li.act, CONTRL_ACT_SIGMOID);
        /* ...seed and out_init_range included: same parameters, bit for bit,
         * as a current caller with the same values gets. */
        size_t np = contrl_net_param_count(net);
        ck_assert_uint_eq(np, contrl_net_param_count(ref));
        ck_assert_mem_eq(contrl_net_params(net), contrl_net_params(ref), np * sizeof(float));
        /* ...and the newer fields took their defaults. */
        ck_assert_int_eq(contrl_net_kernels(net), auto_kernels());
#if LIBC_COUNT_INTERPOSED
        ck_assert_msg(libc_count_holds(contrl_net_params(net), np * sizeof(float)),
                      "variant %d: parameters not in a C library block", variant);
#endif
        contrl_net_destroy(net);
        free(cfg);
    }
    contrl_net_destroy(ref);
}
END_TEST

START_TEST(net_v1_config_follows_the_environment_like_auto)
{
    /* kernels defaults to AUTO, the only value CONTRL_BLIS_ARCH affects. */
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "generic", 1), 0);
    net_config_v1 v = net_v1();
    void *cfg = exact_copy(&v, sizeof v);
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create((const contrl_net_config *)cfg, &net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_GENERIC);
    contrl_net_destroy(net);
    ck_assert_int_eq(setenv("CONTRL_BLIS_ARCH", "blis", 1), 0);
    ck_assert_int_eq(contrl_net_create((const contrl_net_config *)cfg, &net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_kernels(net), CONTRL_KERNELS_BLIS);
    contrl_net_destroy(net);
    unsetenv("CONTRL_BLIS_ARCH");
    free(cfg);
}
END_TEST

/* One Adam step on a net with fixed gradients; returns the new parameters. */
static float *step_once(const contrl_adam_config *cfg)
{
    contrl_net_config ncfg = net_current();
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&ncfg, &net), CONTRL_OK);
    size_t np = contrl_net_param_count(net);
    float *g = malloc(np * sizeof *g);
    ck_assert_ptr_nonnull(g);
    for (size_t i = 0; i < np; i++)
        g[i] = (float)((int)(i % 7) - 3); /* ||g|| >> 1: clipping matters */
    ck_assert_int_eq(contrl_net_set_grads(net, g, np), CONTRL_OK);
    contrl_adam *adam = NULL;
    ck_assert_msg(contrl_adam_create(cfg, np, &adam) == CONTRL_OK, "%s", contrl_last_error());
    ck_assert_int_eq(contrl_adam_step(adam, net), CONTRL_OK);
    ck_assert_int_eq(contrl_net_get_params(net, g, np), CONTRL_OK);
    contrl_adam_destroy(adam);
    contrl_net_destroy(net);
    return g;
}

START_TEST(adam_v1_config_creates_with_c_allocator_and_keeps_every_field)
{
    adam_config_v1 v;
    memset(&v, 0, sizeof v);
    v.size = sizeof v;
    v.lr = 0.01f;
    v.beta1 = 0.8f;
    v.beta2 = 0.99f;
    v.eps = 1e-6f;
    v.max_grad_norm = 0.5f;
    contrl_adam_config cur = contrl_adam_config_default();
    cur.lr = v.lr;
    cur.beta1 = v.beta1;
    cur.beta2 = v.beta2;
    cur.eps = v.eps;
    cur.max_grad_norm = v.max_grad_norm;
    const size_t np = 5 * 16 + 16 + 16 * 12 + 12 + 12 * 3 + 3; /* the net of step_once */
    float *want = step_once(&cur);

    for (int variant = 0; variant < 2; variant++) {
        void *cfg = variant == 0 ? exact_copy(&v, sizeof v)
                                 : garbage_tail_copy(&v, sizeof v, sizeof(contrl_adam_config));
        contrl_adam *adam = NULL;
        libc_count_begin();
        contrl_status st = contrl_adam_create((const contrl_adam_config *)cfg, 100, &adam);
        libc_count_end();
        ck_assert_msg(st == CONTRL_OK, "variant %d: %s", variant, contrl_last_error());
        ck_assert_float_eq(contrl_adam_lr(adam), 0.01f);
#if LIBC_COUNT_INTERPOSED
        ck_assert_msg(libc_count_holds(adam, 1), "variant %d: handle not from the C library",
                      variant);
#endif
        contrl_adam_destroy(adam);
        /* Same step, bit for bit, as the current struct with the same values:
         * beta1, beta2, eps and max_grad_norm were all read. */
        float *got = step_once((const contrl_adam_config *)cfg);
        ck_assert_mem_eq(got, want, np * sizeof(float));
        free(got);
        free(cfg);
    }
    /* The clipping field matters for this step, so the check above sees it. */
    cur.max_grad_norm = 0.0f;
    float *unclipped = step_once(&cur);
    ck_assert(memcmp(unclipped, want, np * sizeof(float)) != 0);
    free(unclipped);
    free(want);
}
END_TEST

START_TEST(buffer_v1_config_creates_with_c_allocator_and_keeps_every_field)
{
    buffer_config_v1 v;
    memset(&v, 0, sizeof v);
    v.size = sizeof v;
    v.obs_dim = 3;
    v.action_dim = 2;
    v.capacity = 10;
    v.seed = 77;
    contrl_rng want;
    contrl_rng_seed(&want, 77);
    for (int variant = 0; variant < 2; variant++) {
        void *cfg = variant == 0 ? exact_copy(&v, sizeof v)
                                 : garbage_tail_copy(&v, sizeof v, sizeof(contrl_buffer_config));
        contrl_buffer *buf = NULL;
        libc_count_begin();
        contrl_status st = contrl_buffer_create((const contrl_buffer_config *)cfg, &buf);
        libc_count_end();
        ck_assert_msg(st == CONTRL_OK, "variant %d: %s", variant, contrl_last_error());
        ck_assert_uint_eq(contrl_buffer_obs_dim(buf), 3);
        ck_assert_uint_eq(contrl_buffer_action_dim(buf), 2);
        ck_assert_uint_eq(contrl_buffer_capacity(buf), 10);
        contrl_rng got;
        ck_assert_int_eq(contrl_buffer_get_rng(buf, &got), CONTRL_OK);
        ck_assert_mem_eq(got.s, want.s, sizeof want.s);
#if LIBC_COUNT_INTERPOSED
        ck_assert_msg(libc_count_holds(buf, 1), "variant %d: handle not from the C library",
                      variant);
#endif
        contrl_buffer_destroy(buf);
        free(cfg);
    }
}
END_TEST

/* A binary built against the v1 header initialises its config the
 * documented way, `cfg = contrl_net_config_default();`. That function is
 * static inline in the header: it calls the exported
 * contrl_net_config_init(&cfg, sizeof cfg) with the size the CALLER was
 * compiled with, so the library writes only the bytes the old binary owns
 * and records that size for contrl_net_create. Here the v1 struct is
 * followed by canary bytes that must survive. */
typedef struct net_v1_slack {
    net_config_v1 cfg;
    unsigned char slack[64];
} net_v1_slack;
typedef struct adam_v1_slack {
    adam_config_v1 cfg;
    unsigned char slack[64];
} adam_v1_slack;
typedef struct buffer_v1_slack {
    buffer_config_v1 cfg;
    unsigned char slack[64];
} buffer_v1_slack;

static void assert_canary(const unsigned char *slack, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(slack[i] == 0xC3, "byte %zu past the v1 struct was written", i);
}

/* Loop test over the three configs. */
START_TEST(v1_binary_initialising_its_config_gets_only_its_own_bytes)
{
    switch ((int)_i) {
    case 0: {
        net_v1_slack r;
        memset(&r, 0xC3, sizeof r);
        ck_assert_int_eq(contrl_net_config_init((contrl_net_config *)(void *)&r.cfg, sizeof r.cfg),
                         CONTRL_OK);
        ck_assert_uint_eq(r.cfg.size, sizeof r.cfg);
        ck_assert_uint_eq(r.cfg.n_hidden, 2);
        ck_assert_uint_eq(r.cfg.hidden[0], 256);
        ck_assert_uint_eq(r.cfg.max_batch, 256);
        assert_canary(r.slack, sizeof r.slack);
        /* ... and create accepts exactly that. */
        r.cfg.in = 3;
        r.cfg.out = 1;
        contrl_net *net = NULL;
        ck_assert_int_eq(contrl_net_create((contrl_net_config *)(void *)&r.cfg, &net), CONTRL_OK);
        contrl_net_destroy(net);
        break;
    }
    case 1: {
        adam_v1_slack r;
        memset(&r, 0xC3, sizeof r);
        ck_assert_int_eq(contrl_adam_config_init((contrl_adam_config *)(void *)&r.cfg, sizeof r.cfg),
                         CONTRL_OK);
        ck_assert_uint_eq(r.cfg.size, sizeof r.cfg);
        ck_assert_float_eq(r.cfg.lr, 1e-3f);
        assert_canary(r.slack, sizeof r.slack);
        break;
    }
    default: {
        buffer_v1_slack r;
        memset(&r, 0xC3, sizeof r);
        ck_assert_int_eq(
            contrl_buffer_config_init((contrl_buffer_config *)(void *)&r.cfg, sizeof r.cfg),
            CONTRL_OK);
        ck_assert_uint_eq(r.cfg.size, sizeof r.cfg);
        ck_assert_uint_eq(r.cfg.capacity, 1000000);
        assert_canary(r.slack, sizeof r.slack);
        break;
    }
    }
}
END_TEST

/* A binary built against a NEWER header passes a bigger size: the fields
 * this library does not know are zeroed, so its create accepts them. */
START_TEST(newer_binary_initialising_its_config_gets_a_zeroed_tail)
{
    unsigned char block[sizeof(contrl_net_config) + 32];
    memset(block, 0xC3, sizeof block);
    ck_assert_int_eq(contrl_net_config_init((contrl_net_config *)(void *)block, sizeof block),
                     CONTRL_OK);
    contrl_net_config *cfg = (contrl_net_config *)(void *)block;
    ck_assert_uint_eq(cfg->size, sizeof block);
    for (size_t i = sizeof(contrl_net_config); i < sizeof block; i++)
        ck_assert_uint_eq(block[i], 0);
    cfg->in = 2;
    cfg->out = 2;
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(cfg, &net), CONTRL_OK);
    contrl_net_destroy(net);
    ck_assert_int_eq(contrl_net_config_init(NULL, sizeof block), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_net_config_init(cfg, 4), CONTRL_ERR_INVALID_ARG);
}
END_TEST

/* ---- sizes out of range ---------------------------------------------------- */

typedef enum object { OBJ_NET, OBJ_ADAM, OBJ_BUFFER, N_OBJ } object;
static const char *const create_names[N_OBJ] = {"contrl_net_create", "contrl_adam_create",
                                                "contrl_buffer_create"};
static const size_t v1_sizes[N_OBJ] = {sizeof(net_config_v1), sizeof(adam_config_v1),
                                       sizeof(buffer_config_v1)};
static const size_t cur_sizes[N_OBJ] = {sizeof(contrl_net_config), sizeof(contrl_adam_config),
                                        sizeof(contrl_buffer_config)};

enum { TAIL = 24 };

/* A valid current config of `which` at the start of a zeroed block with
 * TAIL spare bytes after it. */
typedef union config_block {
    contrl_net_config net;
    contrl_adam_config adam;
    contrl_buffer_config buffer;
    unsigned char bytes[sizeof(contrl_net_config) + sizeof(contrl_adam_config) +
                        sizeof(contrl_buffer_config) + TAIL];
} config_block;

static void valid_config(object which, config_block *b)
{
    memset(b, 0, sizeof *b);
    if (which == OBJ_NET) {
        b->net = net_current();
    } else if (which == OBJ_ADAM) {
        b->adam = contrl_adam_config_default();
    } else {
        b->buffer = contrl_buffer_config_default();
        b->buffer.obs_dim = 3;
        b->buffer.action_dim = 2;
        b->buffer.capacity = 10;
    }
}

/* Creates with the block's config declared as `size` bytes; *was_null
 * reports whether *out was reset to NULL (it is set non-NULL before). */
static contrl_status create_sized(object which, config_block *b, size_t size, int *was_null)
{
    static int dummy;
    memcpy(b->bytes, &size, sizeof size);
    contrl_status st = CONTRL_ERR_STATE;
    void *h = &dummy;
    if (which == OBJ_NET) {
        contrl_net *n = (contrl_net *)h;
        st = contrl_net_create(&b->net, &n);
        h = n;
        if (st == CONTRL_OK)
            contrl_net_destroy(n);
    } else if (which == OBJ_ADAM) {
        contrl_adam *a = (contrl_adam *)h;
        st = contrl_adam_create(&b->adam, 100, &a);
        h = a;
        if (st == CONTRL_OK)
            contrl_adam_destroy(a);
    } else {
        contrl_buffer *buf = (contrl_buffer *)h;
        st = contrl_buffer_create(&b->buffer, &buf);
        h = buf;
        if (st == CONTRL_OK)
            contrl_buffer_destroy(buf);
    }
    *was_null = h == NULL;
    return st;
}

/* Loop test over the three configs. */
START_TEST(config_smaller_than_v1_is_invalid)
{
    const object which = (object)_i;
    const size_t v1 = v1_sizes[which];
    const size_t sizes[] = {0, 1, sizeof(size_t), v1 - 8, v1 - 4, v1 - 1};
    config_block b;
    int was_null = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        valid_config(which, &b);
        contrl_clear_error();
        contrl_status st = create_sized(which, &b, sizes[i], &was_null);
        ck_assert_msg(st == CONTRL_ERR_INVALID_ARG, "%s with size %zu (v1 is %zu): %d",
                      create_names[which], sizes[i], v1, (int)st);
        ck_assert(was_null);
        ck_assert_ptr_nonnull(strstr(contrl_last_error(), create_names[which]));
    }
    /* The v1 size itself and every size up to the current one work. */
    for (size_t size = v1; size <= cur_sizes[which]; size += 4) {
        valid_config(which, &b);
        contrl_status st = create_sized(which, &b, size, &was_null);
        ck_assert_msg(st == CONTRL_OK, "%s with size %zu: %s", create_names[which], size,
                      contrl_last_error());
    }
}
END_TEST

/* Loop test over the three configs. */
START_TEST(config_larger_than_current_needs_a_zero_tail)
{
    const object which = (object)_i;
    const size_t cur = cur_sizes[which];
    config_block b;
    int was_null = 0;
    valid_config(which, &b);
    contrl_status st = create_sized(which, &b, cur + TAIL, &was_null);
    ck_assert_msg(st == CONTRL_OK, "%s, size %zu with zero tail: %s", create_names[which],
                  cur + TAIL, contrl_last_error());

    const size_t positions[] = {0, 1, TAIL / 2, TAIL - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        valid_config(which, &b);
        b.bytes[cur + positions[i]] = 0x01;
        contrl_clear_error();
        st = create_sized(which, &b, cur + TAIL, &was_null);
        ck_assert_msg(st == CONTRL_ERR_INVALID_ARG, "%s, non-zero tail byte %zu: %d",
                      create_names[which], positions[i], (int)st);
        ck_assert(was_null);
        ck_assert_ptr_nonnull(strstr(contrl_last_error(), create_names[which]));
    }
    /* A non-zero byte beyond the declared size is not looked at. */
    valid_config(which, &b);
    b.bytes[cur + TAIL / 2] = 0xFF;
    st = create_sized(which, &b, cur + TAIL / 2, &was_null);
    ck_assert_int_eq(st, CONTRL_OK);
}
END_TEST

/* ---- contrl_blas_info ------------------------------------------------------ */

START_TEST(blas_info_accepts_an_older_smaller_struct)
{
    unsetenv("CONTRL_BLIS_ARCH");
    /* An older contrl_blas_info, without the CPU flags. */
    const size_t old = offsetof(contrl_blas_info, cpu_avx512f);
    union {
        contrl_blas_info info;
        unsigned char bytes[sizeof(contrl_blas_info) + 16];
    } u;
    memset(&u, 0xA5, sizeof u);
    u.info.size = old;
    ck_assert_msg(contrl_blas_query(CONTRL_KERNELS_AUTO, &u.info) == CONTRL_OK, "%s",
                  contrl_last_error());
    ck_assert_int_eq(u.info.kernels, auto_kernels());
    ck_assert_ptr_nonnull(u.info.name);
    ck_assert_ptr_nonnull(u.info.description);
    ck_assert_ptr_nonnull(u.info.source);
    ck_assert_ptr_nonnull(u.info.blis_version);
    ck_assert_ptr_nonnull(u.info.blis_detected);
    ck_assert_str_eq(u.info.source, "cpu");
    for (size_t i = old; i < sizeof u.bytes; i++)
        ck_assert_msg(u.bytes[i] == 0xA5, "byte %zu past size %zu written", i, old);

    /* A newer, larger one: the known part is filled, the rest left alone. */
    memset(&u, 0xA5, sizeof u);
    u.info.size = sizeof u.bytes;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &u.info), CONTRL_OK);
    ck_assert_ptr_nonnull(u.info.name);
    /* The flags were written (truth values; the 0xA5 filler would read true). */
    __builtin_cpu_init();
    ck_assert_int_eq(!!u.info.cpu_avx512f, !!__builtin_cpu_supports("avx512f"));
    ck_assert_int_ne(u.info.cpu_avx512f, (int)0xA5A5A5A5);
    ck_assert_int_ne(u.info.cpu_avx2_fma, (int)0xA5A5A5A5);
    for (size_t i = sizeof(contrl_blas_info); i < sizeof u.bytes; i++)
        ck_assert_msg(u.bytes[i] == 0xA5, "byte %zu past the known struct written", i);
}
END_TEST

START_TEST(interposed_allocator_records_this_programs_blocks)
{
#if LIBC_COUNT_INTERPOSED
    /* Without this, the C-allocator checks above could pass vacuously... or
     * fail for the wrong reason. */
    libc_count_begin();
    void *volatile p = aligned_alloc(64, 256);
    libc_count_end();
    int found = libc_count_holds((const char *)p + 100, 10);
    free(p);
    ck_assert(found);
    ck_assert(!libc_count_holds(&found, sizeof found));
#else
    fprintf(stderr, "AddressSanitizer build: C library allocator checks left out\n");
#endif
}
END_TEST

/* A 0.1 caller's contrl_learn_config (without overlap_env) initialises and
 * trains; the field it lacks keeps its default (off): the same agent as a
 * current caller with overlap_env 0 gets, bit for bit. */
static int count_progress(const contrl_progress *p, void *user)
{
    (void)p;
    ++*(int *)user;
    return 0;
}

START_TEST(learn_v1_config_trains_without_overlap)
{
    learn_config_v1 v;
    memset(&v, 0xab, sizeof v);
    ck_assert_int_eq(contrl_learn_config_init((contrl_learn_config *)(void *)&v, sizeof v),
                     CONTRL_OK);
    ck_assert_uint_eq(v.size, sizeof v);
    ck_assert_uint_eq(v.progress_interval, 1000);
    int calls = 0;
    v.callback = count_progress;
    v.user = &calls;
    v.progress_interval = 100;
    /* garbage where overlap_env would be: read, it would be refused */
    learn_config_v1 *old = garbage_tail_copy(&v, sizeof v, sizeof(contrl_learn_config));
    contrl_learn_config cur = contrl_learn_config_default();
    cur.progress_interval = 100;
    contrl_agent *a[2];
    for (int k = 0; k < 2; k++) {
        contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
        c.obs_dim = 3;
        c.action_dim = 1;
        c.hidden[0] = c.hidden[1] = 16;
        c.batch_size = 16;
        c.learning_starts = 100;
        c.seed = 3;
        ck_assert_int_eq(contrl_td3_create(&c, NULL, &a[k]), CONTRL_OK);
        contrl_env env;
        ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
        contrl_status st = contrl_agent_learn_ex(
            a[k], &env, 300, k == 0 ? (const contrl_learn_config *)(const void *)old : &cur);
        ck_assert_msg(st == CONTRL_OK, "%s", contrl_last_error());
        contrl_env_close(&env);
    }
    ck_assert_int_eq(calls, 3);
    ck_assert_uint_eq(contrl_agent_updates(a[0]), contrl_agent_updates(a[1]));
    const float obs[3] = {0.5f, -0.2f, 0.3f};
    float x0, x1;
    ck_assert_int_eq(contrl_agent_act(a[0], obs, &x0, false), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_act(a[1], obs, &x1, false), CONTRL_OK);
    ck_assert_int_eq(memcmp(&x0, &x1, sizeof x0), 0);
    contrl_agent_destroy(a[0]);
    contrl_agent_destroy(a[1]);
    free(old);
}
END_TEST

static Suite *abi_suite(void)
{
    Suite *s = suite_create("abi");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, interposed_allocator_records_this_programs_blocks);
    tcase_add_test(tc, current_defaults_declare_the_current_size);
    tcase_add_test(tc, net_v1_config_creates_with_default_kernels_and_c_allocator);
    tcase_add_test(tc, net_v1_config_follows_the_environment_like_auto);
    tcase_add_test(tc, adam_v1_config_creates_with_c_allocator_and_keeps_every_field);
    tcase_add_test(tc, buffer_v1_config_creates_with_c_allocator_and_keeps_every_field);
    tcase_add_test(tc, learn_v1_config_trains_without_overlap);
    tcase_add_loop_test(tc, v1_binary_initialising_its_config_gets_only_its_own_bytes, 0, 3);
    tcase_add_test(tc, newer_binary_initialising_its_config_gets_a_zeroed_tail);
    tcase_add_loop_test(tc, config_smaller_than_v1_is_invalid, OBJ_NET, N_OBJ);
    tcase_add_loop_test(tc, config_larger_than_current_needs_a_zero_tail, OBJ_NET, N_OBJ);
    tcase_add_test(tc, blas_info_accepts_an_older_smaller_struct);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(abi_suite());
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
