#!/usr/bin/perl
# Runs EventBridge pattern conformance cases (one JSON object a line:
# {"name","pattern","event","match"} or {"name","pattern","pattern_error":true})
# through `evbus-route -p`, passing pattern and event as their raw text, byte
# for byte, so number spellings and duplicate keys reach the tool unchanged.
# Prints each failure and a closing line "N passed, N failed"; exits 1 on any
# failure.  Usage: cases.pl EVBUS_ROUTE CASES.jsonl TMPDIR
use strict;
use warnings;

my ($tool, $file, $tmp) = @ARGV;
open(my $in, '<:raw', $file) or die "cases.pl: $file: $!\n";

# The raw text of the JSON value at pos($$s); leaves pos() after it.
sub value {
	my ($s) = @_;
	$$s =~ /\G[ \t\r\n]*/gc;
	my $start = pos($$s);
	if ($$s =~ /\G"(?:[^"\\]|\\.)*"/gcs || $$s =~ /\G(?:true|false|null|[-0-9.eE+]+)/gc) {
		return substr($$s, $start, pos($$s) - $start);
	}
	$$s =~ /\G([\{\[])/gc or die "cases.pl: bad JSON at $start\n";
	my $obj = $1 eq '{';
	for (;;) {
		$$s =~ /\G[ \t\r\n]*/gc;
		last if $$s =~ /\G[\}\]]/gc;
		$$s =~ /\G,/gc and next;
		if ($obj) {
			value($s);
			$$s =~ /\G[ \t\r\n]*:/gc or die "cases.pl: expected ':'\n";
		}
		value($s);
	}
	return substr($$s, $start, pos($$s) - $start);
}

# Top-level members of an object: raw name text => raw value text.
sub members {
	my ($line) = @_;
	my %m;
	$line =~ /\G[ \t]*\{/gc or die "cases.pl: not an object\n";
	for (;;) {
		$line =~ /\G[ \t\r\n,]*/gc;
		last if $line =~ /\G\}/gc;
		my $k = value(\$line);
		$line =~ /\G[ \t\r\n]*:/gc;
		$m{$k} = value(\$line);
	}
	return \%m;
}

sub run {
	my ($pat, $event) = @_;
	open(my $e, '>:raw', "$tmp/event") or die;
	print $e "$event\n";
	close $e;
	my $pid = fork();
	if ($pid == 0) {
		open(STDIN, '<', "$tmp/event");
		open(STDOUT, '>', "$tmp/out");
		open(STDERR, '>', "$tmp/err");
		exec($tool, '-p', $pat) or exit 127;
	}
	waitpid($pid, 0);
	return $? & 127 ? 128 + ($? & 127) : $? >> 8;
}

my ($pass, $fail) = (0, 0);
while (my $line = <$in>) {
	chomp $line;
	next if $line =~ /^\s*$/;
	my $m = members($line);
	my $name = $m->{'"name"'};
	my $pat = $m->{'"pattern"'};
	my ($want, $got);
	if (($m->{'"pattern_error"'} // '') eq 'true') {
		$want = 2;
		$got = run($pat, '{}');
	} else {
		$want = $m->{'"match"'} eq 'true' ? 0 : 1;
		$got = run($pat, $m->{'"event"'});
		if ($got == 0) {
			open(my $o, '<:raw', "$tmp/out");
			local $/;
			my $out = <$o> // '';
			$got = 'wrong output' if $out ne "$m->{'\"event\"'}\n";
		}
	}
	if ($got eq $want) {
		$pass++;
	} else {
		$fail++;
		open(my $er, '<', "$tmp/err");
		my $err = join('', <$er>);
		print "FAIL $name: exit $got, want $want\n  pattern $pat\n  $err";
	}
}
print "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
