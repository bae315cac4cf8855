#!/bin/sh
# The asterisk service's entrypoint (docker-compose.yml): render the secrets ccx never
# commits into /etc/asterisk/ccx-secrets/, then run the command given (Asterisk).
#
#   CCX_AMI_SECRET            the AMI password of user `ccx` (manager.conf)    required
#   CCX_AGENTS                the agent endpoints of pjsip.conf                default "a1 a2 a3 a4"
#   CCX_SIP_PASSWORD_<AGENT>  each agent's SIP password (CCX_SIP_PASSWORD_A1)  required
#   CCX_CARRIER_PASSWORD      the carrier trunk's password, when pjsip.conf's carrier
#                             section is enabled (its `carrier-auth`)
#
# The files use Asterisk's `[section](+)`: they add the secret to a section pjsip.conf or
# manager.conf defines. They are written with mode 600 and never leave the container.
set -eu

out=/etc/asterisk/ccx-secrets
umask 077
mkdir -p "$out"

if [ -z "${CCX_AMI_SECRET:-}" ]; then
    echo "start.sh: set CCX_AMI_SECRET (the password ccx logs in to AMI with)" >&2
    exit 1
fi
printf '[ccx](+)\nsecret = %s\n' "$CCX_AMI_SECRET" > "$out/manager.conf"

: > "$out/pjsip.conf"
for agent in ${CCX_AGENTS:-a1 a2 a3 a4}; do
    var="CCX_SIP_PASSWORD_$(echo "$agent" | tr 'a-z-' 'A-Z_')"
    eval "password=\${$var:-}"
    if [ -z "$password" ]; then
        echo "start.sh: set $var (the SIP password of agent $agent)" >&2
        exit 1
    fi
    printf '[%s-auth](+)\npassword = %s\n' "$agent" "$password" >> "$out/pjsip.conf"
done
if [ -n "${CCX_CARRIER_PASSWORD:-}" ]; then
    printf '[carrier-auth](+)\npassword = %s\n' "$CCX_CARRIER_PASSWORD" >> "$out/pjsip.conf"
fi

if id asterisk > /dev/null 2>&1; then
    chown -R asterisk:asterisk "$out"
fi
exec "$@"
