/* lib/agents/update.c - the actor-critic machinery shared by DDPG, TD3 and
 * SAC: building critic inputs, TD targets from target networks, the critic
 * regression step, the deterministic and the reparameterised actor steps,
 * soft target updates. What differs per algorithm is only which pieces run
 * and how the TD target is formed (compute_targets). */
#include <stdio.h>
#include <string.h>

#include "agent_internal.h"
#include "duo.h"
#include "nn.h"
#include "vmath.h"

static const float LOG2 = 0.69314718055994530942f;

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* sa[r] = [obs[r], act[r]] */
static void fill_sa(const contrl_agent *a, const float *obs, const float *act, uint32_t n,
                    float *sa)
{
    const size_t O = a->obs_dim, A = a->act_dim, SA = a->sa_dim;
    /* plain loops: rows are a few floats, and two memcpy calls per row
     * cost more than the copying (3% of a small SAC run) */
    for (uint32_t r = 0; r < n; r++) {
        float *restrict dst = sa + r * SA;
        const float *restrict o = obs + r * O, *restrict x = act + r * A;
        for (size_t i = 0; i < O; i++)
            dst[i] = o[i];
        for (size_t i = 0; i < A; i++)
            dst[O + i] = x[i];
    }
}

/* SAC's policy head on raw actor outputs pi_out [n, 2A] (mean, log std):
 * act = tanh(u), u = mean + std * eps with eps ~ N(0, 1) drawn into
 * a->pi_eps (row by row, one contrl__rng_normals call), std = e^(log std
 * clamped) kept in a->pi_std for the actor step, and
 * logp = log pi(act | s) = sum over i of log N(eps) - log std
 * - log(1 - tanh(u)^2), the last term computed stably by
 * contrl__vtanh_logjac (SAC paper, appendix C). Array passes (lib/core/
 * vmath.h): libm's scalar expf and log1pf per element were 7% of SAC. */
static void sac_sample(contrl_agent *a, const float *pi_out, uint32_t n, float *act, float *logp)
{
    const uint32_t A = a->act_dim;
    const size_t N = (size_t)n * A;
    const float half_log_2pi = 0.91893853320467274178f;
    float *restrict ls = a->pi_ls, *restrict u = a->pi_u, *restrict lj = a->pi_lj;
    const float lo = a->sac.log_std_min, hi = a->sac.log_std_max;
    contrl__rng_normals(&a->rng, a->pi_eps, N);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t i = 0; i < A; i++)
            ls[(size_t)r * A + i] = clampf(pi_out[(size_t)r * 2 * A + A + i], lo, hi);
    contrl__vexp(a->pi_std, ls, N);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t i = 0; i < A; i++) {
            const size_t k = (size_t)r * A + i;
            u[k] = pi_out[(size_t)r * 2 * A + i] + a->pi_std[k] * a->pi_eps[k];
        }
    contrl__vtanh_logjac(act, lj, u, N);
    if (logp == NULL)
        return;
    for (uint32_t r = 0; r < n; r++) {
        float lp = 0.0f;
        for (uint32_t i = 0; i < A; i++) {
            const size_t k = (size_t)r * A + i;
            const float eps = a->pi_eps[k];
            lp += -0.5f * eps * eps - ls[k] - half_log_2pi - lj[k];
        }
        logp[r] = lp;
    }
}

