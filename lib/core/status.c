/* lib/core/status.c - status strings and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* The only mutable state outside handles: one message per thread. */
static _Thread_local char last_error[512];

const char *contrl_status_string(contrl_status status)
{
    switch (status) {
#define CONTRL_STATUS_CASE_(name, value, text)                                 \
    case name:                                                                 \
        return text;
        CONTRL_STATUS_MAP(CONTRL_STATUS_CASE_)
#undef CONTRL_STATUS_CASE_
    }
    return "unknown status";
}

const char *contrl_last_error(void)
{
    return last_error;
}

void contrl_clear_error(void)
{
    last_error[0] = '\0';
}

contrl_status contrl_set_error(contrl_status status, const char *fmt, ...)
{
    if (fmt == NULL) {
        last_error[0] = '\0';
        return status;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

contrl_status contrl__fail(contrl_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

unsigned contrl_version(void)
{
    return CONTRL_VERSION_NUMBER;
}

const char *contrl_version_string(void)
{
    return CONTRL_VERSION_STRING;
}
