/* src/tasks/humanoid.c - Humanoid-v4 (Gymnasium's humanoid_v4.py with its
 * defaults).
 *
 * obs (376) = [qpos[2:] (22), qvel (23), cinert (14 bodies x 10 = 140),
 *              cvel (14 x 6 = 84), qfrc_actuator (23), cfrc_ext (14 x 6 = 84)];
 *   v4 takes the whole per-body arrays, the world body's (zero) rows
 *   included (v5 drops them). They are read from mjData as mj_step and
 *   mj_rnePostConstraint leave them (post_constraint is set: cfrc_ext is
 *   computed only there).
 * action = 17 motor controls in [-0.4, 0.4].
 * reward = 1.25 * vx - 0.1 * |ctrl|^2 + 5, where vx is the x velocity of the
 *   mass centre sum(body_mass * xipos) / sum(body_mass), from xipos as
 *   mjData holds it before and after the frame_skip substeps; the 5 is also
 *   paid on the step that ends the episode (v4 has no contact cost).
 * healthy: 1.0 < qpos[2] < 2.0 (the torso's height); terminate otherwise.
 * reset: qpos0 + U(-0.01, 0.01) and qvel = U(-0.01, 0.01) per entry
 *   (declarative); frame skip 5 x timestep 0.003 = 0.015 s; 1000 steps.
 * Observation and reward are callbacks: the declarative rules know neither
 * the extra arrays nor a mass-centre velocity. */
#include "internal.h"

typedef struct humanoid {
    contrl_allocator allocator;
    double x_before; /* mass-centre x before the step */
} humanoid;

static double mass_centre_x(const mjModel *m, const mjData *d)
{
    double mx = 0.0, mass = 0.0;
    for (int i = 0; i < m->nbody; i++) {
        mx += m->body_mass[i] * d->xipos[3 * i];
        mass += m->body_mass[i];
    }
    return mx / mass;
}

static uint32_t obs_dim(const mjModel *m)
{
    return (uint32_t)((m->nq - 2) + m->nv + 10 * m->nbody + 6 * m->nbody + m->nv +
                      6 * m->nbody);
}

static float *put(float *obs, const mjtNum *src, int n)
{
    for (int i = 0; i < n; i++)
        obs[i] = (float)src[i];
    return obs + n;
}

static void observe(void *user, const mjModel *m, const mjData *d, float *obs)
{
    (void)user;
    obs = put(obs, d->qpos + 2, m->nq - 2);
    obs = put(obs, d->qvel, m->nv);
    obs = put(obs, d->cinert, 10 * m->nbody);
    obs = put(obs, d->cvel, 6 * m->nbody);
    obs = put(obs, d->qfrc_actuator, m->nv);
    put(obs, d->cfrc_ext, 6 * m->nbody);
}

static void before_step(void *user, const mjModel *m, const mjData *d)
{
    humanoid *s = user;
    s->x_before = mass_centre_x(m, d);
}

static void reward(void *user, const mjModel *m, const mjData *d, const float *action,
                   float *r, bool *terminated)
{
    (void)action; /* v4 charges data.ctrl, which holds the action */
    const humanoid *s = user;
    const double dt = m->opt.timestep * 5.0;
    const double vx = (mass_centre_x(m, d) - s->x_before) / dt;
    double ctrl = 0.0;
    for (int i = 0; i < m->nu; i++)
        ctrl += d->ctrl[i] * d->ctrl[i];
    const double z = d->qpos[2];
    *r = (float)(1.25 * vx + 5.0 - 0.1 * ctrl);
    *terminated = !(z > 1.0 && z < 2.0);
}

static void destroy(void *user)
{
    humanoid *s = user;
    contrl_allocator a = s->allocator;
    a.free(a.user, s, sizeof *s);
}

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    /* qpos[2] must be the torso's height: the free joint comes first */
    const int torso = mj_name2id(m, mjOBJ_BODY, "torso");
    if (m->nq != 24 || m->nv != 23 || m->nu != 17 || m->nbody != 14 || torso < 0 ||
        m->jnt_type[0] != mjJNT_FREE || m->jnt_bodyid[0] != torso)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: the humanoid model is not laid out as expected");
    humanoid *s = allocator->alloc(allocator->user, sizeof *s, _Alignof(humanoid));
    if (s == NULL)
        return contrl_set_error(CONTRL_ERR_NOMEM, "contrl_mj_make: humanoid: out of memory");
    s->allocator = *allocator;
    s->x_before = 0.0;

    task->frame_skip = 5;
    task->max_episode_steps = 1000;
    task->post_constraint = true;
    task->obs_dim = obs_dim(m);
    task->observe = observe;
    task->before_step = before_step;
    task->reward = reward;
    task->reset_noise_scale = 1e-2;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->user = s;
    task->destroy = destroy;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__humanoid = {"humanoid", "Humanoid-v4", contrl_mj__xml_humanoid,
                                                fill};