void contrl__agent_policy(contrl_agent *a, const float *obs, uint32_t n, float *act, bool explore)
{
    const uint32_t A = a->act_dim;
    if (a->input_fn != NULL) {
        memcpy(a->in_tmp, obs, (size_t)n * a->obs_dim * sizeof(float));
        a->input_fn(a->hook_ctx, a->in_tmp, n);
        obs = a->in_tmp;
    }
    const size_t total = (size_t)n * A;
    if (a->algo == CONTRL_ALGO_SQL) {
        /* a = f([s, xi]), xi ~ N(0, I) when exploring, 0 otherwise */
        const uint32_t O = a->obs_dim, D = O + A;
        for (uint32_t r = 0; r < n; r++) {
            float *row = a->sql_in + (size_t)r * D;
            memcpy(row, obs + (size_t)r * O, O * sizeof(float));
            for (uint32_t i = 0; i < A; i++)
                row[O + i] = explore ? contrl_rng_normal(&a->rng) : 0.0f;
        }
        contrl_net_predict(a->actor, a->sql_in, n, act);
        return;
    }
    if (a->algo == CONTRL_ALGO_SAC) {
        contrl_net_predict(a->actor, obs, n, a->pi_out);
        if (explore) {
            sac_sample(a, a->pi_out, n, act, NULL);
        } else {
            /* tanh of the means, by the training sample's tanh */
            for (uint32_t r = 0; r < n; r++)
                for (uint32_t i = 0; i < A; i++)
                    a->pi_u[(size_t)r * A + i] = a->pi_out[(size_t)r * 2 * A + i];
            contrl__vtanh(act, a->pi_u, total);
        }
        return;
    }
    contrl_net_predict(a->actor, obs, n, act);
    if (!explore)
        return;
    if (a->algo == CONTRL_ALGO_TD3) {
        for (size_t i = 0; i < total; i++)
            act[i] = clampf(act[i] + a->td3.expl_noise * contrl_rng_normal(&a->rng), -1.0f, 1.0f);
        return;
    }
    /* DDPG: OU noise advances once per row (one process per action dim). */
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t i = 0; i < A; i++) {
            float noise = 0.0f;
            if (a->ddpg.noise == CONTRL_NOISE_OU) {
                a->ou[i] += a->ddpg.ou_theta * (0.0f - a->ou[i]) * a->ddpg.ou_dt +
                            a->ddpg.sigma * sqrtf(a->ddpg.ou_dt) * contrl_rng_normal(&a->rng);
                noise = a->ou[i];
            } else if (a->ddpg.noise == CONTRL_NOISE_GAUSSIAN) {
                noise = a->ddpg.sigma * contrl_rng_normal(&a->rng);
            }
            float *x = &act[(size_t)r * A + i];
            *x = clampf(*x + noise, -1.0f, 1.0f);
        }
}

/* out[r] = min over the given nets of Q(sa[r]) (predict: caches untouched). */
static void min_q(contrl_agent *a, contrl_net *const *nets, uint32_t count, const float *sa,
                  float *out, float *tmp)
{
    contrl_net_predict(nets[0], sa, a->batch, out);
    for (uint32_t k = 1; k < count; k++) {
        contrl_net_predict(nets[k], sa, a->batch, tmp);
        for (uint32_t r = 0; r < a->batch; r++)
            out[r] = tmp[r] < out[r] ? tmp[r] : out[r];
    }
}

static float alpha_of(const contrl_agent *a)
{
    return expf(a->log_alpha);
}

static contrl_status regress_grad_into(contrl_agent *a, contrl_net *net, const float *x,
                                       const float *y, float wd, float *q, float *dq,
                                       float *loss_out, float *mean_out);
static contrl_status step_net(contrl_adam *opt, contrl_net *net, contrl_net *target, float tau);

/* ---- the twin critics' work, one job per critic ---------------------------
 * With a worker thread (contrl_agent_set_threads) critic 0's job runs on the
 * calling thread and critic 1's on the worker; without, both run here in
 * that order. A job writes only its critic's own buffers (q_a/dq/dsa for
 * critic 0, q_b/dq2/dsa2 for critic 1) and the caller combines them in a
 * fixed order, so one and two threads give the same bits. A failing job
 * keeps its message (the worker's last-error buffer is its own). */
enum job_kind {
    JOB_TARGET,      /* q_target[k](sa) -> y (k 0) or q_b (k 1) */
    JOB_REGRESS,     /* critic k's regression gradient toward y */
    JOB_ADAM,        /* critic k's Adam step; with `soft`, then its target's soft update;
                        with `actor_fwd` (critic 0 only), then the actor's forward */
    JOB_FORWARD,     /* q[k](sa) -> q_a / q_b, forward cache kept */
    JOB_BACKWARD_DX, /* d q[k] / d sa from dq / dq2 -> dsa / dsa2, no weight gradient */
};

