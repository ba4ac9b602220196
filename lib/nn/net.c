/* lib/nn/net.c - multi-layer perceptrons: forward, backward, parameters.
 *
 * Layer l maps acts[l] [batch, width[l]] to acts[l+1] [batch, width[l+1]]:
 *     acts[l+1] = act_l(acts[l] W_l + b_l),  W_l row-major [width[l], width[l+1]]
 * Activation derivatives are taken from the layer's output, so the forward
 * pass caches outputs only (plus a copy of the input for dW_0). */
#include <string.h>

#include "blas.h"
#include "contrl/net.h"
#include "nn.h"
#include "vmath.h"

enum { MAX_LAYERS = CONTRL_NET_MAX_HIDDEN + 1 };

struct contrl_net {
    contrl_allocator alloc;
    size_t block_size;
    uint32_t n_layers, max_batch, max_width;
    uint32_t width[MAX_LAYERS + 1];
    contrl_activation act[MAX_LAYERS];
    size_t w_off[MAX_LAYERS], b_off[MAX_LAYERS];
    size_t n_params;
    float *params, *grads;
    float *acts[MAX_LAYERS + 1];
    float *work[2];          /* backward deltas and predict activations */
    float *wt;               /* W^T for libxsmm's dX products, NULL without it */
    size_t wt_len;
    uint32_t batch;          /* rows of the last forward, 0 if none */
    contrl__blas *blas;
};

static contrl_net_config net_defaults(void)
{
    contrl_net_config c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.n_hidden = 2;
    c.hidden[0] = 256;
    c.hidden[1] = 256;
    c.hidden_act = CONTRL_ACT_RELU;
    c.out_act = CONTRL_ACT_IDENTITY;
    c.max_batch = 256;
    c.kernels = CONTRL_KERNELS_AUTO;
    return c;
}

static bool act_valid(contrl_activation a)
{
    return a == CONTRL_ACT_IDENTITY || a == CONTRL_ACT_RELU || a == CONTRL_ACT_TANH ||
           a == CONTRL_ACT_SIGMOID;
}

/* ---- activations -------------------------------------------------------- */

/* The element-wise passes below, cloned for AVX-512 and AVX2 as in adam.c:
 * the library is built for baseline x86-64, where they ran on 4-wide SSE.
 * Each clone does the same IEEE operations per element (no contraction in
 * ISO C mode; tanhf and expf are the same libm calls), so every clone gives
 * the same bits. Under ThreadSanitizer, one plain version (adam.c says why). */
#if defined(__SANITIZE_THREAD__)
#define NET_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NET_CLONES
#endif
#endif
#ifndef NET_CLONES
#define NET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

/* y[r] = act(y[r] + b) for each of the rows: the bias and the activation in
 * one pass over the product (measured: faster than preloading C with the
 * bias row by row, then a separate activation pass). */
