#!/usr/bin/perl
# syslog-sink.pl SOCKET LOGFILE — a minimal stand-in for syslogd, so the
# private Sendmail of the integration tests (which logs only through
# syslog(3)) leaves a readable log under the test's work directory.
#
# Listens on the unix datagram socket SOCKET (the adapter makes it appear as
# /dev/log inside Sendmail's private mount namespace) and appends each
# message, without its <PRI> prefix, as one line to LOGFILE.  Removes SOCKET
# when terminated.  Never touches the host's /dev/log.
use strict;
use warnings;
use Socket;
use IO::Handle;

my ($path, $out) = @ARGV;
die "usage: $0 SOCKET LOGFILE\n" unless defined $out;

# The command line names neither the MTA nor the work directory, so a
# `pgrep sendmail` after the test finds only real Sendmail processes.
$0 = 'itest-syslog-sink';

unlink $path;
socket(my $sock, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
bind($sock, pack_sockaddr_un($path)) or die "bind $path: $!\n";
chmod 0666, $path;

open(my $log, '>>', $out) or die "$out: $!\n";
$log->autoflush(1);

my $done = sub { unlink $path; exit 0 };
$SIG{TERM} = $done;
$SIG{INT}  = $done;

my $buf;
while (defined recv($sock, $buf, 65536, 0)) {
    $buf =~ s/\0+\z//;
    $buf =~ s/\A<\d+>//;
    $buf =~ s/\n+\z//;
    $buf =~ s/\n/ /g;
    print $log "$buf\n";
}
unlink $path;
