#!/bin/sh
# tests/packages/deps.sh — the Debian packages the packaging targets need
# (tests/packages/packages.txt), installed by the same script and with the
# same contract as `make check`'s: as root, apt-get installs what is missing;
# otherwise the exact command is printed and the script fails.
exec sh "$(dirname "$0")/../deps.sh" "$(dirname "$0")/packages.txt"
