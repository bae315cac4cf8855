#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium: the browser tests (tests/browser/) drive
# it with Playwright, which never downloads a browser of its own here. Installs the Debian
# package when missing; idempotent and quick when it is present (`make install` runs it).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

if ! have apt-get; then
    echo "ensure-chromium: /usr/bin/chromium is needed for the browser tests; install Chromium" \
         "(no apt-get here)" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO="sudo"; else
        echo "ensure-chromium: not root and no sudo; install Debian's chromium package" >&2
        exit 1
    fi
fi

echo "ensure-chromium: installing Debian's chromium (for the browser tests)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version >&2
