#!/bin/sh
# A Lambda custom runtime written from the documented protocol with curl
# and jq (ref/lambda.md sections 1 and 6), for fnrun --runtime-api's tests.
# $1 is how its init goes: ok, initerror (posts /init/error and exits),
# die (exits 4 before asking), nonext (never asks).  Each event says
# what the handler does: {"op":"echo"} answers the event, "error" posts
# an error with a type, "sleep" sleeps .s seconds first, "exit" exits .code
# mid-invocation, "big" answers .bytes bytes, "env" answers the
# environment and the /next headers, "pid" answers {"pid":$$}.  Each
# start appends its pid to ./rt-boot.pids.
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
echo $$ >> rt-boot.pids	# in fnrun's directory: the tests look for them
case ${1:-ok} in
initerror)
	curl -sS -o /dev/null -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigInvalid' \
	    -d '{"errorMessage":"cannot load the handler","errorType":"Runtime.ConfigInvalid"}' \
	    "$api/init/error"
	exit 1 ;;
die) exit 4 ;;
nonext) exec sleep 3600 ;;
esac
h=$(mktemp) || exit 1
ev=$(mktemp) || exit 1
trap 'rm -f "$h" "$ev"' EXIT
hdr() { grep -i "^$1:" "$h" | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
post() {	# post PATH [CURL ARGS...]: the body on stdin
	p=$1; shift
	curl -sS -o /dev/null -w '%{http_code}\n' -X POST --data-binary @- "$@" "$api/invocation/$id/$p"
}
while :; do
	curl -sS -D "$h" -o "$ev" "$api/invocation/next" || exit 1
	id=$(hdr Lambda-Runtime-Aws-Request-Id)
	op=$(jq -r '.op // "echo"' "$ev" 2>/dev/null)
	case $op in
	error)
		jq -c '{errorType:"MyError", errorMessage:("bad: " + (.n|tostring)),
		    stackTrace:["at handler"]}' "$ev" |
		    post error -H 'Lambda-Runtime-Function-Error-Type: Unhandled' >&2 ;;
	sleep) sleep "$(jq -r .s "$ev")"; post response < "$ev" >&2 ;;
	exit) exit "$(jq -r .code "$ev")" ;;
	big)
		code=$(head -c "$(jq -r .bytes "$ev")" /dev/zero | tr '\0' a | post response)
		echo "big: $code" >&2 ;;
	env)
		jq -n -c --arg dl "$(hdr Lambda-Runtime-Deadline-Ms)" \
		    --arg arn "$(hdr Lambda-Runtime-Invoked-Function-Arn)" \
		    --arg trace "$(hdr Lambda-Runtime-Trace-Id)" --arg id "$id" --arg pwd "$(pwd)" \
		    '{env: env, deadline: $dl, arn: $arn, trace: $trace, id: $id, pwd: $pwd}' |
		    post response >&2 ;;
	pid) echo "{\"pid\":$$}" | post response >&2 ;;
	*) post response < "$ev" >&2 ;;
	esac
done
