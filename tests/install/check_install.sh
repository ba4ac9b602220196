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
for ex in "$src"/examples/*.c; do
    name=$(basename "$ex" .c)
    cc $san -std=c11 -Wall -Wextra -Werror "$ex" $cflags $libs -lm -o "$tmp/$name"
done
LD_LIBRARY_PATH="$libdir" "$tmp/consumer_c"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer_cpp"
LD_LIBRARY_PATH="$libdir" "$tmp/fit_sine" | tail -n 1
(cd "$tmp" && LD_LIBRARY_PATH="$libdir" ./checkpoint "$tmp/ex.safetensors" | tail -n 2)
echo "installed-consumer check passed"
