/* examples/mujoco_her_reach.c - Hindsight Experience Replay + TD3 on the
 * MuJoCo reach task: a three-joint arm moves its fingertip to a random 3-D
 * target; the reward is sparse (-1 until within 5 cm, then 0), 50 steps per
 * episode. With HER the agent learns it in a few thousand steps; without
 * (k = 0, run with the argument "none") it barely ever sees a success.
 *
 * usage: mujoco_her_reach [none]
 * Build: cc mujoco_her_reach.c $(pkg-config --cflags --libs contrl-mujoco) */
#include <contrl/contrl.h>
#include <contrl/mujoco.h>
#include <stdio.h>
#include <string.h>

static int progress(const contrl_progress *p, void *user)
{
    (void)user;
    if (p->is_eval)
        printf("step %5llu  episodes %4llu  success rate %3.0f%%\n", (unsigned long long)p->step,
               (unsigned long long)p->episodes, 100.0 * p->eval_mean);
    return 0;
}

int main(int argc, char **argv)
{
    const int use_her = !(argc > 1 && strcmp(argv[1], "none") == 0);
    contrl_goal_env env, eval_env;
    if (contrl_mj_goal_make("reach", NULL, &env) != CONTRL_OK ||
        contrl_mj_goal_make("reach", NULL, &eval_env) != CONTRL_OK) {
        fprintf(stderr, "contrl_mj_goal_make: %s\n", contrl_last_error());
        return 1;
    }
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_TD3);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.gamma = 0.98f; /* the HER paper's */
    cfg.learning_starts = 1000;
    cfg.buffer_capacity = 50000;
    cfg.seed = 1;
    contrl_her_config her_cfg = contrl_her_config_default(); /* future goals, k = 4 */
    if (!use_her)
        her_cfg.k = 0;
    contrl_her *her = NULL;
    if (contrl_her_create(CONTRL_ALGO_TD3, &cfg, NULL, &her_cfg, &env, &her) != CONTRL_OK) {
        fprintf(stderr, "contrl_her_create: %s\n", contrl_last_error());
        return 1;
    }
    contrl_status st = contrl_her_learn(her, &env, 5000, &eval_env, 500, progress, NULL);
    if (st != CONTRL_OK) {
        fprintf(stderr, "learn: %s (%s)\n", contrl_status_string(st), contrl_last_error());
        return 1;
    }
    double success, mean_return;
    if (contrl_her_evaluate(her, &eval_env, 100, 12345, &success, &mean_return) != CONTRL_OK) {
        fprintf(stderr, "evaluate: %s\n", contrl_last_error());
        return 1;
    }
    printf("%s: success rate %.0f%% over 100 episodes (mean return %.1f)\n",
           use_her ? "with HER" : "without HER", 100.0 * success, mean_return);
    contrl_her_destroy(her);
    contrl_goal_env_close(&env);
    contrl_goal_env_close(&eval_env);
    return 0;
}
