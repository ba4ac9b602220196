/* examples/learn_pendulum.c - hand the library an environment and let it
 * run the loop: SAC on the built-in Pendulum swing-up, with progress
 * reported through a callback and a separate evaluation env.
 * Build: cc learn_pendulum.c $(pkg-config --cflags --libs contrl) */
#include <contrl/contrl.h>
#include <stdio.h>

static int progress(const contrl_progress *p, void *user)
{
    (void)user;
    printf("step %6llu  episodes %4llu  recent return %8.1f", (unsigned long long)p->step,
           (unsigned long long)p->episodes, p->mean_return);
    if (p->is_eval)
        printf("  evaluation %8.1f +- %.1f", p->eval_mean, p->eval_std);
    printf("  (%.0f steps/s)\n", p->steps_per_s);
    return 0; /* non-zero would stop learning */
}

int main(void)
{
    contrl_env env, eval_env;
    if (contrl_env_make("pendulum", NULL, &env) != CONTRL_OK ||
        contrl_env_make("pendulum", NULL, &eval_env) != CONTRL_OK) {
        fprintf(stderr, "%s\n", contrl_last_error());
        return 1;
    }
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_SAC);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.learning_starts = 1000;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.seed = 1;
    contrl_agent *agent = NULL;
    if (contrl_sac_create(&cfg, NULL, &agent) != CONTRL_OK) {
        fprintf(stderr, "contrl_sac_create: %s\n", contrl_last_error());
        return 1;
    }
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval_env;
    lc.eval_interval = 5000;
    lc.progress_interval = 2500;
    lc.callback = progress;
    contrl_status st = contrl_agent_learn_ex(agent, &env, 15000, &lc);
    if (st != CONTRL_OK) {
        fprintf(stderr, "learn: %s (%s)\n", contrl_status_string(st), contrl_last_error());
        return 1;
    }
    double mean, std;
    contrl_agent_evaluate(agent, &eval_env, 10, 12345, &mean, &std);
    printf("final: %.1f +- %.1f over 10 episodes\n", mean, std);
    contrl_agent_destroy(agent);
    contrl_env_close(&env);
    contrl_env_close(&eval_env);
    return 0;
}