NET_CLONES static void bias_act_forward(contrl_activation a, const float *restrict b, float *restrict y,
                             uint32_t rows, uint32_t width)
{
    if (width == 1 && a == CONTRL_ACT_IDENTITY) {
        /* a critic's output: one loop over the rows (the row loop below
         * spent more on its set-up per row than on the one addition) */
        const float b0 = b[0];
        for (uint32_t r = 0; r < rows; r++)
            y[r] = y[r] + b0;
        return;
    }
    if (a == CONTRL_ACT_TANH) {
        /* the bias, then tanh over the whole block in one array pass
         * (lib/core/vmath.h; libm's tanhf per element was 3.5% of TD3) */
        for (uint32_t r = 0; r < rows; r++) {
            float *restrict row = y + (size_t)r * width;
            for (uint32_t j = 0; j < width; j++)
                row[j] = row[j] + b[j];
        }
        contrl__vtanh(y, y, (size_t)rows * width);
        return;
    }
    if (a == CONTRL_ACT_RELU && width % 64 == 0) {
        /* hidden layers: 64 columns at a time over every row, their bias
         * held in registers (the row loop below reloaded it and spent as
         * much on its per-row set-up as on the arithmetic) */
        for (uint32_t c = 0; c < width; c += 64) {
            float bc[64];
            for (uint32_t j = 0; j < 64; j++)
                bc[j] = b[c + j];
            for (uint32_t r = 0; r < rows; r++) {
                float *restrict row = y + (size_t)r * width + c;
                for (uint32_t j = 0; j < 64; j++) {
                    float z = row[j] + bc[j];
                    row[j] = z > 0.0f ? z : 0.0f;
                }
            }
        }
        return;
    }
    for (uint32_t r = 0; r < rows; r++) {
        float *restrict row = y + (size_t)r * width;
        switch (a) {
        case CONTRL_ACT_IDENTITY:
            for (uint32_t j = 0; j < width; j++)
                row[j] = row[j] + b[j];
            break;
        case CONTRL_ACT_RELU:
            for (uint32_t j = 0; j < width; j++) {
                float z = row[j] + b[j];
                row[j] = z > 0.0f ? z : 0.0f;
            }
            break;
        case CONTRL_ACT_TANH: /* taken above */
            break;
        case CONTRL_ACT_SIGMOID:
            for (uint32_t j = 0; j < width; j++)
                row[j] = 1.0f / (1.0f + expf(-(row[j] + b[j])));
            break;
        }
    }
}

/* d *= act'(z) (from the output y), and the column sums of the new d added
 * to db (db_mode 1), stored in db (2: as if added to zeros, same bits), or
 * not taken (0): one pass instead of two. */
NET_CLONES static void act_backward_bias(contrl_activation a, const float *restrict y, float *restrict d,
                              float *restrict db, int db_mode, uint32_t rows, uint32_t width)
{
    if (width == 1 && a == CONTRL_ACT_IDENTITY) {
        /* a critic's output: d unchanged, db = the sum in row order */
        if (db_mode == 0 || rows == 0)
            return;
        float sum = db_mode == 2 ? 0.0f + d[0] : db[0] + d[0];
        for (uint32_t r = 1; r < rows; r++)
            sum += d[r];
        db[0] = sum;
        return;
    }
    if (a == CONTRL_ACT_RELU && db_mode != 0 && rows > 0 && width % 64 == 0) {
        /* hidden layers: 64 columns at a time over every row, their bias
         * gradient summed in registers in the same row order (the row loop
         * below loaded and stored db once per row) */
        for (uint32_t c = 0; c < width; c += 64) {
            float acc[64];
            for (uint32_t j = 0; j < 64; j++) {
                float v = y[c + j] > 0.0f ? d[c + j] : 0.0f;
                d[c + j] = v;
                acc[j] = (db_mode == 2 ? 0.0f : db[c + j]) + v;
            }
            for (uint32_t r = 1; r < rows; r++) {
                const float *restrict yr = y + (size_t)r * width + c;
                float *restrict dr = d + (size_t)r * width + c;
                for (uint32_t j = 0; j < 64; j++) {
                    float v = yr[j] > 0.0f ? dr[j] : 0.0f;
                    dr[j] = v;
                    acc[j] += v;
                }
            }
            for (uint32_t j = 0; j < 64; j++)
                db[c + j] = acc[j];
        }
        return;
    }
    for (uint32_t r = 0; r < rows; r++) {
        const float *restrict yr = y + (size_t)r * width;
        float *restrict dr = d + (size_t)r * width;
        switch (a) {
        case CONTRL_ACT_IDENTITY:
            break;
        case CONTRL_ACT_RELU:
            for (uint32_t j = 0; j < width; j++)
                dr[j] = yr[j] > 0.0f ? dr[j] : 0.0f;
            break;
        case CONTRL_ACT_TANH:
            for (uint32_t j = 0; j < width; j++)
                dr[j] *= 1.0f - yr[j] * yr[j];
            break;
        case CONTRL_ACT_SIGMOID:
            for (uint32_t j = 0; j < width; j++)
                dr[j] *= yr[j] * (1.0f - yr[j]);
            break;
        }
        if (db_mode == 2 && r == 0) {
            for (uint32_t j = 0; j < width; j++)
                db[j] = 0.0f + dr[j];
        } else if (db_mode != 0) {
            for (uint32_t j = 0; j < width; j++)
                db[j] += dr[j];
        }
    }
}