typedef struct critic_job {
    contrl_agent *a;
    uint32_t k;
    enum job_kind kind;
    bool actor_fwd;      /* JOB_ADAM: also contrl_net_forward(actor, b_obs) */
    bool soft;           /* JOB_ADAM: q_target[k] follows q[k] in the same pass */
    contrl_status st;
    float loss, mean;
    char msg[400];
} critic_job;

static void run_job(void *p)
{
    critic_job *j = p;
    contrl_agent *a = j->a;
    const uint32_t k = j->k, B = a->batch;
    float *q = k == 0 ? a->q_a : a->q_b, *dq = k == 0 ? a->dq : a->dq2;
    j->st = CONTRL_OK;
    switch (j->kind) {
    case JOB_TARGET:
        contrl_net_predict(a->q_target[k], a->sa, B, k == 0 ? a->y : a->q_b);
        break;
    case JOB_REGRESS:
        /* two critics: TD3 and SAC, no weight decay (DDPG's is one critic) */
        j->st = regress_grad_into(a, a->q[k], a->sa, a->y, 0.0f, q, dq, &j->loss, &j->mean);
        break;
    case JOB_ADAM:
        j->st = step_net(a->q_opt[k], a->q[k], j->soft ? a->q_target[k] : NULL, a->cfg.tau);
        if (j->actor_fwd)
            contrl_net_forward(a->actor, a->b_obs, B,
                               a->algo == CONTRL_ALGO_SAC ? a->pi_out : a->pi_act);
        break;
    case JOB_FORWARD:
        contrl_net_forward(a->q[k], a->sa, B, q);
        break;
    case JOB_BACKWARD_DX:
        contrl__net_backward_mode(a->q[k], dq, k == 0 ? a->dsa : a->dsa2, CONTRL__GRADS_NONE);
        break;
    }
    if (j->st != CONTRL_OK)
        snprintf(j->msg, sizeof j->msg, "%s", contrl_last_error());
}

/* Runs `kind` for both critics (worker: critic 1); the first failure's
 * status, re-raised with its message on the calling thread. */
static contrl_status both_critics(contrl_agent *a, enum job_kind kind, critic_job out[2],
                                  bool actor_fwd, bool soft)
{
    for (uint32_t k = 0; k < 2; k++) {
        out[k].a = a;
        out[k].k = k;
        out[k].kind = kind;
        out[k].actor_fwd = k == 0 && actor_fwd; /* cache-local: measured 2.6x slower on the worker */
        out[k].soft = soft;
    }
    contrl__duo_both(a->duo, run_job, &out[0], run_job, &out[1]);
    for (uint32_t k = 0; k < 2; k++)
        if (out[k].st != CONTRL_OK)
            return contrl__fail(out[k].st, "%s", out[k].msg);
    return CONTRL_OK;
}

/* y[r] = min of the two target critics at sa[r] (y is the first's output). */
static void min_q2(contrl_agent *a)
{
    critic_job jobs[2];
    both_critics(a, JOB_TARGET, jobs, false, false);
    for (uint32_t r = 0; r < a->batch; r++)
        a->y[r] = a->q_b[r] < a->y[r] ? a->q_b[r] : a->y[r];
}

/* y = r + gamma (1 - terminated) * next-state value, per algorithm:
 *   DDPG: Q'(s', mu'(s'))
 *   TD3:  min_k Q'_k(s', clip(mu'(s') + clip(N(0, s~), -c, c), -1, 1))
 *   SAC:  min_k Q'_k(s', a') - alpha log pi(a'|s'),  a' ~ pi(s')
 *   SAC v1: V-bar(s') */
