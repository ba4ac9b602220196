/* src/builtin.c - the built-in tasks by name. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const contrl_mj__builtin *const builtins[] = {
    &contrl_mj__invertedpendulum, &contrl_mj__inverteddoublependulum,
    &contrl_mj__reacher,          &contrl_mj__swimmer,
    &contrl_mj__halfcheetah,      &contrl_mj__hopper,
    &contrl_mj__walker2d,         &contrl_mj__ant,
    &contrl_mj__humanoid,
};
enum { N_BUILTIN = sizeof builtins / sizeof builtins[0] };

static const char *const names[N_BUILTIN + 1] = {
    "invertedpendulum", "inverteddoublependulum", "reacher", "swimmer", "halfcheetah",
    "hopper",           "walker2d",               "ant",     "humanoid", NULL,
};

static const char *const goal_names[] = {"reach", "push", NULL};

static bool same_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

const char *const *contrl_mj_names(void)
{
    return names;
}

const char *const *contrl_mj_goal_names(void)
{
    return goal_names;
}

static void list_names(char *buf, size_t n, const char *const *list)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; list[i] != NULL && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", list[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

contrl_status contrl_mj_make(const char *name, const contrl_allocator *allocator,
                             contrl_env *env)
{
    static const char fn[] = "contrl_mj_make";
    contrl_allocator a;
    contrl_status st = contrl_mj__make_begin(fn, env, sizeof *env, name, "name", allocator, &a);
    if (st != CONTRL_OK)
        return st;
    const contrl_mj__builtin *b = NULL;
    for (size_t i = 0; i < N_BUILTIN && b == NULL; i++)
        if (same_ci(name, builtins[i]->name) || same_ci(name, builtins[i]->gym_id))
            b = builtins[i];
    if (b == NULL) {
        char known[400], quoted[80];
        list_names(known, sizeof known, names);
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: unknown task \"%s\" (known: %s)", fn,
                                contrl_mj__quote(quoted, sizeof quoted, name), known);
    }
    mjModel *m;
    if ((st = contrl_mj__load_xml(fn, b->name, b->xml, &m)) != CONTRL_OK)
        return st;
    contrl_mj_task task = contrl_mj_task_default();
    if ((st = b->fill(m, &a, &task)) != CONTRL_OK) {
        mj_deleteModel(m);
        return st;
    }
    task.name = b->name;
    st = contrl_mj__env_from_model(fn, m, &task, &a, env);
    if (st != CONTRL_OK && task.destroy != NULL)
        task.destroy(task.user);
    return st;
}

contrl_status contrl_mj_goal_make(const char *name, const contrl_allocator *allocator,
                                  contrl_goal_env *env)
{
    static const char fn[] = "contrl_mj_goal_make";
    contrl_allocator a;
    contrl_status st = contrl_mj__make_begin(fn, env, sizeof *env, name, "name", allocator, &a);
    if (st != CONTRL_OK)
        return st;
    if (same_ci(name, "reach"))
        return contrl_mj__reach_make(&a, env);
    if (same_ci(name, "push"))
        return contrl_mj__push_make(&a, env);
    char known[200], quoted[80];
    list_names(known, sizeof known, goal_names);
    return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: unknown goal task \"%s\" (known: %s)", fn,
                            contrl_mj__quote(quoted, sizeof quoted, name), known);
}
