/* tests/alloc/test_alloc.c - memory: creation allocates through the config's
 * allocator and destruction gives everything back; the hot paths allocate
 * nothing, neither through that allocator nor through the C library (BLIS
 * and OpenMP inside libcontrl.so included); allocation failures are clean.
 *
 * Links the shared library, and defines the C library's allocation functions
 * in this executable (tests/support/counting_alloc.c, exported dynamically),
 * so every malloc made inside libcontrl.so, the BLIS copy linked into it and
 * libgomp lands there first. Under AddressSanitizer, which owns malloc, that
 * interposition is left out and only the user-allocator half of each check
 * runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/counting_alloc.h"
#include "contrl/contrl.h"

/* Proves the interposition is live, so a zero count below means something. */
START_TEST(interposed_malloc_sees_calls_from_this_program)
{
#if LIBC_COUNT_INTERPOSED
    /* No Check assertion inside a counting window: they allocate. */
    libc_count_begin();
    void *volatile p = malloc(100);
    free(p);
    void *q = NULL;
    int st = posix_memalign(&q, 64, 128);
    free(q);
    libc_count_end();
    ck_assert_int_eq(st, 0);
    ck_assert_int_eq(libc_count_allocs(), 2);
    ck_assert_int_eq(libc_count_frees(), 2);
#else
    fprintf(stderr, "AddressSanitizer build: C library interposition not checked\n");
#endif
}
END_TEST

/* ---- the objects under test --------------------------------------------- */

enum { IN = 17, OUT = 6, HIDDEN = 256, MAX_BATCH = 256, CAPACITY = 1000 };

static contrl_net_config net_config(contrl_allocator a, contrl_kernels k)
{
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = IN;
    cfg.out = OUT;
    cfg.n_hidden = 2;
    cfg.hidden[0] = HIDDEN; /* 256 wide: batch 256 goes through BLIS's large path */
    cfg.hidden[1] = HIDDEN;
    cfg.max_batch = MAX_BATCH;
    cfg.seed = 1;
    cfg.kernels = k;
    cfg.allocator = a;
    return cfg;
}

static contrl_adam_config adam_config(contrl_allocator a)
{
    contrl_adam_config cfg = contrl_adam_config_default();
    cfg.max_grad_norm = 1.0f; /* exercise the clipping branch too */
    cfg.allocator = a;
    return cfg;
}

static contrl_buffer_config buffer_config(contrl_allocator a)
{
    contrl_buffer_config cfg = contrl_buffer_config_default();
    cfg.obs_dim = IN;
    cfg.action_dim = OUT;
    cfg.capacity = CAPACITY;
    cfg.seed = 3;
    cfg.allocator = a;
    return cfg;
}

START_TEST(net_create_allocates_through_the_config_allocator_and_destroy_frees_all)
{
    alloc_counter c;
    contrl_net_config cfg = net_config(alloc_counter_allocator(&c), CONTRL_KERNELS_AUTO);
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    ck_assert_int_gt(c.allocs, 0);
    ck_assert_int_eq(c.frees, 0);
    /* The net's arrays live in memory from our allocator. */
    size_t np = contrl_net_param_count(net);
    ck_assert(alloc_counter_holds(&c, contrl_net_params(net), np * sizeof(float)));
    ck_assert(alloc_counter_holds(&c, contrl_net_grads(net), np * sizeof(float)));
    ck_assert(alloc_counter_holds(&c, net, 1));
    contrl_net_destroy(net);
    alloc_counter_assert_balanced(&c, "net");
}
END_TEST

START_TEST(adam_create_allocates_through_the_config_allocator_and_destroy_frees_all)
{
    alloc_counter c;
    contrl_adam_config cfg = adam_config(alloc_counter_allocator(&c));
    contrl_adam *adam = NULL;
    ck_assert_int_eq(contrl_adam_create(&cfg, 100000, &adam), CONTRL_OK);
    ck_assert_int_gt(c.allocs, 0);
    /* Two moment vectors of 100000 floats must be in there. */
    ck_assert_uint_ge(c.bytes, 2 * 100000 * sizeof(float));
    ck_assert(alloc_counter_holds(&c, adam, 1));
    contrl_adam_destroy(adam);
    alloc_counter_assert_balanced(&c, "adam");
}
END_TEST

