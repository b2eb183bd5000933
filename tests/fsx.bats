#!/usr/bin/env bats
# Stores (a queue's database, a log's segments) are kept only in
# directories nobody else can plant files in (core/fsx).
load test_helper

@test "a queue in a directory writable by group or others is refused (77)" {
	mkdir qd
	chmod 770 qd
	run --separate-stderr evq-send qd/q.db <<<'{"n":1}'
	assert_failure 77
	assert_equal "$stderr" "evq-send: queue 'qd/q.db': 'qd' is writable by its group (mode 0770): refusing to use it (chmod go-w)"
	[ ! -e qd/q.db ]
	chmod 700 qd
	run evq-send qd/q.db <<<'{"n":1}'
	assert_success
	chmod 1777 qd
	run evq-recv qd/q.db
	assert_failure 77
	chmod 700 qd
	run evq-recv qd/q.db
	assert_output '{"n":1}'
}

@test "a queue database that is a symlink is not followed" {
	ln -s elsewhere.db q.db
	run evq-send ./q.db <<<'{"n":1}'
	assert_failure 74
	[ ! -e elsewhere.db ]
}
