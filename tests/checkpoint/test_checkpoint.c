/* tests/checkpoint/test_checkpoint.c - agents saved and loaded as
 * safetensors: bit-exact round trips, resumed training identical to
 * uninterrupted training, PyTorch layouts, rejection of damaged files. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/io/safetensors.h"
#include "agent_internal.h"
#include "contrl/contrl.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/contrl-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

typedef struct kind {
    contrl_algo algo;
    bool v1;
} kind;
static const kind kinds[] = {{CONTRL_ALGO_DDPG, false},
                             {CONTRL_ALGO_TD3, false},
                             {CONTRL_ALGO_SAC, false},
                             {CONTRL_ALGO_SAC, true},
                             {CONTRL_ALGO_SQL, false}};
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

static contrl_agent *make(const contrl_env *env, kind k, uint64_t seed)
{
    contrl_agent_config c = contrl_agent_config_default(k.algo);
    c.obs_dim = env->obs_dim;
    c.action_dim = env->action_dim;
    c.action_low = env->action_low;
    c.action_high = env->action_high;
    c.hidden[0] = c.hidden[1] = 32;
    c.learning_starts = 300;
    c.batch_size = 64;
    c.buffer_capacity = 1500; /* wraps during the tests */
    c.seed = seed;
    contrl_agent *a = NULL;
    contrl_status st;
    if (k.algo == CONTRL_ALGO_SAC) {
        contrl_sac_config s = contrl_sac_config_default();
        s.value_net = k.v1;
        st = contrl_sac_create(&c, &s, &a);
    } else if (k.algo == CONTRL_ALGO_SQL) {
        contrl_sql_config q = contrl_sql_config_default();
        q.kernel_particles = 8; /* small and quick */
        q.value_particles = 8;
        st = contrl_sql_create(&c, &q, &a);
    } else if (k.algo == CONTRL_ALGO_DDPG) {
        st = contrl_ddpg_create(&c, NULL, &a);
    } else {
        st = contrl_td3_create(&c, NULL, &a);
    }
    ck_assert_msg(st == CONTRL_OK, "create: %s", contrl_last_error());
    return a;
}

static void policy_on_grid(contrl_agent *a, float *out, int n)
{
    for (int i = 0; i < n; i++) {
        float o[3] = {cosf(0.37f * (float)i), sinf(0.37f * (float)i), 0.2f * (float)i - 4.0f};
        ck_assert_int_eq(contrl_agent_act(a, o, out + i, false), CONTRL_OK);
    }
}

/* Every parameter of every net, compared bit for bit. */
static void assert_same_nets(const contrl_agent *x, const contrl_agent *y)
{
    const contrl_net *nx[] = {x->actor, x->actor_target, x->q[0], x->q[1], x->q_target[0],
                              x->q_target[1], x->v, x->v_target};
    const contrl_net *ny[] = {y->actor, y->actor_target, y->q[0], y->q[1], y->q_target[0],
                              y->q_target[1], y->v, y->v_target};
    for (size_t i = 0; i < sizeof nx / sizeof nx[0]; i++) {
        ck_assert_int_eq(nx[i] == NULL, ny[i] == NULL);
        if (nx[i] == NULL)
            continue;
        size_t n = contrl_net_param_count(nx[i]);
        ck_assert_uint_eq(n, contrl_net_param_count(ny[i]));
        ck_assert_msg(memcmp(contrl_net_params(nx[i]), contrl_net_params(ny[i]), n * sizeof(float)) == 0,
                      "net %zu differs", i);
    }
    ck_assert_int_eq(memcmp(&x->rng, &y->rng, sizeof x->rng), 0);
    ck_assert_uint_eq(x->steps, y->steps);
    ck_assert_uint_eq(x->updates, y->updates);
    ck_assert(memcmp(&x->log_alpha, &y->log_alpha, sizeof(float)) == 0);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

START_TEST(checkpoint_round_trips_bit_exactly_for_every_algorithm)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    const kind k = kinds[_i];
    contrl_agent *a = make(&env, k, 11);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 2000, NULL, NULL), CONTRL_OK);
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "a.safetensors");
    path_of(p2, sizeof p2, "b.safetensors");
    ck_assert_msg(contrl_agent_save(a, p1, CONTRL_SAVE_BUFFER) == CONTRL_OK, "%s", contrl_last_error());
    contrl_agent *b = NULL;
    ck_assert_msg(contrl_agent_load(p1, NULL, &b) == CONTRL_OK, "%s", contrl_last_error());
    assert_same_nets(a, b);
    ck_assert_int_eq(contrl_agent_algo(b), k.algo);
    ck_assert_str_eq(contrl_agent_env_name(b), "pendulum");
    ck_assert_uint_eq(contrl_buffer_size(contrl_agent_buffer(b)), 1500);
    /* Saving the loaded agent reproduces the file byte for byte. */
    ck_assert_int_eq(contrl_agent_save(b, p2, CONTRL_SAVE_BUFFER), CONTRL_OK);
    size_t n1, n2;
    unsigned char *f1 = read_all(p1, &n1), *f2 = read_all(p2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(f1, f2, n1), 0);
    free(f1);
    free(f2);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
    contrl_env_close(&env);
}
END_TEST