static void run_layers(contrl_net *n, const float *x, uint32_t batch, float *const *outs);
static void backward(contrl_net *net, const float *dy, float *dx, int mode);

/* ---- creation ----------------------------------------------------------- */

/* Lays out one block: the handle, the BLIS state, then the float arrays,
 * each 64-byte aligned. With base NULL it only measures. */
static size_t layout(contrl_net *n, unsigned char *base)
{
    size_t off = contrl__round_up(sizeof(contrl_net), 64);
    size_t mb = n->max_batch;
#define TAKE(ptr, count)                                                       \
    do {                                                                       \
        if (base != NULL)                                                      \
            (ptr) = (void *)(base + off);                                      \
        off += contrl__round_up((count) * sizeof(float), 64);                  \
    } while (0)
    if (base != NULL)
        n->blas = (contrl__blas *)(base + off);
    off += contrl__round_up(contrl__blas_size(), 64);
    TAKE(n->params, n->n_params);
    TAKE(n->grads, n->n_params);
    for (uint32_t l = 0; l <= n->n_layers; l++)
        TAKE(n->acts[l], mb * n->width[l]);
    TAKE(n->work[0], mb * n->max_width);
    TAKE(n->work[1], mb * n->max_width);
    if (n->wt_len > 0)
        TAKE(n->wt, n->wt_len);
#undef TAKE
    return off;
}

static void init_params(contrl_net *n, uint64_t seed, float out_init_range)
{
    contrl_rng rng;
    contrl_rng_seed(&rng, seed);
    for (uint32_t l = 0; l < n->n_layers; l++) {
        float bound = 1.0f / sqrtf((float)n->width[l]);
        if (l + 1 == n->n_layers && out_init_range > 0.0f)
            bound = out_init_range;
        size_t count = (size_t)n->width[l] * n->width[l + 1] + n->width[l + 1];
        float *p = n->params + n->w_off[l]; /* W then b, contiguous */
        for (size_t i = 0; i < count; i++)
            p[i] = bound * (2.0f * contrl_rng_uniform(&rng) - 1.0f);
    }
}