START_TEST(buffer_create_allocates_through_the_config_allocator_and_destroy_frees_all)
{
    alloc_counter c;
    contrl_buffer_config cfg = buffer_config(alloc_counter_allocator(&c));
    contrl_buffer *buf = NULL;
    ck_assert_int_eq(contrl_buffer_create(&cfg, &buf), CONTRL_OK);
    ck_assert_int_gt(c.allocs, 0);
    /* The payload of CAPACITY transitions (flags counted as floats). */
    ck_assert_uint_ge(c.bytes, (size_t)CAPACITY * (2 * IN + OUT + 1) * sizeof(float));
    ck_assert(alloc_counter_holds(&c, buf, 1));
    contrl_buffer_destroy(buf);
    alloc_counter_assert_balanced(&c, "buffer");
}
END_TEST

/* Once BLIS is initialised (first handle of the process), creating and
 * destroying handles touches no allocator but the config's. */
START_TEST(create_and_destroy_use_only_the_config_allocator_after_first_use)
{
    alloc_counter c;
    contrl_allocator a = alloc_counter_allocator(&c);
    contrl_net_config ncfg = net_config(a, CONTRL_KERNELS_AUTO);
    contrl_adam_config acfg = adam_config(a);
    contrl_buffer_config bcfg = buffer_config(a);
    contrl_net *net = NULL;
    ck_assert_int_eq(contrl_net_create(&ncfg, &net), CONTRL_OK); /* warm-up */
    contrl_net_destroy(net);
    long allocs0 = c.allocs, frees0 = c.frees;

    contrl_adam *adam = NULL;
    contrl_buffer *buf = NULL;
    libc_count_begin();
    contrl_status s1 = contrl_net_create(&ncfg, &net);
    contrl_status s2 = contrl_adam_create(&acfg, 1000, &adam);
    contrl_status s3 = contrl_buffer_create(&bcfg, &buf);
    contrl_net_destroy(net);
    contrl_adam_destroy(adam);
    contrl_buffer_destroy(buf);
    libc_count_end();
    ck_assert(s1 == CONTRL_OK && s2 == CONTRL_OK && s3 == CONTRL_OK);
    /* Each create goes through `a` (the counter's own aligned_alloc calls
     * are counted by the interposer too: subtract them). */
    ck_assert_int_ge(c.allocs - allocs0, 3);
    ck_assert_int_eq(c.frees - frees0, c.allocs - allocs0);
#if LIBC_COUNT_INTERPOSED
    ck_assert_int_eq(libc_count_allocs(), c.allocs - allocs0);
    ck_assert_int_eq(libc_count_frees(), c.frees - frees0);
#endif
    alloc_counter_assert_balanced(&c, "net + adam + buffer");
}
END_TEST

/* ---- hot paths ------------------------------------------------------------ */

typedef struct rig {
    alloc_counter c;
    contrl_net *net, *target;
    contrl_adam *adam;
    contrl_buffer *buf;
    float *x, *y, *dy, *dx;                 /* [MAX_BATCH, IN or OUT] */
    float *obs, *action, *reward, *next_obs, *term, *trunc;
} rig;

static float *floats(size_t n, float v)
{
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = v * (float)((i % 13) + 1) / 13.0f;
    return p;
}

static void rig_create(rig *r, contrl_kernels k)
{
    contrl_allocator a = alloc_counter_allocator(&r->c);
    contrl_net_config ncfg = net_config(a, k);
    ck_assert_int_eq(contrl_net_create(&ncfg, &r->net), CONTRL_OK);
    ncfg.seed = 2;
    ck_assert_int_eq(contrl_net_create(&ncfg, &r->target), CONTRL_OK);
    contrl_adam_config acfg = adam_config(a);
    ck_assert_int_eq(contrl_adam_create(&acfg, contrl_net_param_count(r->net), &r->adam),
                     CONTRL_OK);
    contrl_buffer_config bcfg = buffer_config(a);
    ck_assert_int_eq(contrl_buffer_create(&bcfg, &r->buf), CONTRL_OK);
    r->x = floats((size_t)MAX_BATCH * IN, 0.5f);
    r->y = floats((size_t)MAX_BATCH * OUT, 0.0f);
    r->dy = floats((size_t)MAX_BATCH * OUT, 0.01f);
    r->dx = floats((size_t)MAX_BATCH * IN, 0.0f);
    r->obs = floats((size_t)MAX_BATCH * IN, 0.0f);
    r->action = floats((size_t)MAX_BATCH * OUT, 0.0f);
    r->reward = floats(MAX_BATCH, 0.0f);
    r->next_obs = floats((size_t)MAX_BATCH * IN, 0.0f);
    r->term = floats(MAX_BATCH, 0.0f);
    r->trunc = floats(MAX_BATCH, 0.0f);
}

