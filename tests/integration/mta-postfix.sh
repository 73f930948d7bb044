# mta-postfix.sh — MTA adapter: a private, real Postfix on loopback for the
# integration suites (bash; source it after common.sh).
#
# What it promises:
#   * Everything lives under $WORK/postfix: main.cf, master.cf, queue, data,
#     Cyrus sasldb, certificate, log file and the delivered mail.
#   * Three smtpd services, on 127.0.0.1 only, all behind the milter:
#       $PORT_SMTP  relay: plain smtpd, STARTTLS offered, no AUTH;
#       $PORT_SUB   submission: STARTTLS offered, AUTH offered even over
#                   cleartext (smtpd_tls_auth_only = no) so the tests can see
#                   what the milter does with a cleartext AUTH;
#       $PORT_SUBS  submissions: implicit TLS (wrapper mode), AUTH.
#   * Real SASL: Cyrus sasldb users $SASL_USER / $SASL_USER2, PLAIN and LOGIN.
#   * Mail to $RCPT is delivered by virtual(8) into the Maildir $MAILDIR; a
#     message shows up in $MAILDIR/new only when complete (tmp/ -> new/ rename).
#   * Postfix offers exactly one key-exchange group, X25519 ($MTA_GROUP), for
#     every TLS version it speaks (see the TLS block in mta_setup).
#   * The master is stopped by mta_stop (registered with on_exit) and, should
#     that fail, killed by its own pid through track_pid.  No broad kills.
#
# Interface shared with the other adapters: MTA_NAME, PORT_SMTP, PORT_SUB,
# PORT_SUBS, SASL_USER, SASL_PASS, SASL_USER2, SASL_PASS2, RCPT, MTA_GROUP,
# MAILDIR, mta_setup MILTER_PORT [main.cf lines...], mta_start, mta_stop,
# mta_reload, mta_wait_delivery N [SECS], mta_messages, mta_log,
# mta_clear_mail, mta_own_cipher FILE, mta_own_group FILE.
# Knobs (environment): PORT_* (before sourcing), MTA_MILTER_DEFAULT_ACTION
# (default tempfail), MTA_SUBMISSION_OPTS (extra "-o k=v" words for the
# submission service only), MTA_SUBMISSIONS_OPTS and MTA_RELAY_OPTS (the same
# for the submissions and the relay service; all three default to none),
# MTA_IPV6=yes (also listen on [::1], with inet_protocols = all, so a client
# can come over IPv6; needs ::1 on lo),
# MTA_MILTERS_BEFORE and MTA_MILTERS_AFTER (other milters in smtpd_milters,
# before and after this one: space-separated NAME=PORT words, NAME only
# for the reader; read by mta_setup and mta_reload, a value set then wins,
# otherwise the last one stays; default none, smtpd_milters as in
# conf/postfix-main.cf).
# PORT_LEGACY (optional): a fourth service, the legacy submission listener of
# the README's recipe (STARTTLS and AUTH, plus MTA_LEGACY_OPTS words).
# After mta_setup, MTA_CERT is the server certificate (PEM) clients can trust.

MTA_NAME=postfix
: "${PORT_SMTP:=10025}"
: "${PORT_SUB:=10587}"
: "${PORT_SUBS:=10465}"

# {auth_authen}: smtpd_sasl_local_domain is left empty, so Postfix hands
# Cyrus no user realm and Cyrus does not append one: the milter sees
# {auth_authen} = "testuser" (and "legacy"), with no "@realm".  Cyrus then
# looks the user up in the realm named by the server FQDN, which Postfix
# passes as $myhostname — hence "saslpasswd2 -u mx.example.test" below.
SASL_USER=testuser
SASL_PASS=testpass
SASL_USER2=legacy
SASL_PASS2=legacypass
PF_SASL_REALM=mx.example.test

RCPT=user@example.test

