/* src/env.c - a contrl_env over an mjModel/mjData pair and a contrl_mj_task. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct mj_env {
    contrl_mj__handle h; /* first: found by contrl_mj_env_model() */
    contrl_allocator alloc;
    size_t block_size;
    contrl_mj_task task;
    char name[64];
    uint32_t obs_dim, act_dim;
    uint32_t n_qpos, n_qvel;
    int32_t *qpos_idx, *qvel_idx; /* resolved observation indices */
    float *low, *high;
    float *last_obs;
    mjtNum x_before;
    uint64_t t;
    bool started, done;
    uint64_t unstable;
    contrl_rng rng;
} mj_env;

static void env_destroy(void *user);


static void observe(mj_env *e, float *obs)
{
    const mjModel *m = e->h.m;
    const mjData *d = e->h.d;
    if (e->task.observe != NULL) {
        e->task.observe(e->task.user, m, d, obs);
        return;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < e->n_qpos; i++)
        obs[k++] = (float)d->qpos[e->qpos_idx[i]];
    const double clip = e->task.obs_qvel_clip;
    for (uint32_t i = 0; i < e->n_qvel; i++) {
        double v = d->qvel[e->qvel_idx[i]];
        if (clip > 0.0)
            v = v < -clip ? -clip : v > clip ? clip : v;
        obs[k++] = (float)v;
    }
}

static bool healthy(const mj_env *e)
{
    const contrl_mj_task *t = &e->task;
    const mjModel *m = e->h.m;
    const mjData *d = e->h.d;
    /* Only called after env_step has ended the episode on a non-finite
     * state (as unstable), so the state is finite here. */
    if (t->healthy_z_qpos >= 0) {
        double z = d->qpos[t->healthy_z_qpos];
        if (!(z > t->healthy_z_min && z < t->healthy_z_max))
            return false;
    }
    if (t->healthy_angle_qpos >= 0) {
        double a = d->qpos[t->healthy_angle_qpos];
        if (!(a > t->healthy_angle_min && a < t->healthy_angle_max))
            return false;
    }
    if (t->healthy_state_max > 0.0) {
        const uint32_t n = (uint32_t)(m->nq + m->nv);
        for (uint32_t i = t->healthy_state_from; i < n; i++) {
            double s = i < (uint32_t)m->nq ? d->qpos[i] : d->qvel[i - (uint32_t)m->nq];
            if (!(fabs(s) < t->healthy_state_max))
                return false;
        }
    }
    return true;
}

static mjtNum forward_x(const mj_env *e)
{
    if (e->task.forward_body >= 0)
        return e->h.d->xpos[3 * e->task.forward_body];
    return e->h.d->qpos[e->task.forward_qpos];
}

static void declarative_reward(mj_env *e, const float *action, float *reward, bool *terminated)
{
    const contrl_mj_task *t = &e->task;
    double r = 0.0;
    if (t->forward_qpos >= 0 || t->forward_body >= 0) {
        double dt = e->h.m->opt.timestep * (double)t->frame_skip;
        r += t->forward_weight * (forward_x(e) - e->x_before) / dt;
    }
    if (t->ctrl_cost_weight != 0.0) {
        double c = 0.0;
        for (uint32_t i = 0; i < e->act_dim; i++)
            c += (double)action[i] * (double)action[i];
        r -= t->ctrl_cost_weight * c;
    }
    bool ok = healthy(e);
    if (t->healthy_reward != 0.0) {
        bool paid = ok || (t->terminate_when_unhealthy && !t->healthy_reward_only_when_healthy);
        if (paid)
            r += t->healthy_reward;
    }
    *reward = (float)r;
    *terminated = t->terminate_when_unhealthy && !ok;
}