static void rig_destroy(rig *r)
{
    contrl_net_destroy(r->net);
    contrl_net_destroy(r->target);
    contrl_adam_destroy(r->adam);
    contrl_buffer_destroy(r->buf);
    alloc_counter_assert_balanced(&r->c, "hot-path rig");
    free(r->x);
    free(r->y);
    free(r->dy);
    free(r->dx);
    free(r->obs);
    free(r->action);
    free(r->reward);
    free(r->next_obs);
    free(r->term);
    free(r->trunc);
}

enum op {
    OP_FORWARD_1, OP_FORWARD_256, OP_PREDICT_1, OP_PREDICT_256, OP_BACKWARD_1,
    OP_BACKWARD_256, OP_ZERO_GRAD, OP_ADAM_STEP, OP_SOFT_UPDATE, OP_BUFFER_ADD,
    OP_BUFFER_SAMPLE_1, OP_BUFFER_SAMPLE_256, N_OPS
};
static const char *const op_names[N_OPS] = {
    "contrl_net_forward(batch 1)",   "contrl_net_forward(batch 256)",
    "contrl_net_predict(batch 1)",   "contrl_net_predict(batch 256)",
    "contrl_net_backward(batch 1)",  "contrl_net_backward(batch 256)",
    "contrl_net_zero_grad",          "contrl_adam_step",
    "contrl_net_soft_update",        "contrl_buffer_add",
    "contrl_buffer_sample(batch 1)", "contrl_buffer_sample(batch 256)",
};

/* What has to happen before `op` that is not part of it (outside counting). */
static void prepare(rig *r, enum op op)
{
    if (op == OP_BACKWARD_1)
        ck_assert_int_eq(contrl_net_forward(r->net, r->x, 1, NULL), CONTRL_OK);
    if (op == OP_BACKWARD_256)
        ck_assert_int_eq(contrl_net_forward(r->net, r->x, MAX_BATCH, NULL), CONTRL_OK);
}

static contrl_status run(rig *r, enum op op)
{
    switch (op) {
    case OP_FORWARD_1: return contrl_net_forward(r->net, r->x, 1, r->y);
    case OP_FORWARD_256: return contrl_net_forward(r->net, r->x, MAX_BATCH, r->y);
    case OP_PREDICT_1: return contrl_net_predict(r->net, r->x, 1, r->y);
    case OP_PREDICT_256: return contrl_net_predict(r->net, r->x, MAX_BATCH, r->y);
    case OP_BACKWARD_1:
    case OP_BACKWARD_256: return contrl_net_backward(r->net, r->dy, r->dx);
    case OP_ZERO_GRAD: return contrl_net_zero_grad(r->net);
    case OP_ADAM_STEP: return contrl_adam_step(r->adam, r->net);
    case OP_SOFT_UPDATE: return contrl_net_soft_update(r->target, r->net, 0.005f);
    case OP_BUFFER_ADD:
        return contrl_buffer_add(r->buf, r->x, r->dy, 1.0f, r->x + IN, false, false);
    case OP_BUFFER_SAMPLE_1:
        return contrl_buffer_sample(r->buf, 1, r->obs, r->action, r->reward, r->next_obs,
                                    r->term, r->trunc);
    case OP_BUFFER_SAMPLE_256:
        return contrl_buffer_sample(r->buf, MAX_BATCH, r->obs, r->action, r->reward,
                                    r->next_obs, r->term, r->trunc);
    case N_OPS: break;
    }
    return CONTRL_ERR_INVALID_ARG;
}

/* Loop test over kernel sets AUTO..BLIS (each set runs different BLIS
 * code); sets the CPU lacks are skipped. */
