/* null-milter.c — the benchmarks' baseline: a libmilter filter that does
 * nothing and accepts every message.
 *
 *   null-milter plain|same|trace SOCKET
 *
 * Callbacks: connect, helo, mail, rcpt and end of message (all "continue",
 * end of message "accept").  Modes:
 *   plain  no xxfi_negotiate: libmilter itself negotiates, from the callbacks
 *          that are missing (the null filter of MTA-FACTS.md §7).
 *   same   negotiates what plugin/milter.cpp negotiates: the same actions,
 *          the same skipped steps and no-reply steps, and the same
 *          setsymlist macro lists (as rfc8314-milter asks for them with its
 *          default configuration: no group_macro).  Keep these in step with
 *          onNegotiate() and stageMacros() there.
 *   trace  as same, and inserts one fixed Received field of the length
 *          rfc8314-milter writes at index 0 at end of message, with
 *          TCP_NODELAY on an inet listening socket as rfc8314-milter sets
 *          it: the protocol cost of the feature (one more reply packet per
 *          message) without any of the filter's own work.
 *
 * SOCKET is libmilter's: inet:PORT@127.0.0.1 or unix:/path.  Runs in the
 * foreground; SIGTERM (libmilter's signal thread) stops it.  Exit status 0
 * after a clean stop, 1 when the socket cannot be set up, 2 on bad usage.
 */
#include <libmilter/mfapi.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned long kSkip =
    SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
static const unsigned long kNoReply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT;

/* The no-reply steps the MTA granted this connection live in the private
 * pointer itself: no allocation, nothing to free. */
static sfsistat reply(SMFICTX *ctx, unsigned long nrFlag) {
    const uintptr_t granted = (uintptr_t)smfi_getpriv(ctx);
    return (granted & nrFlag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat onNegotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                            unsigned long f2, unsigned long f3, unsigned long *pf0,
                            unsigned long *pf1, unsigned long *pf2, unsigned long *pf3) {
    (void)f2;
    (void)f3;
    *pf0 = SMFIF_ADDHDRS | (f0 & SMFIF_SETSYMLIST);
    *pf1 = f1 & (kSkip | kNoReply);
    *pf2 = 0;
    *pf3 = 0;
    smfi_setpriv(ctx, (void *)(uintptr_t)(*pf1 & kNoReply));
    if (f0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT,
                        "j {daemon_name} {daemon_addr} {daemon_port} {client_addr} "
                        "{client_name} {client_port} {tls_version} {cipher} {cipher_bits}");
        smfi_setsymlist(ctx, SMFIM_HELO,
                        "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
                        "{verify}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM,
                        "i {auth_type} {auth_authen} {auth_author} {auth_ssf} {tls_version} "
                        "{cipher} {cipher_bits}");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

static sfsistat onConnect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr) {
    (void)host;
    (void)addr;
    return reply(ctx, SMFIP_NR_CONN);
}

static sfsistat onHelo(SMFICTX *ctx, char *helo) {
    (void)helo;
    return reply(ctx, SMFIP_NR_HELO);
}

static sfsistat onMail(SMFICTX *ctx, char **argv) {
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat onRcpt(SMFICTX *ctx, char **argv) {
    (void)argv;
    return reply(ctx, SMFIP_NR_RCPT);
}

static int insertTrace = 0;

/* A fixed field, folded as rfc8314-milter folds its own (about 190 octets). */
static char kTrace[] =
    "from client.example.test ([127.0.0.1]) by mx.example.test with ESMTPSA\n"
    "\tid 4XyZ1A2b3C for <user@example.test> tls TLS_AES_256_GCM_SHA384\n"
    "\tgroup x25519; Tue, 1 Dec 2026 09:00:00 +0000";

static sfsistat onEom(SMFICTX *ctx) {
    if (insertTrace && smfi_insheader(ctx, 0, "Received", kTrace) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

/* TCP_NODELAY on the listening TCP socket (see plugin/main.cpp). */
static void noDelay(void) {
    int fd;
    for (fd = 0; fd < 1024; ++fd) {
        int listening = 0, one = 1;
        socklen_t len = sizeof listening;
        struct sockaddr_storage addr;
        socklen_t alen = sizeof addr;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
            continue;
        if (getsockname(fd, (struct sockaddr *)&addr, &alen) != 0 ||
            (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

/* libmilter warns when a context ends with private data set. */
static sfsistat onClose(SMFICTX *ctx) {
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv) {
    struct smfiDesc desc;
    int same;

    if (argc != 3 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "same") != 0 &&
                      strcmp(argv[1], "trace") != 0)) {
        fprintf(stderr, "usage: null-milter plain|same|trace SOCKET\n");
        return 2;
    }
    insertTrace = strcmp(argv[1], "trace") == 0;
    same = insertTrace || strcmp(argv[1], "same") == 0;
    memset(&desc, 0, sizeof desc);
    desc.xxfi_name = insertTrace ? "null-milter-trace" : same ? "null-milter-same" : "null-milter-plain";
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = same ? (SMFIF_ADDHDRS | SMFIF_SETSYMLIST) : 0;
    desc.xxfi_connect = onConnect;
    desc.xxfi_helo = onHelo;
    desc.xxfi_envfrom = onMail;
    desc.xxfi_envrcpt = onRcpt;
    desc.xxfi_eom = onEom;
    if (same) {
        desc.xxfi_close = onClose;
        desc.xxfi_negotiate = onNegotiate;
    }
    /* A background job of a non-interactive shell starts with SIGINT
     * ignored; libmilter's signal thread only sees what is not ignored. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    if (smfi_setconn(argv[2]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "null-milter: cannot listen on %s\n", argv[2]);
        return 1;
    }
    if (insertTrace)
        noDelay();
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
