# mta-postfix.sh — a private, real Postfix on loopback for the integration
# suites (bash, sourced after common.sh).
#
# Promises: everything lives under $WORK/postfix (config, queue, logs, SASL
# database, delivered mail); three smtpd services on 127.0.0.1 only — relay
# ($PORT_SMTP, no AUTH), submission ($PORT_SUB, STARTTLS, AUTH allowed even
# over cleartext so the tests can see what the milter does then) and
# submissions ($PORT_SUBS, implicit TLS); real Cyrus SASL (sasldb) users;
# delivery by virtual(8) into a Maildir.  The master is stopped by `mta_stop`
# and, failing that, killed by its own pid at exit.
#
# Interface (shared with mta-sendmail.sh): MTA_NAME, PORT_*, SASL_*, RCPT,
# MTA_GROUP, mta_setup MILTER_PORT [main.cf lines...], mta_start, mta_stop,
# mta_reload, mta_wait_delivery N [SECS], mta_messages, mta_log,
# mta_clear_mail, mta_own_cipher FILE, mta_own_group FILE.
# Knobs: MTA_MILTER_DEFAULT_ACTION (tempfail), MTA_SUBMISSION_OPTS (extra
# "-o k=v" for the submission service only).

MTA_NAME=postfix
: "${PORT_SMTP:=10025}"
: "${PORT_SUB:=10587}"
: "${PORT_SUBS:=10465}"
SASL_USER=testuser
SASL_PASS=testpass
SASL_USER2=legacy
SASL_PASS2=legacypass
RCPT=user@example.test
# Postfix is told to offer exactly one group (tls_eecdh_auto_curves below),
# so a listener may declare key_exchange_group = x25519 honestly.
MTA_GROUP=x25519

_pf_dir() { echo "$WORK/postfix"; }

# mta_setup MILTER_PORT [EXTRA main.cf LINES...]
mta_setup() {
    local milter_port=$1; shift
    local d; d=$(_pf_dir)
    PF_DIR=$d
    MAILDIR="$d/mail/example.test/user"
    rm -rf "$d"
    mkdir -p "$d/queue" "$d/data" "$d/sasl" "$d/mail" "$d/tls"
    gen_cert "$d/tls" || { log "postfix: cannot make a certificate"; return 1; }
    chgrp postfix "$d/tls/key.pem"
    chown postfix "$d/data"
    chown 65534:65534 "$d/mail"

    # Real Cyrus SASL users.  Postfix passes smtpd_sasl_local_domain as the
    # realm, so the users live in realm example.test and the milter sees
    # {auth_authen} = testuser@example.test.
    local sasldb="$d/sasl/sasldb2"
    echo "$SASL_PASS" | saslpasswd2 -p -c -f "$sasldb" -u example.test "$SASL_USER" || return 1
    echo "$SASL_PASS2" | saslpasswd2 -p -c -f "$sasldb" -u example.test "$SASL_USER2" || return 1
    chown root:postfix "$sasldb"
    chmod 0640 "$sasldb"
    # Debian's smtpd reads smtpd.conf from $config_directory/sasl/.
    cat > "$d/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $sasldb
mech_list: PLAIN LOGIN
EOF

    echo "$RCPT example.test/user/" > "$d/vmailbox"

    cat > "$d/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:local delivery is disabled here
default_transport = error:outbound mail is disabled here
relay_transport = error:outbound mail is disabled here
virtual_mailbox_domains = example.test
virtual_mailbox_maps = texthash:$d/vmailbox
virtual_mailbox_base = $d/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtputf8_enable = no
biff = no
append_dot_mydomain = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
smtpd_banner = \$myhostname ESMTP
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = example.test
smtpd_sasl_security_options = noanonymous

smtpd_tls_cert_file = $d/tls/cert.pem
smtpd_tls_key_file = $d/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
# Old TLS must be reachable so the policy tests can try it.
smtpd_tls_protocols = >=TLSv1
smtpd_tls_mandatory_protocols = >=TLSv1
smtpd_tls_ciphers = low
tls_low_cipherlist = ALL:@SECLEVEL=0
# Exactly one key-exchange group (MTA_GROUP).
tls_eecdh_auto_curves = X25519

smtpd_milters = inet:127.0.0.1:$milter_port
non_smtpd_milters =
milter_protocol = 6
milter_default_action = ${MTA_MILTER_DEFAULT_ACTION:-tempfail}
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
EOF
    local line
    for line in "$@"; do echo "$line" >> "$d/main.cf"; done

    cat > "$d/master.cf" <<EOF
$PORT_SMTP inet n - n - - smtpd
$PORT_SUB inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes ${MTA_SUBMISSION_OPTS:-}
$PORT_SUBS inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    # Creates the queue directories with Postfix's own ownership rules.
    if ! postfix -c "$d" check > "$d/check.log" 2>&1; then
        log "postfix check failed:"; cat "$d/check.log" >&2
        return 1
    fi
}

mta_start() {
    local d=$PF_DIR i
    postfix -c "$d" start > "$d/start.log" 2>&1 || { cat "$d/start.log" >&2; return 1; }
    for ((i = 0; i < 100; i++)); do
        [ -s "$d/queue/pid/master.pid" ] && break
        sleep 0.1
    done
    PF_MASTER_PID=$(tr -d ' \n' < "$d/queue/pid/master.pid" 2>/dev/null)
    [ -n "$PF_MASTER_PID" ] || { log "postfix: no master pid"; return 1; }
    track_pid "$PF_MASTER_PID"
    on_exit mta_stop
    wait_port "$PORT_SMTP" 20 && wait_port "$PORT_SUB" 20 && wait_port "$PORT_SUBS" 20
}

mta_stop() {
    [ -n "${PF_MASTER_PID:-}" ] || return 0
    postfix -c "$PF_DIR" stop > /dev/null 2>&1 || kill "$PF_MASTER_PID" 2>/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$PF_MASTER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$PF_MASTER_PID" 2>/dev/null
    PF_MASTER_PID=
    return 0
}

mta_reload() { postfix -c "$PF_DIR" reload > /dev/null 2>&1; }

mta_messages() {
    [ -d "$MAILDIR/new" ] || return 0
    ls -1tr "$MAILDIR/new" 2>/dev/null | sed "s|^|$MAILDIR/new/|"
}

# mta_wait_delivery N [SECS] — at least N messages delivered.
mta_wait_delivery() {
    local want=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        [ "$(mta_messages | grep -c .)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

mta_log() { echo "$PF_DIR/maillog"; }

mta_clear_mail() { rm -f "$MAILDIR"/new/* "$MAILDIR"/cur/* 2>/dev/null; return 0; }

# The MTA's own Received field (the one "by mx.example.test" that Postfix
# wrote), unfolded.
_pf_own_received() {
    awk 'BEGIN{h=""} /^\r?$/{exit} /^[ \t]/{h=h $0; next} {if(h!="")print h; h=$0} END{if(h!="")print h}' "$1" |
        tr -d '\r' | grep -i '^Received:' | grep 'by mx\.example\.test (Postfix)' | head -n 1
}

# mta_own_cipher FILE — "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 ..." -> the name.
mta_own_cipher() {
    _pf_own_received "$1" | sed -n 's/.*with cipher \([A-Za-z0-9_-]*\).*/\1/p'
}

# mta_own_group FILE — "key-exchange X25519" as Postfix spells it, or empty.
mta_own_group() {
    _pf_own_received "$1" | sed -n 's/.*key-exchange \(ECDHE ([^)]*)\|[A-Za-z0-9_-]*\).*/\1/p'
}
