#!/bin/sh
# libcontrl's two commands. On a fresh Debian 12 machine:
#   ./run.sh demo   build, then train TD3 on the built-in Pendulum task with live
#                   progress; results, checkpoint and learning curve in runs/demo
#   ./run.sh test   build, then run the whole test suite, plain and under
#                   AddressSanitizer + UndefinedBehaviorSanitizer
#   ./run.sh tsan   (not part of `test`) build under ThreadSanitizer in
#                   build-tsan and run the tests that use threads
#                   (docs/reliability.md, section ThreadSanitizer)
# Missing Debian packages are installed first (needs root, as on CI).
set -eu
cd "$(dirname "$0")"

packages="meson ninja-build pkg-config gcc g++ libblis-dev libblis-serial-dev libxsmm-dev check python3 libmujoco-dev"

need_packages() {
    missing=""
    for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "installing Debian packages:$missing"
        if [ "$(id -u)" != 0 ]; then
            echo "error: run as root (or install them: apt-get install$missing)" >&2
            exit 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
}

setup() { # setup BUILD_DIR [meson options...]
    dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; exit 1; }
    fi
    ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -n 50 "$dir.build.log"; exit 1; }
}

# Counts results of meson test runs from their JSON logs.
summary() {
    python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
PY
}

case "${1:-}" in
demo)
    need_packages
    setup build
    echo "== libcontrl demo: TD3 learns the Pendulum swing-up (20,000 steps) =="
    ./build/tools/contrl info | head -n 3
    ./build/tools/contrl train td3 pendulum --out runs/demo
    ;;
test)
    need_packages
    status=0
    setup build
    meson test -C build --print-errorlogs --num-processes 2 || status=1
    setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --num-processes 2 || status=1
    summary build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
    exit $status
    ;;
tsan)
    need_packages
    # clang when installed (what the figures in docs/reliability.md used),
    # else gcc. The tests' malloc counter leaves TSan's malloc alone by
    # itself (tests/support/counting_alloc.h).
    cc=gcc
    command -v clang >/dev/null 2>&1 && cc=clang
    (
        export CC=$cc
        setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized \
            -Dfuzz=disabled
    ) || exit 1
    tests="threads vec_env agents-learn-vec agents-api agents-internal"
    meson test -C build-tsan --list 2>/dev/null | grep -q "mujoco-binding" &&
        tests="$tests mujoco-binding"
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
        meson test -C build-tsan --print-errorlogs --num-processes 1 $tests
    ;;
*)
    echo "usage: $0 demo|test|tsan" >&2
    exit 2
    ;;
esac
