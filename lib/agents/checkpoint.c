/* lib/agents/checkpoint.c - saving and loading whole agents as safetensors.
 *
 * Nets are stored per layer as PyTorch's nn.Sequential of nn.Linear layers
 * would hold them ("actor.0.weight" [out, in], "actor.0.bias" [out],
 * "actor.2.weight", ... - activations take the odd indices), Adam's moments
 * likewise ("optim.actor.0.weight.exp_avg", ".exp_avg_sq"), and the config
 * as metadata strings. docs/checkpoint-format.md lists every name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "../io/safetensors.h"

enum { MAX_TENSORS = 512, MAX_META = 96, NAME_LEN = 72, MAX_PIECES = 80 };

#define FORMAT_NAME "contrl-agent-1"

struct contrl__ckpt {
    const contrl_allocator *alloc;
    contrl__tensor t[MAX_TENSORS];
    char names[MAX_TENSORS][NAME_LEN];
    size_t n;
    contrl__meta m[MAX_META];
    char keys[MAX_META][40];
    char values[MAX_META][512];
    size_t nm;
    void *pieces[MAX_PIECES];
    size_t piece_sizes[MAX_PIECES];
    size_t n_pieces;
    bool failed;
};
typedef struct contrl__ckpt builder;

static void *scratch(builder *b, size_t bytes)
{
    if (b->n_pieces == MAX_PIECES) {
        b->failed = true;
        return NULL;
    }
    void *p = contrl__alloc(b->alloc, bytes ? bytes : 1);
    if (p == NULL) {
        b->failed = true;
        return NULL;
    }
    b->pieces[b->n_pieces] = p;
    b->piece_sizes[b->n_pieces++] = bytes ? bytes : 1;
    return p;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n_pieces; i++)
        contrl__free(b->alloc, b->pieces[i], b->piece_sizes[i]);
    b->n_pieces = 0;
}

static void put(builder *b, contrl__dtype dt, const void *data, uint32_t ndim, uint64_t d0,
                uint64_t d1, const char *fmt, ...) CONTRL__PRINTF(7, 8);

static void put(builder *b, contrl__dtype dt, const void *data, uint32_t ndim, uint64_t d0,
                uint64_t d1, const char *fmt, ...)
{
    if (b->n == MAX_TENSORS) {
        b->failed = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->names[b->n], NAME_LEN, fmt, ap);
    va_end(ap);
    contrl__tensor *t = &b->t[b->n];
    t->name = b->names[b->n];
    t->dtype = dt;
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->data = data;
    b->n++;
}

static void meta(builder *b, const char *key, const char *fmt, ...) CONTRL__PRINTF(3, 4);
static void meta(builder *b, const char *key, const char *fmt, ...)
{
    if (b->nm == MAX_META) {
        b->failed = true;
        return;
    }
    snprintf(b->keys[b->nm], sizeof b->keys[0], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(b->values[b->nm], sizeof b->values[0], fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof b->values[0])
        b->failed = true;
    b->m[b->nm].key = b->keys[b->nm];
    b->m[b->nm].value = b->values[b->nm];
    b->nm++;
}

/* Shortest decimal that reads back as the same float ("0.0003", not
 * "0.000300000014"). */
static void fmt_float(char *buf, size_t size, float x)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x)
            return;
    }
}

static void meta_f(builder *b, const char *key, float x)
{
    char buf[32];
    fmt_float(buf, sizeof buf, x);
    meta(b, key, "%s", buf);
}

static void meta_floats(builder *b, const char *key, const float *v, uint32_t n)
{
    char buf[512];
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && off < sizeof buf; i++)
    {
        char num[32];
        fmt_float(num, sizeof num, v[i]);
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "", num);
    }
    if (off >= sizeof buf)
        b->failed = true;
    meta(b, key, "%s", buf);
}

/* Layer l of a net-shaped flat array (params, or Adam moments of them) as
 * "<prefix>.<2l>.weight" [out, in] and "<prefix>.<2l>.bias" [out]. */
static void put_net_shaped(builder *b, const contrl_net *net, const float *flat, const char *prefix,
                           const char *suffix)
{
    for (uint32_t l = 0; l < contrl_net_layer_count(net); l++) {
        contrl_net_layer_info li;
        contrl_net_layer(net, l, &li);
        float *w = scratch(b, (size_t)li.in * li.out * sizeof(float));
        if (w == NULL)
            return;
        for (uint32_t i = 0; i < li.in; i++)
            for (uint32_t o = 0; o < li.out; o++)
                w[(size_t)o * li.in + i] = flat[li.weight_offset + (size_t)i * li.out + o];
        put(b, CONTRL__DT_F32, w, 2, li.out, li.in, "%s.%u.weight%s", prefix, 2 * l, suffix);
        put(b, CONTRL__DT_F32, flat + li.bias_offset, 1, li.out, 0, "%s.%u.bias%s", prefix, 2 * l,
            suffix);
    }
}