# Measured with openssl s_client -starttls smtp against this configuration
# (OpenSSL 3.0.19, Postfix 3.7.11): "Server Temp Key: X25519, 253 bits" for
# -tls1_3, for -tls1_2 and for -tls1 (with -cipher DEFAULT:@SECLEVEL=0);
# "-tls1_3 -groups P-256" and "-tls1_2 -cipher DHE-RSA-..." both end in a
# handshake-failure alert.  tls_eecdh_auto_curves restricts the ECDHE groups
# of every version; the finite-field DHE suites (whose group it does not
# govern) are left out of the cipher list.  The static-RSA suites (RSA key
# transport: no group at all) stay in, so the suites can prove that no group
# clause is written for them; with them come the NULL-encryption suites
# (NULL-SHA256: 0 bits), which only a client that names them gets.  So no TLS session with this Postfix uses a
# group other than X25519, and a milter listener may declare
# key_exchange_group = x25519 truthfully.  Postfix itself writes "key-exchange X25519" into its Received
# field only for TLS 1.3; for 1.2 and older it records no group.
MTA_GROUP=x25519

PF_DIR=         # $WORK/postfix: everything of this instance
PF_CONF=        # $PF_DIR/etc: config_directory (root-owned files only)
PF_MASTER_PID=
MAILDIR=

