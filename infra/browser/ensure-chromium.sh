#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium: the browser tests (tests/browser/) drive
# it with Playwright, which never downloads a browser of its own here. Installs the Debian
# package when missing; idempotent and quick when it is present (`make test` runs it).
set -euo pipefail
. "$(dirname "$0")/../apt-install.sh"

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
apt_install ensure-chromium chromium
/usr/bin/chromium --version >&2