contrl_status contrl_net_create(const contrl_net_config *cfg_in, contrl_net **out)
{
    static const char fn[] = "contrl_net_create";
    if (out == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (cfg_in == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: cfg is NULL", fn);
    contrl_net_config cfg = contrl_net_config_default();
    contrl_status st = contrl__config_copy(&cfg, cfg_in, CONTRL_NET_CONFIG_SIZE_V1,
                                           sizeof cfg, fn);
    if (st != CONTRL_OK)
        return st;
    if (cfg.in == 0 || cfg.out == 0)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: in (%u) and out (%u) must be >= 1",
                            fn, cfg.in, cfg.out);
    if (cfg.n_hidden > CONTRL_NET_MAX_HIDDEN)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n_hidden %u exceeds %d", fn,
                            cfg.n_hidden, CONTRL_NET_MAX_HIDDEN);
    for (uint32_t i = 0; i < cfg.n_hidden; i++)
        if (cfg.hidden[i] == 0)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: hidden[%u] is 0", fn, i);
    if (!act_valid(cfg.hidden_act) || !act_valid(cfg.out_act))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: unknown activation (%d, %d)", fn,
                            (int)cfg.hidden_act, (int)cfg.out_act);
    if (!(cfg.out_init_range >= 0.0f) || !isfinite(cfg.out_init_range))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "%s: out_init_range must be finite and >= 0", fn);
    if (cfg.max_batch == 0 || cfg.max_batch > (1u << 24))
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: max_batch %u out of [1, 2^24]", fn,
                            cfg.max_batch);
    st = contrl__check_allocator(&cfg.allocator, fn);
    if (st != CONTRL_OK)
        return st;

    contrl_net shape;
    memset(&shape, 0, sizeof shape);
    shape.n_layers = cfg.n_hidden + 1;
    shape.max_batch = cfg.max_batch;
    shape.width[0] = cfg.in;
    for (uint32_t i = 0; i < cfg.n_hidden; i++)
        shape.width[i + 1] = cfg.hidden[i];
    shape.width[shape.n_layers] = cfg.out;
    size_t np = 0;
    for (uint32_t l = 0; l < shape.n_layers; l++) {
        shape.act[l] = l + 1 == shape.n_layers ? cfg.out_act : cfg.hidden_act;
        shape.w_off[l] = np;
        np += (size_t)shape.width[l] * shape.width[l + 1];
        shape.b_off[l] = np;
        np += shape.width[l + 1];
        if (np > (size_t)1 << 32)
            return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: more than 2^32 parameters", fn);
    }
    shape.n_params = np;
    for (uint32_t l = 0; l <= shape.n_layers; l++)
        if (shape.width[l] > shape.max_width)
            shape.max_width = shape.width[l];
    if ((uint64_t)shape.max_batch * shape.max_width > (uint64_t)1 << 32)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: max_batch * width too large", fn);

    _Alignas(64) unsigned char probe[4096]; /* contrl__blas_init checks the kernels first */
    if (contrl__blas_size() > sizeof probe)
        return contrl__fail(CONTRL_ERR_STATE, "%s: internal BLIS state too large", fn);
    st = contrl__blas_init((contrl__blas *)(void *)probe, cfg.kernels, fn);
    if (st != CONTRL_OK)
        return st;
    if (contrl__blas_uses_xsmm((contrl__blas *)(void *)probe))
        for (uint32_t l = 0; l < shape.n_layers; l++)
            if ((size_t)shape.width[l] * shape.width[l + 1] > shape.wt_len)
                shape.wt_len = (size_t)shape.width[l] * shape.width[l + 1];

    size_t total = layout(&shape, NULL);
    unsigned char *block = contrl__alloc(&cfg.allocator, total);
    if (block == NULL)
        return contrl__fail(CONTRL_ERR_NOMEM, "%s: cannot allocate %zu bytes", fn, total);
    memset(block, 0, total);
    contrl_net *n = (contrl_net *)(void *)block;
    *n = shape;
    n->alloc = cfg.allocator;
    n->block_size = total;
    layout(n, block);
    memcpy(n->blas, probe, contrl__blas_size());
    init_params(n, cfg.seed, cfg.out_init_range);
    /* BLIS allocates its packing pools (process-wide, with malloc) on the
     * first products of each kind, and libxsmm JIT-compiles (and allocates)
     * the kernels for the shapes it takes; run every product once here, at
     * max_batch and on zeros, so that happens at creation rather than in the
     * first forward or backward. */
    contrl__blas_set_workspace(n->blas, n->wt, n->wt_len);
    contrl__blas_prepare(n->blas, true);
    run_layers(n, n->acts[0], n->max_batch, n->acts);
    n->batch = n->max_batch;
    backward(n, n->work[1], n->acts[0], CONTRL__GRADS_ADD);
    backward(n, n->work[1], n->acts[0], CONTRL__GRADS_SET);
    contrl__blas_prepare(n->blas, false);
    n->batch = 0;
    memset(n->grads, 0, n->n_params * sizeof(float));
    *out = n;
    return CONTRL_OK;
}

void contrl_net_destroy(contrl_net *net)
{
    if (net == NULL)
        return;
    contrl_allocator a = net->alloc;
    contrl__free(&a, net, net->block_size);
}

/* ---- queries ------------------------------------------------------------ */