START_TEST(resumed_training_equals_uninterrupted_training)
{
    /* N = 1000 steps is a whole number of 200-step pendulum episodes. */
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    const kind k = kinds[_i];
    contrl_agent *a = make(&env, k, 3), *b = make(&env, k, 3);
    char p[300];
    path_of(p, sizeof p, "resume.safetensors");
    ck_assert_int_eq(contrl_agent_learn(a, &env, 1000, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_save(a, p, CONTRL_SAVE_BUFFER), CONTRL_OK);
    contrl_agent_destroy(a);
    ck_assert_int_eq(contrl_agent_load(p, NULL, &a), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 1000, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(b, &env, 2000, NULL, NULL), CONTRL_OK);
    assert_same_nets(a, b);
    float x[32], y[32];
    policy_on_grid(a, x, 32);
    policy_on_grid(b, y, 32);
    ck_assert_int_eq(memcmp(x, y, sizeof x), 0);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
    contrl_env_close(&env);
}
END_TEST

START_TEST(weights_are_stored_as_pytorch_linear_out_by_in)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    contrl_agent *a = make(&env, kinds[1], 5);
    char p[300];
    path_of(p, sizeof p, "layout.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, 0), CONTRL_OK);
    contrl__st_file *f;
    ck_assert_int_eq(contrl__st_load(p, NULL, &f), CONTRL_OK);
    /* actor: Linear(3, 32), ReLU, Linear(32, 32), ReLU, Linear(32, 1), Tanh */
    const uint64_t s0[2] = {32, 3}, s4[2] = {1, 32}, b4[1] = {1};
    float w0[32 * 3], w4[32], bias4[1];
    ck_assert_int_eq(contrl__st_get(f, "actor.0.weight", CONTRL__DT_F32, 2, s0, w0), CONTRL_OK);
    ck_assert_int_eq(contrl__st_get(f, "actor.4.weight", CONTRL__DT_F32, 2, s4, w4), CONTRL_OK);
    ck_assert_int_eq(contrl__st_get(f, "actor.4.bias", CONTRL__DT_F32, 1, b4, bias4), CONTRL_OK);
    contrl_net_layer_info l0, l2;
    contrl_net_layer(a->actor, 0, &l0);
    contrl_net_layer(a->actor, 2, &l2);
    const float *p0 = contrl_net_params(a->actor);
    for (int o = 0; o < 32; o++)
        for (int i = 0; i < 3; i++)
            ck_assert(w0[o * 3 + i] == p0[l0.weight_offset + (size_t)i * 32 + (size_t)o]);
    ck_assert(bias4[0] == p0[l2.bias_offset]);
    ck_assert(contrl__st_has(f, "critic1.2.weight") && contrl__st_has(f, "critic2_target.4.bias"));
    ck_assert(contrl__st_has(f, "optim.actor.0.weight.exp_avg"));
    ck_assert(!contrl__st_has(f, "buffer.obs")); /* saved without the buffer */
    ck_assert_str_eq(contrl__st_meta(f, "algorithm"), "td3");
    ck_assert_str_eq(contrl__st_meta(f, "net.actor"), "3,32,32,1");
    ck_assert_str_eq(contrl__st_meta(f, "contrl_version"), CONTRL_VERSION_STRING);
    ck_assert_str_eq(contrl__st_meta(f, "actor_lr"), "0.0003");
    contrl__st_close(f);
    contrl_agent_destroy(a);
    contrl_env_close(&env);
}
END_TEST

START_TEST(load_without_buffer_gives_an_empty_buffer_and_the_same_policy)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    contrl_agent *a = make(&env, kinds[2], 9), *b = NULL;
    ck_assert_int_eq(contrl_agent_learn(a, &env, 600, NULL, NULL), CONTRL_OK);
    char p[300];
    path_of(p, sizeof p, "nobuf.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, 0), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_load(p, NULL, &b), CONTRL_OK);
    ck_assert_uint_eq(contrl_buffer_size(contrl_agent_buffer(b)), 0);
    float x[16], y[16];
    policy_on_grid(a, x, 16);
    policy_on_grid(b, y, 16);
    ck_assert_int_eq(memcmp(x, y, sizeof x), 0);
    ck_assert_int_eq(contrl_agent_update(b, 1, NULL), CONTRL_ERR_STATE);
    contrl_agent_destroy(a);
    contrl_agent_destroy(b);
    contrl_env_close(&env);
}
END_TEST

/* A damaged file must give an error status, never a crash or an agent. */
static void expect_rejected(const char *p, const char *why)
{
    contrl_agent *b = (contrl_agent *)(void *)&b;
    contrl_status st = contrl_agent_load(p, NULL, &b);
    ck_assert_msg(st == CONTRL_ERR_FORMAT || st == CONTRL_ERR_IO, "%s: status %d (%s)", why, st,
                  contrl_last_error());
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "contrl_agent_load"));
}

