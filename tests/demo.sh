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
cd "$EVKIT_HOME"

step() { printf '\n== %s\n' "$*"; }

step "queues: signups, with a dead-letter queue after 2 receives"
evq-ctl create signups-dlq
evq-ctl create signups --visibility 1 --max-receives 2 --dlq signups-dlq
evq-ctl list

step "bus: an EventBridge pattern picks the sign-ups out of the event stream"
cat > events.ndjson <<'JSON'
{"id":"e1","source":"app.users","detail-type":"UserRegistered","detail":{"user":"ada","plan":"pro"}}
{"id":"e0","source":"app.billing","detail-type":"InvoicePaid","detail":{"amount":12.5}}
{"id":"e2","source":"app.users","detail-type":"UserRegistered","detail":{"user":"grace","plan":"free"}}
{"id":"e3","source":"app.users","detail-type":"UserRegistered","detail":{"user":"linus","plan":"pro"}}
{"id":"e4","source":"app.users","detail-type":"UserRegistered","detail":"garbled"}
{"id":"e5","source":"app.users","detail-type":"UserDeleted","detail":{"user":"old"}}
JSON
evbus-route -c -p '{"source":[{"prefix":"app."}],"detail-type":["UserRegistered"]}' events.ndjson

step "producer: the sign-ups go into the queue (one of them no worker can handle)"
evbus-route -p '{"source":[{"prefix":"app."}],"detail-type":["UserRegistered"]}' events.ndjson |
    evq-send -p signups
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

step "function: a welcome-mail handler runs once per sign-up (fnrun); its results land in a log"
cat > welcome-mail <<'SH'
#!/bin/sh
# A Lambda-style handler: the event on stdin, the result on stdout.
jq -c '{id, to: .detail.user, plan: .detail.plan, subject: "Welcome aboard!"}'
SH
chmod +x welcome-mail
jq -c '.body | fromjson | select(.detail | type == "object")' batch |
    fnrun -j 2 -n welcome-mail -- ./welcome-mail |
    evlog-append -p --stream-from .plan welcomes | jq -c '{seq, stream, version, to: .event.to}'

step "replay: fold the log back into state (welcomes per plan)"
evlog-read --fold '.[$event.plan] += 1' --init '{}' welcomes
evlog-read --verify welcomes && echo "log verified: every CRC, seq and version"

step "done"