static void put_net(builder *b, const contrl_net *net, contrl_adam *opt, const char *name)
{
    if (net == NULL)
        return;
    put_net_shaped(b, net, contrl_net_params(net), name, "");
    char shape[256];
    size_t off = (size_t)snprintf(shape, sizeof shape, "%u", contrl_net_in(net));
    for (uint32_t l = 0; l < contrl_net_layer_count(net) && off < sizeof shape; l++) {
        contrl_net_layer_info li;
        contrl_net_layer(net, l, &li);
        off += (size_t)snprintf(shape + off, sizeof shape - off, ",%u", li.out);
    }
    char key[40];
    snprintf(key, sizeof key, "net.%s", name);
    meta(b, key, "%s", shape);
    if (opt == NULL)
        return;
    size_t n = contrl_net_param_count(net);
    float *m = scratch(b, n * sizeof(float)), *v = scratch(b, n * sizeof(float));
    uint64_t *steps = scratch(b, sizeof(uint64_t));
    if (m == NULL || v == NULL || steps == NULL)
        return;
    contrl_adam_get_state(opt, m, v, n, steps);
    char prefix[48];
    snprintf(prefix, sizeof prefix, "optim.%s", name);
    put_net_shaped(b, net, m, prefix, ".exp_avg");
    put_net_shaped(b, net, v, prefix, ".exp_avg_sq");
    put(b, CONTRL__DT_U64, steps, 0, 0, 0, "optim.%s.step", name);
}

static void put_rng(builder *b, const contrl_rng *rng, const char *prefix)
{
    uint64_t *s = scratch(b, 4 * sizeof(uint64_t));
    float *spare = scratch(b, 2 * sizeof(float));
    if (s == NULL || spare == NULL)
        return;
    memcpy(s, rng->s, sizeof rng->s);
    spare[0] = rng->spare;
    spare[1] = rng->has_spare ? 1.0f : 0.0f;
    put(b, CONTRL__DT_U64, s, 1, 4, 0, "%s.rng.state", prefix);
    put(b, CONTRL__DT_F32, spare, 1, 2, 0, "%s.rng.spare", prefix);
}

static const char *act_name(contrl_activation a)
{
    switch (a) {
    case CONTRL_ACT_IDENTITY: return "identity";
    case CONTRL_ACT_RELU: return "relu";
    case CONTRL_ACT_TANH: return "tanh";
    case CONTRL_ACT_SIGMOID: return "sigmoid";
    }
    return "?";
}

static void put_config(builder *b, const contrl_agent *a)
{
    const contrl_agent_config *c = &a->cfg;
    meta(b, "format", FORMAT_NAME);
    meta(b, "contrl_version", "%s", CONTRL_VERSION_STRING);
    meta(b, "algorithm", "%s", contrl_algo_name(a->algo));
    meta(b, "env", "%s", a->env_name);
    meta(b, "obs_dim", "%u", c->obs_dim);
    meta(b, "action_dim", "%u", c->action_dim);
    meta_floats(b, "action_low", a->low, a->act_dim);
    meta_floats(b, "action_high", a->high, a->act_dim);
    char hid[256];
    size_t off = 0;
    hid[0] = '\0';
    for (uint32_t i = 0; i < c->n_hidden; i++)
        off += (size_t)snprintf(hid + off, sizeof hid - off, "%s%u", i ? "," : "", c->hidden[i]);
    meta(b, "hidden", "%s", hid);
    meta(b, "hidden_act", "%s", act_name(c->hidden_act));
    meta_f(b, "actor_lr", c->actor_lr);
    meta_f(b, "critic_lr", c->critic_lr);
    meta_f(b, "gamma", c->gamma);
    meta_f(b, "tau", c->tau);
    meta(b, "batch_size", "%u", c->batch_size);
    meta(b, "buffer_capacity", "%llu", (unsigned long long)c->buffer_capacity);
    meta(b, "learning_starts", "%llu", (unsigned long long)c->learning_starts);
    meta(b, "train_freq", "%u", c->train_freq);
    meta(b, "gradient_steps", "%u", c->gradient_steps);
    meta_f(b, "max_grad_norm", c->max_grad_norm);
    meta(b, "seed", "%llu", (unsigned long long)c->seed);
    meta(b, "kernels", "%d", (int)c->kernels);
    switch (a->algo) {
    case CONTRL_ALGO_DDPG:
        meta(b, "ddpg.noise", "%d", (int)a->ddpg.noise);
        meta_f(b, "ddpg.sigma", a->ddpg.sigma);
        meta_f(b, "ddpg.ou_theta", a->ddpg.ou_theta);
        meta_f(b, "ddpg.ou_dt", a->ddpg.ou_dt);
        meta_f(b, "ddpg.out_init_range", a->ddpg.out_init_range);
        meta_f(b, "ddpg.critic_weight_decay", a->ddpg.critic_weight_decay);
        break;
    case CONTRL_ALGO_TD3:
        meta(b, "td3.policy_delay", "%u", a->td3.policy_delay);
        meta_f(b, "td3.target_noise", a->td3.target_noise);
        meta_f(b, "td3.target_noise_clip", a->td3.target_noise_clip);
        meta_f(b, "td3.expl_noise", a->td3.expl_noise);
        break;
    case CONTRL_ALGO_SAC:
        meta(b, "sac.auto_alpha", "%d", a->sac.auto_alpha ? 1 : 0);
        meta_f(b, "sac.init_alpha", a->sac.init_alpha);
        meta_f(b, "sac.alpha_lr", a->sac.alpha_lr);
        meta_f(b, "sac.target_entropy", a->target_entropy);
        meta(b, "sac.value_net", "%d", a->sac.value_net ? 1 : 0);
        meta_f(b, "sac.log_std_min", a->sac.log_std_min);
        meta_f(b, "sac.log_std_max", a->sac.log_std_max);
        break;
    case CONTRL_ALGO_SQL:
        meta(b, "sql.value_particles", "%u", a->sql.value_particles);
        meta(b, "sql.kernel_particles", "%u", a->sql.kernel_particles);
        meta_f(b, "sql.kernel_update_ratio", a->sql.kernel_update_ratio);
        meta_f(b, "sql.reward_scale", a->sql.reward_scale);
        meta(b, "sql.target_update_interval", "%u", a->sql.target_update_interval);
        break;
    }
}

