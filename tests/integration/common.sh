# common.sh — shared helpers for the real-MTA integration tests (bash, sourced).
#
# Promises: every process a test starts is recorded with `track_pid` and
# killed by its own pid on exit (normal or not); every file lives under
# $WORK (inside the build tree); only loopback addresses are used.
# Assertions count passes and failures; `finish` prints the plain summary
# line and returns non-zero when anything failed.

set -u

: "${BUILD:=build}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_ABS=$(cd "$TOP/$BUILD" 2>/dev/null && pwd || echo "$TOP/$BUILD")
MILTER_BIN="$BUILD_ABS/rfc8314-milter"

PASSED=0
FAILED=0
TRACKED_PIDS=()
CLEANUP_HOOKS=()

# new_workdir NAME — a fresh, empty directory $WORK under the build tree.
new_workdir() {
    WORK="$BUILD_ABS/itest/$1"
    rm -rf "$WORK"
    mkdir -p "$WORK"
    chmod 0755 "$BUILD_ABS" "$BUILD_ABS/itest" "$WORK"
}

track_pid() { TRACKED_PIDS+=("$1"); }
on_exit() { CLEANUP_HOOKS+=("$1"); }

_cleanup() {
    local h p i
    for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
        h=${CLEANUP_HOOKS[$i]}
        eval "$h" >/dev/null 2>&1 || true
    done
    for p in "${TRACKED_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    sleep 0.2
    for p in "${TRACKED_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
    done
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# wait_port PORT [SECONDS] — wait until 127.0.0.1:PORT accepts connections.
wait_port() {
    local port=$1 limit=${2:-20} i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -ge $((limit * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

# wait_file FILE [SECONDS] — wait until FILE exists and is non-empty.
wait_file() {
    local f=$1 limit=${2:-20} i=0
    while [ ! -s "$f" ]; do
        i=$((i + 1))
        [ "$i" -ge $((limit * 10)) ] && return 1
        sleep 0.1
    done
}

# gen_cert DIR — self-signed RSA-2048 certificate for mx.example.test:
# DIR/cert.pem, DIR/key.pem (0640).
gen_cert() {
    mkdir -p "$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mx.example.test" \
        -addext "subjectAltName=DNS:mx.example.test" \
        -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1 || return 1
    chmod 0640 "$1/key.pem"
    chmod 0644 "$1/cert.pem"
}

# ---- assertions -----------------------------------------------------------
pass() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL - %s\n' "$*"; }

# check NAME COMMAND... — pass when COMMAND succeeds.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# expect_grep NAME PATTERN FILE — extended regexp must match a line of FILE.
expect_grep() {
    if grep -Eq -- "$2" "$3" 2>/dev/null; then pass "$1"; else
        fail "$1: want /$2/ in $3, got:"; sed -n '1,60p' "$3" 2>/dev/null | sed 's/^/    | /'
    fi
}

# expect_no_grep NAME PATTERN FILE — no line of FILE matches; a FILE that
# does not exist or cannot be read fails (it proves nothing).
expect_no_grep() {
    if [ ! -r "$3" ] || [ -d "$3" ]; then
        fail "$1: $3 is missing or unreadable, nothing to search"
    elif grep -Eq -- "$2" "$3" 2>/dev/null; then
        fail "$1: did not want /$2/ in $3, got:"; grep -En -- "$2" "$3" | sed 's/^/    | /'
    else pass "$1"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}
