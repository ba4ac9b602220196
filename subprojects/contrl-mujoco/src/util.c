/* src/util.c - small helpers shared by the env and the tasks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *c_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    if (align < sizeof(void *))
        align = sizeof(void *);
    void *p = NULL;
    size = (size + align - 1) / align * align;
    return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

static void c_free(void *user, void *ptr, size_t size)
{
    (void)user;
    (void)size;
    free(ptr);
}

contrl_status contrl_mj__allocator(const char *func, const contrl_allocator *in,
                                   contrl_allocator *out)
{
    if (in == NULL || (in->alloc == NULL && in->free == NULL)) {
        out->alloc = c_alloc;
        out->free = c_free;
        out->user = NULL;
        return CONTRL_OK;
    }
    if (in->alloc == NULL || in->free == NULL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG,
                                "%s: allocator must set both alloc and free, or neither", func);
    *out = *in;
    return CONTRL_OK;
}

contrl_status contrl_mj__make_begin(const char *func, void *env, size_t env_size, const void *arg,
                                    const char *arg_name, const contrl_allocator *in,
                                    contrl_allocator *out)
{
    if (env == NULL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: env is NULL", func);
    memset(env, 0, env_size);
    if (arg == NULL)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: %s is NULL", func, arg_name);
    return contrl_mj__allocator(func, in, out);
}

const char *contrl_mj__quote(char *buf, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s != '\0'; s++) {
        const unsigned char c = (unsigned char)*s;
        const size_t w = c >= 0x20 && c < 0x7f ? 1 : 4;
        if (k + w + 4 > n) { /* room for "..." and the terminator */
            memcpy(buf + k, "...", 4);
            return buf;
        }
        if (w == 1)
            buf[k] = (char)c;
        else
            snprintf(buf + k, 5, "\\x%02x", c);
        k += w;
    }
    buf[k] = '\0';
    return buf;
}

int contrl_mj__qpos_of(const mjModel *m, const char *joint)
{
    int j = mj_name2id(m, mjOBJ_JOINT, joint);
    return j < 0 ? -1 : m->jnt_qposadr[j];
}

double contrl_mj__uniform(contrl_rng *rng, double lo, double hi)
{
    double u = (double)(contrl_rng_next(rng) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

double contrl_mj__normal(contrl_rng *rng)
{
    /* Box-Muller on two 53-bit uniforms; u1 in (0, 1]. */
    double u1 = ((double)(contrl_rng_next(rng) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(contrl_rng_next(rng) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int contrl_mj__unstable_warnings(const mjData *d)
{
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number +
           d->warning[mjWARN_BADQACC].number + d->warning[mjWARN_BADCTRL].number;
}

bool contrl_mj__state_finite(const mjModel *m, const mjData *d)
{
    for (int i = 0; i < m->nq; i++)
        if (!isfinite(d->qpos[i]))
            return false;
    for (int i = 0; i < m->nv; i++)
        if (!isfinite(d->qvel[i]))
            return false;
    return true;
}

const char *contrl_mj_mujoco_version(void)
{
    return mj_versionString();
}
