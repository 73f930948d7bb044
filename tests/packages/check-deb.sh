#!/bin/bash
# tests/packages/check-deb.sh DIR — install the .deb from DIR on this machine,
# smoke-test it, then check Debian's remove/purge behaviour.
#
# Promises (run as root, no systemd needed):
#   - dpkg -i installs the package and creates the system user, adds postfix
#     (if present) to its group, leaves a conffile and an exceptions file;
#   - the installed daemon carries no test hook: no RFC8314_MILTER_TEST
#     string (the fault-injection hooks exist only in the test build,
#     build/rfc8314-milter-test);
#   - tests/packages/smoke.sh passes against the installed files;
#   - dpkg -r removes the binary but keeps the conffiles (Debian conffile
#     behaviour), dpkg -P then removes the conffiles, /etc/rfc8314-milter,
#     /run/rfc8314-milter and /var/log/rfc8314-milter, and keeps the system
#     user (postrm's documented choice);
#   - the package is purged at the end even when a check failed.
# Prints ok/FAIL lines and a summary; exits 0 only when everything passed.
set -u

DIR=${1:-build/packages}
PKG=rfc8314-milter
deb=$(ls "$DIR"/${PKG}_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "check-deb: no ${PKG}_*.deb in $DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "check-deb: must run as root" >&2; exit 2; }

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL - %s\n' "$*"; }
status() { dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | tr -d ' '; }

trap 'dpkg -P "$PKG" >/dev/null 2>&1' EXIT

echo "check-deb: installing $deb"
if dpkg -i "$deb"; then pass "dpkg -i"; else fail "dpkg -i"; fi
[ "$(status)" = ii ] && pass "status ii" || fail "status after install: $(status)"
[ -f /etc/rfc8314-milter/rfc8314-milter.conf ] && pass "conffile installed" || fail "no conffile"
got=$(stat -c '%U:%G %a' /etc/rfc8314-milter/exceptions 2>/dev/null)
[ "$got" = "root:$PKG 640" ] && pass "exceptions file root:$PKG 0640" || fail "exceptions file: got '$got'"
dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q '/etc/rfc8314-milter/rfc8314-milter.conf' \
    && pass "config is a dpkg conffile" || fail "config is not a conffile"
# The fault-injection hooks (RFC8314_MILTER_TEST_*) are compiled only into
# the test build; the shipped daemon must not even contain their names.
if ! command -v strings >/dev/null; then
    fail "strings (binutils) is not installed"
elif [ ! -x /usr/sbin/rfc8314-milter ]; then
    fail "no /usr/sbin/rfc8314-milter to check for test hooks"
elif hooks=$(strings /usr/sbin/rfc8314-milter | grep RFC8314_MILTER_TEST); then
    fail "the installed daemon contains test hooks: $(echo $hooks)"
else
    pass "the installed daemon has no RFC8314_MILTER_TEST string"
fi
# Installing twice (as an upgrade does) must not fail on the existing user.
if dpkg -i "$deb" >/dev/null; then pass "re-install (postinst idempotent)"; else fail "re-install"; fi

# ---- the smoke test ---------------------------------------------------------
WORK=$(pwd)/build/packages/smoke
rm -rf "$WORK"
if WORK=$WORK bash "$(dirname "$0")/smoke.sh"; then pass "smoke test"; else fail "smoke test"; fi

# ---- the installed report reads an audit line ------------------------------------
line='Dec  1 07:00:00 mx rfc8314-milter[1]: 4XyZ1: user=alice, mech=PLAIN, tls=none, cipher=none, group=none, bits=0, client=a.example[192.0.2.1]:1, listener=submission/587, verdict=reject, reason=cleartext, cleartext_auth=yes'
got=$(printf '%s\n' "$line" | /usr/bin/rfc8314-report --table cleartext --csv 2>&1 | sed -n 2p | cut -d, -f1,2)
[ "$got" = "alice,1" ] && pass "installed rfc8314-report lists the cleartext user" || fail "rfc8314-report: got '$got'"
dpkg -L "$PKG" | grep -q "/usr/share/man/man1/rfc8314-report.1" && pass "rfc8314-report(1) installed" || fail "no rfc8314-report(1)"

# ---- remove: conffiles stay ---------------------------------------------------
# A local change must survive remove, as any conffile edit does.
echo "# local change" >>/etc/rfc8314-milter/rfc8314-milter.conf
if dpkg -r "$PKG"; then pass "dpkg -r"; else fail "dpkg -r"; fi
[ "$(status)" = rc ] && pass "status rc after remove" || fail "status after remove: $(status)"
[ ! -e /usr/sbin/rfc8314-milter ] && pass "binary removed" || fail "binary still there after remove"
grep -q '^# local change' /etc/rfc8314-milter/rfc8314-milter.conf 2>/dev/null \
    && pass "conffile kept after remove" || fail "conffile gone after remove"

# ---- purge: everything but the user goes ----------------------------------------
mkdir -p /var/log/rfc8314-milter /run/rfc8314-milter
if dpkg -P "$PKG"; then pass "dpkg -P"; else fail "dpkg -P"; fi
[ -z "$(status)" ] || [ "$(status)" = un ] && pass "package gone after purge" || fail "status after purge: $(status)"
for p in /etc/rfc8314-milter /run/rfc8314-milter /var/log/rfc8314-milter /usr/sbin/rfc8314-milter /usr/bin/rfc8314-report; do
    [ ! -e "$p" ] && pass "purge removed $p" || fail "$p still there after purge"
done
[ ! -e /etc/systemd/system/multi-user.target.wants/rfc8314-milter.service ] \
    && pass "purge removed the unit's enable symlink" || fail "enable symlink left after purge"
getent passwd "$PKG" >/dev/null && pass "system user kept (by design)" || fail "system user removed"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
