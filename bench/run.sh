#!/bin/sh
# bench/run.sh — the benchmarks of issue 6, in one run (`make bench`).
#
# Prints figures; it is not a pass/fail test.  It exits non-zero when a
# component does not start (a milter, Postfix) or when a load run counts
# errors (milter-load's exit status, smtp-source's, or messages that did not
# arrive).  docs/BENCHMARKS.md says what each figure means.
#
#   (a) milter-load, 50 concurrent connections, against the null milter
#       (plain, same) and rfc8314-milter, inet (as the README recipe and the
#       integration suites) and unix sockets (as the Debian package); rounds
#       alternate; median of the rounds and ratios
#   (b) p99 per stage: from (a) (saturated) and from a paced run
#   (c) RSS with 1,000 concurrent connections held open
#   (d) RSS after 100k and after 1M transactions, one process
#   (e) end to end: a private Postfix 3.7 on loopback, smtp-source -s 20
#       -m 2000 (a new connection per message), delivered to discard(8);
#       no milter, null milter (plain, same), rfc8314-milter; median of 3
#   (f) callgrind instructions per transaction (difference of two runs, so
#       start-up is not counted) and the top inclusive functions
#
# Knobs: BENCH_QUICK=1 scales every count down (a quick look, not figures
# to quote); BENCH_ROUNDS (default 3); BENCH_METRICS=1 turns rfc8314-milter's
# metrics endpoint on (metrics_listen on ports 13050-13060), to measure what
# counting costs.  Ports 13001-13099 (milters) and
# 13025-13587 (Postfix), loopback only; everything under $BUILD/bench.
# Every process it starts is tracked by pid and stopped on exit (common.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=build}"
export BUILD
# Postfix ports for the adapter (before sourcing it): the first is the
# "no milter" service; the other two are unused here.
PORT_SMTP=13025
PORT_SUB=13587
PORT_SUBS=13465
. "$HERE/../tests/integration/common.sh"
. "$HERE/../tests/integration/mta-postfix.sh"

LOAD="$BUILD_ABS/milter-load"
NULLM="$BUILD_ABS/null-milter"
QUICK=${BENCH_QUICK:-0}
ROUNDS=${BENCH_ROUNDS:-3}

if [ "$QUICK" = 1 ]; then
    TX_A=3000 TX_PACED=1000 TX_D1=10000 TX_D2=100000 CG_N1=100 CG_N2=500 E2E_MSGS=300
else
    TX_A=30000 TX_PACED=10000 TX_D1=100000 TX_D2=1000000 CG_N1=500 CG_N2=2500 E2E_MSGS=2000
fi
PACED_RATE=500    # transactions/s for the paced latency run (b)
HOLD_CONNS=1000   # (c)

WORK="$BUILD_ABS/bench"
rm -rf "$WORK"
mkdir -p "$WORK"
chmod 0755 "$BUILD_ABS" "$WORK"
OUT="$WORK/figures.txt" # the summary, also printed at the end
: > "$OUT"
ERRORS=0

say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" | tee -a "$OUT"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
failed() { ERRORS=$((ERRORS + 1)); printf 'bench: ERROR: %s\n' "$*" >&2; }

for f in "$LOAD" "$NULLM" "$MILTER_BIN"; do
    [ -x "$f" ] || die "missing $f (make bench builds it)"
done
command -v valgrind >/dev/null || die "valgrind missing (bench/packages.txt)"
[ -x /usr/sbin/smtp-source ] || die "smtp-source missing (postfix)"
# 1,000 held connections need more descriptors than the usual 1024.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

# ---- helpers -------------------------------------------------------------------
# Milters by name: socket spec (libmilter's), Postfix's spelling, pid.
declare -A SPEC PFSPEC PID

# stop_pid PID — TERM, wait up to 10 s, then KILL.  Only our own pids.
stop_pid() {
    local p=$1 i
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}

# wait_milter NAME SECONDS — until its socket accepts (inet) or exists (unix).
wait_milter() {
    local name=$1 limit=$2 spec=${SPEC[$1]} i
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "${PID[$name]}" 2>/dev/null || return 1
        case $spec in
            inet:*)
                local port=${spec#inet:}
                (exec 3<>"/dev/tcp/127.0.0.1/${port%@*}") 2>/dev/null && return 0 ;;
            *) [ -S "${spec#*:}" ] && return 0 ;;
        esac
        sleep 0.1
    done
    return 1
}

