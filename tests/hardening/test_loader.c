/* tests/hardening/test_loader.c - regression tests for what hardening the
 * checkpoint loaders found:
 *  - a checkpoint whose config asks for nets far larger than the file is
 *    refused (FORMAT) before such nets are allocated and initialised;
 *  - contrl_her_load reads its file once (it used to read it twice, so a
 *    file replaced in between gave an agent and a HER part from different
 *    checkpoints);
 *  - optimiser moments in a checkpoint that would overflow the next Adam
 *    step (m = 1e38, v = 0) are refused at that step: the parameters stay
 *    finite and the agent keeps acting with finite actions. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/counting_alloc.h"
#include "agent_internal.h"
#include "contrl/contrl.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/contrl-loader-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*n + 1);
    ck_assert_uint_eq(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

static contrl_agent *small_agent(void)
{
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = 3;
    c.action_dim = 1;
    c.n_hidden = 1;
    c.hidden[0] = 4;
    c.batch_size = 4;
    c.buffer_capacity = 32;
    c.learning_starts = 0;
    contrl_agent *a;
    ck_assert_int_eq(contrl_td3_create(&c, NULL, &a), CONTRL_OK);
    contrl_env env;
    ck_assert_int_eq(contrl_env_make("pendulum", NULL, &env), CONTRL_OK);
    ck_assert_int_eq(contrl_agent_learn(a, &env, 10, NULL, NULL), CONTRL_OK);
    contrl_env_close(&env);
    return a;
}

START_TEST(config_asking_for_nets_larger_than_the_file_is_refused_before_allocating)
{
    contrl_agent *a = small_agent();
    char path[128], big[128];
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    snprintf(big, sizeof big, "%s/big.safetensors", dir);
    ck_assert_int_eq(contrl_agent_save(a, path, 0), CONTRL_OK);
    contrl_agent_destroy(a);
    /* Rewrite the metadata "hidden":"4" as two layers of 16384: 2^28 parameters
     * (1 GiB) per critic, within every size limit, in a file of a few KB. */
    size_t n;
    unsigned char *file = slurp(path, &n);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | file[i];
    char *header = malloc(hlen + 64);
    memcpy(header, file + 8, hlen);
    header[hlen] = '\0';
    char *at = strstr(header, "\"hidden\":\"4\"");
    ck_assert_ptr_nonnull(at);
    const char *repl = "\"hidden\":\"16384,16384\"";
    char *out = malloc(n + 64);
    size_t pre = (size_t)(at - header), old_len = strlen("\"hidden\":\"4\"");
    size_t new_hlen = hlen - old_len + strlen(repl);
    for (int i = 0; i < 8; i++)
        out[i] = (char)(new_hlen >> (8 * i));
    memcpy(out + 8, header, pre);
    memcpy(out + 8 + pre, repl, strlen(repl));
    memcpy(out + 8 + pre + strlen(repl), at + old_len, hlen - pre - old_len);
    memcpy(out + 8 + new_hlen, file + 8 + hlen, n - 8 - hlen);
    FILE *f = fopen(big, "wb");
    ck_assert_uint_eq(fwrite(out, 1, n - hlen + new_hlen, f), n - hlen + new_hlen);
    fclose(f);

    alloc_counter c;
    contrl_allocator al = alloc_counter_allocator(&c);
    contrl_agent *loaded = (contrl_agent *)&c;
    ck_assert_int_eq(contrl_agent_load(big, &al, &loaded), CONTRL_ERR_FORMAT);
    ck_assert_ptr_null(loaded);
    ck_assert_ptr_nonnull(strstr(contrl_last_error(), "critic parameters"));
    /* Only the file and its index were allocated, not a single net. */
    ck_assert_uint_lt(c.bytes, 1u << 20);
    alloc_counter_assert_balanced(&c, "refused load");
    free(out);
    free(header);
    free(file);
}
END_TEST

/* Counts allocations of exactly `size` bytes (the file read's size + 1). */
static size_t watched_size;
static int watched_hits;
static void *watching_alloc(void *user, size_t size, size_t align)
{
    if (size == watched_size)
        watched_hits++;
    return alloc_counter_alloc(user, size, align);
}

START_TEST(her_load_reads_its_file_once)
{
    contrl_goal_env env;
    ck_assert_int_eq(contrl_goal_env_make("bitflip-3", NULL, &env), CONTRL_OK);
    contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
    c.obs_dim = env.obs_dim;
    c.action_dim = env.action_dim;
    c.hidden[0] = c.hidden[1] = 4;
    c.batch_size = 4;
    c.buffer_capacity = 64;
    c.learning_starts = 0;
    contrl_her *h;
    ck_assert_int_eq(contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, NULL, &env, &h), CONTRL_OK);
    ck_assert_int_eq(contrl_her_learn(h, &env, 9, NULL, 0, NULL, NULL), CONTRL_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/her.safetensors", dir);
    ck_assert_int_eq(contrl_her_save(h, path, CONTRL_SAVE_BUFFER), CONTRL_OK);
    contrl_her_destroy(h);
    size_t n;
    free(slurp(path, &n));
    alloc_counter counter;
    contrl_allocator al = alloc_counter_allocator(&counter);
    al.alloc = watching_alloc;
    watched_size = n + 1;
    watched_hits = 0;
    ck_assert_int_eq(contrl_her_load(path, &env, &al, &h), CONTRL_OK);
    ck_assert_int_eq(watched_hits, 1);
    contrl_her_destroy(h);
    alloc_counter_assert_balanced(&counter, "her load");
    contrl_goal_env_close(&env);
}
END_TEST

START_TEST(overflowing_moments_in_a_checkpoint_never_reach_the_parameters)
{
    contrl_agent *a = small_agent();
    size_t n = contrl_net_param_count(a->q[0]);
    float *m = calloc(2 * n, sizeof(float));
    for (size_t i = 0; i < n; i++)
        m[i] = 1e38f; /* v stays 0 */
    ck_assert_int_eq(contrl_adam_set_state(a->q_opt[0], m, m + n, n, 5), CONTRL_OK);
    n = contrl_net_param_count(a->actor);
    free(m);
    m = calloc(2 * n, sizeof(float));
    for (size_t i = 0; i < n; i++)
        m[i] = -1e38f;
    ck_assert_int_eq(contrl_adam_set_state(a->actor_opt, m, m + n, n, 5), CONTRL_OK);
    free(m);
    char path[128];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    ck_assert_int_eq(contrl_agent_save(a, path, CONTRL_SAVE_BUFFER), CONTRL_OK);
    contrl_agent_destroy(a);

    ck_assert_int_eq(contrl_agent_load(path, NULL, &a), CONTRL_OK);
    for (int u = 0; u < 4; u++) {
        contrl_status st = contrl_agent_update(a, 1, NULL);
        ck_assert(st == CONTRL_OK || st == CONTRL_ERR_NUMERIC);
        const contrl_net *nets[] = {a->actor, a->q[0], a->q[1]};
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; i < contrl_net_param_count(nets[k]); i++)
                ck_assert(isfinite(contrl_net_params(nets[k])[i]));
    }
    float obs[3] = {0.5f, -0.5f, 1}, act[1];
    ck_assert_int_eq(contrl_agent_act(a, obs, act, false), CONTRL_OK);
    ck_assert(isfinite(act[0]));
    contrl_agent_destroy(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, config_asking_for_nets_larger_than_the_file_is_refused_before_allocating);
    tcase_add_test(tc, her_load_reads_its_file_once);
    tcase_add_test(tc, overflowing_moments_in_a_checkpoint_never_reach_the_parameters);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