static void put_buffer(builder *b, const contrl_agent *a)
{
    const uint64_t n = contrl_buffer_size(a->buffer);
    const size_t O = a->obs_dim, A = a->act_dim;
    meta(b, "buffer_size", "%llu", (unsigned long long)n);
    float *obs = scratch(b, n * O * sizeof(float)), *act = scratch(b, n * A * sizeof(float));
    float *rew = scratch(b, n * sizeof(float)), *next = scratch(b, n * O * sizeof(float));
    uint8_t *term = scratch(b, n), *trunc = scratch(b, n);
    if (b->failed)
        return;
    for (uint64_t i = 0; i < n; i++) {
        bool te, tr;
        contrl_buffer_get(a->buffer, i, obs + i * O, act + i * A, rew + i, next + i * O, &te, &tr);
        term[i] = te;
        trunc[i] = tr;
    }
    put(b, CONTRL__DT_F32, obs, 2, n, O, "buffer.obs");
    put(b, CONTRL__DT_F32, act, 2, n, A, "buffer.action");
    put(b, CONTRL__DT_F32, rew, 1, n, 0, "buffer.reward");
    put(b, CONTRL__DT_F32, next, 2, n, O, "buffer.next_obs");
    put(b, CONTRL__DT_U8, term, 1, n, 0, "buffer.terminated");
    put(b, CONTRL__DT_U8, trunc, 1, n, 0, "buffer.truncated");
    contrl_rng rng;
    contrl_buffer_get_rng(a->buffer, &rng);
    put_rng(b, &rng, "buffer");
}

/* ---- what wrappers (HER) add to an agent's checkpoint ------------------- */

void contrl__ckpt_put(contrl__ckpt *b, contrl__dtype dt, const void *data, uint32_t ndim,
                      const uint64_t *shape, const char *name)
{
    put(b, dt, data, ndim > 0 ? ndim : 0, ndim > 0 ? shape[0] : 0, ndim > 1 ? shape[1] : 0, "%s",
        name);
    if (!b->failed && ndim > 2) {
        contrl__tensor *t = &b->t[b->n - 1];
        for (uint32_t i = 2; i < ndim && i < CONTRL__ST_MAX_DIMS; i++)
            t->shape[i] = shape[i];
        t->ndim = ndim;
    }
}

void contrl__ckpt_meta(contrl__ckpt *b, const char *key, const char *value)
{
    meta(b, key, "%s", value);
}

void *contrl__ckpt_scratch(contrl__ckpt *b, size_t bytes)
{
    return scratch(b, bytes);
}

contrl_status contrl_agent_save(contrl_agent *a, const char *path, unsigned flags)
{
    return contrl__agent_save_ex(a, path, flags, NULL, NULL, "contrl_agent_save");
}