START_TEST(truncated_checkpoints_are_rejected_at_every_length)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = 3;
    c.action_dim = 1;
    c.n_hidden = 1;
    c.hidden[0] = 4;
    c.batch_size = 4;
    c.buffer_capacity = 8;
    contrl_agent *a;
    ck_assert_int_eq(contrl_td3_create(&c, NULL, &a), CONTRL_OK);
    char p[300], q[300];
    path_of(p, sizeof p, "small.safetensors");
    path_of(q, sizeof q, "cut.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, CONTRL_SAVE_BUFFER), CONTRL_OK);
    size_t n;
    unsigned char *buf = read_all(p, &n);
    for (size_t len = 0; len < n; len++) {
        write_all(q, buf, len);
        expect_rejected(q, "truncated");
    }
    free(buf);
    contrl_agent_destroy(a);
    contrl_env_close(&env);
}
END_TEST

START_TEST(damaged_checkpoints_never_crash_the_loader)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_SAC);
    c.obs_dim = 2;
    c.action_dim = 1;
    c.n_hidden = 1;
    c.hidden[0] = 3;
    c.batch_size = 2;
    c.buffer_capacity = 4;
    contrl_agent *a;
    ck_assert_int_eq(contrl_sac_create(&c, NULL, &a), CONTRL_OK);
    char p[300], q[300];
    path_of(p, sizeof p, "sac.safetensors");
    path_of(q, sizeof q, "flip.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, CONTRL_SAVE_BUFFER), CONTRL_OK);
    size_t n;
    unsigned char *buf = read_all(p, &n);
    int loaded = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char flips[] = {0xff, '"', '9', 0x00};
        for (size_t j = 0; j < sizeof flips; j++) {
            if (buf[i] == flips[j])
                continue;
            unsigned char keep = buf[i];
            buf[i] = flips[j];
            write_all(q, buf, n);
            contrl_agent *b = NULL;
            contrl_status st = contrl_agent_load(q, NULL, &b);
            ck_assert(st == CONTRL_OK || st == CONTRL_ERR_FORMAT);
            ck_assert_int_eq(st == CONTRL_OK, b != NULL);
            loaded += st == CONTRL_OK;
            contrl_agent_destroy(b);
            buf[i] = keep;
        }
    }
    /* Most flips land in float data and are harmless; many are not. */
    ck_assert_int_gt(loaded, 0);
    ck_assert_int_lt(loaded, (int)(4 * n));
    free(buf);
    contrl_agent_destroy(a);
}
END_TEST

/* Replace the first occurrence of `from` (same length as `to`) in a file. */
static void patch(const char *src, const char *dst, const char *from, const char *to)
{
    size_t n;
    unsigned char *buf = read_all(src, &n);
    size_t fl = strlen(from);
    ck_assert_uint_eq(fl, strlen(to));
    unsigned char *hit = NULL;
    for (size_t i = 0; i + fl <= n && hit == NULL; i++)
        if (memcmp(buf + i, from, fl) == 0)
            hit = buf + i;
    ck_assert_msg(hit != NULL, "'%s' not in file", from);
    memcpy(hit, to, fl);
    write_all(dst, buf, n);
    free(buf);
}

