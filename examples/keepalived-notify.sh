#!/bin/sh
# keepalived notify script: tells Signpost about this LB node's VRRP state, so a site whose pair
# is all FAULT/STOP leaves the DNS answers at once. In keepalived.conf, inside vrrp_instance:
#     notify "/etc/keepalived/signpost-notify.sh tokyo tokyo-lb1"
# keepalived appends: <type> <instance name> <state> <priority>.
# Set SIGNPOST_ADMIN (default http://127.0.0.1:8053; several Signpost instances, e.g. ns1 and ns2,
# as a space-separated list) and SIGNPOST_ADMIN_TOKEN in the environment.
site="$1"; node="$2"; state="$5"
case "$state" in MASTER|BACKUP|FAULT|STOP) ;; *) exit 0 ;; esac
status=0
for admin in ${SIGNPOST_ADMIN:-http://127.0.0.1:8053}; do
  curl -fsS --max-time 2 -X POST "$admin/v1/lb-events" \
    -H "Authorization: Bearer ${SIGNPOST_ADMIN_TOKEN}" -H 'Content-Type: application/json' \
    -d "{\"site\":\"$site\",\"node\":\"$node\",\"state\":\"$state\"}" || status=1
done
exit $status