static void compute_targets(contrl_agent *a)
{
    const uint32_t B = a->batch, A = a->act_dim;
    float *next_v = a->y;
    switch (a->algo) {
    case CONTRL_ALGO_DDPG:
        contrl_net_predict(a->actor_target, a->b_next, B, a->pi_act);
        fill_sa(a, a->b_next, a->pi_act, B, a->sa);
        min_q(a, a->q_target, 1, a->sa, next_v, a->q_b);
        break;
    case CONTRL_ALGO_TD3:
        contrl_net_predict(a->actor_target, a->b_next, B, a->pi_act);
        contrl__rng_normals(&a->rng, a->pi_eps, (size_t)B * A);
        for (size_t i = 0; i < (size_t)B * A; i++) {
            float noise = clampf(a->td3.target_noise * a->pi_eps[i], -a->td3.target_noise_clip,
                                 a->td3.target_noise_clip);
            a->pi_act[i] = clampf(a->pi_act[i] + noise, -1.0f, 1.0f);
        }
        fill_sa(a, a->b_next, a->pi_act, B, a->sa);
        min_q2(a);
        break;
    case CONTRL_ALGO_SQL: /* sql_update computes its own targets */
        break;
    case CONTRL_ALGO_SAC:
        if (a->sac.value_net) {
            contrl_net_predict(a->v_target, a->b_next, B, next_v);
        } else {
            contrl_net_predict(a->actor, a->b_next, B, a->pi_out);
            sac_sample(a, a->pi_out, B, a->pi_act, a->logp);
            fill_sa(a, a->b_next, a->pi_act, B, a->sa);
            min_q2(a);
            const float alpha = alpha_of(a);
            for (uint32_t r = 0; r < B; r++)
                next_v[r] -= alpha * a->logp[r];
        }
        break;
    }
    for (uint32_t r = 0; r < B; r++)
        a->y[r] = a->b_rew[r] + a->cfg.gamma * (1.0f - a->b_term[r]) * next_v[r];
}

/* L2 weight decay on a net's weights (not biases), added to its gradient. */
static void add_weight_decay(contrl_net *net, float wd)
{
    float *g = contrl__net_grads_mut(net);
    const float *p = contrl_net_params(net);
    for (uint32_t l = 0; l < contrl_net_layer_count(net); l++) {
        contrl_net_layer_info info;
        contrl_net_layer(net, l, &info);
        size_t n = (size_t)info.in * info.out;
        for (size_t i = 0; i < n; i++)
            g[info.weight_offset + i] += wd * p[info.weight_offset + i];
    }
}

/* Gradient of the regression of `net` toward targets y on inputs x,
 * loss = mean (net(x) - y)^2 (plus L2 weight decay wd on its weights),
 * left in the net's gradient. Parameters are not touched. NUMERIC if the
 * loss or the gradient is not finite. */
static contrl_status regress_grad_into(contrl_agent *a, contrl_net *net, const float *x,
                                       const float *y, float wd, float *q, float *dq,
                                       float *loss_out, float *mean_out)
{
    const uint32_t B = a->batch;
    contrl_net_forward(net, x, B, q);
    double loss = 0.0, mean = 0.0;
    for (uint32_t r = 0; r < B; r++) {
        float err = q[r] - y[r];
        loss += (double)err * err;
        mean += q[r];
        dq[r] = 2.0f * err / (float)B;
    }
    loss /= B;
    contrl__net_backward_mode(net, dq, NULL, CONTRL__GRADS_SET);
    if (wd > 0.0f)
        add_weight_decay(net, wd);
    if (!isfinite(loss) || !contrl__all_finite(contrl_net_grads(net), contrl_net_param_count(net)))
        return contrl__fail(CONTRL_ERR_NUMERIC,
                            "contrl_agent_update: a regression loss or gradient is not finite; "
                            "every net keeps its parameters from the last good step");
    *loss_out = (float)loss;
    if (mean_out != NULL)
        *mean_out = (float)(mean / B);
    return CONTRL_OK;
}

static contrl_status regress_grad(contrl_agent *a, contrl_net *net, const float *x, const float *y,
                                  float wd, float *loss_out, float *mean_out)
{
    return regress_grad_into(a, net, x, y, wd, a->q_a, a->dq, loss_out, mean_out);
}

/* Adam step whose failure message names the agent call; with a target
 * (not NULL), its soft update toward the new parameters in the same pass. */
static contrl_status step_net(contrl_adam *opt, contrl_net *net, contrl_net *target, float tau)
{
    contrl_status st = contrl__adam_step_soft(opt, net, target, tau);
    if (st != CONTRL_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "contrl_agent_update: %s", msg);
    }
    return CONTRL_OK;
}

/* DDPG / TD3 actor: maximise Q_1(s, mu(s)) -> dL/da = -dQ/da / B. With
 * `have_fwd` the actor's forward on b_obs into pi_act is already done. */
