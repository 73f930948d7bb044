#!/usr/bin/perl
# hostile_smtp.pl — test-only SMTP client that sends exactly the bytes it is
# given: a raw EHLO argument, STARTTLS (optionally with a client
# certificate), AUTH PLAIN with any user name, and any number of
# transactions on the one connection.
#
#   hostile_smtp.pl --port P [--helo BYTES] [--starttls] [--cert F --key F]
#       [--user U --pass P] [--count N] --message FILE --case NAME
#       [--from A] [--rcpt A] --transcript FILE
#
# The message FILE is sent as is (LF becomes CRLF, lines starting with "."
# are dot-stuffed) with every "%CASE%" replaced by the case name, or by
# NAME-001 ... NAME-N when --count N > 1.  Prints one line per transaction,
# "queued CASE", or "failed CASE: REPLY"; exits 0 only when every
# transaction got a 2xx reply after its final ".".  The transcript escapes
# every octet outside printable ASCII as \xHH (message text is summarised).
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;
use IO::Socket::SSL;
use MIME::Base64;

my %o = (helo => 'client.example.test', count => 1, from => 'sender@example.test',
         rcpt => 'user@example.test');
GetOptions(\%o, 'port=i', 'helo=s', 'starttls', 'cert=s', 'key=s', 'user=s', 'pass=s',
           'count=i', 'message=s', 'case=s', 'from=s', 'rcpt=s', 'transcript=s')
    or die "hostile_smtp: bad options\n";
for (qw(port message case transcript)) { die "hostile_smtp: --$_ is required\n" unless defined $o{$_} }

open my $msgfh, '<:raw', $o{message} or die "hostile_smtp: $o{message}: $!\n";
my $template = do { local $/; <$msgfh> };
close $msgfh;
open my $tr, '>:raw', $o{transcript} or die "hostile_smtp: $o{transcript}: $!\n";
$tr->autoflush(1);

sub shown { my $s = shift; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge; $s }

my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{port}, Proto => 'tcp',
                                 Timeout => 30)
    or die "hostile_smtp: connect to $o{port}: $!\n";
binmode $sock;

sub send_line {
    my ($line, $show) = @_;
    print $tr '> ', (defined $show ? $show : shown($line)), "\n";
    print $sock "$line\r\n" or die "hostile_smtp: write: $!\n";
}

# reply — one (multi-line) reply: (code, full text).
sub reply {
    my ($code, $text) = ('', '');
    local $SIG{ALRM} = sub { die "hostile_smtp: timeout waiting for a reply\n" };
    alarm 30;
    while (defined(my $l = <$sock>)) {
        $l =~ s/\r?\n\z//;
        print $tr '< ', shown($l), "\n";
        $text .= ($text eq '' ? '' : "\n") . $l;
        if ($l =~ /^(\d{3})(?: |\z)/) { $code = $1; last }
        last unless $l =~ /^\d{3}-/;
    }
    alarm 0;
    return ($code, $text);
}

sub expect {
    my ($want, $what) = @_;
    my ($code, $text) = reply();
    die "hostile_smtp: $what: want $want, got " . ($text eq '' ? 'nothing' : shown($text)) . "\n"
        unless $code =~ /^$want/;
    return $text;
}

expect('220', 'greeting');
send_line("EHLO $o{helo}");
expect('250', 'EHLO');
if ($o{starttls}) {
    send_line('STARTTLS');
    expect('220', 'STARTTLS');
    my %ssl = (SSL_verify_mode => SSL_VERIFY_NONE, SSL_hostname => 'mx.example.test');
    if ($o{cert}) { $ssl{SSL_cert_file} = $o{cert}; $ssl{SSL_key_file} = $o{key} }
    IO::Socket::SSL->start_SSL($sock, %ssl)
        or die "hostile_smtp: TLS handshake: " . IO::Socket::SSL::errstr() . "\n";
    print $tr "* TLS: ", $sock->get_sslversion, " ", $sock->get_cipher, "\n";
    send_line("EHLO $o{helo}");
    expect('250', 'EHLO after STARTTLS');
}
if (defined $o{user}) {
    my $resp = encode_base64("\0$o{user}\0" . ($o{pass} // ''), '');
    send_line("AUTH PLAIN $resp", 'AUTH PLAIN [user ' . shown($o{user}) . ']');
    expect('235', 'AUTH');
}

my $failed = 0;
for my $i (1 .. $o{count}) {
    my $case = $o{count} > 1 ? sprintf('%s-%03d', $o{case}, $i) : $o{case};
    (my $msg = $template) =~ s/%CASE%/$case/g;
    $msg =~ s/\r?\n/\r\n/g;
    $msg .= "\r\n" unless $msg =~ /\r\n\z/;
    $msg =~ s/^\./../mg;
    send_line("MAIL FROM:<$o{from}>");
    my ($c, $t) = reply();
    if ($c ne '250') { print "failed $case: MAIL: ", shown($t), "\n"; $failed++; send_line('RSET'); reply(); next }
    send_line("RCPT TO:<$o{rcpt}>");
    ($c, $t) = reply();
    if ($c ne '250') { print "failed $case: RCPT: ", shown($t), "\n"; $failed++; send_line('RSET'); reply(); next }
    send_line('DATA');
    ($c, $t) = reply();
    if ($c ne '354') { print "failed $case: DATA: ", shown($t), "\n"; $failed++; send_line('RSET'); reply(); next }
    my $lines = () = $msg =~ /\r\n/g;
    print $tr "> [message $case: ", length($msg), " octets, $lines lines]\n";
    print $sock $msg or die "hostile_smtp: write: $!\n";
    send_line('.');
    ($c, $t) = reply();
    if ($c =~ /^2/) { print "queued $case\n" } else { print "failed $case: ", shown($t), "\n"; $failed++ }
}
send_line('QUIT');
reply();
close $sock;
exit($failed ? 1 : 0);
