/* examples/checkpoint.c - train briefly, save a checkpoint (atomically),
 * load it into a new agent and evaluate it; then continue training the
 * loaded agent. usage: checkpoint [PATH]  (default agent.safetensors)
 * Build: cc checkpoint.c $(pkg-config --cflags --libs contrl) */
#include <contrl/contrl.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "agent.safetensors";
    contrl_env env;
    if (contrl_env_make("pendulum", NULL, &env) != CONTRL_OK)
        return 1;
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_TD3);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.learning_starts = 1000;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.buffer_capacity = 100000;
    contrl_agent *agent = NULL;
    if (contrl_td3_create(&cfg, NULL, &agent) != CONTRL_OK ||
        contrl_agent_learn(agent, &env, 4000, NULL, NULL) != CONTRL_OK) {
        fprintf(stderr, "%s\n", contrl_last_error());
        return 1;
    }
    /* CONTRL_SAVE_BUFFER also stores the replay buffer, so training resumes
     * exactly where it stopped. */
    if (contrl_agent_save(agent, path, CONTRL_SAVE_BUFFER) != CONTRL_OK) {
        fprintf(stderr, "save: %s\n", contrl_last_error());
        return 1;
    }
    double before, after, std;
    contrl_agent_evaluate(agent, &env, 5, 99, &before, &std);
    contrl_agent_destroy(agent);

    contrl_agent *loaded = NULL;
    if (contrl_agent_load(path, NULL, &loaded) != CONTRL_OK) {
        fprintf(stderr, "load: %s\n", contrl_last_error());
        return 1;
    }
    contrl_agent_evaluate(loaded, &env, 5, 99, &after, &std);
    printf("%s: %s agent trained on '%s' for %llu steps\n", path,
           contrl_algo_name(contrl_agent_algo(loaded)), contrl_agent_env_name(loaded),
           (unsigned long long)contrl_agent_steps(loaded));
    printf("evaluation before saving %.1f, after loading %.1f (identical policies)\n", before,
           after);
    contrl_status st = contrl_agent_learn(loaded, &env, 2000, NULL, NULL);
    printf("continued training: %s, now %llu steps\n", contrl_status_string(st),
           (unsigned long long)contrl_agent_steps(loaded));
    contrl_agent_destroy(loaded);
    contrl_env_close(&env);
    return before == after && st == CONTRL_OK ? 0 : 1;
}
