/* src/tasks/walker2d.c - Walker2d-v4 (Gymnasium's walker2d_v4.py with its
 * defaults).
 *
 * Everything is declarative (env.c):
 *   observation  qpos[1:] (torso z, pitch, 6 leg angles) then qvel clipped
 *                to +-10: 8 + 9 = 17 entries;
 *   reward       (qpos[0] after - qpos[0] before) / dt - 1e-3 |action|^2
 *                + 1, the 1 also paid on the step that ends the episode;
 *   healthy      z = qpos[1] in (0.8, 2.0) and pitch = qpos[2] in (-1, 1)
 *                (no rule on the rest of the state, unlike the hopper);
 *   reset        qpos0 and zero qvel, each entry + U(-5e-3, 5e-3);
 *   dt           frame_skip 4 x timestep 0.002 = 0.008 s, 1000 steps. */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    /* The rules below index qpos by position: x, z, pitch first. */
    if (m->nq != 9 || m->nv != 9 || m->nu != 6 || contrl_mj__qpos_of(m, "rootx") != 0 ||
        contrl_mj__qpos_of(m, "rootz") != 1 || contrl_mj__qpos_of(m, "rooty") != 2)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: the walker2d model is not laid out as expected");
    task->frame_skip = 4;
    task->max_episode_steps = 1000;

    task->obs_qpos[0] = CONTRL_MJ_FROM(1);
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;
    task->obs_qvel_clip = 10.0;

    task->forward_qpos = 0;
    task->forward_weight = 1.0;
    task->ctrl_cost_weight = 1e-3;
    task->healthy_reward = 1.0;
    task->terminate_when_unhealthy = true;
    task->healthy_z_qpos = 1;
    task->healthy_z_min = 0.8;
    task->healthy_z_max = 2.0;
    task->healthy_angle_qpos = 2;
    task->healthy_angle_min = -1.0;
    task->healthy_angle_max = 1.0;

    task->reset_noise_scale = 5e-3;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__walker2d = {"walker2d", "Walker2d-v4",
                                                contrl_mj__xml_walker2d, fill};
