#!/usr/bin/env bats
# evkit-serve: SQS's API over the local queues, driven by real clients only
# (the AWS CLI, botocore, the JS SDK v3), mixed with evq-send / evq-recv on
# the same $EVKIT_HOME; bad requests get AWS's error shapes; long polls
# wait without a thread; SIGTERM stops it cleanly.

load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	evkit_serve_start "$EVKIT_HOME"
	export NODE_NO_WARNINGS=1
}

teardown() {
	evkit_serve_stop || true
}

sdk() {
	node "$TOP/tests/lib/serve-sdk.mjs" "$@"
}

qurl() {
	echo "$SERVE_URL/000000000000/$1"
}

# call ACTION JSON: one request with curl; the status line, headers and
# body in $output.
call() {
	run curl -sS -i -X POST -H 'Content-Type: application/x-amz-json-1.0' \
	    -H "X-Amz-Target: AmazonSQS.$1" --data-binary "$2" "$SERVE_URL/"
}

body() {
	printf '%s\n' "$output" | sed -n '/^\r*$/,$p' | sed 1d
}

@test "evkit-serve: --listen 0 prints where it listens; SIGTERM stops it with 0" {
	run grep -c '^evkit-serve: listening on http://127\.0\.0\.1:[0-9][0-9]*$' "$SERVE_LOG"
	assert_output 1
	rc=0
	evkit_serve_stop || rc=$?
	assert_equal "$rc" 0
}

@test "evkit-serve: a bad --listen is 2; a port in use is 69" {
	run evkit-serve --listen nope
	assert_failure 2
	run evkit-serve --listen "${SERVE_URL##*:}"
	assert_failure 69
	assert_output --partial 'cannot listen'
	run evkit-serve extra
	assert_failure 2
}

@test "evkit-serve: the JS SDK: create, send with attributes, batch, receive (MD5s checked), visibility, batch delete, attributes" {
	run sdk tour tour1
	assert_success
	run jq -c '[.same, .getUrl == .url, .listed, .batchOk, .received, .attrs, .binary,
	    .receiveCount, .again, .againAttrs, .deleted, .left, .visibility]' <<<"$output"
	assert_output "[true,true,[\"$(qurl tour1)\"],9,10,\"42\",[0,1,2,255],\"1\",\"héllo\",[\"kind\"],9,\"0\",\"60\"]"
	# DeleteQueue: gone for the commands too.
	run evq-ctl stat tour1
	assert_failure 66
}

@test "evkit-serve: the SDK sends, evq-recv receives; evq-send sends, the SDK receives" {
	evq-ctl create mixed
	run sdk send "$(qurl mixed)" one two three
	assert_success
	assert_equal "${#lines[@]}" 3
	run evq-recv mixed
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "one three two "
	printf '{"n":%d}\n' 1 2 3 4 5 6 7 8 9 10 11 12 | evq-send mixed
	run sdk recv "$(qurl mixed)" 12
	assert_success
	assert_equal "${#lines[@]}" 12
	assert_equal "$(evq-ctl stat mixed | jq '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible')" 0
}

@test "evkit-serve: a long poll is answered by an evq-send of another process, well before its wait" {
	evq-ctl create lp
	sdk poll "$(qurl lp)" 20 >poll.out &
	pid=$!
	# The message comes whenever it comes: before the poll or during it.
	sleep 1
	echo '{"late":1}' | evq-send lp
	wait "$pid"
	run jq -c '[.bodies, .ms < 15000]' poll.out
	assert_output '[["{\"late\":1}"],true]'
}

@test "evkit-serve: a long poll with nothing ends empty after WaitTimeSeconds; several wait on one thread" {
	evq-ctl create quiet
	pids=
	for i in 1 2 3 4 5; do
		sdk poll "$(qurl quiet)" 2 >"poll$i.out" &
		pids="$pids $!"
	done
	# However many wait, the server is one thread.
	assert_equal "$(awk '/^Threads:/ { print $2 }' /proc/$SERVE_PID/status)" 1
	for p in $pids; do wait "$p"; done
	assert_equal "$(grep -c '"operation":"ReceiveMessage"' "$SERVE_LOG")" 5
	for i in 1 2 3 4 5; do
		run jq -c '[.bodies, .ms >= 1900]' "poll$i.out"
		assert_output '[[],true]'
	done
}

