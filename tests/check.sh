#!/bin/sh
# check.sh BUILD — run every test suite of `make check` and print one summary.
#
# Each suite is a command; a suite passes when it exits 0.  The last suite is
# the performance guard when PERF_MAX_OWN_IR is set (the Makefile sets it).
# The last line is "check: N passed, N failed" (the plain form CI reads).
# Exits 1 if any failed.
set -u
build=${1:-build}
passed=0
failed=0
failures=
run() {
    name=$1; shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1)); echo "=== $name: PASS"
    else
        failed=$((failed + 1)); failures="$failures $name"; echo "=== $name: FAIL"
    fi
}
export IANA_SHARED_DIR=../shared/data/iana IANA_DIR=data/iana GEN_IANA="$build/tools/gen_iana"
run unit "$build/unit_tests" --log_level=test_suite --report_level=short
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    run "$(basename "$t" .sh)" env BUILD="$build" bash "$t"
done
# The performance guard (Makefile PERF_MAX_OWN_IR): instructions per
# transaction under callgrind, so the figure does not depend on the load of
# the machine; printed in every log, failed above the limit.
if [ -n "${PERF_MAX_OWN_IR:-}" ]; then
    run perf-guard env BUILD="$build" bash bench/callgrind.sh --max "$PERF_MAX_OWN_IR" --target "${PERF_TARGET_OWN_IR:-}" --top 25
else
    echo "=== perf-guard: skipped (PERF_MAX_OWN_IR empty, or a SANITIZE=1 build)"
fi
[ -n "$failures" ] && echo "failed suites:$failures"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
