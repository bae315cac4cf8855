#!/usr/bin/env bash
# Make sure Java (17+, what Kafka 4.x needs) and Maven are on PATH: infra/kafka resolves the Kafka
# broker from Maven Central with mvn and runs it with java. Installs Debian's packages when missing.
# Idempotent and quick when both are present (the Makefile's install target runs it every time).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

if have java && have mvn && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
    exit 0
fi

if ! have apt-get; then
    echo "ensure-java: java 17+ and mvn are needed to run Kafka for the tests; install them" \
         "(no apt-get here)" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO="sudo"; else
        echo "ensure-java: not root and no sudo; install default-jre-headless and maven" >&2
        exit 1
    fi
fi

echo "ensure-java: installing Debian's default-jre-headless and maven (for the local Kafka broker)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends default-jre-headless maven >/dev/null

if [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    echo "ensure-java: java $(java_major) is too old for Kafka 4.x (needs 17+)" >&2
    exit 1
fi
java -version 2>&1 | head -n1 >&2
mvn -v 2>&1 | head -n1 >&2
