/* hdrins.c — test-only milter that inserts one header field at a fixed
 * index, so the suites can see where another milter's insertions land
 * relative to rfc8314-milter's trace field.
 *
 *   hdrins SOCKET NAME VALUE INDEX
 *
 * At the end of every message it calls smfi_insheader(INDEX, NAME, VALUE)
 * (index 0 = the very top, above the MTA's own Received field, which no
 * milter sees but which insert indexes count) and accepts.  It never
 * refuses anything.  SOCKET is a libmilter spec (inet:PORT@127.0.0.1).
 * Exits 1 on bad arguments or when libmilter cannot register or listen;
 * stops on SIGTERM (libmilter's own signal handling).  Built by the
 * suites that use it (tests/integration/milters.sh), never installed. */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *hdr_name;
static char *hdr_value;
static int hdr_index;

static sfsistat on_eom(SMFICTX *ctx) {
    /* A failed insertion must show up in the test, not pass silently. */
    if (smfi_insheader(ctx, hdr_index, hdr_name, hdr_value) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

int main(int argc, char **argv) {
    struct smfiDesc desc;
    char *end;

    if (argc != 5) {
        fprintf(stderr, "usage: hdrins SOCKET NAME VALUE INDEX\n");
        return 1;
    }
    hdr_name = argv[2];
    hdr_value = argv[3];
    hdr_index = (int)strtol(argv[4], &end, 10);
    if (*argv[4] == '\0' || *end != '\0' || hdr_index < 0) {
        fprintf(stderr, "hdrins: bad INDEX %s\n", argv[4]);
        return 1;
    }
    memset(&desc, 0, sizeof desc);
    desc.xxfi_name = "hdrins";
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS;
    desc.xxfi_eom = on_eom;
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "hdrins: cannot register on %s\n", argv[1]);
        return 1;
    }
    if (smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "hdrins: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
