/* examples/embedded_loop.c - the program owns the loop and the simulator;
 * the agent only acts, observes and updates. Here the "simulator" is a
 * double integrator written inline (a cart on a rail to be brought to 0),
 * standing in for your own robot or game loop.
 * Build: cc embedded_loop.c $(pkg-config --cflags --libs contrl) -lm */
#include <contrl/contrl.h>
#include <math.h>
#include <stdio.h>

/* x'' = u, dt = 0.05; reward -(x^2 + 0.1 v^2 + 0.01 u^2); 100-step episodes. */
typedef struct cart {
    float x, v;
    int t;
} cart;

static void cart_step(cart *c, float u, float *reward)
{
    *reward = -(c->x * c->x + 0.1f * c->v * c->v + 0.01f * u * u);
    c->v += 0.05f * u;
    c->x += 0.05f * c->v;
    c->t++;
}

int main(void)
{
    const float low[1] = {-1.0f}, high[1] = {1.0f};
    contrl_agent_config cfg = contrl_agent_config_default(CONTRL_ALGO_TD3);
    cfg.obs_dim = 2;
    cfg.action_dim = 1;
    cfg.action_low = low;
    cfg.action_high = high;
    cfg.hidden[0] = cfg.hidden[1] = 64;
    cfg.batch_size = 128;
    cfg.buffer_capacity = 50000;
    cfg.actor_lr = cfg.critic_lr = 1e-3f;
    cfg.seed = 42;
    contrl_agent *agent = NULL;
    if (contrl_td3_create(&cfg, NULL, &agent) != CONTRL_OK) {
        fprintf(stderr, "contrl_td3_create: %s\n", contrl_last_error());
        return 1;
    }
    contrl_rng rng;
    contrl_rng_seed(&rng, 7);
    for (int episode = 1; episode <= 100; episode++) {
        cart c = {.x = 4.0f * contrl_rng_uniform(&rng) - 2.0f, .v = 0.0f, .t = 0};
        contrl_agent_reset_noise(agent);
        float ret = 0.0f;
        while (c.t < 100) {
            float obs[2] = {c.x, c.v}, action[1], reward;
            /* Explore randomly for the first 1000 steps, then with the policy. */
            contrl_status st = contrl_agent_steps(agent) < 1000
                                   ? contrl_agent_act_random(agent, action)
                                   : contrl_agent_act(agent, obs, action, true);
            if (st != CONTRL_OK)
                return 1;
            cart_step(&c, action[0], &reward);
            float next_obs[2] = {c.x, c.v};
            /* The 100-step limit is a truncation: the state is not terminal. */
            st = contrl_agent_observe(agent, obs, action, reward, next_obs, false, c.t == 100);
            if (st != CONTRL_OK) {
                fprintf(stderr, "observe: %s\n", contrl_last_error());
                return 1;
            }
            ret += reward;
            if (contrl_agent_steps(agent) >= 1000 &&
                contrl_agent_update(agent, 1, NULL) != CONTRL_OK) {
                fprintf(stderr, "update: %s\n", contrl_last_error());
                return 1;
            }
        }
        if (episode % 20 == 0)
            printf("episode %2d  return %8.2f\n", episode, (double)ret);
    }
    /* Greedy run from x = 1.5 */
    cart c = {.x = 1.5f, .v = 0.0f, .t = 0};
    for (int t = 0; t < 100; t++) {
        float obs[2] = {c.x, c.v}, action[1], reward;
        contrl_agent_act(agent, obs, action, false);
        cart_step(&c, action[0], &reward);
    }
    printf("greedy policy from x = 1.5: x = %.3f, v = %.3f after 100 steps\n", (double)c.x,
           (double)c.v);
    contrl_agent_destroy(agent);
    return 0;
}
