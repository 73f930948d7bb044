#!/bin/sh
# deps.sh [LIST] — make sure every Debian package `make check` needs is
# installed.
#
# Reads LIST (default tests/packages.txt: one package a line, # comments).  As root, installs what is missing with apt-get
# (Postfix preseeded to "No configuration", so nothing starts system-wide).
# Not root: prints the exact command to run and fails.
set -eu
here=$(dirname "$0")
list=${1:-$here/packages.txt}
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
missing=
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "deps: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# policy-rc.d keeps the package's own Postfix from starting system-wide.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q $missing