@test "evkit-serve: SIGTERM answers a waiting long poll at once, and exits 0" {
	evq-ctl create stopq
	sdk poll "$(qurl stopq)" 20 >poll.out 2>poll.err &
	pid=$!
	# Stopping before the request came would refuse it: wait until the
	# client sends it, and give it a moment to arrive.
	wait_for "grep -q polling poll.err" 60
	sleep 1
	rc=0
	evkit_serve_stop || rc=$?
	assert_equal "$rc" 0
	wait "$pid"
	run jq -c '[.bodies, .ms < 15000]' poll.out
	assert_output '[[],true]'
}

@test "evkit-serve: the AWS CLI (JSON 1.0): create-queue, send-message, receive-message, delete-message, list-queues, get-queue-attributes" {
	run aws_cli sqs create-queue --queue-name cli --attributes DelaySeconds=0
	assert_success
	assert_equal "$(jq -r .QueueUrl <<<"$output")" "$(qurl cli)"
	run aws_cli sqs send-message --queue-url "$(qurl cli)" --message-body 'from the cli' \
	    --message-attributes '{"k":{"DataType":"String","StringValue":"v"}}'
	assert_success
	assert_equal "$(jq -r .MD5OfMessageBody <<<"$output")" "$(printf 'from the cli' | md5sum | cut -d' ' -f1)"
	run aws_cli sqs receive-message --queue-url "$(qurl cli)" --message-attribute-names All \
	    --attribute-names All
	assert_success
	assert_equal "$(jq -r '.Messages[0].Body' <<<"$output")" 'from the cli'
	assert_equal "$(jq -r '.Messages[0].MessageAttributes.k.StringValue' <<<"$output")" v
	h=$(jq -r '.Messages[0].ReceiptHandle' <<<"$output")
	run aws_cli sqs delete-message --queue-url "$(qurl cli)" --receipt-handle "$h"
	assert_success
	run aws_cli sqs list-queues
	assert_success
	assert_equal "$(jq -c .QueueUrls <<<"$output")" "[\"$(qurl cli)\"]"
	run aws_cli sqs get-queue-attributes --queue-url "$(qurl cli)" --attribute-names All
	assert_success
	assert_equal "$(jq -r .Attributes.ApproximateNumberOfMessages <<<"$output")" 0
	run aws_cli sqs get-queue-url --queue-name nope
	assert_failure
	assert_output --partial 'NonExistentQueue'
}

@test "evkit-serve: botocore: batch send, receive, change visibility batch, tags (and CreateQueue's), purge" {
	export AWS_DATA_PATH="$BATS_TEST_TMPDIR/models"
	/usr/bin/python3 "$TOP/tests/lib/sqs-json-model.py" "$AWS_DATA_PATH"
	run /usr/bin/python3 - "$SERVE_URL" <<'PY'
import json, sys, botocore.session
s = botocore.session.get_session()
c = s.create_client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1')
u = c.create_queue(QueueName='boto')['QueueUrl']
r = c.send_message_batch(QueueUrl=u, Entries=[{'Id': str(i), 'MessageBody': 'b%d' % i} for i in range(10)])
got = []
while len(got) < 10:
    got += c.receive_message(QueueUrl=u, MaxNumberOfMessages=10).get('Messages', [])
v = c.change_message_visibility_batch(QueueUrl=u, Entries=[
    {'Id': 'x', 'ReceiptHandle': got[0]['ReceiptHandle'], 'VisibilityTimeout': 0},
    {'Id': 'y', 'ReceiptHandle': 'not-a-handle', 'VisibilityTimeout': 0}])
c.tag_queue(QueueUrl=u, Tags={'team': 'a', 'env': 'ci'})
c.untag_queue(QueueUrl=u, TagKeys=['env'])
t = c.list_queue_tags(QueueUrl=u)['Tags']
c.purge_queue(QueueUrl=u)
n = c.get_queue_attributes(QueueUrl=u, AttributeNames=['ApproximateNumberOfMessages'])
u2 = c.create_queue(QueueName='boto2', tags={'born': 'tagged'})['QueueUrl']
t2 = c.list_queue_tags(QueueUrl=u2)['Tags']
print(json.dumps([len(r['Successful']), len(got), [e['Id'] for e in v['Successful']],
    [e['Code'] for e in v['Failed']], t, n['Attributes'], t2]))
PY
	assert_success
	assert_output '[10, 10, ["x"], ["ReceiptHandleIsInvalid"], {"team": "a"}, {"ApproximateNumberOfMessages": "0"}, {"born": "tagged"}]'
}