static contrl_status actor_step_deterministic(contrl_agent *a, bool have_fwd)
{
    const uint32_t B = a->batch, A = a->act_dim, O = a->obs_dim, SA = a->sa_dim;
    if (!have_fwd)
        contrl_net_forward(a->actor, a->b_obs, B, a->pi_act);
    fill_sa(a, a->b_obs, a->pi_act, B, a->sa);
    contrl_net_forward(a->q[0], a->sa, B, a->q_a);
    double loss = 0.0;
    for (uint32_t r = 0; r < B; r++) {
        loss -= a->q_a[r];
        a->dq[r] = -1.0f / (float)B;
    }
    loss /= B;
    if (!isfinite(loss))
        return contrl__fail(CONTRL_ERR_NUMERIC, "contrl_agent_update: actor loss is not finite");
    contrl__net_backward_mode(a->q[0], a->dq, a->dsa, CONTRL__GRADS_NONE);
    for (uint32_t r = 0; r < B; r++)
        memcpy(a->d_pi + (size_t)r * A, a->dsa + (size_t)r * SA + O, A * sizeof(float));
    contrl__net_backward_mode(a->actor, a->d_pi, NULL, CONTRL__GRADS_SET);
    /* the target actor follows in the same pass */
    contrl_status st = step_net(a->actor_opt, a->actor, a->actor_target, a->cfg.tau);
    if (st == CONTRL_OK)
        a->stats.actor_loss = (float)loss;
    return st;
}

/* SAC actor (reparameterised): L = mean(alpha log pi(a|s) - min_k Q_k(s, a)),
 * a = tanh(u), u = mean + std * eps. With g = dQmin/da:
 *   dL/du    = (alpha * 2a - g (1 - a^2)) / B
 *   dL/dmean = dL/du
 *   dL/dlogstd = (-alpha + dL/du * B * std * eps) / B, 0 where clamped.
 * Also leaves min Q - alpha log pi in a->y for the value network (v1), and
 * steps alpha toward the target entropy when auto_alpha is on. */
static contrl_status actor_step_sac(contrl_agent *a, bool have_fwd)
{
    const uint32_t B = a->batch, A = a->act_dim, O = a->obs_dim, SA = a->sa_dim;
    const float alpha = alpha_of(a);
    critic_job jobs[2];
    if (!have_fwd)
        contrl_net_forward(a->actor, a->b_obs, B, a->pi_out);
    sac_sample(a, a->pi_out, B, a->pi_act, a->logp);
    fill_sa(a, a->b_obs, a->pi_act, B, a->sa);
    both_critics(a, JOB_FORWARD, jobs, false, false);
    double loss = 0.0, logp_sum = 0.0;
    for (uint32_t r = 0; r < B; r++) {
        bool first = a->q_a[r] <= a->q_b[r];
        float qmin = first ? a->q_a[r] : a->q_b[r];
        loss += (double)alpha * a->logp[r] - qmin;
        logp_sum += a->logp[r];
        a->y[r] = qmin - alpha * a->logp[r];
        /* dq routes -1/B to whichever critic is the minimum for this row. */
        a->dq[r] = first ? -1.0f / (float)B : 0.0f;
        a->dq2[r] = first ? 0.0f : -1.0f / (float)B;
    }
    loss /= B;
    if (!isfinite(loss))
        return contrl__fail(CONTRL_ERR_NUMERIC, "contrl_agent_update: actor loss is not finite");
    both_critics(a, JOB_BACKWARD_DX, jobs, false, false);
    for (uint32_t r = 0; r < B; r++)
        for (uint32_t i = 0; i < A; i++) {
            const size_t k = (size_t)r * A + i;
            /* dsa holds -g/B (the loss is -Q); sum the two critics' parts. */
            float g_over_b = -(a->dsa[(size_t)r * SA + O + i] + a->dsa2[(size_t)r * SA + O + i]);
            float act = a->pi_act[k];
            float dl_du = alpha * 2.0f * act / (float)B - g_over_b * (1.0f - act * act);
            const float *raw = a->pi_out + (size_t)r * 2 * A + A;
            float *d = a->d_pi + (size_t)r * 2 * A;
            d[i] = dl_du;
            bool clamped = raw[i] < a->sac.log_std_min || raw[i] > a->sac.log_std_max;
            d[A + i] = clamped ? 0.0f : -alpha / (float)B + dl_du * a->pi_std[k] * a->pi_eps[k];
        }
    contrl__net_backward_mode(a->actor, a->d_pi, NULL, CONTRL__GRADS_SET);
    contrl_status st = step_net(a->actor_opt, a->actor, NULL, 0.0f);
    if (st != CONTRL_OK)
        return st;
    a->stats.actor_loss = (float)loss;
    a->stats.entropy = (float)(-logp_sum / B);
    if (a->sac.auto_alpha) {
        /* L(log alpha) = -log alpha * mean(log pi + target entropy) */
        float g = (float)(-(logp_sum / B + a->target_entropy));
        /* Adam with contrl_adam's defaults, in the same expressions as lib/nn/adam.c. */
        const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        contrl__scalar_adam *s = &a->alpha_opt;
        s->t++;
        s->m = b1 * s->m + (1.0f - b1) * g;
        s->v = b2 * s->v + (1.0f - b2) * (g * g);
        double bc1 = 1.0 - pow(b1, (double)s->t), bc2 = 1.0 - pow(b2, (double)s->t);
        a->log_alpha -= (float)(a->sac.alpha_lr / bc1) * (s->m / (sqrtf(s->v) / (float)sqrt(bc2) + eps));
    }
    a->stats.alpha = alpha_of(a);
    return CONTRL_OK;
}


