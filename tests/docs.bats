#!/usr/bin/env bats
# Docs that cannot drift: every option of every command, as its option
# table in cmd/CMD.c declares it, appears in its --help, its man page, and
# what its bash, zsh and fish completions offer after "-".
load test_helper

# The options of CMD from its source, one a line: "--long" for each entry
# of its option tables (and of the CLI_*_OPTS macros it uses), "-x" for
# each letter of its getopt strings.
options() {
	local src="$TOP/cmd/$1.c" cli="$TOP/lib/core/cli.h" m
	{
		grep -o '{ "[a-z][a-z-]*", [a-z]*_argument' "$src"
		for m in $(grep -o 'CLI_[A-Z]*_OPTS' "$src" | sort -u); do
			sed -n "/#define $m/,/[^\\\\]\$/p" "$cli" | grep -o '{ "[a-z][a-z-]*"'
		done
	} | sed 's/{ "\([^"]*\)".*/--\1/'
	grep -o '\(cli_getopt\|getopt_long\)([^"]*"[^"]*"' "$src" | sed 's/.*"\([^"]*\)"$/\1/' |
	    tr -d '+:' | fold -w 1 | sed 's/^/-/' | sort -u
}

# The command lines after which CMD's completions are asked for options:
# "CMD -", and for evq-ctl each command's ("evq-ctl create q -").
contexts() {
	echo "$1 -"
	if [ "$1" = evq-ctl ]; then
		for c in create set stat list purge redrive delete; do
			echo "$1 $c q -"
		done
	fi
}

# What each shell's completion offers in every context of CMD, one a line.
offered_bash() {
	local ctx
	contexts "$1" | while read -r -a ctx; do
		(complete_words "${ctx[@]}")
	done
}
offered_zsh() {
	local ctx
	contexts "$1" | while read -r ctx; do
		zsh -f "$TOP/tests/completion/zsh-complete.zsh" "$TOP/completions/zsh" "$ctx" < /dev/null
	done
}
offered_fish() {
	local ctx
	contexts "$1" | while read -r ctx; do
		fish -c "source '$TOP/completions/fish/$1.fish'; complete -C '$ctx'" | cut -f 1
	done
}

# missing TEXT MODE: the options (on stdin) that TEXT does not show.
# MODE words: an option as a word of running text (--help, a man page);
# list: an option as a whole line (what a completion offered), or with
# the "=" a completion adds before a long option's argument.
missing() {
	local o
	while read -r o; do
		if [ "$2" = list ]; then
			grep -qx -e "$o" -e "$o=" -e "M:$o" <<< "$1" || echo "$o"
		else
			grep -qE -e "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<< "$1" || echo "$o"
		fi
	done
}

commands() {
	for c in "$TOP"/cmd/*.c; do basename "$c" .c; done
}

@test "every command's option table is found" {
	for c in $(commands); do
		options "$c" | grep -qx -- --help
		options "$c" | grep -qx -- -h
		[ "$(options "$c" | wc -l)" -ge 4 ]
	done
}

# report KIND: for every command, the options it lacks, one command a
# line ("CMD: --x -y"); KIND is help, man, bash, zsh or fish.
report() {
	local c got mode=list
	for c in $(commands); do
		case $1 in
		help) got=$("$c" --help); mode=words ;;
		man) got=$(mandoc -T ascii "$TOP/man/man1/$c.1" | col -b); mode=words ;;
		*) got=$("offered_$1" "$c") ;;
		esac
		local miss
		miss=$(options "$c" | missing "$got" $mode | xargs)
		[ -z "$miss" ] || echo "$c: $miss"
	done
}

@test "every option is in the command's --help" {
	run report help
	assert_output ''
}

@test "every option is in the command's man page" {
	run report man
	assert_output ''
}

@test "every option is offered by the command's bash completion" {
	run report bash
	assert_output ''
}

@test "every zsh completion loads under compinit and complains of nothing" {
	for c in $(commands); do
		run zsh -f "$TOP/tests/completion/zsh-complete.zsh" "$TOP/completions/zsh" "$c -" < /dev/null
		assert_success
		assert_line 'M:--help'
		for ctx in "$c " "$c --" $(contexts "$c" | sed 1d | tr ' ' '%'); do
			run zsh -f "$TOP/tests/completion/zsh-complete.zsh" "$TOP/completions/zsh" "${ctx//%/ }" < /dev/null
			assert_success
			assert_equal "$ctx: $(grep -v '^M:' <<< "$output")" "$ctx: "
		done
	done
}

@test "every option is offered by the command's zsh completion" {
	run report zsh
	assert_output ''
}

@test "every option is offered by the command's fish completion" {
	run report fish
	assert_output ''
}