@test "evkit-serve: tags are kept in the queue's file: the AWS CLI's TagQueue, UntagQueue and CreateQueue --tags survive a restart" {
	run aws_cli sqs create-queue --queue-name keep --tags team=a,env=ci
	assert_success
	run aws_cli sqs tag-queue --queue-url "$(qurl keep)" --tags owner=me,team=b
	assert_success
	run aws_cli sqs untag-queue --queue-url "$(qurl keep)" --tag-keys env nosuch
	assert_success
	evkit_serve_stop
	evkit_serve_start "$EVKIT_HOME"
	run aws_cli sqs list-queue-tags --queue-url "$(qurl keep)"
	assert_success
	assert_equal "$(jq -c .Tags <<<"$output")" '{"owner":"me","team":"b"}'
	# A queue with none answers no Tags, as SQS does.
	evq-ctl create bare
	run aws_cli sqs list-queue-tags --queue-url "$(qurl bare)"
	assert_success
	assert_equal "$(jq -c .Tags <<<"${output:-{\}}")" null
}

@test "evkit-serve: botocore: tag limits (50, key 1-128, value 0-256 characters) and errors change nothing" {
	export AWS_DATA_PATH="$BATS_TEST_TMPDIR/models"
	/usr/bin/python3 "$TOP/tests/lib/sqs-json-model.py" "$AWS_DATA_PATH"
	run /usr/bin/python3 - "$SERVE_URL" <<'PY'
import json, sys, botocore.session
from botocore.exceptions import ClientError
s = botocore.session.get_session()
c = s.create_client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1')
def err(f, **kw):
    try:
        f(**kw)
        return 'ok'
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message']]
u = c.create_queue(QueueName='lim', tags={'t%d' % i: 'v' for i in range(49)})['QueueUrl']
out = [err(c.tag_queue, QueueUrl=u, Tags={'x': 'y', 'z': 'w'}),
    err(c.tag_queue, QueueUrl=u, Tags={'k' * 129: 'v'}),
    err(c.tag_queue, QueueUrl=u, Tags={'big': 'v' * 257}),
    err(c.tag_queue, QueueUrl=u, Tags={}),
    err(c.untag_queue, QueueUrl=u, TagKeys=[]),
    len(c.list_queue_tags(QueueUrl=u)['Tags']),
    err(c.tag_queue, QueueUrl=u, Tags={'\u00e9' * 128: 'v' * 256}),
    err(c.tag_queue, QueueUrl=u, Tags={'t0': 'replaced'}),
    c.list_queue_tags(QueueUrl=u)['Tags']['t0'],
    err(c.create_queue, QueueName='badtags', tags={'': 'v'}),
    err(c.get_queue_url, QueueName='badtags')[0],
    err(c.tag_queue, QueueUrl=u.replace('lim', 'nope'), Tags={'a': 'b'})[0]]
print(json.dumps(out))
PY
	assert_success
	assert_output '[["InvalidParameterValue", "Too many tags added for queue lim."], ["InvalidParameterValue", "Tag keys must be between 1 and 128 characters in length."], ["InvalidParameterValue", "Tag values must be between 0 and 256 characters in length."], ["MissingParameter", "The request must contain the parameter Tags."], ["InvalidParameterValue", "Tag keys must be between 1 and 128 characters in length."], 49, "ok", "ok", "replaced", ["InvalidParameterValue", "Tag keys must be between 1 and 128 characters in length."], "AWS.SimpleQueueService.NonExistentQueue", "AWS.SimpleQueueService.NonExistentQueue"]'
}

