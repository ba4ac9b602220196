#!/bin/sh
# libcontrl.so exports the public contrl_ API and nothing else: no internal
# contrl__ helpers, no symbol of the BLIS archive linked into it.
# usage: check_symbols.sh LIBCONTRL_SO
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
count=$(printf '%s\n' "$syms" | grep -c . || true)
bad=$(printf '%s\n' "$syms" | grep -v -E '^(contrl_[a-z][a-z0-9_]*|CONTRL_[0-9]+)$' || true)
internal=$(printf '%s\n' "$syms" | grep -E '^contrl__' || true)
if [ -n "$bad$internal" ]; then
    echo "FAIL: unexpected exported symbols:"
    printf '%s\n' $bad $internal | head -n 20
    exit 1
fi
for s in contrl_net_create contrl_adam_step contrl_buffer_sample contrl_blas_query contrl_version; do
    printf '%s\n' "$syms" | grep -q -x "$s" || { echo "FAIL: $s is not exported"; exit 1; }
done
echo "$count exported symbols, all public contrl_ API"