static contrl_status env_reset(void *user, uint64_t seed, float *obs)
{
    mj_env *e = user;
    const mjModel *m = e->h.m;
    mjData *d = e->h.d;
    contrl_rng_seed(&e->rng, seed);
    mj_resetData(m, d);
    if (e->task.reset != NULL) {
        contrl_status st = e->task.reset(e->task.user, m, d, &e->rng);
        if (st != CONTRL_OK) {
            e->started = false;
            return st;
        }
    } else {
        const double s = e->task.reset_noise_scale;
        for (int i = 0; i < m->nq; i++) {
            double n = e->task.qpos_noise == CONTRL_MJ_NOISE_NORMAL
                           ? s * contrl_mj__normal(&e->rng)
                           : contrl_mj__uniform(&e->rng, -s, s);
            d->qpos[i] = m->qpos0[i] + n;
        }
        for (int i = 0; i < m->nv; i++) {
            double n = e->task.qvel_noise == CONTRL_MJ_NOISE_NORMAL
                           ? s * contrl_mj__normal(&e->rng)
                           : contrl_mj__uniform(&e->rng, -s, s);
            d->qvel[i] = n;
        }
    }
    mj_forward(m, d);
    observe(e, obs);
    memcpy(e->last_obs, obs, e->obs_dim * sizeof(float));
    e->t = 0;
    e->started = true;
    e->done = false;
    return CONTRL_OK;
}

static contrl_status env_step(void *user, const float *action, float *next_obs, float *reward,
                              bool *terminated, bool *truncated)
{
    mj_env *e = user;
    const mjModel *m = e->h.m;
    mjData *d = e->h.d;
    if (!e->started)
        return contrl_set_error(CONTRL_ERR_STATE, "%s: step before reset", e->name);
    if (e->done)
        return contrl_set_error(CONTRL_ERR_STATE,
                                "%s: step after the episode ended (reset first)", e->name);
    if (e->task.before_step != NULL)
        e->task.before_step(e->task.user, m, d);
    else if (e->task.forward_qpos >= 0 || e->task.forward_body >= 0)
        e->x_before = forward_x(e);
    for (uint32_t i = 0; i < e->act_dim; i++)
        d->ctrl[i] = action[i];
    const int warnings = contrl_mj__unstable_warnings(d);
    for (uint32_t k = 0; k < e->task.frame_skip; k++)
        mj_step(m, d);
    if (e->task.post_constraint)
        mj_rnePostConstraint(m, d);
    e->t++;

    if (contrl_mj__unstable_warnings(d) != warnings || !contrl_mj__state_finite(m, d)) {
        /* MuJoCo has reset mjData (bad qacc) or the state is garbage: end
         * the episode on the last good observation. */
        e->unstable++;
        e->done = true;
        if (e->task.unstable_is_error)
            return contrl_set_error(CONTRL_ERR_NUMERIC,
                                    "%s: the simulation became unstable at step %llu (MuJoCo "
                                    "flagged a bad qpos/qvel/qacc/ctrl)",
                                    e->name, (unsigned long long)e->t);
        memcpy(next_obs, e->last_obs, e->obs_dim * sizeof(float));
        *reward = 0.0f;
        *terminated = false;
        *truncated = true;
        return CONTRL_OK;
    }

    observe(e, next_obs);
    memcpy(e->last_obs, next_obs, e->obs_dim * sizeof(float));
    bool term = false;
    if (e->task.reward != NULL)
        e->task.reward(e->task.user, m, d, action, reward, &term);
    else
        declarative_reward(e, action, reward, &term);
    *terminated = term;
    *truncated = !term && e->task.max_episode_steps > 0 && e->t >= e->task.max_episode_steps;
    e->done = *terminated || *truncated;
    return CONTRL_OK;
}

/* Resolve an observation index list: -1 alone = all n entries,
 * CONTRL_MJ_FROM(k) alone = k..n-1, else each index checked. Writes the
 * count to *count and (when out != NULL) the indices. */
static contrl_status resolve(const char *func, const char *what, const int32_t *idx, uint32_t n,
                             int32_t size, int32_t *out, uint32_t *count)
{
    if (n > CONTRL_MJ_MAX_OBS_INDICES)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: n_%s = %u exceeds %d", func, what, n,
                                CONTRL_MJ_MAX_OBS_INDICES);
    if (n == 1 && idx[0] < 0) {
        int32_t from = idx[0] == -1 ? 0 : -2 - idx[0];
        if (from > size)
            return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                    "%s: %s starts at %d but the model has %d entries", func, what,
                                    from, size);
        *count = (uint32_t)(size - from);
        if (out != NULL)
            for (int32_t i = from; i < size; i++)
                out[i - from] = i;
        return CONTRL_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= size)
            return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                    "%s: %s[%u] = %d is out of range (the model has %d)", func,
                                    what, i, idx[i], size);
        if (out != NULL)
            out[i] = idx[i];
    }
    *count = n;
    return CONTRL_OK;
}