contrl_status contrl__agent_save_ex(contrl_agent *a, const char *path, unsigned flags,
                                    void (*extra)(contrl__ckpt *, void *), void *ctx,
                                    const char *fn)
{
    if (a == NULL || path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            a == NULL ? "agent" : "path");
    if ((flags & ~CONTRL_SAVE_BUFFER) != 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown flags 0x%x", fn, flags);
    builder *b = contrl__alloc(&a->alloc, sizeof *b);
    if (b == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: out of memory", fn);
    memset(b, 0, sizeof *b);
    b->alloc = &a->alloc;

    put_config(b, a);
    put_net(b, a->actor, a->actor_opt, "actor");
    put_net(b, a->actor_target, NULL, "actor_target");
    static const char *qn[2] = {"critic1", "critic2"}, *qtn[2] = {"critic1_target", "critic2_target"};
    for (uint32_t k = 0; k < a->n_critics; k++) {
        put_net(b, a->q[k], a->q_opt[k], qn[k]);
        put_net(b, a->q_target[k], NULL, qtn[k]);
    }
    put_net(b, a->v, a->v_opt, "value");
    put_net(b, a->v_target, NULL, "value_target");
    if (a->algo == CONTRL_ALGO_SAC) {
        float *sac = scratch(b, 3 * sizeof(float));
        uint64_t *t = scratch(b, sizeof(uint64_t));
        if (sac != NULL && t != NULL) {
            sac[0] = a->log_alpha;
            sac[1] = a->alpha_opt.m;
            sac[2] = a->alpha_opt.v;
            *t = a->alpha_opt.t;
            put(b, CONTRL__DT_F32, sac, 0, 0, 0, "sac.log_alpha");
            put(b, CONTRL__DT_F32, sac + 1, 1, 2, 0, "optim.log_alpha.exp_avg_and_sq");
            put(b, CONTRL__DT_U64, t, 0, 0, 0, "optim.log_alpha.step");
        }
    }
    uint64_t *counters = scratch(b, 2 * sizeof(uint64_t));
    if (counters != NULL) {
        counters[0] = a->steps;
        counters[1] = a->updates;
        put(b, CONTRL__DT_U64, counters, 1, 2, 0, "agent.counters");
    }
    put(b, CONTRL__DT_F32, a->ou, 1, a->act_dim, 0, "agent.ou_noise");
    put_rng(b, &a->rng, "agent");
    if (flags & CONTRL_SAVE_BUFFER)
        put_buffer(b, a);
    meta(b, "buffer_saved", "%d", (flags & CONTRL_SAVE_BUFFER) ? 1 : 0);
    if (extra != NULL)
        extra(b, ctx);

    contrl_status st;
    if (b->failed)
        st = contrl__fail(CONTRL_ERR_NOMEM, "%s: out of memory or too many tensors", fn);
    else
        st = contrl__st_save(path, b->t, b->n, b->m, b->nm, &a->alloc);
    builder_free(b);
    contrl_allocator al = a->alloc;
    contrl__free(&al, b, sizeof *b);
    return st;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct loader {
    const contrl__st_file *f;
    const char *path;
    char what[160]; /* first problem found */
    bool bad;
    bool nomem; /* the problem is an allocation failure, not the file */
} loader;

static void problem(loader *l, const char *fmt, ...) CONTRL__PRINTF(2, 3);
static void problem(loader *l, const char *fmt, ...)
{
    if (l->bad)
        return;
    l->bad = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->what, sizeof l->what, fmt, ap);
    va_end(ap);
}

static const char *need(loader *l, const char *key)
{
    const char *v = contrl__st_meta(l->f, key);
    if (v == NULL)
        problem(l, "metadata '%s' is missing", key);
    return v;
}

static uint64_t meta_u64(loader *l, const char *key, uint64_t max)
{
    const char *v = need(l, key);
    if (v == NULL)
        return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || x > max) {
        problem(l, "metadata '%s' = '%s' is not an integer in [0, %llu]", key, v,
                (unsigned long long)max);
        return 0;
    }
    return x;
}

static float parse_float(loader *l, const char *key, const char *v, const char **rest, bool nan_ok)
{
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (end == v || errno == ERANGE || (!isfinite(x) && !(nan_ok && isnan(x)))) {
        problem(l, "metadata '%s' holds '%s', not a finite number", key, v);
        return 0.0f;
    }
    *rest = end;
    return x;
}

static float meta_float(loader *l, const char *key, bool nan_ok)
{
    const char *v = need(l, key), *rest = "";
    if (v == NULL)
        return 0.0f;
    float x = parse_float(l, key, v, &rest, nan_ok);
    if (*rest != '\0')
        problem(l, "metadata '%s' = '%s' has trailing characters", key, v);
    return x;
}

static void meta_float_list(loader *l, const char *key, float *out, uint32_t n)
{
    const char *v = need(l, key);
    for (uint32_t i = 0; v != NULL && i < n && !l->bad; i++) {
        out[i] = parse_float(l, key, v, &v, false);
        if (*v == ',' && i + 1 < n)
            v++;
        else if (*v != '\0' || i + 1 != n)
            problem(l, "metadata '%s' must hold %u comma-separated numbers", key, n);
    }
}

static uint32_t meta_u32_list(loader *l, const char *key, uint32_t *out, uint32_t max_n)
{
    const char *v = need(l, key);
    uint32_t n = 0;
    while (v != NULL && !l->bad) {
        char *end;
        errno = 0;
        unsigned long x = strtoul(v, &end, 10);
        if (end == v || v[0] < '0' || v[0] > '9' || errno != 0 || x == 0 || x > 1u << 20 ||
            n == max_n) {
            problem(l, "metadata '%s' is not a list of up to %u positive integers", key, max_n);
            break;
        }
        out[n++] = (uint32_t)x;
        if (*end == '\0')
            break;
        if (*end != ',') {
            problem(l, "metadata '%s' is not a comma-separated list", key);
            break;
        }
        v = end + 1;
    }
    return n;
}

static void get_tensor(loader *l, const char *name, contrl__dtype dt, uint32_t ndim, uint64_t d0,
                       uint64_t d1, void *dst)
{
    if (l->bad)
        return;
    uint64_t shape[2] = {d0, d1};
    if (contrl__st_get(l->f, name, dt, ndim, shape, dst) != CONTRL_OK)
        problem(l, "%s", contrl_last_error());
}

/* Reads a net-shaped flat array back from per-layer [out, in] tensors. */
static void get_net_shaped(loader *l, const contrl_net *net, float *flat, float *tmp,
                           const char *prefix, const char *suffix)
{
    for (uint32_t layer = 0; layer < contrl_net_layer_count(net) && !l->bad; layer++) {
        contrl_net_layer_info li;
        contrl_net_layer(net, layer, &li);
        char name[NAME_LEN];
        snprintf(name, sizeof name, "%s.%u.weight%s", prefix, 2 * layer, suffix);
        get_tensor(l, name, CONTRL__DT_F32, 2, li.out, li.in, tmp);
        for (uint32_t i = 0; i < li.in && !l->bad; i++)
            for (uint32_t o = 0; o < li.out; o++)
                flat[li.weight_offset + (size_t)i * li.out + o] = tmp[(size_t)o * li.in + i];
        snprintf(name, sizeof name, "%s.%u.bias%s", prefix, 2 * layer, suffix);
        get_tensor(l, name, CONTRL__DT_F32, 1, li.out, 0, flat + li.bias_offset);
    }
}

static void get_net(loader *l, contrl_net *net, contrl_adam *opt, const char *name, float *flat,
                    float *m, float *tmp)
{
    if (net == NULL || l->bad)
        return;
    size_t n = contrl_net_param_count(net);
    get_net_shaped(l, net, flat, tmp, name, "");
    if (!l->bad && contrl_net_set_params(net, flat, n) != CONTRL_OK)
        problem(l, "%s: %s", name, contrl_last_error());
    if (opt == NULL || l->bad)
        return;
    char prefix[48], key[64];
    snprintf(prefix, sizeof prefix, "optim.%s", name);
    get_net_shaped(l, net, m, tmp, prefix, ".exp_avg");
    get_net_shaped(l, net, flat, tmp, prefix, ".exp_avg_sq");
    uint64_t steps = 0;
    snprintf(key, sizeof key, "optim.%s.step", name);
    get_tensor(l, key, CONTRL__DT_U64, 0, 0, 0, &steps);
    if (!l->bad && contrl_adam_set_state(opt, m, flat, n, steps) != CONTRL_OK)
        problem(l, "%s: %s", prefix, contrl_last_error());
}

static void get_rng(loader *l, contrl_rng *rng, const char *prefix)
{
    char name[NAME_LEN];
    uint64_t s[4] = {0};
    float spare[2] = {0};
    snprintf(name, sizeof name, "%s.rng.state", prefix);
    get_tensor(l, name, CONTRL__DT_U64, 1, 4, 0, s);
    snprintf(name, sizeof name, "%s.rng.spare", prefix);
    get_tensor(l, name, CONTRL__DT_F32, 1, 2, 0, spare);
    if (l->bad)
        return;
    if ((s[0] | s[1] | s[2] | s[3]) == 0 || (spare[1] != 0.0f && spare[1] != 1.0f)) {
        problem(l, "%s RNG state is invalid", prefix);
        return;
    }
    memcpy(rng->s, s, sizeof s);
    rng->spare = spare[0];
    rng->has_spare = spare[1] != 0.0f;
}

static contrl_activation parse_act(loader *l, const char *v)
{
    static const contrl_activation all[] = {CONTRL_ACT_IDENTITY, CONTRL_ACT_RELU, CONTRL_ACT_TANH,
                                            CONTRL_ACT_SIGMOID};
    for (size_t i = 0; v != NULL && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(v, act_name(all[i])) == 0)
            return all[i];
    if (v != NULL)
        problem(l, "metadata 'hidden_act' = '%s' is not an activation", v);
    return CONTRL_ACT_RELU;
}

static contrl_status build_agent(loader *l, const contrl_allocator *alloc, contrl_agent **out,
                                 float *low, float *high)
{
    const char *fmt = need(l, "format");
    if (fmt != NULL && strcmp(fmt, FORMAT_NAME) != 0)
        problem(l, "format '%s' is not %s", fmt, FORMAT_NAME);
    const char *algo_s = need(l, "algorithm");
    contrl_algo algo = (contrl_algo)0;
    for (int i = CONTRL_ALGO_DDPG; algo_s != NULL && i <= CONTRL_ALGO_SQL; i++)
        if (strcmp(algo_s, contrl_algo_name((contrl_algo)i)) == 0)
            algo = (contrl_algo)i;
    if (algo_s != NULL && algo == 0)
        problem(l, "unknown algorithm '%s'", algo_s);
    if (l->bad)
        return CONTRL_ERR_FORMAT;

    contrl_agent_config c = contrl_agent_config_default(algo);
    c.obs_dim = (uint32_t)meta_u64(l, "obs_dim", 65536);
    c.action_dim = (uint32_t)meta_u64(l, "action_dim", 4096);
    if (l->bad)
        return CONTRL_ERR_FORMAT;
    meta_float_list(l, "action_low", low, c.action_dim);
    meta_float_list(l, "action_high", high, c.action_dim);
    c.action_low = low;
    c.action_high = high;
    memset(c.hidden, 0, sizeof c.hidden);
    c.n_hidden = meta_u32_list(l, "hidden", c.hidden, CONTRL_NET_MAX_HIDDEN);
    c.hidden_act = parse_act(l, need(l, "hidden_act"));
    /* Every algorithm has a critic [obs, action] -> hidden... -> 1, stored
     * in the file as F32: a config whose critic alone has more parameters
     * than the file has bytes / 4 cannot be this file's, and is refused
     * before nets of that size are allocated and initialised. */
    if (!l->bad) {
        uint64_t width = (uint64_t)c.obs_dim + c.action_dim, params = 0;
        for (uint32_t i = 0; i <= c.n_hidden; i++) {
            uint64_t w_out = i < c.n_hidden ? c.hidden[i] : 1;
            params += (width + 1) * w_out; /* <= 2^17 * 2^20 per layer: no overflow */
            width = w_out;
        }
        if (params > contrl__st_data_bytes(l->f) / sizeof(float))
            problem(l, "the stored config needs %llu critic parameters, more than the file holds",
                    (unsigned long long)params);
    }
    c.actor_lr = meta_float(l, "actor_lr", false);
    c.critic_lr = meta_float(l, "critic_lr", false);
    c.gamma = meta_float(l, "gamma", false);
    c.tau = meta_float(l, "tau", false);
    c.batch_size = (uint32_t)meta_u64(l, "batch_size", 65536);
    c.buffer_capacity = meta_u64(l, "buffer_capacity", UINT64_MAX);
    c.learning_starts = meta_u64(l, "learning_starts", UINT64_MAX);
    c.train_freq = (uint32_t)meta_u64(l, "train_freq", UINT32_MAX);
    c.gradient_steps = (uint32_t)meta_u64(l, "gradient_steps", UINT32_MAX);
    c.max_grad_norm = meta_float(l, "max_grad_norm", false);
    c.seed = meta_u64(l, "seed", UINT64_MAX);
    c.kernels = (contrl_kernels)meta_u64(l, "kernels", 5);
    if (alloc != NULL)
        c.allocator = *alloc;

    contrl_status st = CONTRL_ERR_FORMAT;
    if (algo == CONTRL_ALGO_DDPG) {
        contrl_ddpg_config d = contrl_ddpg_config_default();
        d.noise = (contrl_noise)meta_u64(l, "ddpg.noise", 2);
        d.sigma = meta_float(l, "ddpg.sigma", false);
        d.ou_theta = meta_float(l, "ddpg.ou_theta", false);
        d.ou_dt = meta_float(l, "ddpg.ou_dt", false);
        d.out_init_range = meta_float(l, "ddpg.out_init_range", false);
        d.critic_weight_decay = meta_float(l, "ddpg.critic_weight_decay", false);
        if (!l->bad)
            st = contrl_ddpg_create(&c, &d, out);
    } else if (algo == CONTRL_ALGO_TD3) {
        contrl_td3_config t = contrl_td3_config_default();
        t.policy_delay = (uint32_t)meta_u64(l, "td3.policy_delay", UINT32_MAX);
        t.target_noise = meta_float(l, "td3.target_noise", false);
        t.target_noise_clip = meta_float(l, "td3.target_noise_clip", false);
        t.expl_noise = meta_float(l, "td3.expl_noise", false);
        if (!l->bad)
            st = contrl_td3_create(&c, &t, out);
    } else if (algo == CONTRL_ALGO_SQL) {
        contrl_sql_config q = contrl_sql_config_default();
        q.value_particles = (uint32_t)meta_u64(l, "sql.value_particles", 1024);
        q.kernel_particles = (uint32_t)meta_u64(l, "sql.kernel_particles", 1024);
        q.kernel_update_ratio = meta_float(l, "sql.kernel_update_ratio", false);
        q.reward_scale = meta_float(l, "sql.reward_scale", false);
        q.target_update_interval = (uint32_t)meta_u64(l, "sql.target_update_interval", UINT32_MAX);
        if (!l->bad)
            st = contrl_sql_create(&c, &q, out);
    } else {
        contrl_sac_config s = contrl_sac_config_default();
        s.auto_alpha = meta_u64(l, "sac.auto_alpha", 1) != 0;
        s.init_alpha = meta_float(l, "sac.init_alpha", false);
        s.alpha_lr = meta_float(l, "sac.alpha_lr", false);
        s.target_entropy = meta_float(l, "sac.target_entropy", false);
        s.value_net = meta_u64(l, "sac.value_net", 1) != 0;
        s.log_std_min = meta_float(l, "sac.log_std_min", false);
        s.log_std_max = meta_float(l, "sac.log_std_max", false);
        if (!l->bad)
            st = contrl_sac_create(&c, &s, out);
    }
    if (l->bad)
        return CONTRL_ERR_FORMAT;
    if (st == CONTRL_ERR_NOMEM) {
        problem(l, "%s", contrl_last_error());
        l->nomem = true;
        return st;
    }
    if (st != CONTRL_OK)
        problem(l, "the stored config is invalid: %s", contrl_last_error());
    return st == CONTRL_OK ? CONTRL_OK : CONTRL_ERR_FORMAT;
}

static void load_buffer(loader *l, contrl_agent *a, const contrl_allocator *alloc)
{
    uint64_t n = meta_u64(l, "buffer_size", a->cfg.buffer_capacity);
    const size_t O = a->obs_dim, A = a->act_dim;
    if (l->bad)
        return;
    size_t bytes = (size_t)n * (2 * O + A + 1) * sizeof(float) + 2 * (size_t)n;
    unsigned char *mem = contrl__alloc(alloc, bytes ? bytes : 1);
    if (mem == NULL) {
        problem(l, "out of memory reading the replay buffer");
        l->nomem = true;
        return;
    }
    float *obs = (float *)(void *)mem, *act = obs + n * O, *rew = act + n * A, *next = rew + n;
    uint8_t *term = (uint8_t *)(next + n * O), *trunc = term + n;
    get_tensor(l, "buffer.obs", CONTRL__DT_F32, 2, n, O, obs);
    get_tensor(l, "buffer.action", CONTRL__DT_F32, 2, n, A, act);
    get_tensor(l, "buffer.reward", CONTRL__DT_F32, 1, n, 0, rew);
    get_tensor(l, "buffer.next_obs", CONTRL__DT_F32, 2, n, O, next);
    get_tensor(l, "buffer.terminated", CONTRL__DT_U8, 1, n, 0, term);
    get_tensor(l, "buffer.truncated", CONTRL__DT_U8, 1, n, 0, trunc);
    for (uint64_t i = 0; i < n && !l->bad; i++) {
        if (term[i] > 1 || trunc[i] > 1)
            problem(l, "buffer flag %llu is not 0 or 1", (unsigned long long)i);
        bool inside = true;
        for (size_t j = 0; j < A; j++)
            inside = inside && act[i * A + j] >= -1.0f && act[i * A + j] <= 1.0f;
        if (!inside)
            problem(l, "buffer action %llu lies outside [-1, 1]", (unsigned long long)i);
        else if (!l->bad && contrl_buffer_add(a->buffer, obs + i * O, act + i * A, rew[i],
                                              next + i * O, term[i], trunc[i]) != CONTRL_OK)
            problem(l, "buffer transition %llu: %s", (unsigned long long)i, contrl_last_error());
    }
    contrl__free(alloc, mem, bytes ? bytes : 1);
    contrl_rng rng;
    get_rng(l, &rng, "buffer");
    if (!l->bad)
        contrl_buffer_set_rng(a->buffer, &rng);
}

contrl_status contrl_agent_load(const char *path, const contrl_allocator *allocator,
                                contrl_agent **out)
{
    static const char fn[] = "contrl_agent_load";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (path == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: path is NULL", fn);
    if (allocator != NULL) {
        contrl_status st = contrl__check_allocator(allocator, fn);
        if (st != CONTRL_OK)
            return st;
    }
    contrl__st_file *f;
    contrl_status st = contrl__st_load(path, allocator, &f);
    if (st != CONTRL_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", contrl_last_error());
        return contrl__fail(st, "%s: %s", fn, msg);
    }
    st = contrl__agent_load_st(f, path, allocator, out, fn);
    contrl__st_close(f);
    return st;
}

contrl_status contrl__agent_load_st(const contrl__st_file *f, const char *path,
                                    const contrl_allocator *allocator, contrl_agent **out,
                                    const char *fn)
{
    *out = NULL;
    contrl_status st;
    loader l = {.f = f, .path = path};
    contrl_agent *a = NULL;
    float bounds[2 * 4096];
    float *flat = NULL, *m = NULL, *tmp = NULL;
    size_t n_max = 0;

    st = build_agent(&l, allocator, &a, bounds, bounds + 4096);
    if (st == CONTRL_OK) {
        contrl_net *nets[] = {a->actor, a->q[0], a->q[1], a->v};
        for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
            if (nets[i] != NULL && contrl_net_param_count(nets[i]) > n_max)
                n_max = contrl_net_param_count(nets[i]);
        flat = contrl__alloc(allocator, n_max * sizeof(float));
        m = contrl__alloc(allocator, n_max * sizeof(float));
        tmp = contrl__alloc(allocator, n_max * sizeof(float));
        if (flat == NULL || m == NULL || tmp == NULL) {
            problem(&l, "out of memory");
            l.nomem = true;
        }
        get_net(&l, a->actor, a->actor_opt, "actor", flat, m, tmp);
        get_net(&l, a->actor_target, NULL, "actor_target", flat, m, tmp);
        static const char *qn[2] = {"critic1", "critic2"}, *qtn[2] = {"critic1_target", "critic2_target"};
        for (uint32_t k = 0; k < a->n_critics; k++) {
            get_net(&l, a->q[k], a->q_opt[k], qn[k], flat, m, tmp);
            get_net(&l, a->q_target[k], NULL, qtn[k], flat, m, tmp);
        }
        get_net(&l, a->v, a->v_opt, "value", flat, m, tmp);
        get_net(&l, a->v_target, NULL, "value_target", flat, m, tmp);
        if (a->algo == CONTRL_ALGO_SAC) {
            float la = 0.0f, mv[2] = {0};
            uint64_t t = 0;
            get_tensor(&l, "sac.log_alpha", CONTRL__DT_F32, 0, 0, 0, &la);
            get_tensor(&l, "optim.log_alpha.exp_avg_and_sq", CONTRL__DT_F32, 1, 2, 0, mv);
            get_tensor(&l, "optim.log_alpha.step", CONTRL__DT_U64, 0, 0, 0, &t);
            if (!l.bad && mv[1] < 0.0f)
                problem(&l, "optim.log_alpha: negative second moment");
            a->log_alpha = la;
            a->alpha_opt.m = mv[0];
            a->alpha_opt.v = mv[1];
            a->alpha_opt.t = t;
            a->stats.alpha = expf(la);
        }
        uint64_t counters[2] = {0};
        get_tensor(&l, "agent.counters", CONTRL__DT_U64, 1, 2, 0, counters);
        a->steps = counters[0];
        a->updates = counters[1];
        get_tensor(&l, "agent.ou_noise", CONTRL__DT_F32, 1, a->act_dim, 0, a->ou);
        get_rng(&l, &a->rng, "agent");
        uint64_t with_buffer = meta_u64(&l, "buffer_saved", 1);
        if (with_buffer && !l.bad)
            load_buffer(&l, a, allocator);
        const char *env = contrl__st_meta(f, "env");
        snprintf(a->env_name, sizeof a->env_name, "%s", env != NULL ? env : "");
    }
    contrl__free(allocator, flat, n_max * sizeof(float));
    contrl__free(allocator, m, n_max * sizeof(float));
    contrl__free(allocator, tmp, n_max * sizeof(float));
    if (l.bad) {
        contrl_agent_destroy(a);
        return contrl__fail(l.nomem ? CONTRL_ERR_NOMEM : CONTRL_ERR_FORMAT, "%s: %s: %s", fn,
                            path, l.what);
    }
    *out = a;
    return CONTRL_OK;
}
