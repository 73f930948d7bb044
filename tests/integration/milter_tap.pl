#!/usr/bin/perl
# milter_tap.pl — test-only tap on a milter socket: what did the MTA really
# hand the milter?
#
#   milter_tap.pl LISTEN_PORT MILTER_PORT LOGFILE
#
# Listens on 127.0.0.1:LISTEN_PORT; every connection (one per SMTP session
# in Postfix) is relayed byte for byte to 127.0.0.1:MILTER_PORT by a child
# process of its own.  The MTA-to-milter stream is cut into milter packets
# (4-octet length in network order, 1-octet command, data), and the packets
# that carry client-controlled text are written to LOGFILE, one line each,
# every value hex-encoded so that the log itself cannot be broken:
#
#   conn=N cmd=H helo=HEX                    SMFIC_HELO
#   conn=N cmd=D stage=C name=NAME value=HEX SMFIC_MACRO, one line a macro
#   conn=N cmd=M                             SMFIC_MAIL (a transaction starts)
#   conn=N cmd=R rcpt=HEX                    SMFIC_RCPT, the address argument
#
# Prints "listening" on stdout once it accepts connections.  SIGTERM stops
# the listener and the children it started, each by its own pid.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Fcntl qw(:flock);
use POSIX ":sys_wait_h";

my ($listen_port, $milter_port, $logfile) = @ARGV;
die "usage: $0 LISTEN_PORT MILTER_PORT LOGFILE\n" unless defined $logfile;

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $listen_port,
                                Listen => 64, ReuseAddr => 1, Proto => 'tcp')
    or die "milter_tap: listen on $listen_port: $!\n";
my %kids;
$SIG{CHLD} = sub { while ((my $p = waitpid(-1, WNOHANG)) > 0) { delete $kids{$p} } };
$SIG{TERM} = sub { kill 'TERM', $_ for keys %kids; exit 0 };
$| = 1;
print "listening\n";

my $conn = 0;
while (1) {
    my $c = $srv->accept;
    unless ($c) { next if $!{EINTR}; die "milter_tap: accept: $!\n" }
    $conn++;
    my $pid = fork;
    die "milter_tap: fork: $!\n" unless defined $pid;
    if ($pid) { $kids{$pid} = 1; close $c; next }
    $SIG{TERM} = 'DEFAULT';
    $SIG{CHLD} = 'DEFAULT';
    close $srv;
    relay($c, $conn);
    exit 0;
}

sub note {
    my ($line) = @_;
    open my $fh, '>>', $logfile or return;
    flock $fh, LOCK_EX;
    print $fh "$line\n";
    close $fh;
}

sub packets {
    my ($bufref, $n) = @_;
    while (length $$bufref >= 5) {
        my $len = unpack 'N', $$bufref;
        last if length $$bufref < 4 + $len;
        my $pkt = substr $$bufref, 4, $len;
        substr($$bufref, 0, 4 + $len) = '';
        next if $len < 1;
        my $cmd = substr $pkt, 0, 1;
        my $data = substr $pkt, 1;
        if ($cmd eq 'H') {
            $data =~ s/\0\z//;
            note("conn=$n cmd=H helo=" . unpack('H*', $data));
        } elsif ($cmd eq 'D' && length $data) {
            my $stage = substr $data, 0, 1;
            my @kv = split /\0/, substr($data, 1), -1;
            pop @kv if @kv && $kv[-1] eq '' && @kv % 2;
            while (@kv >= 2) {
                my ($k, $v) = splice @kv, 0, 2;
                $k =~ s/[^\w{}]/?/g;
                note("conn=$n cmd=D stage=$stage name=$k value=" . unpack('H*', $v));
            }
        } elsif ($cmd eq 'M') {
            note("conn=$n cmd=M");
        } elsif ($cmd eq 'R') {
            my ($rcpt) = split /\0/, $data;
            note("conn=$n cmd=R rcpt=" . unpack('H*', $rcpt // ''));
        }
    }
}

sub relay {
    my ($mta, $n) = @_;
    my $milter = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $milter_port,
                                       Proto => 'tcp') or exit 1;
    my $sel = IO::Select->new($mta, $milter);
    my $inbuf = '';
    while (1) {
        for my $from ($sel->can_read) {
            my $to = $from == $mta ? $milter : $mta;
            my $got = sysread $from, my $buf, 65536;
            return unless $got;
            if ($from == $mta) { $inbuf .= $buf; packets(\$inbuf, $n) }
            my $off = 0;
            while ($off < length $buf) {
                my $w = syswrite $to, $buf, length($buf) - $off, $off;
                return unless defined $w;
                $off += $w;
            }
        }
    }
}