static contrl_status check_task(const char *func, const contrl_mj_task *t, const mjModel *m,
                                uint32_t *n_qpos, uint32_t *n_qvel)
{
    if (t->frame_skip == 0)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: frame_skip is 0", func);
    if (m->nu < 1)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: the model has no actuators (nu = 0): nothing to act on",
                                func);
    contrl_status st = resolve(func, "obs_qpos", t->obs_qpos, t->n_obs_qpos, m->nq, NULL, n_qpos);
    if (st == CONTRL_OK)
        st = resolve(func, "obs_qvel", t->obs_qvel, t->n_obs_qvel, m->nv, NULL, n_qvel);
    if (st != CONTRL_OK)
        return st;
    if (t->observe != NULL && t->obs_dim == 0)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: observe is set but obs_dim is 0",
                                func);
    if (t->observe == NULL && *n_qpos + *n_qvel == 0)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: the task observes nothing (set obs_qpos/obs_qvel or observe)",
                                func);
    if (!isfinite(t->obs_qvel_clip) || !isfinite(t->forward_weight) ||
        !isfinite(t->ctrl_cost_weight) || !isfinite(t->healthy_reward) ||
        !isfinite(t->reset_noise_scale) || t->reset_noise_scale < 0.0 ||
        isnan(t->healthy_z_min) || isnan(t->healthy_z_max) || isnan(t->healthy_angle_min) ||
        isnan(t->healthy_angle_max) || isnan(t->healthy_state_max))
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: a weight, clip, health bound or reset_noise_scale is NaN (or "
                                "a weight Inf, or the noise negative)",
                                func);
    if (t->forward_qpos >= m->nq || t->forward_qpos < -1)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: forward_qpos = %d is out of range (nq = %d)", func,
                                t->forward_qpos, m->nq);
    if (t->forward_body >= m->nbody || t->forward_body < -1)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: forward_body = %d is out of range (nbody = %d)", func,
                                t->forward_body, m->nbody);
    if (t->healthy_z_qpos >= m->nq || t->healthy_z_qpos < -1 || t->healthy_angle_qpos >= m->nq ||
        t->healthy_angle_qpos < -1)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: healthy_z_qpos = %d or healthy_angle_qpos = %d is out of "
                                "range (-1 or 0..nq-1, nq = %d)",
                                func, t->healthy_z_qpos, t->healthy_angle_qpos, m->nq);
    if (t->healthy_state_max > 0.0 && t->healthy_state_from > (uint32_t)(m->nq + m->nv))
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: healthy_state_from = %u is beyond the state (nq + nv = %d)",
                                func, t->healthy_state_from, m->nq + m->nv);
    if (t->qpos_noise > CONTRL_MJ_NOISE_NORMAL || t->qvel_noise > CONTRL_MJ_NOISE_NORMAL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: unknown reset noise kind", func);
    /* The bounds are handed out as floats (contrl_env): a range that is
     * fine in double may round to an empty one ([1, 1 + 1e-8]) or to
     * infinities (+-1e39), which contrl_env_check and every agent refuse. */
    for (int i = 0; i < m->nu; i++) {
        if (!m->actuator_ctrllimited[i])
            continue;
        const float lo = (float)m->actuator_ctrlrange[2 * i];
        const float hi = (float)m->actuator_ctrlrange[2 * i + 1];
        if (!(isfinite(lo) && isfinite(hi) && lo < hi))
            return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                    "%s: actuator %d: ctrlrange [%g, %g] is not a non-empty "
                                    "range of finite floats",
                                    func, i, m->actuator_ctrlrange[2 * i],
                                    m->actuator_ctrlrange[2 * i + 1]);
    }
    return CONTRL_OK;
}

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