# set_spec NAME inet:PORT | unix — pick the socket of a milter.
set_spec() {
    local name=$1 kind=$2
    case $kind in
        inet:*)
            local port=${kind#inet:}
            SPEC[$name]="inet:$port@127.0.0.1"
            PFSPEC[$name]="inet:127.0.0.1:$port" ;;
        unix)
            SPEC[$name]="unix:$WORK/$name.sock"
            PFSPEC[$name]="unix:$WORK/$name.sock" ;;
    esac
}

# start_null NAME plain|same inet:PORT|unix
start_null() {
    local name=$1 mode=$2
    set_spec "$name" "$3"
    # umask 000: smtpd runs as postfix and must be able to connect.
    ( umask 000; exec "$NULLM" "$mode" "${SPEC[$name]}" ) > "$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    track_pid "${PID[$name]}"
    wait_milter "$name" 20 || { cat "$WORK/$name.log" >&2; die "null milter $name did not start"; }
}

# write_rfc_conf NAME — rfc8314-milter's configuration for the benchmarks:
# no syslog (none here), log lines to stderr (a file), log level info (one
# audit line per authenticated transaction, as in production), listeners:
# 587 = submission (milter-load's {daemon_port}); 13028 and 13030 = the
# end-to-end Postfix services, relay with trace = always, so every message
# through Postfix gets the trace field inserted (smtp-source speaks neither
# STARTTLS nor AUTH).
RFC_STARTS=0
write_rfc_conf() {
    local name=$1
    RFC_STARTS=$((RFC_STARTS + 1))
    cat > "$WORK/$name.conf" <<EOF
$([ "${BENCH_METRICS:-0}" = 1 ] && echo "metrics_listen = 127.0.0.1:$((13050 + RFC_STARTS % 10))")
socket = ${SPEC[$name]/unix:/local:}
umask = 000
syslog = no
log_stderr = yes
log_level = info
[listener submission]
port = 587
role = submission
[listener e2e-inet]
port = 13028
role = relay
trace = always
[listener e2e-unix]
port = 13030
role = relay
trace = always
EOF
}

# start_rfc NAME inet:PORT|unix [valgrind args...]
start_rfc() {
    local name=$1 kind=$2
    shift 2
    set_spec "$name" "$kind"
    write_rfc_conf "$name"
    "$MILTER_BIN" -n -c "$WORK/$name.conf" > /dev/null || die "bad bench config for $name"
    "$@" "$MILTER_BIN" -f -c "$WORK/$name.conf" 2> "$WORK/$name.log" &
    PID[$name]=$!
    track_pid "${PID[$name]}"
    wait_milter "$name" 60 || { tail -n 20 "$WORK/$name.log" >&2; die "rfc8314-milter $name did not start"; }
}

