#!/usr/bin/env bash
# Make sure Java (17+, what Kafka 4.x needs) and Maven are on PATH: infra/kafka resolves the Kafka
# broker from Maven Central with mvn and runs it with java. Installs Debian's packages when missing.
# Idempotent and quick when both are present (the Makefile's install target runs it every time).
set -euo pipefail

. "$(dirname "$0")/../apt-install.sh"

java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

if have java && have mvn && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
    exit 0
fi

apt_install ensure-java default-jre-headless maven

if [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    echo "ensure-java: java $(java_major) is too old for Kafka 4.x (needs 17+)" >&2
    exit 1
fi
java -version 2>&1 | head -n1 >&2
mvn -v 2>&1 | head -n1 >&2
