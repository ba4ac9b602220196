/* examples/her_reach.c - Hindsight Experience Replay on a sparse-reward goal
 * task: TD3 learns to move a point to a goal in the plane ("pointreach-2"),
 * where the only reward is 0 on reaching the goal and -1 otherwise. Without
 * hindsight goals the same agent stays at 0% success (see the README).
 * Exits 0 if the final success rate is at least 90%.
 * Build: cc her_reach.c $(pkg-config --cflags --libs contrl) */
#include <contrl/contrl.h>
#include <stdio.h>

static int progress(const contrl_progress *p, void *user)
{
    (void)user;
    if (p->is_eval) /* called after every episode; report only evaluations */
        printf("step %5llu  episodes %4llu  success rate %3.0f%%\n", (unsigned long long)p->step,
               (unsigned long long)p->episodes, 100.0 * p->eval_mean);
    return 0; /* non-zero would stop learning */
}

int main(void)
{
    contrl_goal_env env, eval_env; /* one to train on, one to evaluate on */
    if (contrl_goal_env_make("pointreach-2", NULL, &env) != CONTRL_OK ||
        contrl_goal_env_make("pointreach-2", NULL, &eval_env) != CONTRL_OK) {
        fprintf(stderr, "%s\n", contrl_last_error());
        return 1;
    }
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_TD3);
    cfg.obs_dim = env.obs_dim; /* the networks also get the goal: HER adds goal_dim inputs */
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.gamma = 0.98f; /* the HER paper's */
    cfg.learning_starts = 1000;
    cfg.buffer_capacity = 100000;
    cfg.seed = 1;
    contrl_her_config her_cfg = contrl_her_config_default(); /* future goals, k = 4 */
    contrl_her *her = NULL;
    if (contrl_her_create(CONTRL_ALGO_TD3, &cfg, NULL, &her_cfg, &env, &her) != CONTRL_OK) {
        fprintf(stderr, "contrl_her_create: %s\n", contrl_last_error());
        return 1;
    }
    contrl_status st = contrl_her_learn(her, &env, 6000, &eval_env, 1000, progress, NULL);
    if (st != CONTRL_OK) {
        fprintf(stderr, "learn: %s (%s)\n", contrl_status_string(st), contrl_last_error());
        return 1;
    }
    double success, mean_return;
    if (contrl_her_evaluate(her, &eval_env, 50, 12345, &success, &mean_return) != CONTRL_OK) {
        fprintf(stderr, "evaluate: %s\n", contrl_last_error());
        return 1;
    }
    printf("final: success rate %.0f%% over 50 episodes (mean return %.1f)\n", 100.0 * success,
           mean_return);
    contrl_her_destroy(her);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&eval_env);
    return success >= 0.9 ? 0 : 1;
}
