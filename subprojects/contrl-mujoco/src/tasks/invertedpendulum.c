/* src/tasks/invertedpendulum.c - InvertedPendulum-v4 (Gymnasium).
 *
 * obs = [qpos, qvel] = [cart x, pole angle, cart xdot, pole angular
 * velocity]; action = cart force in [-3, 3] (gear 100); frame skip 2 at
 * dt 0.02 (RK4); reward 1 on every step taken, the terminating one
 * included; terminated when |pole angle| > 0.2 rad (or the state is not
 * finite); reset qpos0 + U(-0.01, 0.01) and qvel U(-0.01, 0.01); 1000 steps.
 * The declarative rules say all of it. */
#include <math.h>

#include "internal.h"

static contrl_status fill(const mjModel *m, const contrl_allocator *allocator,
                          contrl_mj_task *task)
{
    (void)allocator;
    const int hinge = mj_name2id(m, mjOBJ_JOINT, "hinge");
    if (hinge < 0)
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "contrl_mj_make: invertedpendulum: the model has no joint \"hinge\"");
    task->frame_skip = 2;
    task->max_episode_steps = 1000;
    task->obs_qpos[0] = -1;
    task->n_obs_qpos = 1;
    task->obs_qvel[0] = -1;
    task->n_obs_qvel = 1;
    task->healthy_reward = 1.0;
    task->terminate_when_unhealthy = true;
    /* Gymnasium terminates on |angle| > 0.2, so 0.2 itself is healthy; the
     * rule is an open interval, hence its bounds one double beyond 0.2. */
    task->healthy_angle_qpos = m->jnt_qposadr[hinge];
    task->healthy_angle_max = nextafter(0.2, 1.0);
    task->healthy_angle_min = -task->healthy_angle_max;
    task->reset_noise_scale = 0.01;
    task->qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    task->qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    return CONTRL_OK;
}

const contrl_mj__builtin contrl_mj__invertedpendulum = {
    "invertedpendulum", "InvertedPendulum-v4", contrl_mj__xml_invertedpendulum, fill};
