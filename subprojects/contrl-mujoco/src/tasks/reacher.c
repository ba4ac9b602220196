/* src/tasks/reacher.c - Reacher-v4 (Gymnasium).
 *
 * The target is part of the state: qpos = [joint0, joint1, target_x,
 * target_y] and its two slide joints are never driven.
 * obs (11) = [cos(qpos[0:2]), sin(qpos[0:2]), qpos[2:4] (the target),
 *             qvel[0:2], fingertip - target (x, y, z of the bodies' xpos)];
 * action = two joint torques in [-1, 1] (gear 200); frame skip 2 at dt
 * 0.01 (RK4);
 * reward = -|fingertip - target| - |action|^2, the distance taken BEFORE
 *   the step (Gymnasium computes it first), from xpos as the previous
 *   mj_step (or the reset's mj_forward) left it; never terminated;
 * reset: qpos = qpos0 + U(-0.1, 0.1), then the target = U(-0.2, 0.2)^2
 *   drawn again until its norm is < 0.2; qvel = U(-0.005, 0.005) on the
 *   arm, 0 on the target; 50 steps.
 * Observation, reward and reset are callbacks. */
#include <math.h>

#include "internal.h"

enum { OBS_DIM = 11 };

typedef struct reacher {
    contrl_allocator allocator;
    int fingertip, target; /* body ids */
    double vec_before[3];  /* fingertip - target before the step */
} reacher;

static void fingertip_minus_target(const reacher *s, const mjData *d, double *v)
{
    for (int i = 0; i < 3; i++)
        v[i] = d->xpos[3 * s->fingertip + i] - d->xpos[3 * s->target + i];
}

static void observe(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)m;
    const reacher *s = user;
    double v[3];
    fingertip_minus_target(s, d, v);
    obs[0] = (float)cos(d->qpos[0]);
    obs[1] = (float)cos(d->qpos[1]);
    obs[2] = (float)sin(d->qpos[0]);
    obs[3] = (float)sin(d->qpos[1]);
    obs[4] = (float)d->qpos[2];
    obs[5] = (float)d->qpos[3];
    obs[6] = (float)d->qvel[0];
    obs[7] = (float)d->qvel[1];
    for (int i = 0; i < 3; i++)
        obs[8 + i] = (float)v[i];
}

static void before_step(void *user, const mjModel *m, const mjData *d)
{
    (void)m;
    reacher *s = user;
    fingertip_minus_target(s, d, s->vec_before);
}

static void reward(void *user, const mjModel *m, const mjData *d, const float *action,
                   float *r, bool *terminated)
{
    (void)d;
    const reacher *s = user;
    const double *v = s->vec_before;
    double ctrl = 0.0;
    for (int i = 0; i < m->nu; i++)
        ctrl += (double)action[i] * (double)action[i];
    *r = (float)(-sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) - ctrl);
    *terminated = false;
}

static contrl_status reset(void *user, const mjModel *m, mjData *d, contrl_rng *rng)
{
    (void)user;
    for (int i = 0; i < m->nq; i++)
        d->qpos[i] = m->qpos0[i] + contrl_mj__uniform(rng, -0.1, 0.1);
    double gx, gy;
    do {
        gx = contrl_mj__uniform(rng, -0.2, 0.2);
        gy = contrl_mj__uniform(rng, -0.2, 0.2);
    } while (!(sqrt(gx * gx + gy * gy) < 0.2));
    d->qpos[2] = gx;
    d->qpos[3] = gy;
    for (int i = 0; i < m->nv; i++)
        d->qvel[i] = contrl_mj__uniform(rng, -0.005, 0.005);
    d->qvel[2] = 0.0;
    d->qvel[3] = 0.0;
    return CONTRL_OK;
}

static void destroy(void *user)
{
    reacher *s = user;
    contrl_allocator a = s->allocator;
    a.free(a.user, s, sizeof *s);
}

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    const int fingertip = mj_name2id(m, mjOBJ_BODY, "fingertip");
    const int target = mj_name2id(m, mjOBJ_BODY, "target");
    const int target_x = mj_name2id(m, mjOBJ_JOINT, "target_x");
    /* The layout above: two arm hinges then the target's two slides. */
    if (fingertip < 0 || target < 0 || target_x < 0 || m->nq != 4 || m->nv != 4 ||
        m->nu != 2 || m->jnt_qposadr[target_x] != 2)
        return contrl_set_error(CONTRL_ERR_FORMAT, "contrl_mj_make: reacher: the model does not "
                                                   "have the expected bodies and joints");
    reacher *s = allocator->alloc(allocator->user, sizeof *s, _Alignof(reacher));
    if (s == NULL)
        return contrl_set_error(CONTRL_ERR_NOMEM, "contrl_mj_make: reacher: out of memory");
    s->allocator = *allocator;
    s->fingertip = fingertip;
    s->target = target;
    s->vec_before[0] = s->vec_before[1] = s->vec_before[2] = 0.0;

    task->frame_skip = 2;
    task->max_episode_steps = 50;
    task->obs_dim = OBS_DIM;
    task->observe = observe;
    task->before_step = before_step;
    task->reward = reward;
    task->reset = reset;
    task->user = s;
    task->destroy = destroy;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__reacher = {"reacher", "Reacher-v4", contrl_mj__xml_reacher,
                                               fill};