# mta_setup MILTER_PORT [EXTRA main.cf LINES...] — write the private
# instance into $WORK/postfix.  Does not start it.
mta_setup() {
    local milter_port=$1; shift
    local d="$WORK/postfix" line
    PF_MILTER_PORT=$milter_port
    unset PF_MILTERS_BEFORE PF_MILTERS_AFTER PF_CHAIN_SET
    local c="$d/etc"
    PF_DIR=$d
    PF_CONF=$c
    MAILDIR="$d/mail/example.test/user"
    rm -rf "$d"
    # The config directory gets its own subtree: postfix-script wants every
    # file below config_directory owned by root and not group-writable, which
    # a queue or data directory inside it could never be.
    # queue_directory itself must be root-owned; its subdirectories are made
    # by "postfix check" (post-install) with Postfix's own owners and modes.
    # data_directory belongs to mail_owner.
    mkdir -p "$c/sasl" "$c/tls" "$d/queue" "$d/data" "$d/mail"
    chmod 0755 "$d" "$c" "$c/sasl" "$c/tls" "$d/queue"
    chown postfix:postfix "$d/data"
    chmod 0700 "$d/data"
    # virtual(8) writes as uid/gid 65534 (virtual_uid_maps below) and makes
    # the Maildir itself.
    chown 65534:65534 "$d/mail"
    chmod 0755 "$d/mail"

    gen_cert "$c/tls" || { log "postfix: gen_cert failed"; return 1; }
    MTA_CERT="$c/tls/cert.pem"
    # smtpd loads the key as root before it drops privileges; group postfix
    # may read it too, so nothing depends on that ordering.
    chgrp postfix "$c/tls/key.pem"

    # Cyrus SASL.  Debian's smtpd reads <service>.conf (smtpd.conf) from
    # $config_directory/sasl; cyrus_sasl_config_path is set too, for builds
    # that honour it.
    local db="$c/sasl/sasldb2"
    printf '%s' "$SASL_PASS" | saslpasswd2 -p -c -f "$db" -u "$PF_SASL_REALM" "$SASL_USER" || return 1
    printf '%s' "$SASL_PASS2" | saslpasswd2 -p -c -f "$db" -u "$PF_SASL_REALM" "$SASL_USER2" || return 1
    chown root:postfix "$db"
    chmod 0640 "$db"
    cat > "$c/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $db
mech_list: PLAIN LOGIN
EOF

    # The one mailbox; the trailing slash makes virtual(8) write a Maildir.
    printf '%s example.test/user/\n' "$RCPT" > "$c/vmailbox"

    local interfaces=127.0.0.1 protocols=ipv4 networks=127.0.0.0/8
    if [ "${MTA_IPV6:-}" = yes ]; then
        ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
            { log "postfix: MTA_IPV6=yes but lo has no ::1"; return 1; }
        interfaces='127.0.0.1, [::1]' protocols=all networks='127.0.0.0/8, [::1]/128'
    fi
    cat > "$c/main.cf" <<EOF
# Private test instance written by tests/integration/mta-postfix.sh.
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = \$mydomain
mydestination =
inet_interfaces = $interfaces
inet_protocols = $protocols
mynetworks = $networks
relayhost =
smtputf8_enable = no
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP
# No DNS anywhere: every name here is a test name.
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no

# Local names go nowhere; only the virtual domain is delivered.  Anything
# else would be relayed and bounces at once instead of waiting in the queue.
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in this test instance
default_transport = error:5.7.1 outbound mail is disabled in this test instance
relay_transport = error:5.7.1 outbound mail is disabled in this test instance
virtual_mailbox_domains = example.test
virtual_mailbox_maps = texthash:$c/vmailbox
virtual_mailbox_base = $d/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100

# Logging to a file: no syslog here.  postlogd (master.cf) writes the file;
# its directory must be listed in maillog_file_prefixes.
maillog_file = $d/maillog
maillog_file_prefixes = $d

# Cleartext, unauthenticated mail from loopback to the virtual domain is
# accepted (it is a local destination anyway).
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

# SASL, switched on per service in master.cf.  smtpd_sasl_local_domain stays
# empty so that {auth_authen} is the bare user name (see the top).
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain =
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
cyrus_sasl_config_path = $c/sasl

# TLS.  Postfix writes the negotiated protocol, cipher and group into its
# own Received field; the tests read them from there.
smtpd_tls_cert_file = $c/tls/cert.pem
smtpd_tls_key_file = $c/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
# TLS 1.0 and 1.1 stay reachable so the policy tests can try them (the
# @SECLEVEL=0 lets OpenSSL 3 sign with SHA-1 as those versions need).
smtpd_tls_protocols = >=TLSv1
smtpd_tls_mandatory_protocols = >=TLSv1
smtpd_tls_ciphers = low
smtpd_tls_mandatory_ciphers = low
# Exactly one group (MTA_GROUP).  The curve list covers ECDHE in every
# version; the lists leave out finite-field DHE (whose group this knob does
# not govern) but keep static RSA (no group at all), which clients only get
# when they ask for it.  TLS 1.3 suites are unaffected.
tls_eecdh_auto_curves = X25519
smtpd_tls_eecdh_grade = auto
tls_low_cipherlist = kECDHE:kRSA:@SECLEVEL=0
tls_medium_cipherlist = kECDHE:kRSA:@SECLEVEL=0
tls_high_cipherlist = kECDHE:kRSA:@SECLEVEL=0
EOF
    # The milter, on every smtpd service; nothing for locally submitted
    # mail.  These lines are the README's recipe, conf/postfix-main.cf, with
    # the test's milter port (and default action, for the fault tests).  The
    # macro lists stay at their defaults: the milter asks with
    # smfi_setsymlist.
    grep -q '^smtpd_milters = inet:127.0.0.1:8891$' "$TOP/conf/postfix-main.cf" || {
        log "postfix: conf/postfix-main.cf has no smtpd_milters = inet:127.0.0.1:8891"; return 1; }
    sed -e "s/^smtpd_milters = inet:127.0.0.1:8891\$/smtpd_milters = inet:127.0.0.1:$milter_port/" \
        -e "s/^milter_default_action = tempfail\$/milter_default_action = ${MTA_MILTER_DEFAULT_ACTION:-tempfail}/" \
        "$TOP/conf/postfix-main.cf" >> "$c/main.cf"
    # Extra settings from the caller replace ours in place (postconf -e), so
    # that e.g. 'smtpd_tls_auth_only = yes' wins without Postfix warning
    # about a duplicate entry; new names are appended.
    _pf_chain || return 1
    for line in "$@"; do
        postconf -c "$c" -e "$line" || { log "postfix: bad main.cf line: $line"; return 1; }
    done

    # Every service unchrooted (the private paths do not exist in a chroot).
    cat > "$c/master.cf" <<EOF
# service  type  private unpriv chroot wakeup maxproc command + args
$PORT_SMTP inet  n       -      n      -      -       smtpd${MTA_RELAY_OPTS:+ $MTA_RELAY_OPTS}
$PORT_SUB inet  n       -      n      -      -       smtpd -o smtpd_sasl_auth_enable=yes ${MTA_SUBMISSION_OPTS:-}
$PORT_SUBS inet  n       -      n      -      -       smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes${MTA_SUBMISSIONS_OPTS:+ $MTA_SUBMISSIONS_OPTS}
${PORT_LEGACY:+$PORT_LEGACY inet  n       -      n      -      -       smtpd -o smtpd_sasl_auth_enable=yes ${MTA_LEGACY_OPTS:-}}
pickup     unix  n       -      n      60     1       pickup
cleanup    unix  n       -      n      -      0       cleanup
qmgr       unix  n       -      n      300    1       qmgr
tlsmgr     unix  -       -      n      1000?  1       tlsmgr
rewrite    unix  -       -      n      -      -       trivial-rewrite
bounce     unix  -       -      n      -      0       bounce
defer      unix  -       -      n      -      0       bounce
trace      unix  -       -      n      -      0       bounce
verify     unix  -       -      n      -      1       verify
flush      unix  n       -      n      1000?  0       flush
proxymap   unix  -       -      n      -      -       proxymap
proxywrite unix  -       -      n      -      1       proxymap
smtp       unix  -       -      n      -      -       smtp
relay      unix  -       -      n      -      -       smtp
showq      unix  n       -      n      -      -       showq
error      unix  -       -      n      -      -       error
retry      unix  -       -      n      -      -       error
discard    unix  -       -      n      -      -       discard
local      unix  -       n      n      -      -       local
virtual    unix  -       n      n      -      -       virtual
lmtp       unix  -       -      n      -      -       lmtp
anvil      unix  -       -      n      -      1       anvil
scache     unix  -       -      n      -      1       scache
postlog    unix-dgram n  -      n      -      1       postlogd
EOF

    # "postfix check" creates the queue subdirectories with the right owners
    # and reports anything Postfix dislikes about the tree.
    # (Its warnings go to the maillog file, fatal errors to stderr.)
    if ! postfix -c "$c" check > "$d/check.log" 2>&1; then
        log "postfix check failed:"; sed 's/^/    | /' "$d/check.log" >&2
        return 1
    fi
}

