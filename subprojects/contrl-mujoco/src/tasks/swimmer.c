/* src/tasks/swimmer.c - Swimmer-v4 (Gymnasium).
 *
 * obs = [qpos[2:], qvel] (8: the x and y of the front link left out);
 * action = two joint torques in [-1, 1]; frame skip 4 at dt 0.01 (RK4);
 * reward (x after - x before) / 0.04 - 1e-4 |action|^2 with x = qpos[0]
 * (the slider1 joint); never terminated; reset qpos0 + U(-0.1, 0.1) and
 * qvel U(-0.1, 0.1); 1000 steps. The declarative rules say all of it. */
#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    const int slider1 = mj_name2id(m, mjOBJ_JOINT, "slider1");
    if (slider1 < 0)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: swimmer: the model has no joint \"slider1\"");
    task->frame_skip = 4;
    task->max_episode_steps = 1000;
    task->obs_qpos[0] = CONTRL_MJ_FROM(2);
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;
    task->forward_weight = 1.0;
    task->forward_qpos = m->jnt_qposadr[slider1];
    task->ctrl_cost_weight = 1e-4;
    task->reset_noise_scale = 0.1;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__swimmer = {"swimmer", "Swimmer-v4", contrl_mj__xml_swimmer,
                                               fill};
