#!/bin/sh
# make demo: a real pipeline across the commands that exist, in a
# throw-away EVKIT_HOME.  Sign-up events go into a queue; a worker leases
# them, shapes them with jq, and acknowledges what it handled; a poison
# message ends in the dead-letter queue.
set -eu
cd "$(dirname "$0")/.."
PATH="$(pwd)/bin:$PATH"
EVKIT_HOME=$(mktemp -d)
export EVKIT_HOME
trap 'rm -rf "$EVKIT_HOME"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "queues: signups, with a dead-letter queue after 2 receives"
evq-ctl create signups-dlq
evq-ctl create signups --visibility 1 --max-receives 2 --dlq signups-dlq
evq-ctl list

step "producer: three sign-up events (and one that no worker can handle)"
cat <<'JSON' | evq-send -p signups
{"id":"e1","detail-type":"UserRegistered","detail":{"user":"ada","plan":"pro"}}
{"id":"e2","detail-type":"UserRegistered","detail":{"user":"grace","plan":"free"}}
{"id":"e3","detail-type":"UserRegistered","detail":{"user":"linus","plan":"pro"}}
{"id":"e4","detail-type":"UserRegistered","detail":"garbled"}
JSON
evq-ctl stat signups | jq -c '{visible: .ApproximateNumberOfMessages}'

step "worker: lease everything, welcome the good ones, ack only those"
evq-recv --lease 1 signups > batch
jq -c '.body | fromjson | select(.detail | type == "object") |
    {welcome: .detail.user, plan: .detail.plan}' batch
jq -c 'select(.body | fromjson | .detail | type == "object")' batch | evq-recv --ack signups
evq-ctl stat signups | jq -c '{visible: .ApproximateNumberOfMessages, in_flight: .ApproximateNumberOfMessagesNotVisible}'

step "the poison message comes back, fails again, and is dead-lettered"
sleep 1.1
evq-recv --lease 1 signups > /dev/null
sleep 1.1
evq-recv signups || echo "(nothing left in signups)"
evq-recv -e signups-dlq | jq -c '{dead: (.body | fromjson | .id),
    receives: .attributes.ApproximateReceiveCount, from: .attributes.DeadLetterQueueSourceArn}'

step "ledger: the welcomes go into an event log, one stream per plan"
jq -c '.body | fromjson | select(.detail | type == "object") |
    {id, user: .detail.user, plan: .detail.plan}' batch | evlog-append -p --stream-from .plan welcomes |
    jq -c '{seq, stream, version, user: .event.user}'

step "replay: fold the log back into state (welcomes per plan)"
evlog-read --fold '.[$event.plan] += 1' --init '{}' welcomes
evlog-read --verify welcomes && echo "log verified: every CRC, seq and version"

step "done"
