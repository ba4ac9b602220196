#!/bin/sh
# Installs the build into a scratch DESTDIR and builds a C and a C++ consumer
# against it using nothing but `pkg-config --cflags --libs contrl`.
# usage: check_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"

meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
pc=$(find "$root" -name contrl.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: contrl.pc was not installed"; exit 1; }
for h in contrl.h core.h net.h adam.h buffer.h env.h agent.h goal_env.h normalizer.h her.h version.h; do
    [ -n "$(find "$root" -path "*/include/contrl/$h")" ] || { echo "FAIL: header $h not installed"; exit 1; }
done

PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags contrl)
libs=$(pkg-config --libs contrl)
libdir=$(dirname "$(find "$root" -name libcontrl.so | head -n 1)")
echo "pkg-config: $cflags $libs"

# The installed library must carry a versioned SONAME.
soname=$(readelf -d "$libdir/libcontrl.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case "$soname" in
    libcontrl.so.[0-9]*) echo "SONAME $soname" ;;
    *) echo "FAIL: SONAME is '$soname'"; exit 1 ;;
esac

# A sanitizer build installs an instrumented library; its consumers must
# then load the sanitizer runtimes first, as any program linking it would.
san=""
if readelf -d "$libdir/libcontrl.so" | grep -q 'libasan'; then
    san="-fsanitize=address,undefined"
fi
cc $san -std=c11 -Wall -Wextra -Werror -pedantic "$src/tests/install/consumer.c" $cflags $libs -o "$tmp/consumer_c"
c++ $san -std=c++11 -Wall -Wextra -Werror "$src/tests/install/consumer.cpp" $cflags $libs -o "$tmp/consumer_cpp"
# The MuJoCo add-on, when built: its own .pc, its models, its symbols.
mjpc=$(find "$root" -name contrl-mujoco.pc | head -n 1)
for ex in "$src"/examples/*.c; do
    name=$(basename "$ex" .c)
    case "$name" in
        mujoco_*)
            [ -n "$mjpc" ] || continue
            cc $san -std=c11 -Wall -Wextra -Werror "$ex" $(pkg-config --cflags --libs contrl-mujoco) -lm -o "$tmp/$name" ;;
        *)
            cc $san -std=c11 -Wall -Wextra -Werror "$ex" $cflags $libs -lm -o "$tmp/$name" ;;
    esac
done
if [ -n "$mjpc" ]; then
    n=$(find "$root" -path '*/contrl-mujoco/models/*.xml' | wc -l)
    [ "$n" -eq 11 ] || { echo "FAIL: $n MuJoCo model files installed, expected 11"; exit 1; }
    mjlib=$(find "$root" -name libcontrl-mujoco.so | head -n 1)
    bad=$(nm -D --defined-only "$mjlib" | awk '{print $3}' | sed 's/@.*//' | grep -v -E '^(contrl_mj_[a-z][a-z0-9_]*|CONTRL_MJ_[0-9]+)$' || true)
    [ -z "$bad" ] || { echo "FAIL: libcontrl-mujoco exports: $bad"; exit 1; }
    echo "libcontrl-mujoco: $(nm -D --defined-only "$mjlib" | grep -c ' T ') exported functions, all contrl_mj_; $n models"
    (cd "$tmp" && LD_LIBRARY_PATH="$libdir:$(dirname "$mjlib")" ./mujoco_custom_task /nonexistent.xml 2>&1 | grep -q "cannot open model file") ||
        { echo "FAIL: mujoco_custom_task did not report the missing model file"; exit 1; }
    # The add-on also builds on its own against the installed libcontrl.
    if [ -z "$san" ]; then
        meson setup "$tmp/mj-alone" "$src/subprojects/contrl-mujoco" -Dtests=disabled >"$tmp/mj-alone.log" 2>&1 &&
            ninja -C "$tmp/mj-alone" >>"$tmp/mj-alone.log" 2>&1 ||
            { tail -n 20 "$tmp/mj-alone.log"; echo "FAIL: libcontrl-mujoco does not build alone"; exit 1; }
        grep -q "contrl" "$tmp/mj-alone/meson-logs/meson-log.txt"
        echo "libcontrl-mujoco builds alone against the installed libcontrl (pkg-config)"
    fi
fi
LD_LIBRARY_PATH="$libdir" "$tmp/consumer_c"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer_cpp"
LD_LIBRARY_PATH="$libdir" "$tmp/fit_sine" | tail -n 1
(cd "$tmp" && LD_LIBRARY_PATH="$libdir" ./checkpoint "$tmp/ex.safetensors" | tail -n 2)
echo "installed-consumer check passed"
