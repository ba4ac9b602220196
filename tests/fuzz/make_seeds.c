/* tests/fuzz/make_seeds.c - writes the seed corpora of the fuzz targets:
 *
 *     make_seeds OUT_DIR
 *
 * OUT_DIR/agent: small valid agent checkpoints of every algorithm (tiny
 *   nets, a few transitions, with and without the replay buffer);
 * OUT_DIR/her: HER checkpoints on bitflip-3, both relabelling modes;
 * OUT_DIR/json: their JSON headers, each behind an options byte;
 * OUT_DIR/cli: command lines, arguments separated by NUL bytes (each one
 *   parses; eval lines then fail to find their checkpoint).
 * The committed corpus in tests/fuzz/corpus was made by this program
 * (deterministic: same build, same bytes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contrl/contrl.h"

static const char *out_dir;

static void die(const char *what)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, contrl_last_error());
    exit(1);
}

static void path_of(char *buf, size_t n, const char *sub, const char *name)
{
    snprintf(buf, n, "%s/%s/%s", out_dir, sub, name);
}

static void write_bytes(const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    path_of(path, sizeof path, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* The header of a safetensors file as a JSON seed (options byte 0x80 + 64:
 * duplicate keys rejected, depth 65). */
static void json_seed_from(const char *sub, const char *name)
{
    char path[1024];
    path_of(path, sizeof path, sub, name);
    FILE *f = fopen(path, "rb");
    unsigned char len8[8];
    if (f == NULL || fread(len8, 1, 8, f) != 8)
        exit(1);
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | len8[i];
    unsigned char *buf = malloc(n + 1);
    buf[0] = 0x80 | 64;
    if (fread(buf + 1, 1, n, f) != n)
        exit(1);
    fclose(f);
    char jname[256];
    snprintf(jname, sizeof jname, "%s-%s.json", sub, name);
    write_bytes("json", jname, buf, n + 1);
    free(buf);
}

static contrl_agent *make_agent(contrl_algo algo, bool v1, uint64_t seed)
{
    contrl_agent_config c = contrl_agent_config_default(algo);
    c.obs_dim = 3;
    c.action_dim = 1;
    static const float lo[1] = {-2}, hi[1] = {2};
    c.action_low = lo;
    c.action_high = hi;
    c.n_hidden = 1;
    c.hidden[0] = 3;
    c.batch_size = 4;
    c.buffer_capacity = 16;
    c.learning_starts = 0;
    c.seed = seed;
    contrl_agent *a = NULL;
    contrl_status st;
    if (algo == CONTRL_ALGO_DDPG) {
        st = contrl_ddpg_create(&c, NULL, &a);
    } else if (algo == CONTRL_ALGO_TD3) {
        st = contrl_td3_create(&c, NULL, &a);
    } else if (algo == CONTRL_ALGO_SAC) {
        contrl_sac_config s = contrl_sac_config_default();
        s.value_net = v1;
        st = contrl_sac_create(&c, &s, &a);
    } else {
        contrl_sql_config q = contrl_sql_config_default();
        q.kernel_particles = 2;
        q.value_particles = 2;
        st = contrl_sql_create(&c, &q, &a);
    }
    if (st != CONTRL_OK)
        die("create");
    contrl_env env;
    if (contrl_env_make("pendulum", NULL, &env) != CONTRL_OK)
        die("pendulum");
    if (contrl_agent_learn(a, &env, 10, NULL, NULL) != CONTRL_OK)
        die("learn");
    contrl_env_close(&env);
    return a;
}