uint32_t contrl_net_in(const contrl_net *net) { return net ? net->width[0] : 0; }
uint32_t contrl_net_out(const contrl_net *net) { return net ? net->width[net->n_layers] : 0; }
uint32_t contrl_net_max_batch(const contrl_net *net) { return net ? net->max_batch : 0; }
size_t contrl_net_param_count(const contrl_net *net) { return net ? net->n_params : 0; }
uint32_t contrl_net_layer_count(const contrl_net *net) { return net ? net->n_layers : 0; }
const float *contrl_net_params(const contrl_net *net) { return net ? net->params : NULL; }
const float *contrl_net_grads(const contrl_net *net) { return net ? net->grads : NULL; }

contrl_kernels contrl_net_kernels(const contrl_net *net)
{
    return net ? contrl__blas_kernels(net->blas) : CONTRL_KERNELS_AUTO;
}

contrl_status contrl_net_layer(const contrl_net *net, uint32_t layer,
                               contrl_net_layer_info *info)
{
    if (net == NULL || info == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_net_layer: %s is NULL",
                            net == NULL ? "net" : "info");
    if (layer >= net->n_layers)
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl_net_layer: layer %u out of range (net has %u)", layer,
                            net->n_layers);
    info->in = net->width[layer];
    info->out = net->width[layer + 1];
    info->weight_offset = net->w_off[layer];
    info->bias_offset = net->b_off[layer];
    info->act = net->act[layer];
    return CONTRL_OK;
}

/* ---- forward / backward ------------------------------------------------- */

/* Runs every layer from x into outs[l+1]; outs[0] is not read. */
static void run_layers(contrl_net *n, const float *x, uint32_t batch, float *const *outs)
{
    const float *in = x;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        uint32_t wi = n->width[l], wo = n->width[l + 1];
        float *y = outs[l + 1];
        const float *w = n->params + n->w_off[l], *bias = n->params + n->b_off[l];
        /* bias and ReLU (or the bias before tanh) while the product is in
         * registers, where libcontrl's own kernels run it; same bits */
        const contrl_activation act = n->act[l];
        const contrl__mm_epi epi = {act == CONTRL_ACT_RELU ? CONTRL__EPI_BIAS_RELU : CONTRL__EPI_BIAS,
                                    bias, NULL, 0, NULL, 0};
        if (act != CONTRL_ACT_SIGMOID &&
            contrl__gemm_epi(n->blas, batch, wo, wi, in, wi, 1, w, wo, 1, 0.0f, y, wo, &epi)) {
            if (act == CONTRL_ACT_TANH)
                contrl__vtanh(y, y, (size_t)batch * wo);
        } else {
            contrl__gemm(n->blas, batch, wo, wi, 1.0f, in, wi, 1, w, wo, 1, 0.0f, y, wo, 1);
            bias_act_forward(act, bias, y, batch, wo);
        }
        in = y;
    }
}

static contrl_status check_batch(const contrl_net *net, const float *x, uint32_t batch,
                                 const char *fn)
{
    if (net == NULL || x == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            net == NULL ? "net" : "x");
    if (batch == 0 || batch > net->max_batch)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: batch %u out of [1, %u]", fn, batch,
                            net->max_batch);
    return CONTRL_OK;
}

contrl_status contrl_net_forward(contrl_net *net, const float *x, uint32_t batch, float *y)
{
    contrl_status st = check_batch(net, x, batch, "contrl_net_forward");
    if (st != CONTRL_OK)
        return st;
    memmove(net->acts[0], x, (size_t)batch * net->width[0] * sizeof(float));
    run_layers(net, net->acts[0], batch, net->acts);
    net->batch = batch;
    if (y != NULL)
        memmove(y, net->acts[net->n_layers],
                (size_t)batch * net->width[net->n_layers] * sizeof(float));
    return CONTRL_OK;
}