/* Lower median of n values (n small): insertion sort of a copy. */
static float lower_median(float *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        float x = v[i];
        uint32_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return v[(n - 1) / 2];
}

/* Soft Q-learning, one gradient step on the sampled minibatch (Haarnoja et
 * al. 2017): the soft Bellman regression with the importance-sampled soft
 * value (eq. 10-11), then Stein variational gradient descent on the
 * sampling network (eq. 13-14) with an RBF kernel whose bandwidth is the
 * median squared distance over log(K_fixed). */
static contrl_status sql_update(contrl_agent *a)
{
    const uint32_t B = a->batch, O = a->obs_dim, A = a->act_dim, SA = a->sa_dim, D = O + A;
    const uint32_t M = a->sql.value_particles, K = a->sql.kernel_particles;
    const uint32_t Kf = a->sql_fixed, Ku = a->sql_updated;
    contrl_status st;

    /* Soft value of s' from M uniform actions (importance weights 2^A). */
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t j = 0; j < M; j++) {
            float *row = a->sql_sa + ((size_t)b * M + j) * SA;
            memcpy(row, a->b_next + (size_t)b * O, O * sizeof(float));
            for (uint32_t i = 0; i < A; i++)
                row[O + i] = 2.0f * contrl_rng_uniform(&a->rng) - 1.0f;
        }
    contrl_net_predict(a->q_target[0], a->sql_sa, B * M, a->sql_q);
    const float log_m = logf((float)M), a_log2 = (float)A * LOG2;
    for (uint32_t b = 0; b < B; b++) {
        const float *q = a->sql_q + (size_t)b * M;
        float mx = q[0];
        for (uint32_t j = 1; j < M; j++)
            mx = q[j] > mx ? q[j] : mx;
        double sum = 0.0;
        for (uint32_t j = 0; j < M; j++)
            sum += exp((double)(q[j] - mx));
        float v = mx + (float)log(sum) - log_m + a_log2;
        a->y[b] = a->sql.reward_scale * a->b_rew[b] + a->cfg.gamma * (1.0f - a->b_term[b]) * v;
    }

    fill_sa(a, a->b_obs, a->b_act, B, a->sa);
    float loss, mean_q;
    if ((st = regress_grad(a, a->q[0], a->sa, a->y, 0.0f, &loss, &mean_q)) != CONTRL_OK ||
        (st = step_net(a->q_opt[0], a->q[0], NULL, 0.0f)) != CONTRL_OK)
        return st;
    a->stats.critic_loss = loss;
    a->stats.mean_q = mean_q;
    a->updates++;

    /* K particles per state from the sampling network. */
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t k = 0; k < K; k++) {
            float *row = a->sql_in + ((size_t)b * K + k) * D;
            memcpy(row, a->b_obs + (size_t)b * O, O * sizeof(float));
            for (uint32_t i = 0; i < A; i++)
                row[O + i] = contrl_rng_normal(&a->rng);
        }
    contrl_net_forward(a->actor, a->sql_in, B * K, a->sql_act);
    /* grad log p at the fixed particles: dQ/da + d/da sum log(1 - a^2 + eps) */
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t j = 0; j < Kf; j++) {
            float *row = a->sql_sa + ((size_t)b * Kf + j) * SA;
            memcpy(row, a->b_obs + (size_t)b * O, O * sizeof(float));
            memcpy(row + O, a->sql_act + ((size_t)b * K + j) * A, A * sizeof(float));
        }
    contrl_net_forward(a->q[0], a->sql_sa, B * Kf, a->sql_q);
    contrl__net_backward_mode(a->q[0], a->sql_ones, a->sql_dsa, CONTRL__GRADS_NONE);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t j = 0; j < Kf; j++)
            for (uint32_t i = 0; i < A; i++) {
                float x = a->sql_act[((size_t)b * K + j) * A + i];
                a->sql_glp[((size_t)b * Kf + j) * A + i] =
                    a->sql_dsa[((size_t)b * Kf + j) * SA + O + i] - 2.0f * x / (1.0f - x * x + 1e-6f);
            }
    /* Stein variational gradient for the updated particles. */
    memset(a->sql_dout, 0, (size_t)B * K * A * sizeof(float));
    const float inv_log_kf = 1.0f / logf((float)Kf + (Kf == 1 ? 1.0f : 0.0f));
    /* Kf * Ku <= 32 * 32: kernel_particles is at most 64. */
    float d2s[1024], sorted[1024];
    for (uint32_t b = 0; b < B; b++) {
        const float *fixed = a->sql_act + (size_t)b * K * A, *upd = fixed + (size_t)Kf * A;
        for (uint32_t j = 0; j < Kf; j++)
            for (uint32_t i = 0; i < Ku; i++) {
                float d2 = 0.0f;
                for (uint32_t c = 0; c < A; c++) {
                    float diff = fixed[j * A + c] - upd[i * A + c];
                    d2 += diff * diff;
                }
                d2s[j * Ku + i] = d2;
            }
        memcpy(sorted, d2s, (size_t)Kf * Ku * sizeof(float));
        float h = lower_median(sorted, Kf * Ku) * inv_log_kf;
        if (!(h > 1e-12f))
            h = 1e-12f;
        for (uint32_t i = 0; i < Ku; i++) {
            float *out = a->sql_dout + ((size_t)b * K + Kf + i) * A;
            for (uint32_t j = 0; j < Kf; j++) {
                float kappa = expf(-d2s[j * Ku + i] / h);
                const float *glp = a->sql_glp + ((size_t)b * Kf + j) * A;
                for (uint32_t c = 0; c < A; c++) {
                    float diff = fixed[j * A + c] - upd[i * A + c];
                    float phi = kappa * glp[c] - 2.0f * diff / h * kappa;
                    /* ascend along phi: dL/da = -phi, averaged over j and the batch */
                    out[c] -= phi / ((float)Kf * (float)B);
                }
            }
        }
    }
    contrl__net_backward_mode(a->actor, a->sql_dout, NULL, CONTRL__GRADS_SET);
    if ((st = step_net(a->actor_opt, a->actor, NULL, 0.0f)) != CONTRL_OK)
        return st;
    a->stats.actor_loss = NAN;
    if (a->updates % a->sql.target_update_interval == 0)
        contrl_net_copy_params(a->q_target[0], a->q[0]);
    return CONTRL_OK;
}

