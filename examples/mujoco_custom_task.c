/* examples/mujoco_custom_task.c - your own MuJoCo model and task, defined
 * in C without touching the library: a puck on a table, pushed by two
 * motors, must come to rest on the red target at the origin.
 *
 * The model is MJCF text here (a file works the same way with
 * contrl_mj_env_from_file). The task uses both kinds of definition:
 *  - declarative: frame skip, time limit, reset noise, and the observation
 *    (all of qpos and qvel);
 *  - callbacks: the reward (minus the distance to the target, minus a
 *    small control cost) and the termination (leaving the table).
 * Then SAC learns it with contrl_agent_learn.
 *
 * usage: mujoco_custom_task [model.xml]   (without a file: the model below)
 * Build: cc mujoco_custom_task.c $(pkg-config --cflags --libs contrl-mujoco) -lm */
#include <contrl/contrl.h>
#include <contrl/mujoco.h>
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>

static const char puck_xml[] =
    "<mujoco model=\"puck\">\n"
    "  <option timestep=\"0.01\"/>\n"
    "  <worldbody>\n"
    "    <geom name=\"table\" type=\"plane\" size=\"1 1 0.1\"/>\n"
    "    <site name=\"target\" pos=\"0 0 0.01\" size=\"0.05\" rgba=\"1 0 0 1\"/>\n"
    "    <body name=\"puck\" pos=\"0 0 0.05\">\n"
    "      <joint name=\"x\" type=\"slide\" axis=\"1 0 0\" damping=\"0.5\"/>\n"
    "      <joint name=\"y\" type=\"slide\" axis=\"0 1 0\" damping=\"0.5\"/>\n"
    "      <geom type=\"cylinder\" size=\"0.05 0.05\" mass=\"0.5\"/>\n"
    "    </body>\n"
    "  </worldbody>\n"
    "  <actuator>\n"
    "    <motor joint=\"x\" gear=\"2\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>\n"
    "    <motor joint=\"y\" gear=\"2\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>\n"
    "  </actuator>\n"
    "</mujoco>\n";

/* Reward and termination after each step, from the simulator's state. */
static void puck_reward(void *user, const mjModel *m, const mjData *d, const float *action,
                        float *reward, bool *terminated)
{
    (void)user;
    (void)m;
    double x = d->qpos[0], y = d->qpos[1];
    double dist = sqrt(x * x + y * y);
    double ctrl = (double)action[0] * action[0] + (double)action[1] * action[1];
    *reward = (float)(-dist - 0.01 * ctrl);
    *terminated = fabs(x) > 1.0 || fabs(y) > 1.0; /* fell off the table */
}

static int progress(const contrl_progress *p, void *user)
{
    (void)user;
    if (p->is_eval)
        printf("step %6llu  evaluation %7.2f +- %.2f  (%.0f steps/s)\n",
               (unsigned long long)p->step, p->eval_mean, p->eval_std, p->steps_per_s);
    return 0;
}

static contrl_status make(const char *path, contrl_env *env)
{
    contrl_mj_task task = contrl_mj_task_default();
    task.name = "puck";
    task.frame_skip = 5;          /* act every 0.05 s */
    task.max_episode_steps = 100; /* 5 s episodes */
    task.obs_qpos[0] = -1;        /* all of qpos ... */
    task.n_obs_qpos = 1;
    task.obs_qvel[0] = -1;        /* ... and all of qvel */
    task.n_obs_qvel = 1;
    task.reset_noise_scale = 0.8; /* start anywhere in [-0.8, 0.8]^2 */
    task.reward = puck_reward;
    return path != NULL ? contrl_mj_env_from_file(path, &task, NULL, env)
                        : contrl_mj_env_from_xml(puck_xml, &task, NULL, env);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    contrl_env env, eval_env;
    if (make(path, &env) != CONTRL_OK || make(path, &eval_env) != CONTRL_OK) {
        fprintf(stderr, "cannot make the task: %s\n", contrl_last_error());
        return 1;
    }
    printf("task %s: obs %u, action %u, %u steps per episode\n", env.name, env.obs_dim,
           env.action_dim, env.max_episode_steps);
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_SAC);
    cfg.obs_dim = env.obs_dim;
    cfg.action_dim = env.action_dim;
    cfg.action_low = env.action_low;
    cfg.action_high = env.action_high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.learning_starts = 1000;
    cfg.seed = 1;
    contrl_agent *agent = NULL;
    if (contrl_sac_create(&cfg, NULL, &agent) != CONTRL_OK) {
        fprintf(stderr, "contrl_sac_create: %s\n", contrl_last_error());
        return 1;
    }
    double before, after, sd;
    contrl_agent_evaluate(agent, &eval_env, 10, 99, &before, &sd);
    contrl_learn_config lc = contrl_learn_config_default();
    lc.eval_env = &eval_env;
    lc.eval_interval = 2000;
    lc.callback = progress;
    if (contrl_agent_learn_ex(agent, &env, 10000, &lc) != CONTRL_OK) {
        fprintf(stderr, "learn: %s\n", contrl_last_error());
        return 1;
    }
    contrl_agent_evaluate(agent, &eval_env, 10, 99, &after, &sd);
    printf("return over 10 episodes: %.2f before learning, %.2f after\n", before, after);
    contrl_agent_destroy(agent);
    contrl_env_close(&env);
    contrl_env_close(&eval_env);
    return 0;
}