contrl_status contrl_mj__env_from_model(const char *func, mjModel *m, const contrl_mj_task *task,
                                        const contrl_allocator *allocator, contrl_env *env)
{
    uint32_t n_qpos = 0, n_qvel = 0;
    contrl_status st = check_task(func, task, m, &n_qpos, &n_qvel);
    if (st != CONTRL_OK) {
        mj_deleteModel(m);
        return st;
    }
    const uint32_t obs_dim = task->observe != NULL ? task->obs_dim : n_qpos + n_qvel;
    const uint32_t act_dim = (uint32_t)m->nu;

    size_t off_qpos = align64(sizeof(mj_env));
    size_t off_qvel = off_qpos + align64(n_qpos * sizeof(int32_t) + 1);
    size_t off_low = off_qvel + align64(n_qvel * sizeof(int32_t) + 1);
    size_t off_high = off_low + align64(act_dim * sizeof(float));
    size_t off_obs = off_high + align64(act_dim * sizeof(float));
    size_t total = off_obs + align64(obs_dim * sizeof(float));
    unsigned char *block = allocator->alloc(allocator->user, total, 64);
    if (block == NULL) {
        mj_deleteModel(m);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory", func);
    }
    memset(block, 0, total);
    mj_env *e = (mj_env *)block;
    e->h.d = mj_makeData(m);
    if (e->h.d == NULL) {
        allocator->free(allocator->user, block, total);
        mj_deleteModel(m);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: MuJoCo could not allocate mjData", func);
    }
    e->h.magic = CONTRL_MJ__MAGIC;
    e->h.m = m;
    e->alloc = *allocator;
    e->block_size = total;
    e->task = *task;
    snprintf(e->name, sizeof e->name, "%s", task->name != NULL ? task->name : "mujoco");
    e->task.name = e->name;
    e->obs_dim = obs_dim;
    e->act_dim = act_dim;
    e->qpos_idx = (int32_t *)(block + off_qpos);
    e->qvel_idx = (int32_t *)(block + off_qvel);
    resolve(func, "obs_qpos", task->obs_qpos, task->n_obs_qpos, m->nq, e->qpos_idx, &e->n_qpos);
    resolve(func, "obs_qvel", task->obs_qvel, task->n_obs_qvel, m->nv, e->qvel_idx, &e->n_qvel);
    e->low = (float *)(block + off_low);
    e->high = (float *)(block + off_high);
    for (uint32_t i = 0; i < act_dim; i++) {
        if (m->actuator_ctrllimited[i]) {
            e->low[i] = (float)m->actuator_ctrlrange[2 * i];
            e->high[i] = (float)m->actuator_ctrlrange[2 * i + 1];
        } else {
            e->low[i] = -1.0f;
            e->high[i] = 1.0f;
        }
    }
    e->last_obs = (float *)(block + off_obs);

    memset(env, 0, sizeof *env);
    env->size = sizeof *env;
    env->name = e->name;
    env->obs_dim = obs_dim;
    env->action_dim = act_dim;
    env->action_low = e->low;
    env->action_high = e->high;
    env->max_episode_steps = task->max_episode_steps;
    env->user = e;
    env->reset = env_reset;
    env->step = env_step;
    env->destroy = env_destroy;
    return CONTRL_OK;
}

static void env_destroy(void *user)
{
    mj_env *e = user;
    if (e == NULL)
        return;
    if (e->task.destroy != NULL)
        e->task.destroy(e->task.user);
    mj_deleteData(e->h.d);
    mj_deleteModel(e->h.m);
    contrl_allocator a = e->alloc;
    size_t n = e->block_size;
    e->h.magic = 0;
    a.free(a.user, e, n);
}

/* ---- public ------------------------------------------------------------- */

static contrl_mj_task task_defaults(void)
{
    contrl_mj_task t;
    memset(&t, 0, sizeof t);
    t.size = sizeof t;
    t.frame_skip = 1;
    t.forward_qpos = -1;
    t.forward_body = -1;
    t.healthy_z_qpos = -1;
    t.healthy_angle_qpos = -1;
    t.qpos_noise = CONTRL_MJ_NOISE_UNIFORM;
    t.qvel_noise = CONTRL_MJ_NOISE_UNIFORM;
    return t;
}