# mta_start — start the master, record its pid, wait for the three ports.
mta_start() {
    local d=$PF_DIR i
    [ -n "$d" ] || { log "postfix: mta_start before mta_setup"; return 1; }
    # A port still taken (an earlier instance, another test) would make the
    # master die with "bind: Address already in use"; say so plainly.
    local p
    for p in "$PORT_SMTP" "$PORT_SUB" "$PORT_SUBS" ${PORT_LEGACY:+"$PORT_LEGACY"}; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            log "postfix: 127.0.0.1:$p is already in use"
            return 1
        fi
    done
    if ! postfix -c "$PF_CONF" start > "$d/start.log" 2>&1; then
        log "postfix start failed:"; sed 's/^/    | /' "$d/start.log" >&2
        return 1
    fi
    # The pid file may appear a moment after "postfix start" returns.
    for ((i = 0; i < 100; i++)); do
        PF_MASTER_PID=$(tr -dc '0-9' < "$d/queue/pid/master.pid" 2>/dev/null)
        [ -n "$PF_MASTER_PID" ] && _pf_alive "$PF_MASTER_PID" && break
        PF_MASTER_PID=
        sleep 0.1
    done
    if [ -z "$PF_MASTER_PID" ]; then
        log "postfix: the master did not come up"; tail -n 20 "$d/maillog" >&2 2>/dev/null
        return 1
    fi
    track_pid "$PF_MASTER_PID"
    on_exit mta_stop
    for p in "$PORT_SMTP" "$PORT_SUB" "$PORT_SUBS" ${PORT_LEGACY:+"$PORT_LEGACY"}; do
        if ! wait_port "$p" 20; then
            log "postfix: nothing listens on 127.0.0.1:$p"; tail -n 20 "$d/maillog" >&2 2>/dev/null
            return 1
        fi
    done
}

# _pf_alive PID — true while PID runs.  A zombie counts as gone: the master
# is a daemon whose parent is pid 1, which reaps at its own pace here.
_pf_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$state" != Z ]
}