contrl_status contrl__agent_update_step(contrl_agent *a)
{
    contrl_status st =
        a->sample_fn != NULL
            ? a->sample_fn(a->hook_ctx, a->batch, a->b_obs, a->b_act, a->b_rew, a->b_next, a->b_term)
            : contrl_buffer_sample(a->buffer, a->batch, a->b_obs, a->b_act, a->b_rew, a->b_next,
                                   a->b_term, NULL);
    if (st != CONTRL_OK)
        return st;
    if (a->input_fn != NULL) {
        a->input_fn(a->hook_ctx, a->b_obs, a->batch);
        a->input_fn(a->hook_ctx, a->b_next, a->batch);
    }
    if (a->algo == CONTRL_ALGO_SQL)
        return sql_update(a);
    /* The actor's forward on b_obs does not depend on the critics (nor on
     * the RNG): with two critics it runs here next to critic 0's Adam step,
     * while the worker takes critic 1's; or, when the worker is still
     * stepping the env (learn's overlap_env), right after the targets,
     * filling the wait for it (Ant: the env step takes longer than the
     * target actor's pass). Same bits either way. */
    bool actor_due = true, have_fwd = false;
    if (a->algo == CONTRL_ALGO_TD3)
        actor_due = (a->updates + 1) % a->td3.policy_delay == 0;
    const bool fwd_early = a->n_critics == 2 && actor_due && a->duo != NULL &&
                           !contrl__duo_idle(a->duo);
    compute_targets(a);
    if (fwd_early)
        contrl_net_forward(a->actor, a->b_obs, a->batch,
                           a->algo == CONTRL_ALGO_SAC ? a->pi_out : a->pi_act);

    /* Critics regress to y: every gradient first, then every step, so a
     * non-finite result leaves all of them as they were. */
    const float wd = a->algo == CONTRL_ALGO_DDPG ? a->ddpg.critic_weight_decay : 0.0f;
    fill_sa(a, a->b_obs, a->b_act, a->batch, a->sa);
    float loss_sum = 0.0f, loss = 0.0f, mean_q = 0.0f;
    if (a->n_critics == 2) {
        critic_job jobs[2];
        if ((st = both_critics(a, JOB_REGRESS, jobs, false, false)) != CONTRL_OK)
            return st;
        loss_sum = jobs[0].loss + jobs[1].loss;
        mean_q = jobs[0].mean;
        have_fwd = actor_due;
        /* Critic targets move right after their critics' steps (TD3: on the
         * updates that step the actor); nothing after this reads them, so
         * this is the order of the papers' algorithms in effect. */
        const bool soft = actor_due;
        if ((st = both_critics(a, JOB_ADAM, jobs, have_fwd && !fwd_early, soft)) != CONTRL_OK)
            return st;
    } else {
        if ((st = regress_grad(a, a->q[0], a->sa, a->y, wd, &loss, &mean_q)) != CONTRL_OK ||
            (st = step_net(a->q_opt[0], a->q[0], NULL, 0.0f)) != CONTRL_OK)
            return st;
        loss_sum = loss;
    }
    a->stats.critic_loss = loss_sum / (float)a->n_critics;
    a->stats.mean_q = mean_q;
    a->updates++;

    const float tau = a->cfg.tau;
    switch (a->algo) {
    case CONTRL_ALGO_DDPG:
    case CONTRL_ALGO_TD3:
        /* TD3: actor and targets every policy_delay critic updates. */
        if (!actor_due)
            return CONTRL_OK;
        if ((st = actor_step_deterministic(a, have_fwd)) != CONTRL_OK)
            return st; /* the target actor moved with its Adam step */
        if (a->n_critics == 2)
            return CONTRL_OK; /* their targets moved with their Adam steps */
        return contrl_net_soft_update(a->q_target[0], a->q[0], tau); /* DDPG */
    case CONTRL_ALGO_SAC:
        if ((st = actor_step_sac(a, have_fwd)) != CONTRL_OK)
            return st;
        if (a->sac.value_net) {
            /* V(s) -> min_k Q_k(s, a~pi) - alpha log pi (a->y from the actor step) */
            float vloss;
            st = regress_grad(a, a->v, a->b_obs, a->y, 0.0f, &vloss, NULL);
            if (st == CONTRL_OK)
                st = step_net(a->v_opt, a->v, a->v_target, tau);
            if (st != CONTRL_OK)
                return st;
            a->stats.value_loss = vloss;
            return CONTRL_OK;
        }
        return CONTRL_OK; /* the critics' targets moved with their Adam steps */
    case CONTRL_ALGO_SQL:
        return CONTRL_OK; /* handled by sql_update */
    }
    return CONTRL_OK;
}
