#!/bin/sh
# make demo: a real pipeline across the commands that exist, in a
# throw-away EVKIT_HOME.  Sign-up events go into a queue; a worker leases
# them, shapes them with jq, and acknowledges what it handled; a poison
# message ends in the dead-letter queue.  Then the bus routes the events
# by a rules file to a queue, a log and a command, and replays its archive.
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
evq-ctl create signups --visibility 60 --max-receives 2 --dlq signups-dlq
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
evq-recv --lease 60 signups > batch
jq -c '.body | fromjson | select(.detail | type == "object") |
    {welcome: .detail.user, plan: .detail.plan}' batch
jq -c 'select(.body | fromjson | .detail | type == "object")' batch | evq-recv --ack signups
evq-ctl stat signups | jq -c '{visible: .ApproximateNumberOfMessages, in_flight: .ApproximateNumberOfMessagesNotVisible}'

step "the poison message is handed back (--release), fails again, and is dead-lettered"
# Released at once rather than waiting out the lease: the demo holds on a
# busy machine, where a short lease could lapse before the ack.
jq -c 'select(.body | fromjson | .detail | type != "object")' batch | evq-recv --release signups
evq-recv --lease 60 signups | evq-recv --release signups
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

step "rules: the bus routes every event by a rules file, to a queue, a log and a command"
cat > notify <<'SH'
#!/bin/sh
# An exec: target: the shaped event on stdin.
jq -r '"notify: \(.user) is now on \(.plan)"'
SH
chmod +x notify
cat > rules.json <<'JSON'
{"rules": [
  {"name": "signups", "pattern": {"detail-type": ["UserRegistered"], "detail": {"user": [{"exists": true}]}},
   "targets": [
     {"id": "billing", "uri": "queue:billing",
      "input_transformer": {"input_paths_map": {"user": "$.detail.user", "plan": "$.detail.plan"},
                            "input_template": "{\"user\": <user>, \"plan\": <plan>, \"rule\": <aws.events.rule-name>}"}},
     {"id": "notify", "uri": "exec:./notify", "input_path": "$.detail",
      "retry": {"attempts": 2}, "dead_letter": "file:notify-dlq.ndjson"}]},
  {"name": "everything", "pattern": {"source": [{"prefix": "app."}]},
   "targets": [{"id": "audit", "uri": "log:audit"}]},
  {"name": "paused", "state": "DISABLED", "pattern": {"source": ["app.billing"]},
   "targets": [{"id": "out", "uri": "stdout:"}]}
]}
JSON
evbus-route -r rules.json --explain events.ndjson | jq -c '{id: .event.id, rules}'
evbus-route -r rules.json --archive bus events.ndjson
echo "queue billing:"
evq-recv billing
echo "log audit: $(evlog-read --events audit | jq -r .id | tr '\n' ' ')"

step "replay: the archive through the same rules (the log skips ids it has)"
evlog-read --events bus | evbus-route -r rules.json
echo "log audit still: $(evlog-read --events audit | wc -l | tr -d ' ') events; billing again: $(evq-recv billing | wc -l | tr -d ' ') messages"

step "workflow: an order state machine (fnflow): validate, charge with Retry, Choice, Parallel notify/ship, Catch to a refund"
cat > order.json <<'JSON'
{"StartAt": "Validate", "States": {
  "Validate": {"Type": "Task", "Resource": "validate", "ResultPath": "$.valid", "Next": "Valid?"},
  "Valid?": {"Type": "Choice", "Default": "Rejected",
    "Choices": [{"Variable": "$.valid", "BooleanEquals": true, "Next": "Charge"}]},
  "Rejected": {"Type": "Fail", "Error": "Order.Invalid", "Cause": "an order needs items"},
  "Charge": {"Type": "Task", "Resource": "charge", "ResultPath": "$.charge",
    "Retry": [{"ErrorEquals": ["Card.Declined"], "MaxAttempts": 0},
              {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
    "Next": "Big?"},
  "Big?": {"Type": "Choice", "Default": "Fulfil",
    "Choices": [{"Variable": "$.total", "NumericGreaterThan": 1000, "Next": "Review"}]},
  "Review": {"Type": "Wait", "Seconds": 60, "Next": "Fulfil"},
  "Fulfil": {"Type": "Parallel", "ResultPath": "$.done", "End": true,
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
    "Branches": [
      {"StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": "notify", "End": true}}},
      {"StartAt": "Ship", "States": {"Ship": {"Type": "Task", "Resource": "ship", "End": true}}}]},
  "Refund": {"Type": "Pass", "Parameters": {"order.$": "$.order", "refunded.$": "$.error.Error"},
    "End": true}}}
JSON
cat > charge <<'SH'
#!/bin/sh
# Fails with a typed error (SPEC 5) that the state's Retry and Catch name.
order=$(cat)
case $(printf '%s' "$order" | jq .card) in
"\"expired\"") echo '{"errorType":"Card.Declined","errorMessage":"card expired"}'; exit 1 ;;
esac
printf '%s' "$order" | jq -c '{charged: .total}'
SH
chmod +x charge
cat > orders.ndjson <<'JSON'
{"order":"o-1","items":["book"],"total":30,"card":"ok"}
{"order":"o-2","items":[],"total":0,"card":"ok"}
{"order":"o-3","items":["tv"],"total":1200,"card":"ok"}
{"order":"o-4","items":["pen"],"total":2,"card":"expired"}
JSON
# Waits and retries 100 times faster for the demo; -e gives DescribeExecution's fields.
fnflow -q -j 4 --time-scale 0.01 -e -n demo \
    -f 'validate=jq:.items | length > 0' -f charge=exec:./charge \
    -f 'notify=jq:"mailed \(.order)"' -f 'ship=jq:"shipped \(.order)"' \
    order.json orders.ndjson | jq -c '{name, status, output: (if .output then .output | fromjson else null end), error, cause}' || true

step "done"