stop_milter_named() {
    stop_pid "${PID[$1]:-}"
    PID[$1]=
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# load FILE ARGS... — one milter-load run; output kept in FILE.
load() {
    local file=$1
    shift
    if ! "$LOAD" "$@" > "$file" 2>&1; then
        failed "milter-load $* (see $file):"
        sed 's/^/    | /' "$file" | grep -E 'errors:|milter-load:' | head -n 5 >&2
    fi
}

# field FILE KEY — KEY=value from milter-load's RESULT line.
field() {
    sed -n 's/^RESULT .*/&/p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }
# file of the median round of a set (by tps), for its latency figures
median_file() {
    local f best= want
    want=$(for f in "$@"; do field "$f" tps; done | median)
    for f in "$@"; do
        [ "$(field "$f" tps)" = "$want" ] && best=$f
    done
    echo "${best:-$1}"
}

note "rfc8314-milter benchmarks ($( [ "$QUICK" = 1 ] && echo "BENCH_QUICK=1: scaled-down counts" || echo "full counts"))"
note "machine: $(nproc) cores, $(uname -r), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
note "git: $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo unknown)"
note ""

# ---- milters for (a), (b), (e) ---------------------------------------------------
start_null null-plain plain inet:13001
start_null null-same same inet:13002
start_rfc rfc-inet inet:13003
start_null null-plain-unix plain unix
start_null null-same-unix same unix
start_rfc rfc-unix unix
# The same negotiation plus one fixed trace field at end of message: what the
# feature costs in the protocol alone (a) — not a target, an explanation.
start_null null-trace trace inet:13008
start_null null-trace-unix trace unix

# ---- (a) throughput at 50 concurrent connections --------------------------------
say "== (a) milter-load: 50 concurrent connections, $TX_A transactions a run, 10 per connection, $ROUNDS rounds =="
A_NAMES=(null-plain null-same null-trace rfc-inet null-plain-unix null-same-unix null-trace-unix rfc-unix)
declare -A A_FILES
for ((r = 1; r <= ROUNDS; r++)); do
    # Alternate the order each round so no configuration always runs first.
    order=("${A_NAMES[@]}")
    ((r % 2)) || order=($(printf '%s\n' "${A_NAMES[@]}" | tac))
    for n in "${order[@]}"; do
        f="$WORK/a-$n-$r.txt"
        load "$f" -s "${SPEC[$n]}" -c 50 -n "$TX_A" -p 10 --label "$n"
        A_FILES[$n]="${A_FILES[$n]:-} $f"
        say "  round $r $n: $(field "$f" tps) transactions/s, errors=$(field "$f" errors)"
    done
done
declare -A A_TPS A_MED
for n in "${A_NAMES[@]}"; do
    # shellcheck disable=SC2086
    A_TPS[$n]=$(for f in ${A_FILES[$n]}; do field "$f" tps; done | median)
    # shellcheck disable=SC2086
    A_MED[$n]=$(median_file ${A_FILES[$n]})
done
say ""
say "negotiated (from milter-load):"
for n in "${A_NAMES[@]}"; do
    say "  $n: $(sed -n 's/^  negotiated: //p' "${A_MED[$n]}")"
done
p_same=$(field "${A_MED[null-same]}" protocol)
p_rfc=$(field "${A_MED[rfc-inet]}" protocol)
[ "$p_same" = "$p_rfc" ] || say "  WARNING: null-same negotiated $p_same, rfc8314-milter $p_rfc: not the same steps"
say ""
say "rfc8314-milter, median round (inet):"
sed -n '2,$p' "${A_MED[rfc-inet]}" | grep -v '^RESULT' | sed 's/^/  /'
say "rfc8314-milter, median round (unix):"
sed -n '2,$p' "${A_MED[rfc-unix]}" | grep -v '^RESULT' | sed 's/^/  /'

note "(a) [load average $(cut -d' ' -f1-3 /proc/loadavg)] throughput, milter-load, 50 concurrent, median of $ROUNDS rounds of $TX_A transactions (transactions/s)"
note "    inet   null-plain $(printf '%9s' "${A_TPS[null-plain]}")   null-same $(printf '%9s' "${A_TPS[null-same]}")   rfc8314 $(printf '%9s' "${A_TPS[rfc-inet]}")   rfc8314/null-plain $(ratio "${A_TPS[rfc-inet]}" "${A_TPS[null-plain]}")   rfc8314/null-same $(ratio "${A_TPS[rfc-inet]}" "${A_TPS[null-same]}")"
note "    unix   null-plain $(printf '%9s' "${A_TPS[null-plain-unix]}")   null-same $(printf '%9s' "${A_TPS[null-same-unix]}")   rfc8314 $(printf '%9s' "${A_TPS[rfc-unix]}")   rfc8314/null-plain $(ratio "${A_TPS[rfc-unix]}" "${A_TPS[null-plain-unix]}")   rfc8314/null-same $(ratio "${A_TPS[rfc-unix]}" "${A_TPS[null-same-unix]}")"
note "    null-trace (same negotiation + one fixed trace field): inet $(printf '%9s' "${A_TPS[null-trace]}")   unix $(printf '%9s' "${A_TPS[null-trace-unix]}")   rfc8314/null-trace: inet $(ratio "${A_TPS[rfc-inet]}" "${A_TPS[null-trace]}")   unix $(ratio "${A_TPS[rfc-unix]}" "${A_TPS[null-trace-unix]}")"

# ---- (b) p99 per stage ------------------------------------------------------------
say ""
say "== (b) latency per stage: saturated (median round of (a)) and paced ($PACED_RATE transactions/s over 50 connections, $TX_PACED transactions) =="
declare -A B_FILE
for n in null-same rfc-inet null-same-unix rfc-unix; do
    f="$WORK/b-$n.txt"
    load "$f" -s "${SPEC[$n]}" -c 50 -n "$TX_PACED" -p 10 --rate "$PACED_RATE" --label "$n-paced"
    B_FILE[$n]=$f
    say "  $n paced:"
    sed -n '/^  stage/,/^  replies/p' "$f" | sed 's/^/  /'
done
# stages_p99 FILE — "stage=p99" for every stage that waits for a reply.
stages_p99() {
    local s v out=
    for s in optneg connect helo mail1 mail rcpt data header eoh body eom; do
        v=$(field "$1" "p99_$s")
        [ "$v" != "-" ] && [ -n "$v" ] && out="$out $s=$v"
    done
    echo "${out# }"
}
# worst_p99 FILE [STAGES...] — the largest p99 of those stages (default all).
worst_p99() {
    local f=$1 s v w=0
    shift
    [ $# -gt 0 ] || set -- optneg connect helo mail1 mail rcpt data header eoh body eom
    for s in "$@"; do
        v=$(field "$f" "p99_$s")
        [ "$v" != "-" ] && [ -n "$v" ] && w=$(awk -v a="$w" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "$w"
}
# The per-message stages of issue 17 item 5 (optneg is a new connection).
worst_msg_p99() { worst_p99 "$1" mail1 mail rcpt data header eoh body eom; }
note "(b) p99 latency per stage in microseconds (stages that wait for a reply)"
for n in null-same rfc-inet null-same-unix rfc-unix; do
    note "    $(printf '%-15s' "$n") paced $PACED_RATE/s: $(stages_p99 "${B_FILE[$n]}")"
    note "    $(printf '%-15s' "$n") saturated:    $(stages_p99 "${A_MED[$n]}")"
done

# ---- (e) end to end through Postfix ------------------------------------------------
say ""
say "== (e) end to end: private Postfix, smtp-source -s 20 -m $E2E_MSGS, discard(8), $ROUNDS rounds =="
new_e2e() {
    mta_setup 0 "smtpd_milters =" "virtual_transport = discard" || die "postfix setup failed"
    cat >> "$PF_CONF/master.cf" <<EOF
13026      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[null-plain]}
13027      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[null-same]}
13028      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[rfc-inet]}
13029      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[null-same-unix]}
13030      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[rfc-unix]}
13031      inet  n       -      n      -      -       smtpd -o smtpd_milters=${PFSPEC[null-plain-unix]}
EOF
    mta_start || die "postfix did not start"
    local p
    for p in 13026 13027 13028 13029 13030 13031; do
        wait_port "$p" 20 || die "postfix: nothing on 127.0.0.1:$p"
    done
}
new_e2e
E_NAMES=(none null-plain null-same rfc-inet null-plain-unix null-same-unix rfc-unix)
declare -A E_PORT=([none]=13025 [null-plain]=13026 [null-same]=13027 [rfc-inet]=13028 [null-same-unix]=13029 [rfc-unix]=13030 [null-plain-unix]=13031)
declare -A E_RATES
sent_count() { grep -c 'status=sent' "$(mta_log)" 2>/dev/null || true; }
queue_files() { find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" "$PF_DIR/queue/deferred" "$PF_DIR/queue/maildrop" -type f 2>/dev/null | wc -l; }
# wait_drained WANT — until the queue is empty and WANT deliveries are logged.
wait_drained() {
    local want=$1 i
    for ((i = 0; i < 600; i++)); do
        [ "$(queue_files)" -eq 0 ] && [ "$(sent_count)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}
delivered=0
# One warm-up round for every service (first smtpd and cleanup processes).
for n in "${E_NAMES[@]}"; do
    /usr/sbin/smtp-source -s 5 -m 20 -f sender@example.test -t "$RCPT" "127.0.0.1:${E_PORT[$n]}" > "$WORK/e-warm-$n.txt" 2>&1 ||
        failed "smtp-source warm-up to $n"
    delivered=$((delivered + 20))
done
wait_drained "$delivered" || failed "warm-up mail did not drain"
for ((r = 1; r <= ROUNDS; r++)); do
    order=("${E_NAMES[@]}")
    ((r % 2)) || order=($(printf '%s\n' "${E_NAMES[@]}" | tac))
    for n in "${order[@]}"; do
        t0=$(date +%s.%N)
        if ! /usr/sbin/smtp-source -s 20 -m "$E2E_MSGS" -f sender@example.test -t "$RCPT" "127.0.0.1:${E_PORT[$n]}" > "$WORK/e-$n-$r.txt" 2>&1; then
            failed "smtp-source to $n (round $r): $(head -n 3 "$WORK/e-$n-$r.txt" | tr '\n' ' ')"
        fi
        t1=$(date +%s.%N)
        delivered=$((delivered + E2E_MSGS))
        wait_drained "$delivered" || failed "$n round $r: $((delivered - $(sent_count))) of the messages not delivered"
        rate=$(awk -v n="$E2E_MSGS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
        E_RATES[$n]="${E_RATES[$n]:-} $rate"
        say "  round $r $n: $rate messages/s"
    done
done
grep -E 'milter.*(error|warning|timeout)|reject:' "$(mta_log)" | head -n 5 | sed 's/^/  postfix log: /'
if grep -qE 'milter.*(error|timeout)|reject:' "$(mta_log)"; then failed "postfix logged milter errors or rejections"; fi
declare -A E_MED
for n in "${E_NAMES[@]}"; do
    E_MED[$n]=$(printf '%s\n' ${E_RATES[$n]} | median)
done
mta_stop
note "(e) [load average $(cut -d' ' -f1-3 /proc/loadavg)] end to end, Postfix 3.7 + smtp-source -s 20 -m $E2E_MSGS, median of $ROUNDS (messages/s)"
note "    no milter $(printf '%7s' "${E_MED[none]}")   null-plain $(printf '%7s' "${E_MED[null-plain]}")   null-same $(printf '%7s' "${E_MED[null-same]}")   rfc8314 $(printf '%7s' "${E_MED[rfc-inet]}")   (inet milter sockets)"
note "    rfc8314/null-plain $(ratio "${E_MED[rfc-inet]}" "${E_MED[null-plain]}")   rfc8314/null-same $(ratio "${E_MED[rfc-inet]}" "${E_MED[null-same]}")   rfc8314/no-milter $(ratio "${E_MED[rfc-inet]}" "${E_MED[none]}")   null-plain/no-milter $(ratio "${E_MED[null-plain]}" "${E_MED[none]}")"
note "    unix milter sockets:   null-plain $(printf '%7s' "${E_MED[null-plain-unix]}")   null-same $(printf '%7s' "${E_MED[null-same-unix]}")   rfc8314 $(printf '%7s' "${E_MED[rfc-unix]}")"
note "    rfc8314/null-plain $(ratio "${E_MED[rfc-unix]}" "${E_MED[null-plain-unix]}")   rfc8314/null-same $(ratio "${E_MED[rfc-unix]}" "${E_MED[null-same-unix]}")   rfc8314/no-milter $(ratio "${E_MED[rfc-unix]}" "${E_MED[none]}")   null-plain/no-milter $(ratio "${E_MED[null-plain-unix]}" "${E_MED[none]}")"

for n in "${A_NAMES[@]}"; do stop_milter_named "$n"; done

# ---- (c) RSS with 1,000 concurrent connections ------------------------------------
say ""
say "== (c) RSS with $HOLD_CONNS connections held open (one transaction each, then idle) =="
# hold_rss NAME — sets H_IDLE, H_HELD (kB) and H_THREADS of milter NAME.
hold_rss() {
    local name=$1 f="$WORK/c-$1.txt" lp i
    H_IDLE=$(rss_kb "${PID[$name]}")
    H_HELD=-
    H_THREADS=-
    "$LOAD" -s "${SPEC[$name]}" -c "$HOLD_CONNS" -p 1 --hold --hold-timeout 300 --label "$name-hold" > "$f" 2>&1 &
    lp=$!
    track_pid "$lp"
    for ((i = 0; i < 1200; i++)); do
        grep -q '^holding' "$f" && break
        kill -0 "$lp" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q '^holding' "$f"; then
        sleep 1
        H_HELD=$(rss_kb "${PID[$name]}")
        H_THREADS=$(threads_of "${PID[$name]}")
    else
        failed "$name: the $HOLD_CONNS connections were not all established"
    fi
    kill -USR1 "$lp" 2>/dev/null
    wait "$lp" || failed "milter-load --hold against $name (see $f)"
    say "  $name: $(sed -n 's/^  errors: //p' "$f")"
}
start_rfc rfc-rss inet:13004
hold_rss rfc-rss
c_idle=$H_IDLE c_held=$H_HELD c_threads=$H_THREADS
stop_milter_named rfc-rss
start_null null-rss same inet:13007
hold_rss null-rss
n_idle=$H_IDLE n_held=$H_HELD n_threads=$H_THREADS
stop_milter_named null-rss
note "(c) RSS with $HOLD_CONNS connections held open (kB, VmRSS)"
note "    rfc8314-milter: idle $c_idle, holding $c_held ($c_threads threads) = $(awk -v k="$c_held" 'BEGIN { printf "%.1f", k / 1024 }') MB"
note "    null-same:      idle $n_idle, holding $n_held ($n_threads threads) = $(awk -v k="$n_held" 'BEGIN { printf "%.1f", k / 1024 }') MB"

# ---- (d) RSS after 100k vs 1M transactions ------------------------------------------
say ""
say "== (d) RSS after $TX_D1 and after $TX_D2 transactions (unix socket, 50 concurrent) =="
start_rfc rfc-long unix
d_start=$(rss_kb "${PID[rfc-long]}")
load "$WORK/d-1.txt" -s "${SPEC[rfc-long]}" -c 50 -n "$TX_D1" -p 10 --label rfc-long-1
d_1=$(rss_kb "${PID[rfc-long]}")
load "$WORK/d-2.txt" -s "${SPEC[rfc-long]}" -c 50 -n $((TX_D2 - TX_D1)) -p 10 --label rfc-long-2
d_2=$(rss_kb "${PID[rfc-long]}")
say "  $(field "$WORK/d-1.txt" tps) and $(field "$WORK/d-2.txt" tps) transactions/s"
stop_milter_named rfc-long
note "(d) RSS of one rfc8314-milter process (kB): at start $d_start, after $TX_D1 transactions $d_1, after $TX_D2 $d_2: ratio $(ratio "$d_2" "$d_1")"

# ---- (f) callgrind ----------------------------------------------------------------
say ""
say "== (f) callgrind: instructions per transaction (runs of $CG_N1 and $CG_N2 transactions, 1 connection, 10 per connection) =="
# bench/callgrind.sh: the same measurement as the guard of make check, with
# this run's counts and the top inclusive functions.
# With BENCH_METRICS=1, rfc8314-milter runs with its endpoint on here too.
cg_args=(--top 30 --dir "$WORK/callgrind")
[ "${BENCH_METRICS:-0}" = 1 ] && cg_args+=(--metrics 127.0.0.1:13060)
if ! CG_N1=$CG_N1 CG_N2=$CG_N2 BUILD=$BUILD bash "$HERE/callgrind.sh" "${cg_args[@]}" \
    > "$WORK/callgrind.txt" 2>&1; then
    failed "bench/callgrind.sh (see $WORK/callgrind.txt)"
fi
sed 's/^/  /' "$WORK/callgrind.txt"
cg_line=$(sed -n 's/^callgrind: rfc8314-milter //p' "$WORK/callgrind.txt")
cg_rfc=$(awk '{ print $1 }' <<< "${cg_line:--}")
cg_null=$(awk '{ print $3 }' <<< "${cg_line:--}")
cg_own=$(awk '{ print $6 }' <<< "${cg_line:--}")
note "(f) callgrind, instructions per transaction (difference of a $CG_N1 and a $CG_N2 transaction run, start-up excluded)"
note "    rfc8314-milter ${cg_rfc:--}   null-same ${cg_null:--}   rfc8314 own work ${cg_own:--}"

# ---- targets ------------------------------------------------------------------------
say ""
note ""
note "issue-6 targets (computed from the figures above):"
met() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
r_a=$(ratio "${A_TPS[rfc-inet]}" "${A_TPS[null-same]}")
r_au=$(ratio "${A_TPS[rfc-unix]}" "${A_TPS[null-same-unix]}")
note "    milter throughput >= 0.95 x null (same negotiation) at 50 concurrent: inet $r_a ($(met "$r_a >= 0.95")), unix $r_au ($(met "$r_au >= 0.95"))"
r_e=$(ratio "${E_MED[rfc-inet]}" "${E_MED[null-plain]}")
r_eu=$(ratio "${E_MED[rfc-unix]}" "${E_MED[null-plain-unix]}")
r_es=$(ratio "${E_MED[rfc-inet]}" "${E_MED[null-same]}")
r_esu=$(ratio "${E_MED[rfc-unix]}" "${E_MED[null-same-unix]}")
note "    end to end, match or beat the null libmilter filter (plain): inet $r_e ($(met "$r_e >= 1.0")), unix $r_eu ($(met "$r_eu >= 1.0"))"
note "    end to end vs the null filter with the same negotiation: inet $r_es ($(met "$r_es >= 1.0")), unix $r_esu ($(met "$r_esu >= 1.0"))"
r_n=$(ratio "${E_MED[rfc-inet]}" "${E_MED[none]}")
r_nu=$(ratio "${E_MED[rfc-unix]}" "${E_MED[none]}")
note "    end to end >= 0.97 x Postfix alone: inet $r_n ($(met "$r_n >= 0.97")), unix $r_nu ($(met "$r_nu >= 0.97"))"
w_i=$(worst_p99 "${B_FILE[rfc-inet]}")
w_u=$(worst_p99 "${B_FILE[rfc-unix]}")
note "    p99 < 1 ms per stage (paced $PACED_RATE/s, worst stage): inet ${w_i} us ($(met "$w_i < 1000")), unix ${w_u} us ($(met "$w_u < 1000"))"
note "    RSS < 30 MB at $HOLD_CONNS connections: $c_held kB ($(met "${c_held:-0} > 0 && $c_held < 30720"))"
r_d=$(ratio "$d_2" "$d_1")
note "    RSS flat +-5 % from $TX_D1 to $TX_D2 transactions: ratio $r_d ($(met "$r_d >= 0.95 && $r_d <= 1.05"))"
note ""
note "issue-17 targets:"
note "    own work <= 9000 instructions per transaction (f): ${cg_own:--} ($(met "${cg_own:-0} > 0 && ${cg_own:-0} <= 9000"))"
r_t=$(ratio "${A_TPS[rfc-inet]}" "${A_TPS[null-trace]}")
r_tu=$(ratio "${A_TPS[rfc-unix]}" "${A_TPS[null-trace-unix]}")
note "    milter throughput >= 0.95 x null-trace at 50 concurrent: inet $r_t ($(met "$r_t >= 0.95")), unix $r_tu ($(met "$r_tu >= 0.95"))"
note "    milter throughput >= 0.85 x null-same at 50 concurrent: inet $r_a ($(met "$r_a >= 0.85")), unix $r_au ($(met "$r_au >= 0.85"))"
note "    p99 < 1 ms per message stage (paced $PACED_RATE/s; mail1, mail, eom): inet $(worst_msg_p99 "${B_FILE[rfc-inet]}") us ($(met "$(worst_msg_p99 "${B_FILE[rfc-inet]}") < 1000")), unix $(worst_msg_p99 "${B_FILE[rfc-unix]}") us ($(met "$(worst_msg_p99 "${B_FILE[rfc-unix]}") < 1000"))"
note ""
note "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

say ""
say "==================================== figures ===================================="
cat "$OUT"
if [ "$ERRORS" -ne 0 ]; then
    say "bench: $ERRORS error(s) while measuring (see above); figures are incomplete"
    exit 1
fi
exit 0