START_TEST(hot_paths_allocate_nothing_after_warm_up)
{
    const contrl_kernels k = (contrl_kernels)_i;
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (contrl_blas_query(k, &info) == CONTRL_ERR_UNSUPPORTED)
        return;
    rig r;
    memset(&r, 0, sizeof r);
    rig_create(&r, k);

    /* Warm-up: every operation once, in the order they will be measured. */
    for (int op = 0; op < N_OPS; op++) {
        prepare(&r, (enum op)op);
        ck_assert_msg(run(&r, (enum op)op) == CONTRL_OK, "warm-up %s: %s", op_names[op],
                      contrl_last_error());
    }

    char report[2048] = "";
    size_t used = 0;
    int bad = 0;
    for (int op = 0; op < N_OPS; op++)
        for (int rep = 0; rep < 3; rep++) {
            prepare(&r, (enum op)op);
            long user_before = r.c.attempts + r.c.frees;
            libc_count_begin();
            contrl_status st = run(&r, (enum op)op);
            libc_count_end();
            ck_assert_int_eq(st, CONTRL_OK);
            long user = r.c.attempts + r.c.frees - user_before;
            long la = libc_count_allocs(), lf = libc_count_frees();
            if ((user != 0 || la != 0 || lf != 0) && rep == 0) {
                bad++;
                used += (size_t)snprintf(report + used, sizeof report - used,
                                         "; %s: %ld user-allocator calls, %ld malloc-family "
                                         "calls, %ld frees",
                                         op_names[op], user, la, lf);
                if (used >= sizeof report)
                    used = sizeof report - 1;
            }
        }
    ck_assert_msg(bad == 0, "kernels %s: %d hot-path operations allocate after warm-up:%s",
                  info.name, bad, report);
    rig_destroy(&r);
}
END_TEST

/* With libxsmm, a net JIT-compiles its kernels at creation (libxsmm would
 * otherwise compile, and allocate, on a shape's first dispatch): the very
 * first forward and backward after create, with no warm-up, make no
 * allocation at all. 4-64-64-2 at batch 100: every product of 5 or more
 * rows is one libxsmm takes (docs/kernels.md). Without libxsmm in use here
 * the test says so and checks the same on BLIS (whose pools the creation
 * already grew). */
START_TEST(first_forward_and_backward_after_create_allocate_nothing_with_libxsmm)
{
    contrl_blas_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    ck_assert_int_eq(contrl_blas_query(CONTRL_KERNELS_AUTO, &info), CONTRL_OK);
    if (info.xsmm == NULL)
        fprintf(stderr, "libxsmm not in use (%s): checked on BLIS only\n", info.name);
    alloc_counter c;
    contrl_net_config cfg = contrl_net_config_default();
    cfg.in = 4;
    cfg.out = 2;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.max_batch = 100;
    cfg.seed = 5;
    cfg.allocator = alloc_counter_allocator(&c);
    contrl_net *net;
    ck_assert_int_eq(contrl_net_create(&cfg, &net), CONTRL_OK);
    float *x = floats(100 * 4, 0.25f), *dy = floats(100 * 2, 0.01f), *dx = floats(100 * 4, 0.0f);
    const long user_before = c.attempts + c.frees;
    libc_count_begin();
    contrl_status st1 = contrl_net_forward(net, x, 100, NULL);
    contrl_status st2 = contrl_net_backward(net, dy, dx);
    libc_count_end();
    ck_assert_int_eq(st1, CONTRL_OK);
    ck_assert_int_eq(st2, CONTRL_OK);
    ck_assert_int_eq(c.attempts + c.frees - user_before, 0);
    ck_assert_msg(libc_count_allocs() == 0 && libc_count_frees() == 0,
                  "%s: first forward/backward after create: %ld mallocs, %ld frees",
                  info.xsmm != NULL ? info.xsmm : info.name, libc_count_allocs(),
                  libc_count_frees());
    contrl_net_destroy(net);
    free(x);
    free(dy);
    free(dx);
}
END_TEST

/* ---- failures -------------------------------------------------------------- */

typedef enum object { OBJ_NET, OBJ_ADAM, OBJ_BUFFER } object;
static const char *const create_names[] = {"contrl_net_create", "contrl_adam_create",
                                           "contrl_buffer_create"};

/* Creates `which` with allocator a; *handle is set to a non-NULL dummy first
 * so that "set to NULL on failure" is checked. Destroys it on success. */