contrl_status contrl_net_predict(contrl_net *net, const float *x, uint32_t batch, float *y)
{
    contrl_status st = check_batch(net, x, batch, "contrl_net_predict");
    if (st != CONTRL_OK)
        return st;
    if (y == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_net_predict: y is NULL");
    float *outs[MAX_LAYERS + 1];
    for (uint32_t l = 1; l <= net->n_layers; l++)
        outs[l] = net->work[l & 1];
    run_layers(net, x, batch, outs);
    memcpy(y, outs[net->n_layers], (size_t)batch * net->width[net->n_layers] * sizeof(float));
    return CONTRL_OK;
}

const float *contrl_net_output(const contrl_net *net)
{
    return net != NULL && net->batch > 0 ? net->acts[net->n_layers] : NULL;
}

/* The backward pass; mode as contrl__net_backward_mode (nn.h). */
static void backward(contrl_net *net, const float *dy, float *dx, int mode)
{
    const uint32_t B = net->batch, L = net->n_layers;
    const bool grads = mode != CONTRL__GRADS_NONE;
    const int db_mode = mode == CONTRL__GRADS_SET ? 2 : grads ? 1 : 0;
    const float beta = mode == CONTRL__GRADS_SET ? 0.0f : 1.0f;
    float *delta = net->work[0];
    memcpy(delta, dy, (size_t)B * net->width[L] * sizeof(float));
    /* delta of each layer and its bias gradient (column sums) in one pass */
    act_backward_bias(net->act[L - 1], net->acts[L], delta, net->grads + net->b_off[L - 1],
                      db_mode, B, net->width[L]);
    for (uint32_t l = L; l-- > 0;) {
        const uint32_t wi = net->width[l], wo = net->width[l + 1];
        /* dW += X^T delta (or = with beta 0: 0 + x rounds as x) */
        if (grads)
            contrl__gemm(net->blas, wi, wo, B, 1.0f, net->acts[l], 1, wi, delta, wo, 1, beta,
                         net->grads + net->w_off[l], wo, 1);
        if (l == 0 && dx == NULL)
            break;
        /* dX = delta W^T, then through the previous layer's activation. */
        float *next = l == 0 ? dx : net->work[(L - l) & 1];
        const float *w = net->params + net->w_off[l];
        /* through the previous layer's ReLU, with its bias gradient, while
         * the product is in registers, where libcontrl's own kernels run
         * it; same bits as the pass below */
        const contrl__mm_epi epi = {CONTRL__EPI_RELU_MASK_SUM, NULL, net->acts[l], wi,
                                    net->grads + (l > 0 ? net->b_off[l - 1] : 0), db_mode};
        if (l > 0 && net->act[l - 1] == CONTRL_ACT_RELU &&
            contrl__gemm_epi(net->blas, B, wi, wo, delta, wo, 1, w, 1, wo, 0.0f, next, wi, &epi)) {
            delta = next;
            continue;
        }
        contrl__gemm(net->blas, B, wi, wo, 1.0f, delta, wo, 1, w, 1, wo, 0.0f, next, wi, 1);
        if (l > 0)
            act_backward_bias(net->act[l - 1], net->acts[l], next, net->grads + net->b_off[l - 1],
                              db_mode, B, wi);
        delta = next;
    }
}

contrl_status contrl_net_backward(contrl_net *net, const float *dy, float *dx)
{
    return contrl__net_backward_mode(net, dy, dx, CONTRL__GRADS_ADD);
}

contrl_status contrl__net_backward_mode(contrl_net *net, const float *dy, float *dx, int mode)
{
    if (net == NULL || dy == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_net_backward: %s is NULL",
                            net == NULL ? "net" : "dy");
    if (net->batch == 0)
        return contrl__fail(CONTRL_ERR_STATE,
                            "contrl_net_backward: no forward pass to differentiate");
    backward(net, dy, dx, mode);
    return CONTRL_OK;
}

contrl_status contrl_net_zero_grad(contrl_net *net)
{
    if (net == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "contrl_net_zero_grad: net is NULL");
    memset(net->grads, 0, net->n_params * sizeof(float));
    return CONTRL_OK;
}

/* ---- parameters --------------------------------------------------------- */

static contrl_status check_flat(const contrl_net *net, const void *p, size_t n, const char *fn)
{
    if (net == NULL || p == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                            net == NULL ? "net" : "array");
    if (n != net->n_params)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: n is %zu, the net has %zu parameters",
                            fn, n, net->n_params);
    return CONTRL_OK;
}

