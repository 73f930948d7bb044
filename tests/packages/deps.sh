#!/bin/sh
# tests/packages/deps.sh — make sure the Debian packages the packaging targets
# (make deb, make rpm, make check-packages) need are installed.
#
# Same contract as tests/deps.sh: as root, installs what is missing with
# apt-get; not root, prints the exact command and fails.  The build
# dependencies come from debian/control's list (kept in step by hand here so
# this script needs no dpkg-checkbuilddeps round trip), plus the tools:
# dpkg-dev/debhelper/fakeroot build the .deb, lintian checks it, rpm provides
# rpmbuild, rpmlint checks the RPM, postfix/swaks drive the smoke test.
set -eu
pkgs="g++ make libmilter-dev libssl-dev libboost-program-options-dev
libboost-test-dev openssl dpkg-dev debhelper fakeroot lintian rpm rpmlint
adduser util-linux procps file postfix swaks"
missing=
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "packages-deps: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "packages-deps: run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
# Postfix is only a test tool here: "No configuration" and policy-rc.d keep
# the distribution's own instance from being configured or started.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends $missing
