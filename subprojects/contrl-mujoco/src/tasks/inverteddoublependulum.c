/* src/tasks/inverteddoublependulum.c - InvertedDoublePendulum-v4 (Gymnasium).
 *
 * obs (11) = [cart x, sin(hinge), sin(hinge2), cos(hinge), cos(hinge2),
 *             clip(qvel, -10, 10) (3), clip(qfrc_constraint, -10, 10) (3)];
 * action = cart force in [-1, 1] (gear 500); frame skip 5 at dt 0.01 (RK4);
 * with (x, y) = the x and z of the site "tip" as mj_step leaves site_xpos
 * (not recomputed at the new state, as Gymnasium reads it):
 *   reward = 10 - (0.01 x^2 + (y - 2)^2) - (1e-3 qvel[1]^2 + 5e-3 qvel[2]^2),
 *   paid on every step, the terminating one included;
 *   terminated when y <= 1;
 * reset qpos0 + U(-0.1, 0.1) and qvel 0.1 N(0, 1) (declarative); 1000 steps.
 * Observation and reward are callbacks: the declarative rules have no
 * sin/cos, constraint forces or site positions. */
#include <math.h>

#include "internal.h"

enum { OBS_DIM = 11 };

typedef struct idp {
    contrl_allocator allocator;
    int tip; /* site id */
} idp;

static double clip10(double v)
{
    return v < -10.0 ? -10.0 : v > 10.0 ? 10.0 : v;
}

static void observe(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)user;
    (void)m;
    obs[0] = (float)d->qpos[0];
    obs[1] = (float)sin(d->qpos[1]);
    obs[2] = (float)sin(d->qpos[2]);
    obs[3] = (float)cos(d->qpos[1]);
    obs[4] = (float)cos(d->qpos[2]);
    for (int i = 0; i < 3; i++) {
        obs[5 + i] = (float)clip10(d->qvel[i]);
        obs[8 + i] = (float)clip10(d->qfrc_constraint[i]);
    }
}

static void reward(void *user, const mjModel *m, const mjData *d, const float *action,
                   float *r, bool *terminated)
{
    (void)m;
    (void)action;
    const idp *s = user;
    const double x = d->site_xpos[3 * s->tip], y = d->site_xpos[3 * s->tip + 2];
    const double dist_penalty = 0.01 * x * x + (y - 2.0) * (y - 2.0);
    const double v1 = d->qvel[1], v2 = d->qvel[2];
    const double vel_penalty = 1e-3 * v1 * v1 + 5e-3 * v2 * v2;
    *r = (float)(10.0 - dist_penalty - vel_penalty);
    *terminated = y <= 1.0;
}

static void destroy(void *user)
{
    idp *s = user;
    contrl_allocator a = s->allocator;
    a.free(a.user, s, sizeof *s);
}

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
    if (tip < 0 || m->nq != 3 || m->nv != 3)
        return contrl_set_error(CONTRL_ERR_FORMAT, "contrl_mj_make: inverteddoublependulum: the "
                                                   "model lacks the site \"tip\" or 3 joints");
    idp *s = allocator->alloc(allocator->user, sizeof *s, _Alignof(idp));
    if (s == NULL)
        return contrl_set_error(CONTRL_ERR_NOMEM,
                                "contrl_mj_make: inverteddoublependulum: out of memory");
    s->allocator = *allocator;
    s->tip = tip;

    task->frame_skip = 5;
    task->max_episode_steps = 1000;
    task->obs_dim = OBS_DIM;
    task->observe = observe;
    task->reward = reward;
    task->user = s;
    task->destroy = destroy;
    task->reset_noise_scale = 0.1;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_NORMAL;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__inverteddoublependulum = {
    "inverteddoublependulum", "InvertedDoublePendulum-v4", contrl_mj__xml_inverteddoublependulum,
    fill};