contrl_status contrl_mj_task_init(contrl_mj_task *task, size_t size)
{
    if (task == NULL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "contrl_mj_task_init: task is NULL");
    if (size != sizeof *task)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "contrl_mj_task_init: size %zu is not this library's "
                                "sizeof(contrl_mj_task) = %zu (header and library differ)",
                                size, sizeof *task);
    *task = task_defaults();
    return CONTRL_OK;
}

static contrl_status begin(const char *func, const void *src, const char *src_name,
                           const contrl_mj_task *task, const contrl_allocator *allocator,
                           contrl_env *env, contrl_allocator *alloc)
{
    contrl_status st = contrl_mj__make_begin(func, env, sizeof *env, src, src_name, allocator, alloc);
    if (st != CONTRL_OK)
        return st;
    if (task == NULL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: task is NULL", func);
    if (task->size != sizeof *task)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: task->size is %zu, expected %zu (initialise it with "
                                "contrl_mj_task_default())",
                                func, task->size, sizeof *task);
    return CONTRL_OK;
}

contrl_status contrl_mj_env_from_file(const char *path, const contrl_mj_task *task,
                                      const contrl_allocator *allocator, contrl_env *env)
{
    static const char fn[] = "contrl_mj_env_from_file";
    contrl_allocator a;
    contrl_status st = begin(fn, path, "path", task, allocator, env, &a);
    if (st != CONTRL_OK)
        return st;
    mjModel *m;
    if ((st = contrl_mj__load_file(fn, path, &m)) != CONTRL_OK)
        return st;
    return contrl_mj__env_from_model(fn, m, task, &a, env);
}

contrl_status contrl_mj_env_from_xml(const char *xml, const contrl_mj_task *task,
                                     const contrl_allocator *allocator, contrl_env *env)
{
    static const char fn[] = "contrl_mj_env_from_xml";
    contrl_allocator a;
    contrl_status st = begin(fn, xml, "xml", task, allocator, env, &a);
    if (st != CONTRL_OK)
        return st;
    mjModel *m;
    if ((st = contrl_mj__load_xml(fn, "the XML text", xml, &m)) != CONTRL_OK)
        return st;
    return contrl_mj__env_from_model(fn, m, task, &a, env);
}

static contrl_mj__handle *handle_of(const contrl_env *env)
{
    if (env == NULL || env->destroy != env_destroy || env->user == NULL)
        return NULL;
    contrl_mj__handle *h = env->user;
    return h->magic == CONTRL_MJ__MAGIC ? h : NULL;
}

const struct mjModel_ *contrl_mj_env_model(const contrl_env *env)
{
    contrl_mj__handle *h = handle_of(env);
    return h != NULL ? h->m : NULL;
}

struct mjData_ *contrl_mj_env_data(contrl_env *env)
{
    contrl_mj__handle *h = handle_of(env);
    return h != NULL ? h->d : NULL;
}

uint64_t contrl_mj_env_unstable_count(const contrl_env *env)
{
    contrl_mj__handle *h = handle_of(env);
    return h != NULL ? ((const mj_env *)h)->unstable : 0;
}

static contrl_mj__handle *goal_handle_of(const contrl_goal_env *env)
{
    if (env == NULL || env->user == NULL ||
        (env->destroy != contrl_mj__reach_destroy && env->destroy != contrl_mj__push_destroy))
        return NULL;
    contrl_mj__handle *h = env->user;
    return h->magic == CONTRL_MJ__MAGIC_GOAL ? h : NULL;
}

const struct mjModel_ *contrl_mj_goal_env_model(const contrl_goal_env *env)
{
    contrl_mj__handle *h = goal_handle_of(env);
    return h != NULL ? h->m : NULL;
}

struct mjData_ *contrl_mj_goal_env_data(contrl_goal_env *env)
{
    contrl_mj__handle *h = goal_handle_of(env);
    return h != NULL ? h->d : NULL;
}