# mta_stop — stop the master and wait until its pid is gone.  Idempotent.
mta_stop() {
    local pid=${PF_MASTER_PID:-} i p kids
    [ -n "$pid" ] || return 0
    if _pf_alive "$pid"; then
        # The master's children hold the listening sockets too; note their
        # pids now so we can wait for them (and only them) afterwards.
        kids=$(pgrep -P "$pid" 2>/dev/null)
        # "postfix stop" signals the master named in this instance's pid
        # file; the master terminates its children and exits.
        postfix -c "$PF_CONF" stop > /dev/null 2>&1 || kill "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            _pf_alive "$pid" || break
            sleep 0.1
        done
        _pf_alive "$pid" && kill -9 "$pid" 2>/dev/null
        for p in $kids; do
            for ((i = 0; i < 50; i++)); do
                _pf_alive "$p" || break
                sleep 0.1
            done
            _pf_alive "$p" && kill -9 "$p" 2>/dev/null
        done
    fi
    PF_MASTER_PID=
    return 0
}

# mta_reload — re-read main.cf/master.cf (change them first, e.g. with
# postconf -c "$PF_CONF" -e 'name = value'; the MTA_MILTERS_* knobs are
# applied here).
mta_reload() { _pf_chain && postfix -c "$PF_CONF" reload > /dev/null 2>&1; }

# _pf_chain — smtpd_milters from the MTA_MILTERS_* knobs, when any was ever
# set (otherwise main.cf keeps the recipe's line untouched).
_pf_chain() {
    PF_MILTERS_BEFORE=${MTA_MILTERS_BEFORE-${PF_MILTERS_BEFORE-}}
    PF_MILTERS_AFTER=${MTA_MILTERS_AFTER-${PF_MILTERS_AFTER-}}
    [ -n "${MTA_MILTERS_BEFORE+x}${MTA_MILTERS_AFTER+x}${PF_CHAIN_SET:-}" ] || return 0
    PF_CHAIN_SET=1
    local w list=()
    for w in $PF_MILTERS_BEFORE "rfc8314=$PF_MILTER_PORT" $PF_MILTERS_AFTER; do
        case "$w" in
            [A-Za-z]*=[0-9]*) list+=("inet:127.0.0.1:${w#*=}") ;;
            *) log "postfix: bad milter word '$w' (want NAME=PORT)"; return 1 ;;
        esac
    done
    local IFS=,
    postconf -c "$PF_CONF" -e "smtpd_milters = ${list[*]}"
}

# mta_messages — delivered message files, oldest first (by mtime, with
# sub-second resolution; ls -t would not break ties within a second).
mta_messages() {
    [ -d "$MAILDIR/new" ] || [ -d "$MAILDIR/cur" ] || return 0
    find "$MAILDIR/new" "$MAILDIR/cur" -maxdepth 1 -type f -printf '%T@ %p\n' 2>/dev/null |
        sort -n | cut -d' ' -f2-
}

# mta_wait_delivery N [SECS] — 0 once at least N messages are delivered.
mta_wait_delivery() {
    local want=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        [ "$(mta_messages | grep -c .)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

mta_log() { echo "$PF_DIR/maillog"; }

mta_clear_mail() {
    rm -f "$MAILDIR"/new/* "$MAILDIR"/cur/* 2>/dev/null
    return 0
}

# _pf_own_received FILE — Postfix's own Received field ("by mx.example.test"),
# unfolded onto one line, whitespace runs collapsed.
_pf_own_received() {
    awk '
        /^\r?$/ { exit }
        /^[ \t]/ { cur = cur $0; next }
        { if (cur != "") print cur; cur = $0 }
        END { if (cur != "") print cur }
    ' "$1" | tr -d '\r' | tr -s ' \t' '  ' |
        grep -i '^Received:' | grep -F 'by mx.example.test' | head -n 1
}

# mta_own_cipher FILE — the cipher Postfix recorded:
# "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" ->
# TLS_AES_256_GCM_SHA384.  Empty on cleartext.
mta_own_cipher() {
    _pf_own_received "$1" | sed -n 's/.*(using [^ ]* with cipher \([^ ]*\) .*/\1/p'
}

# mta_own_group FILE — the group as Postfix spells it ("X25519",
# "ECDHE (prime256v1)"), raw; empty when Postfix wrote none (TLS 1.2 and
# older, cleartext).
mta_own_group() {
    _pf_own_received "$1" |
        sed -n 's/.* key-exchange \(ECDHE ([^)]*)\|[^ )]*\).*/\1/p'
}