contrl_status contrl_net_get_params(const contrl_net *net, float *dst, size_t n)
{
    contrl_status st = check_flat(net, dst, n, "contrl_net_get_params");
    if (st == CONTRL_OK)
        memcpy(dst, net->params, n * sizeof(float));
    return st;
}

contrl_status contrl_net_get_grads(const contrl_net *net, float *dst, size_t n)
{
    contrl_status st = check_flat(net, dst, n, "contrl_net_get_grads");
    if (st == CONTRL_OK)
        memcpy(dst, net->grads, n * sizeof(float));
    return st;
}

static contrl_status set_flat(contrl_net *net, float *to, const float *src, size_t n,
                              const char *fn)
{
    contrl_status st = check_flat(net, src, n, fn);
    if (st != CONTRL_OK)
        return st;
    if (!contrl__all_finite(src, n))
        return contrl__fail(CONTRL_ERR_NONFINITE, "%s: values contain NaN or Inf", fn);
    memcpy(to, src, n * sizeof(float));
    return CONTRL_OK;
}

contrl_status contrl_net_set_params(contrl_net *net, const float *src, size_t n)
{
    return set_flat(net, net ? net->params : NULL, src, n, "contrl_net_set_params");
}

contrl_status contrl_net_set_grads(contrl_net *net, const float *src, size_t n)
{
    return set_flat(net, net ? net->grads : NULL, src, n, "contrl_net_set_grads");
}

static contrl_status same_shape(const contrl_net *a, const contrl_net *b, const char *fn)
{
    if (a == NULL || b == NULL)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: net is NULL", fn);
    bool same = a->n_layers == b->n_layers;
    for (uint32_t l = 0; same && l <= a->n_layers; l++)
        same = a->width[l] == b->width[l];
    if (!same)
        return contrl__fail(CONTRL_ERR_INVALID_ARG, "%s: the nets have different layer shapes",
                            fn);
    return CONTRL_OK;
}

contrl_status contrl_net_copy_params(contrl_net *dst, const contrl_net *src)
{
    contrl_status st = same_shape(dst, src, "contrl_net_copy_params");
    if (st == CONTRL_OK && dst != src)
        memcpy(dst->params, src->params, src->n_params * sizeof(float));
    return st;
}

contrl_status contrl_net_soft_update(contrl_net *target, const contrl_net *src, float tau)
{
    contrl_status st = same_shape(target, src, "contrl_net_soft_update");
    if (st != CONTRL_OK)
        return st;
    if (!(tau >= 0.0f && tau <= 1.0f))
        return contrl__fail(CONTRL_ERR_INVALID_ARG,
                            "contrl_net_soft_update: tau %g is not in [0, 1]", (double)tau);
    const float keep = 1.0f - tau;
    float *t = target->params;
    const float *s = src->params;
    for (size_t i = 0; i < src->n_params; i++)
        t[i] = tau * s[i] + keep * t[i];
    return CONTRL_OK;
}

float *contrl__net_params_mut(contrl_net *net)
{
    return net->params;
}

struct contrl__blas *contrl__net_blas(contrl_net *net)
{
    return net->blas;
}

void contrl__net_set_duo(contrl_net *net, struct contrl__duo *duo)
{
    if (net != NULL)
        contrl__blas_set_duo(net->blas, duo);
}

float *contrl__net_grads_mut(contrl_net *net)
{
    return net->grads;
}

contrl_status contrl_net_config_init(contrl_net_config *cfg, size_t size)
{
    contrl_net_config d = net_defaults();
    return contrl__config_init(cfg, size, &d, CONTRL_NET_CONFIG_SIZE_V1, sizeof d, "contrl_net_config_init");
}
