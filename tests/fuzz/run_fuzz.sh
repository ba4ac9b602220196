#!/bin/sh
# tests/fuzz/run_fuzz.sh FUZZ_BINARY SEED_CORPUS_DIR [libFuzzer options...]
#
# Runs a libFuzzer target (built by a clang build with -Dfuzz=enabled or
# auto) on a scratch copy of the committed seed corpus, so that the inputs
# libFuzzer adds never land in the source tree. Crash, leak and timeout
# inputs go to $FUZZ_ARTIFACTS (default: ./fuzz-artifacts). The last line
# libFuzzer prints ("Done N runs in S second(s)") gives the executions.
# Examples:
#   tests/fuzz/run_fuzz.sh build-fuzz/tests/fuzz/fuzz-agent_load tests/fuzz/corpus/agent -runs=10000000
#   tests/fuzz/run_fuzz.sh build-fuzz/tests/fuzz/fuzz-json tests/fuzz/corpus/json -max_total_time=600
set -eu
bin=$1
seeds=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/contrl-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}
mkdir -p "$artifacts"
# halt_on_error: a UBSan report is a crash too; the allocator of the
# targets caps what a loader may take (64 MiB), libFuzzer's limit is a
# backstop.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$bin" "$work" "$seeds" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@"