static void agent_seeds(void)
{
    static const struct {
        contrl_algo algo;
        bool v1;
        const char *name;
    } kinds[] = {{CONTRL_ALGO_DDPG, false, "ddpg"},
                 {CONTRL_ALGO_TD3, false, "td3"},
                 {CONTRL_ALGO_SAC, false, "sac"},
                 {CONTRL_ALGO_SAC, true, "sac-v1"},
                 {CONTRL_ALGO_SQL, false, "sql"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        contrl_agent *a = make_agent(kinds[i].algo, kinds[i].v1, 7 + i);
        for (int buffer = 0; buffer < 2; buffer++) {
            char name[64], path[1024];
            snprintf(name, sizeof name, "%s%s.safetensors", kinds[i].name,
                     buffer ? "-buffer" : "");
            path_of(path, sizeof path, "agent", name);
            if (contrl_agent_save(a, path, buffer ? CONTRL_SAVE_BUFFER : 0) != CONTRL_OK)
                die("save");
            json_seed_from("agent", name);
        }
        contrl_agent_destroy(a);
    }
}

static void her_seeds(void)
{
    contrl_goal_env env;
    if (contrl_goal_env_make("bitflip-3", NULL, &env) != CONTRL_OK)
        die("bitflip-3");
    for (int relabel = 0; relabel < 2; relabel++) {
        contrl_agent_config c = contrl_agent_config_default(CONTRL_ALGO_TD3);
        c.obs_dim = env.obs_dim;
        c.action_dim = env.action_dim;
        c.action_low = env.action_low;
        c.action_high = env.action_high;
        c.n_hidden = 1;
        c.hidden[0] = 3;
        c.batch_size = 4;
        c.buffer_capacity = 48;
        c.learning_starts = 0;
        c.seed = 3;
        contrl_her_config hc = contrl_her_config_default();
        hc.k = 1;
        hc.relabel = relabel ? CONTRL_HER_RELABEL_ON_SAMPLE : CONTRL_HER_RELABEL_ON_STORE;
        contrl_her *h;
        if (contrl_her_create(CONTRL_ALGO_TD3, &c, NULL, &hc, &env, &h) != CONTRL_OK)
            die("her_create");
        if (contrl_her_learn(h, &env, 12, NULL, 0, NULL, NULL) != CONTRL_OK)
            die("her_learn");
        char name[64], path[1024];
        snprintf(name, sizeof name, "td3-%s.safetensors", relabel ? "sample" : "store");
        path_of(path, sizeof path, "her", name);
        if (contrl_her_save(h, path, CONTRL_SAVE_BUFFER) != CONTRL_OK)
            die("her_save");
        json_seed_from("her", name);
        contrl_her_destroy(h);
    }
    contrl_goal_env_close(&env);
}

static void cli_seeds(void)
{
#define LINE(s) {s, sizeof s - 1}
    static const struct {
        const char *p;
        size_t n;
    } lines[] = {
        LINE("train\0td3\0pendulum\0--steps\0" "100\0--seed=3"),
        LINE("train\0sac-v1\0mountaincar\0--hidden\0" "64,64\0--lr\0" "1e-3\0--batch=32"),
        LINE("train\0sql\0multigoal\0--reward-scale\0" "10\0--buffer\0" "1000\0-q"),
        LINE("train\0ddpg\0pointreach-2\0--her\0future:4\0--relabel\0sample\0--eval-every\0" "0"),
        LINE("train\0td3\0bitflip-8\0--her=final\0--learning-starts=10\0--log-every=5"),
        LINE("train\0sac\0pendulum\0--actor-lr\0" "3e-4\0--critic-lr=1e-3\0--eval-episodes\0" "5"),
        LINE("eval\0agent.safetensors\0--task\0pendulum\0--episodes\0" "3\0--seed\0" "9"),
        LINE("info"),
        LINE("info\0--help"),
        LINE("--version"),
        LINE("train\0--help"),
    };
#undef LINE
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "line-%02zu", i);
        write_bytes("cli", name, lines[i].p, lines[i].n);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUT_DIR\n");
        return 2;
    }
    out_dir = argv[1];
    static const char *subs[] = {"", "agent", "her", "json", "cli"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", out_dir, subs[i]);
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "make_seeds: cannot create %s\n", path);
            return 1;
        }
    }
    agent_seeds();
    her_seeds();
    cli_seeds();
    return 0;
}