@test "evkit-serve: ListQueues pages by MaxResults and NextToken (botocore, 3 pages; the AWS CLI follows them), within QueueNamePrefix" {
	for n in pg1 pg2 pg3 pg4 pg5 pg6 pg7 other; do evq-ctl create "$n"; done
	export AWS_DATA_PATH="$BATS_TEST_TMPDIR/models"
	/usr/bin/python3 "$TOP/tests/lib/sqs-json-model.py" "$AWS_DATA_PATH"
	run /usr/bin/python3 - "$SERVE_URL" <<'PY'
import json, sys, botocore.session
from botocore.exceptions import ClientError
s = botocore.session.get_session()
c = s.create_client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1')
pages, kw = [], {'QueueNamePrefix': 'pg', 'MaxResults': 3}
while True:
    r = c.list_queues(**kw)
    pages.append([u.rsplit('/', 1)[1] for u in r.get('QueueUrls', [])])
    if 'NextToken' not in r:
        break
    kw['NextToken'] = r['NextToken']
whole = c.list_queues()
def err(**kw):
    try:
        c.list_queues(**kw)
        return 'ok'
    except ClientError as e:
        return e.response['Error']['Code']
print(json.dumps([pages, len(whole['QueueUrls']), 'NextToken' in whole,
    err(MaxResults=1001), err(NextToken='zz'), err(NextToken='2e2e2f78')]))
PY
	assert_success
	assert_output '[[["pg1", "pg2", "pg3"], ["pg4", "pg5", "pg6"], ["pg7"]], 8, false, "InvalidParameterValue", "InvalidParameterValue", "InvalidParameterValue"]'
	before=$(grep -c '"operation":"ListQueues"' "$SERVE_LOG")
	run aws_cli sqs list-queues --queue-name-prefix pg --page-size 3
	assert_success
	assert_equal "$(jq -c '[.QueueUrls[] | sub(".*/"; "")]' <<<"$output")" '["pg1","pg2","pg3","pg4","pg5","pg6","pg7"]'
	# in three requests
	assert_equal "$(grep -c '"operation":"ListQueues"' "$SERVE_LOG")" "$((before + 3))"
}

@test "evkit-serve: bad requests get SQS's error shapes, statuses and x-amzn-query-error" {
	evq-ctl create bad
	call Nope '{}'
	assert_line --index 0 --partial ' 400 '
	assert_line --partial 'x-amzn-query-error: AWS.SimpleQueueService.InvalidAction;Sender'
	assert_equal "$(body | jq -r .__type)" 'com.amazonaws.sqs#InvalidAction'
	call SendMessage '{"QueueUrl": '
	assert_line --index 0 --partial ' 400 '
	assert_equal "$(body | jq -r .__type)" 'com.amazon.coral.service#SerializationException'
	call SendMessage "{\"QueueUrl\":\"$(qurl bad)\"}"
	assert_line --partial 'x-amzn-query-error: MissingParameter;Sender'
	assert_equal "$(body | jq -r .message)" 'The request must contain the parameter MessageBody.'
	call SendMessage "{\"QueueUrl\":\"$(qurl nope)\",\"MessageBody\":\"x\"}"
	assert_line --partial 'x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender'
	assert_equal "$(body | jq -c .)" '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}'
	call ReceiveMessage "{\"QueueUrl\":\"$(qurl bad)\",\"MaxNumberOfMessages\":11}"
	assert_line --partial 'x-amzn-query-error: InvalidParameterValue;Sender'
	call SendMessageBatch "{\"QueueUrl\":\"$(qurl bad)\",\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"x\"},{\"Id\":\"a\",\"MessageBody\":\"y\"}]}"
	assert_equal "$(body | jq -r .__type)" 'com.amazonaws.sqs#BatchEntryIdsNotDistinct'
	call DeleteMessage "{\"QueueUrl\":\"$(qurl bad)\",\"ReceiptHandle\":\"garbage\"}"
	assert_equal "$(body | jq -r .__type)" 'com.amazonaws.sqs#ReceiptHandleIsInvalid'
	# Nothing was sent by any of them.
	assert_equal "$(evq-ctl stat bad | jq .ApproximateNumberOfMessages)" 0
	# No service at all for the target.
	run curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'X-Amz-Target: Nobody.Op' -d '{}' "$SERVE_URL/"
	assert_output 400
}

@test "evkit-serve: a body over the limit is 413, read and dropped; one of 1 MiB + 1 is InvalidParameterValue" {
	evq-ctl create big
	head -c 7000000 /dev/zero | tr '\0' a >huge
	run curl -sS -o out -w '%{http_code}' -X POST -H 'X-Amz-Target: AmazonSQS.SendMessage' \
	    --data-binary @huge "$SERVE_URL/"
	assert_output 413
	run jq -r .__type out
	assert_output --partial RequestEntityTooLarge
	jq -Rn --arg u "$(qurl big)" '{QueueUrl: $u, MessageBody: ("a" * 1048577)}' >req
	run curl -sS -X POST -H 'X-Amz-Target: AmazonSQS.SendMessage' --data-binary @req "$SERVE_URL/"
	assert_equal "$(jq -r .__type <<<"$output")" 'com.amazonaws.sqs#InvalidParameterValue'
	assert_equal "$(evq-ctl stat big | jq .ApproximateNumberOfMessages)" 0
	# The server is still there.
	run sdk send "$(qurl big)" fine
	assert_success
}

