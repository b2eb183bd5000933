#!/usr/bin/env bats
# The servers the SQS tests and benches stand on (tests/lib/servers.bash),
# proven with independent clients only (the AWS CLI, curl, botocore), so
# they are known good before evkit's own client talks to them.

load test_helper
load lib/servers

setup_file() {
	fauxqs_start
}

teardown_file() {
	fauxqs_stop
}

# A test that fails half-way still stops what it started.
teardown() {
	throttle_stop
	sigv4_proxy_stop
	[ -z "${STRAY_PIDS:-}" ] || kill $STRAY_PIDS 2>/dev/null || true
	touch "$BATS_TEST_TMPDIR/go"	# ends the stdin writers of the end-of-file test
}

# A JSON 1.0 SQS call with curl, signed by curl (libcurl signs the session
# token header it is given): sqs_curl URL ACTION JSON [SECRET]
sqs_curl() {
	curl -sS --aws-sigv4 "aws:amz:us-east-1:sqs" \
	    --user "$AWS_ACCESS_KEY_ID:${4:-$AWS_SECRET_ACCESS_KEY}" \
	    ${AWS_SESSION_TOKEN:+-H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"} \
	    -H 'Content-Type: application/x-amz-json-1.0' -H "X-Amz-Target: AmazonSQS.$2" \
	    -X POST -d "$3" -w '\n%{http_code}\n' "$1/"
}

# Is anything listening on 127.0.0.1 or elsewhere on port $1?
listening() {
	ss -ltnH "( sport = :$1 )" | grep -q .
}

@test "fauxqs listens on 127.0.0.1 only, on the port it printed" {
	run ss -ltnH "( sport = :$FAUXQS_PORT )"
	assert_success
	[ -n "$output" ]
	# Column 4 is the local address: every socket on that port is loopback.
	run awk '{ print $4 }' <<<"$output"
	refute_line --partial '0.0.0.0'
	refute_line --partial '*'
	refute_line --partial '['
	assert_line "127.0.0.1:$FAUXQS_PORT"
	assert_equal "$AWS_ENDPOINT_URL" "http://127.0.0.1:$FAUXQS_PORT"
}

@test "AWS CLI round trip on fauxqs: body, MD5s and message attributes both ways" {
	run aws_cli sqs create-queue --queue-name rt
	assert_success
	q=$(jq -r .QueueUrl <<<"$output")
	assert_equal "$q" "http://sqs.us-east-1.localhost:$FAUXQS_PORT/000000000000/rt"
	body='{"order":42,"note":"héllo"}'
	attrs='{"s":{"DataType":"String","StringValue":"v1"},"n":{"DataType":"Number","StringValue":"7"},"b":{"DataType":"Binary","BinaryValue":"AAEC/w=="}}'
	run aws_cli sqs send-message --queue-url "$q" --message-body "$body" --message-attributes "$attrs"
	assert_success
	sent=$output
	assert_equal "$(jq -r .MD5OfMessageBody <<<"$sent")" "$(printf %s "$body" | md5sum | cut -d' ' -f1)"
	run aws_cli sqs receive-message --queue-url "$q" --message-attribute-names All --wait-time-seconds 1
	assert_success
	m=$(jq -c '.Messages[0]' <<<"$output")
	assert_equal "$(jq -r .Body <<<"$m")" "$body"
	assert_equal "$(jq -r .MessageId <<<"$m")" "$(jq -r .MessageId <<<"$sent")"
	assert_equal "$(jq -r .MD5OfMessageAttributes <<<"$m")" "$(jq -r .MD5OfMessageAttributes <<<"$sent")"
	assert_equal "$(jq -cS .MessageAttributes <<<"$m")" "$(jq -cS . <<<"$attrs")"
	run aws_cli sqs delete-message --queue-url "$q" --receipt-handle "$(jq -r .ReceiptHandle <<<"$m")"
	assert_success
	run aws_cli sqs get-queue-attributes --queue-url "$q" --attribute-names All
	assert_success
	assert_equal "$(jq -r .Attributes.ApproximateNumberOfMessages <<<"$output")" 0
	assert_equal "$(jq -r .Attributes.ApproximateNumberOfMessagesNotVisible <<<"$output")" 0
}

@test "AWS CLI on fauxqs: a missing queue is SQS's NonExistentQueue error" {
	run aws_cli sqs get-queue-url --queue-name nosuch
	assert_failure
	assert_output --partial 'AWS.SimpleQueueService.NonExistentQueue'
}

@test "fauxqs_create_queue and fauxqs_call set up queues with curl; the CLI sees them" {
	run fauxqs_create_queue setup.fifo '{"FifoQueue":"true","VisibilityTimeout":"7"}'
	assert_success
	assert_output "http://sqs.us-east-1.localhost:$FAUXQS_PORT/000000000000/setup.fifo"
	q=$output
	run fauxqs_call SendMessage "{\"QueueUrl\":\"$q\",\"MessageBody\":\"m\",\"MessageGroupId\":\"g\",\"MessageDeduplicationId\":\"d\"}"
	assert_success
	assert_equal "$(jq -r .SequenceNumber <<<"$output" | tr -d 0-9)" ''
	run aws_cli sqs get-queue-attributes --queue-url "$q" --attribute-names All
	assert_success
	assert_equal "$(jq -r .Attributes.VisibilityTimeout <<<"$output")" 7
	assert_equal "$(jq -r .Attributes.ApproximateNumberOfMessages <<<"$output")" 1
	run fauxqs_call GetQueueUrl '{"QueueName":"nosuch"}'
	assert_failure
	assert_output --partial 'com.amazonaws.sqs#QueueDoesNotExist'
}

@test "SigV4 proxy with a session token: the CLI creates, sends and receives through it" {
	export AWS_SESSION_TOKEN='FwoGZXIvYXdzEXAMPLE/token+value='
	sigv4_proxy_start
	export AWS_CLI_ENDPOINT=$SIGV4_PROXY_URL
	run aws_cli sqs create-queue --queue-name viaproxy
	assert_success
	q=$(jq -r .QueueUrl <<<"$output")
	run aws_cli sqs send-message --queue-url "$q" --message-body hello \
	    --message-attributes '{"k":{"DataType":"String","StringValue":"v"}}'
	assert_success
	run aws_cli sqs receive-message --queue-url "$q" --message-attribute-names All
	assert_success
	assert_equal "$(jq -r '.Messages[0].Body' <<<"$output")" hello
	assert_equal "$(jq -r '.Messages[0].MessageAttributes.k.StringValue' <<<"$output")" v
	sigv4_proxy_stop
	run cat "$SIGV4_PROXY_LOG"
	assert_line "ok AmazonSQS.CreateQueue akid=$AWS_ACCESS_KEY_ID"
	assert_line "ok AmazonSQS.SendMessage akid=$AWS_ACCESS_KEY_ID"
	assert_line "ok AmazonSQS.ReceiveMessage akid=$AWS_ACCESS_KEY_ID"
	refute_line --partial refused
	refute_output --partial "$AWS_SECRET_ACCESS_KEY"
	refute_output --partial "$AWS_SESSION_TOKEN"
}

@test "fauxqs_start_checked: clients go through the proxy with a session token" {
	# Another fauxqs for this test: the file's one stays up for the others.
	fauxqs_start_checked
	assert_equal "$AWS_ENDPOINT_URL" "$SIGV4_PROXY_URL"
	q=$(fauxqs_create_queue checked)
	run aws_cli sqs send-message --queue-url "$q" --message-body b
	assert_success
	run grep -c '^ok ' "$SIGV4_PROXY_LOG"
	assert_output 2
	AWS_SESSION_TOKEN= run aws_cli sqs list-queues
	assert_failure
	assert_output --partial InvalidClientTokenId
	fauxqs_stop_checked
	run listening "$FAUXQS_PORT"
	assert_failure
}

@test "SigV4 proxy: a wrong secret is refused with 403, nothing reaches the server, the secret is nowhere" {
	sigv4_proxy_start
	run aws_cli sqs create-queue --queue-name guarded
	assert_success
	q=$(jq -r .QueueUrl <<<"$output")
	wrong='wRoNg/secret+0000000000000000000000000000'
	AWS_CLI_ENDPOINT=$SIGV4_PROXY_URL AWS_SECRET_ACCESS_KEY=$wrong \
	    run aws_cli sqs send-message --queue-url "$q" --message-body nope
	assert_failure
	assert_output --partial 'SignatureDoesNotMatch'
	refute_output --partial "$wrong"
	refute_output --partial "$AWS_SECRET_ACCESS_KEY"
	run sqs_curl "$SIGV4_PROXY_URL" SendMessage "{\"QueueUrl\":\"$q\",\"MessageBody\":\"nope\"}" "$wrong"
	assert_success
	assert_line 403
	assert_line --partial '"__type": "com.amazon.coral.service#InvalidSignatureException"'
	run curl -sS -D - -o /dev/null --aws-sigv4 "aws:amz:us-east-1:sqs" \
	    --user "$AWS_ACCESS_KEY_ID:$wrong" -H 'X-Amz-Target: AmazonSQS.ListQueues' \
	    -H 'Content-Type: application/x-amz-json-1.0' -d '{}' "$SIGV4_PROXY_URL/"
	assert_output --partial 'x-amzn-query-error: SignatureDoesNotMatch;Sender'
	run aws_cli sqs get-queue-attributes --queue-url "$q" --attribute-names ApproximateNumberOfMessages
	assert_equal "$(jq -r .Attributes.ApproximateNumberOfMessages <<<"$output")" 0
	sigv4_proxy_stop
	run cat "$SIGV4_PROXY_LOG"
	assert_line 'refused SignatureDoesNotMatch AmazonSQS.SendMessage signature differs'
	refute_line --partial 'ok AmazonSQS.SendMessage'
	refute_output --partial "$wrong"
	refute_output --partial "$AWS_SECRET_ACCESS_KEY"
	run cat "$SIGV4_PROXY_OUT/port" "$SIGV4_PROXY_OUT/stderr"
	assert_output "$SIGV4_PROXY_PORT"
}

@test "SigV4 proxy: curl --aws-sigv4 passes, with a session token too; a missing or wrong token is refused" {
	sigv4_proxy_start
	run sqs_curl "$SIGV4_PROXY_URL" CreateQueue '{"QueueName":"bycurl"}'
	assert_success
	assert_line 200
	assert_line --partial '"QueueUrl":"http://sqs.us-east-1.localhost:'
	sigv4_proxy_stop
	AWS_SESSION_TOKEN=the-right-token sigv4_proxy_start
	run sqs_curl "$SIGV4_PROXY_URL" ListQueues '{}'
	assert_line 403
	assert_line --partial InvalidClientTokenId
	AWS_SESSION_TOKEN=the-right-token run sqs_curl "$SIGV4_PROXY_URL" ListQueues '{}'
	assert_line 200
	export AWS_CLI_ENDPOINT=$SIGV4_PROXY_URL
	AWS_SESSION_TOKEN=a-wrong-token run aws_cli sqs list-queues
	assert_failure
	assert_output --partial InvalidClientTokenId
	refute_output --partial the-right-token
	AWS_SESSION_TOKEN=the-right-token run aws_cli sqs list-queues
	assert_success
	sigv4_proxy_stop
	run cat "$SIGV4_PROXY_LOG"
	assert_line 'refused InvalidClientTokenId AmazonSQS.ListQueues no X-Amz-Security-Token'
	assert_line 'refused InvalidClientTokenId AmazonSQS.ListQueues X-Amz-Security-Token differs'
	assert_line "ok AmazonSQS.ListQueues akid=$AWS_ACCESS_KEY_ID"
	refute_output --partial the-right-token
}

@test "SigV4 proxy: a body changed after signing, or an old X-Amz-Date, is refused; a chunked body passes" {
	sigv4_proxy_start
	# botocore signs one body; another one is sent under that signature.
	run "$SERVERS_PY" - "$SIGV4_PROXY_URL" <<-'EOF'
	import os, sys, urllib.request, urllib.error
	from botocore.auth import SigV4Auth
	from botocore.awsrequest import AWSRequest
	from botocore.credentials import Credentials
	url = sys.argv[1] + '/'
	creds = Credentials(os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'])
	def signed(body, when=None):
	    r = AWSRequest(method='POST', url=url, data=body,
	                   headers={'Content-Type': 'application/x-amz-json-1.0',
	                            'X-Amz-Target': 'AmazonSQS.ListQueues'})
	    a = SigV4Auth(creds, 'sqs', 'us-east-1')
	    if when is None:
	        a.add_auth(r)
	        return dict(r.headers.items())
	    # add_auth stamps the time now: sign an old date by hand.
	    r.context['timestamp'] = when
	    r.headers['X-Amz-Date'] = when
	    r.headers['Host'] = url.split('/')[2]
	    sig = a.signature(a.string_to_sign(r, a.canonical_request(r)), r)
	    a._inject_signature_to_request(r, sig)
	    return dict(r.headers.items())
	def send(headers, body):
	    q = urllib.request.Request(url, data=body, headers=headers, method='POST')
	    try:
	        return urllib.request.urlopen(q).status
	    except urllib.error.HTTPError as e:
	        return e.code
	def chunks():
	    yield b'{'
	    yield b'}'
	h = signed(b'{}')
	print('good', send(h, b'{}'))
	print('changed', send(h, b'{"QueueNamePrefix":"x"}'))
	print('chunked', send({k: v for k, v in h.items() if k.lower() != 'content-length'}, chunks()))
	print('old', send(signed(b'{}', '20200101T000000Z'), b'{}'))
	EOF
	assert_success
	assert_line 'good 200'
	assert_line 'changed 403'
	assert_line 'chunked 200'
	assert_line 'old 400'
	sigv4_proxy_stop
	run cat "$SIGV4_PROXY_LOG"
	assert_line --partial 'refused RequestExpired AmazonSQS.ListQueues X-Amz-Date 20200101T000000Z'
}

@test "throttle server: the first K requests are throttled as SQS does, then forwarded; the count file counts" {
	throttle_start --first 2 --upstream "$FAUXQS_URL"
	run sqs_curl "$THROTTLE_URL" ListQueues '{}'
	assert_line 400
	assert_line --partial '"__type": "com.amazon.coral.availability#ThrottlingException"'
	assert_equal "$(cat "$THROTTLE_COUNT")" 1
	# botocore's standard retry mode retries ThrottlingException: two
	# throttled attempts, then the third is forwarded and succeeds.
	AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3 AWS_CLI_ENDPOINT=$THROTTLE_URL \
	    run aws_cli sqs create-queue --queue-name afterthrottle
	assert_success
	assert_output --partial '/000000000000/afterthrottle'
	assert_equal "$(cat "$THROTTLE_COUNT")" 3
	throttle_stop
}

@test "throttle server --only: other actions pass through uncounted" {
	throttle_start --only SendMessage --first 1 --upstream "$FAUXQS_URL" --log "$BATS_TEST_TMPDIR/t.log"
	export AWS_ENDPOINT_URL=$THROTTLE_URL
	run fauxqs_create_queue only
	assert_success
	q=$output
	assert_equal "$(cat "$THROTTLE_COUNT")" 0
	run fauxqs_call SendMessage "{\"QueueUrl\":\"$q\",\"MessageBody\":\"x\"}"
	assert_failure
	assert_output --partial ThrottlingException
	run fauxqs_call SendMessage "{\"QueueUrl\":\"$q\",\"MessageBody\":\"x\"}"
	assert_success
	assert_equal "$(cat "$THROTTLE_COUNT")" 2
	run cat "$BATS_TEST_TMPDIR/t.log"
	assert_output "- pass AmazonSQS.CreateQueue
1 throttling AmazonSQS.SendMessage
2 pass AmazonSQS.SendMessage"
}

@test "throttle server: a client that never gets through gives up after its attempts" {
	throttle_start --first -1 --mode unavailable
	AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=2 AWS_CLI_ENDPOINT=$THROTTLE_URL \
	    run aws_cli sqs list-queues
	assert_failure
	assert_output --partial 'ServiceUnavailable'
	assert_equal "$(cat "$THROTTLE_COUNT")" 2
	run curl -sS -D - -o /dev/null -X POST -d '{}' "$THROTTLE_URL/"
	assert_line --partial 'HTTP/1.1 503'
	assert_line --partial 'x-amzn-query-error: ServiceUnavailable;Receiver'
	assert_equal "$(cat "$THROTTLE_COUNT")" 3
	throttle_stop
}

@test "throttle server: RequestThrottled, malformed body, closed connection, canned success" {
	throttle_start --first 1 --mode request-throttled
	run sqs_curl "$THROTTLE_URL" ListQueues '{}'
	assert_line 403
	assert_line --partial 'com.amazonaws.sqs#RequestThrottled'
	run sqs_curl "$THROTTLE_URL" ListQueues '{}'
	assert_line 200
	assert_line '{}'
	throttle_stop
	throttle_start --first 1 --mode malformed
	run curl -sS -X POST -d '{}' "$THROTTLE_URL/"
	assert_success
	run jq . <<<"$output"
	assert_failure
	throttle_stop
	throttle_start --first 1 --mode close
	run curl -sS -X POST -d '{}' "$THROTTLE_URL/"
	assert_equal "$status" 52	# curl: empty reply from server
	assert_equal "$(cat "$THROTTLE_COUNT")" 1
	throttle_stop
}

@test "throttle server: hang mode accepts and never answers; it still stops at once" {
	throttle_start --mode hang --first -1
	run curl -sS --max-time 2 -X POST -d '{}' "$THROTTLE_URL/"
	assert_equal "$status" 28	# curl: operation timed out
	# A loaded machine may not have let the server read it in 2 s.
	wait_for '[ "$(cat "$THROTTLE_COUNT")" = 1 ]' 30
	curl -sS --max-time 60 -X POST -d '{}' "$THROTTLE_URL/" 3>&- &
	wait_for '[ "$(cat "$THROTTLE_COUNT")" = 2 ]' 30
	port=$THROTTLE_PORT
	throttle_stop
	run listening "$port"
	assert_failure
	wait
}

@test "a server whose starting shell is killed with -9 stops listening by itself" {
	out=$BATS_TEST_TMPDIR/started
	# The sleeper inherits the servers' stdin pipes and outlives the shell:
	# what stops them is their watch on the shell that started them.
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bash -c '
		. "$1/tests/lib/servers.bash"
		fauxqs_start || exit 1
		sigv4_proxy_start || exit 1
		throttle_start || exit 1
		sleep 600 3>&- &
		echo "$FAUXQS_PORT $SIGV4_PROXY_PORT $THROTTLE_PORT $!" > "$2.tmp"
		mv "$2.tmp" "$2"
		exec sleep 600' _ "$TOP" "$out" 3>&- &
	pid=$!
	wait_for '[ -s "$out" ]' 60
	read -r fport pport tport sleeper < "$out"
	STRAY_PIDS="$sleeper $pid"
	listening "$fport"
	listening "$pport"
	listening "$tport"
	kill -9 "$pid"
	wait_for "! listening $fport && ! listening $pport && ! listening $tport" 30
}

@test "a server stops when its stdin reaches end of file" {
	for server in "node $TOP/tests/lib/fauxqs.mjs" \
	    "$SERVERS_PY $TOP/tests/lib/throttle-server.py" \
	    "$SERVERS_PY $TOP/tests/lib/sigv4-proxy.py --upstream $FAUXQS_URL"; do
		rm -f go port
		# shellcheck disable=SC2086
		while [ ! -e go ]; do sleep 0.05; done | $server > port 3>&- &
		wait_for '[ -s port ]' 60
		p=$(cat port)
		listening "$p"
		touch go
		wait_for "! listening $p" 30
		wait
	done
}
