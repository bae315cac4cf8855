#!/usr/bin/env bash
# apt_install WHO PACKAGE...: install Debian packages (as root, or with sudo), or explain in
# one line why that cannot be done here. Sourced by infra/*/ensure-*.sh, which first check
# whether what they need is already present.

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
    local who=$1
    shift
    if ! have apt-get; then
        echo "$who: needs Debian's $*; install them (no apt-get here)" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if have sudo; then sudo="sudo"; else
            echo "$who: not root and no sudo; install Debian's $*" >&2
            return 1
        fi
    fi
    echo "$who: installing Debian's $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