@test "evkit-serve: an access log line per request on stderr; --report writes timings" {
	evkit_serve_stop
	SERVE_ARGS="--report $BATS_TEST_TMPDIR/report" evkit_serve_start "$EVKIT_HOME"
	run sdk send "$(qurl nope)" x
	assert_failure
	evq-ctl create logged
	sdk send "$(qurl logged)" a >/dev/null
	run grep -c '"operation":"SendMessage"' "$SERVE_LOG"
	assert_output 2
	run jq -sc '[.[] | select(.operation == "SendMessage") | [.status, .note]]' \
	    <(grep '^{' "$SERVE_LOG")
	assert_output '[[400,"QueueDoesNotExist"],[200,"logged"]]'
	run jq -sc '[.[] | [.service, .operation, .status, (.us >= 0)]]' report
	assert_output '[["sqs","SendMessage",400,true],["sqs","SendMessage",200,true]]'
}

@test "evkit-serve: --check-signatures verifies SigV4 (the SDK's and the CLI's pass; a wrong secret, none: 403); without keys it is 77" {
	evkit_serve_stop
	SERVE_ARGS=--check-signatures evkit_serve_start "$EVKIT_HOME"
	evq-ctl create signed
	run sdk send "$(qurl signed)" ok
	assert_success
	run aws_cli sqs get-queue-url --queue-name signed
	assert_success
	assert_equal "$(jq -r .QueueUrl <<<"$output")" "$(qurl signed)"
	AWS_SECRET_ACCESS_KEY=wrong run sdk error '{"command":"GetQueueUrlCommand","input":{"QueueName":"signed"}}'
	assert_output '{"name":"SignatureDoesNotMatch","status":403,"code":"SignatureDoesNotMatch"}'
	AWS_ACCESS_KEY_ID=AKIDOTHER run sdk error '{"command":"GetQueueUrlCommand","input":{"QueueName":"signed"}}'
	assert_output --partial '"status":403'
	run curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'X-Amz-Target: AmazonSQS.ListQueues' -d '{}' "$SERVE_URL/"
	assert_output 403
	assert_equal "$(evq-ctl stat signed | jq .ApproximateNumberOfMessages)" 1
	run env -u AWS_SECRET_ACCESS_KEY evkit-serve --listen 0 --check-signatures
	assert_failure 77
}

@test "evkit-serve: four SDK receivers at once share the messages: each once, none lost (grouped receives and deletes)" {
	evq-ctl create shared
	seq 1 200 | sed 's/.*/{"n":&}/' >in
	evq-send shared in
	pids=
	for i in 1 2 3 4; do
		sdk recv "$(qurl shared)" 200 >"got$i" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	cat got1 got2 got3 got4 | sort >got
	diff <(sort in) got
	assert_equal "$(evq-ctl stat shared | jq '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible')" 0
}

@test "evkit-serve: QueueUrls use the Host the client reached; a Host that is no host name is not copied into them" {
	run curl -sS -X POST -H 'X-Amz-Target: AmazonSQS.CreateQueue' -H 'Host: localhost:9999' \
	    -d '{"QueueName":"hosted"}' "$SERVE_URL/"
	assert_equal "$(jq -r .QueueUrl <<<"$output")" 'http://localhost:9999/000000000000/hosted'
	run curl -sS -X POST -H 'X-Amz-Target: AmazonSQS.GetQueueUrl' -H 'Host: a"b' \
	    -d '{"QueueName":"hosted"}' "$SERVE_URL/"
	assert_equal "$(jq -r .QueueUrl <<<"$output")" "$(qurl hosted)"
}

@test "evkit-serve: every answered send is on disk: kill -9 of the server loses none" {
	evq-ctl create durable
	run sdk send "$(qurl durable)" $(seq 1 30)
	assert_success
	assert_equal "${#lines[@]}" 30
	kill -9 "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null || true
	unset SERVE_PID
	run evq-recv durable
	assert_success
	assert_equal "$(sort -n <<<"$output" | tr '\n' ' ')" "$(seq 1 30 | tr '\n' ' ')"
}