static contrl_status create_destroy(object which, contrl_allocator a, int *out_was_null)
{
    static int dummy;
    contrl_status st = CONTRL_ERR_STATE;
    void *h = &dummy;
    switch (which) {
    case OBJ_NET: {
        contrl_net_config cfg = net_config(a, CONTRL_KERNELS_AUTO);
        contrl_net *n = (contrl_net *)h;
        st = contrl_net_create(&cfg, &n);
        h = n;
        if (st == CONTRL_OK)
            contrl_net_destroy(n);
        break;
    }
    case OBJ_ADAM: {
        contrl_adam_config cfg = adam_config(a);
        contrl_adam *ad = (contrl_adam *)h;
        st = contrl_adam_create(&cfg, 5000, &ad);
        h = ad;
        if (st == CONTRL_OK)
            contrl_adam_destroy(ad);
        break;
    }
    case OBJ_BUFFER: {
        contrl_buffer_config cfg = buffer_config(a);
        contrl_buffer *b = (contrl_buffer *)h;
        st = contrl_buffer_create(&cfg, &b);
        h = b;
        if (st == CONTRL_OK)
            contrl_buffer_destroy(b);
        break;
    }
    }
    *out_was_null = h == NULL;
    return st;
}

/* Loop test over the three objects. */
START_TEST(failing_the_nth_allocation_gives_nomem_null_and_no_leak)
{
    const object which = (object)_i;
    alloc_counter c;
    int was_null = 0;
    ck_assert_int_eq(create_destroy(which, alloc_counter_allocator(&c), &was_null), CONTRL_OK);
    const long needed = c.allocs;
    ck_assert_int_gt(needed, 0);
    for (long n = 1; n <= needed; n++) {
        contrl_allocator a = alloc_counter_allocator(&c);
        c.fail_at = n;
        contrl_clear_error();
        contrl_status st = create_destroy(which, a, &was_null);
        ck_assert_msg(st == CONTRL_ERR_NOMEM, "%s with allocation %ld of %ld failing: %d",
                      create_names[which], n, needed, (int)st);
        ck_assert_msg(was_null, "%s left *out set after NOMEM", create_names[which]);
        ck_assert_ptr_nonnull(strstr(contrl_last_error(), create_names[which]));
        alloc_counter_assert_balanced(&c, create_names[which]);
    }
    /* Failing an allocation that never comes changes nothing. */
    contrl_allocator a = alloc_counter_allocator(&c);
    c.fail_at = needed + 1;
    ck_assert_int_eq(create_destroy(which, a, &was_null), CONTRL_OK);
    alloc_counter_assert_balanced(&c, create_names[which]);
}
END_TEST

/* Loop test over the three objects. */
START_TEST(allocator_with_only_one_of_alloc_and_free_is_invalid)
{
    const object which = (object)_i;
    alloc_counter c;
    int was_null = 0;
    contrl_allocator a = alloc_counter_allocator(&c);
    a.free = NULL;
    contrl_clear_error();
    ck_assert_int_eq(create_destroy(which, a, &was_null), CONTRL_ERR_INVALID_ARG);
    ck_assert(was_null);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), create_names[which]));
    ck_assert_int_eq(c.attempts, 0); /* refused before allocating */

    a = alloc_counter_allocator(&c);
    a.alloc = NULL;
    contrl_clear_error();
    ck_assert_int_eq(create_destroy(which, a, &was_null), CONTRL_ERR_INVALID_ARG);
    ck_assert(was_null);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), create_names[which]));
    ck_assert_int_eq(c.attempts, 0);
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("alloc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, interposed_malloc_sees_calls_from_this_program);
    tcase_add_test(tc, net_create_allocates_through_the_config_allocator_and_destroy_frees_all);
    tcase_add_test(tc, adam_create_allocates_through_the_config_allocator_and_destroy_frees_all);
    tcase_add_test(tc,
                   buffer_create_allocates_through_the_config_allocator_and_destroy_frees_all);
    tcase_add_test(tc, create_and_destroy_use_only_the_config_allocator_after_first_use);
    tcase_add_test(tc, first_forward_and_backward_after_create_allocate_nothing_with_libxsmm);
    tcase_add_loop_test(tc, hot_paths_allocate_nothing_after_warm_up, CONTRL_KERNELS_AUTO,
                        CONTRL_KERNELS_BLIS + 1);
    tcase_add_loop_test(tc, failing_the_nth_allocation_gives_nomem_null_and_no_leak, OBJ_NET,
                        OBJ_BUFFER + 1);
    tcase_add_loop_test(tc, allocator_with_only_one_of_alloc_and_free_is_invalid, OBJ_NET,
                        OBJ_BUFFER + 1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(alloc_suite());
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