START_TEST(semantically_wrong_checkpoints_are_rejected_with_a_reason)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    contrl_agent *a = make(&env, kinds[1], 2);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 400, NULL, NULL), CONTRL_OK);
    char p[300], q[300];
    path_of(p, sizeof p, "good.safetensors");
    path_of(q, sizeof q, "bad.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, CONTRL_SAVE_BUFFER), CONTRL_OK);
    static const char *cases[][3] = {
        {"\"gamma\":\"0.99\"", "\"gamma\":\"1.99\"", "gamma out of range"},
        {"\"gamma\":\"0.99\"", "\"gamma\":\"0.9x\"", "gamma not a number"},
        {"\"algorithm\":\"td3\"", "\"algorithm\":\"tdX\"", "unknown algorithm"},
        {"\"hidden\":\"32,32\"", "\"hidden\":\"32,33\"", "shape mismatch"},
        {"\"format\":\"contrl-agent-1\"", "\"format\":\"contrl-agent-9\"", "format version"},
        {"actor.0.weight", "actor.0.weighX", "missing tensor"},
        {"\"obs_dim\":\"3\"", "\"obs_dim\":\"4\"", "obs_dim mismatch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        patch(p, q, cases[i][0], cases[i][1]);
        expect_rejected(q, cases[i][2]);
    }
    /* A NaN weight: find the actor's first weight bytes and poison them. */
    contrl__st_file *f;
    ck_assert_int_eq(contrl__st_load(p, NULL, &f), CONTRL_OK);
    float w[32 * 3];
    const uint64_t s0[2] = {32, 3};
    ck_assert_int_eq(contrl__st_get(f, "actor.0.weight", CONTRL__DT_F32, 2, s0, w), CONTRL_OK);
    contrl__st_close(f);
    size_t n;
    unsigned char *buf = read_all(p, &n);
    unsigned char *hit = NULL;
    for (size_t i = 0; i + sizeof w <= n && hit == NULL; i++)
        if (memcmp(buf + i, w, sizeof w) == 0)
            hit = buf + i;
    ck_assert_ptr_nonnull(hit);
    const float nan = NAN;
    memcpy(hit + 4 * 7, &nan, 4);
    write_all(q, buf, n);
    free(buf);
    expect_rejected(q, "NaN weight");
    contrl_agent_destroy(a);
    contrl_env_close(&env);
}
END_TEST

START_TEST(a_failed_save_leaves_the_previous_checkpoint_intact)
{
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    contrl_agent *a = make(&env, kinds[1], 4);
    char p[300], missing[300];
    path_of(p, sizeof p, "keep.safetensors");
    path_of(missing, sizeof missing, "no/such/dir/x.safetensors");
    ck_assert_int_eq(contrl_agent_save(a, p, 0), CONTRL_OK);
    size_t n0;
    unsigned char *before = read_all(p, &n0);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 400, NULL, NULL), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_save(a, missing, 0), CONTRL_ERR_IO);
    /* Saving over a directory fails too, and the file next to it is untouched. */
    char d[300];
    path_of(d, sizeof d, "adir");
    ck_assert_int_eq(mkdir(d, 0700), 0);
    ck_assert_int_ne(contrl_agent_save(a, d, 0), CONTRL_OK);
    size_t n1;
    unsigned char *after = read_all(p, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_int_eq(memcmp(before, after, n0), 0);
    free(before);
    free(after);
    /* No temporary files are left behind. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(contrl_agent_save(a, NULL, 0), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_agent_save(NULL, p, 0), CONTRL_ERR_INVALID_ARG);
    ck_assert_int_eq(contrl_agent_save(a, p, 0x80), CONTRL_ERR_INVALID_ARG);
    contrl_agent *b = (contrl_agent *)(void *)&b;
    ck_assert_int_eq(contrl_agent_load(NULL, NULL, &b), CONTRL_ERR_INVALID_ARG);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(contrl_agent_load(p, NULL, NULL), CONTRL_ERR_INVALID_ARG);
    contrl_agent_destroy(a);
    contrl_env_close(&env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, checkpoint_round_trips_bit_exactly_for_every_algorithm, 0, N_KINDS);
    tcase_add_loop_test(tc, resumed_training_equals_uninterrupted_training, 0, N_KINDS);
    tcase_add_test(tc, weights_are_stored_as_pytorch_linear_out_by_in);
    tcase_add_test(tc, load_without_buffer_gives_an_empty_buffer_and_the_same_policy);
    tcase_add_test(tc, truncated_checkpoints_are_rejected_at_every_length);
    tcase_add_test(tc, damaged_checkpoints_never_crash_the_loader);
    tcase_add_test(tc, semantically_wrong_checkpoints_are_rejected_with_a_reason);
    tcase_add_test(tc, a_failed_save_leaves_the_previous_checkpoint_intact);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
