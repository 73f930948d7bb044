#!/bin/sh
# bench-report.sh — throughput and memory of rfc8314-report on a generated
# month of audit lines; run by `make bench-report` (see mk/report.mk and
# docs/REPORT-SCALE.md).
#
#   BUILD=build REPORT_LINES=10000000 REPORT_USERS=50000 sh report/bench-report.sh
#
# Generates REPORT_LINES syslog lines with rfc8314-report-genlog into
# $BUILD/bench-report/ (kept between runs: a file is regenerated only when
# its parameters change), a gzip copy of it (as logrotate leaves one), and
# the same number of lines for ten times the users.  Then runs the report
# (default text output) on each under /usr/bin/time -v and prints wall
# time, CPU time (user + system: what the run needs when the machine is
# shared), max RSS and lines per second.  Nothing is installed or started.
set -eu

: "${BUILD:=build}"
: "${REPORT_LINES:=10000000}"
: "${REPORT_USERS:=50000}"
: "${REPORT_DAYS:=30}"
REPORT=$BUILD/rfc8314-report
GENLOG=$BUILD/rfc8314-report-genlog
DIR=$BUILD/bench-report
TIME=/usr/bin/time

[ -x "$REPORT" ] && [ -x "$GENLOG" ] || { echo "bench-report: build $REPORT and $GENLOG first" >&2; exit 1; }
[ -x "$TIME" ] || { echo "bench-report: needs GNU time as $TIME (Debian package: time)" >&2; exit 1; }
mkdir -p "$DIR"

# gen USERS FILE — REPORT_LINES lines for USERS users into FILE, unless
# FILE was made by a generator with the same checksum as this one (a
# relink of an unchanged generator does not cost a regeneration).
sum=$(cksum < "$GENLOG" | cut -d' ' -f1)
gen() {
    if [ ! -s "$2" ] || [ "$(cat "$2.genlog" 2>/dev/null)" != "$sum" ]; then
        echo "generating $REPORT_LINES lines, $1 users, $REPORT_DAYS days: $2" >&2
        rm -f "$2.gz"
        "$GENLOG" "$REPORT_LINES" --users "$1" --days "$REPORT_DAYS" > "$2.tmp"
        mv "$2.tmp" "$2"
        echo "$sum" > "$2.genlog"
    fi
}

users10=$((REPORT_USERS * 10))
plain=$DIR/audit-$REPORT_LINES-$REPORT_USERS.log
wide=$DIR/audit-$REPORT_LINES-$users10.log
gen "$REPORT_USERS" "$plain"
if [ ! -s "$plain.gz" ]; then
    echo "compressing: $plain.gz" >&2
    gzip -c "$plain" > "$plain.gz.tmp"
    mv "$plain.gz.tmp" "$plain.gz"
fi
gen "$users10" "$wide"

echo "machine: $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %9s %7s %8s %8s %6s %9s %6s %10s\n' input lines users clients wall cpu_s max_rss out lines/s

# run LABEL FILE — the report on FILE, text output to a file.
run() {
    out=$DIR/$(basename "$2").txt
    "$TIME" -v "$REPORT" "$2" > "$out" 2> "$DIR/time.txt" || {
        echo "bench-report: the report failed on $2:" >&2
        cat "$DIR/time.txt" >&2
        exit 1
    }
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time.txt")
    lines=$(sed -n 's/^lines  *//p' "$out" | head -1)
    users=$(sed -n 's/^users  *//p' "$out" | head -1)
    clients=$(sed -n 's/^clients  *//p' "$out" | head -1)
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$DIR/time.txt")
    secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rate=$(awk -v l="$lines" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", l / s; else print "-" }')
    size=$(du -h "$out" | cut -f1)
    printf '%-26s %9s %7s %8s %8s %6s %6s MB %6s %10s\n' "$1" "$lines" "$users" "$clients" "$wall" \
        "$cpu" "$((rss / 1024))" "$size" "$rate"
}

run "plain" "$plain"
run "gzip" "$plain.gz"
run "plain, 10x users" "$wide"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(text output in $DIR/*.txt; time -v detail of the last run in $DIR/time.txt)"
