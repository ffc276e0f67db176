#!/bin/sh
# An exec jig: the role "hello" in examples/roles.json.in. netd runs it as
#     hello.sh DEPLOYMENT NODE ROLE
# with the node-role's input on stdin (a JSON object: deployment, node, role,
# jig, attributes, parents, and "data", the node as RESTCONF shows it), the
# role's attributes as NETD_ATTR_<NAME>; stdout and stderr become the run's
# log; exit 0 is success, anything else an error (retried as the role says).
# It may run more than once for one transition: it only reports, so running
# it again changes nothing.
set -eu
input=$(cat)
echo "${NETD_ATTR_GREETING:-hello}: role $3 on $2 (deployment $1, after $(printf '%s' "$input" | jq -r '.parents | join(", ")'))"
printf '%s' "$input" | jq -r '.data["netd:node"][]?.address[]? | "  \(.network) \(.family) \(.address)"'
