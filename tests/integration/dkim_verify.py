#!/usr/bin/python3
"""dkim_verify.py MESSAGE KEYTXT — verify the DKIM signatures of a delivered
message with dkimpy, without DNS.

KEYTXT is the TXT record file opendkim-genkey writes (SELECTOR.txt); its
quoted strings are the only key the verifier can get: the lookup answers
that record for SELECTOR._domainkey.DOMAIN and nothing for any other name,
so a signature by another key or domain fails.  Prints one line per
signature ("pass d=... s=... h=..." or "fail d=... s=... h=...: why") and
exits 0 when the message has at least one signature and every signature
verifies, 1 otherwise, 2 on usage or unreadable input.  Runs with Debian's
/usr/bin/python3, whose python3-dkim the suites install.
"""
import logging
import re
import sys

import dkim


def main():
    if len(sys.argv) != 3:
        print("usage: dkim_verify.py MESSAGE KEYTXT", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            message = f.read()
        with open(sys.argv[2]) as f:
            keytxt = f.read()
    except OSError as e:
        print(f"dkim_verify: {e}", file=sys.stderr)
        return 2
    # "test._domainkey IN TXT ( "v=DKIM1; ..." "p=..." )  ; ----- DKIM key test for example.test"
    m = re.match(r"\s*(\S+)\._domainkey\s", keytxt)
    d = re.search(r"DKIM key \S+ for (\S+)", keytxt)
    if not m or not d:
        print("dkim_verify: KEYTXT is not an opendkim-genkey record", file=sys.stderr)
        return 2
    name = f"{m.group(1)}._domainkey.{d.group(1)}."
    record = "".join(re.findall(r'"([^"]*)"', keytxt)).encode()

    def dnsfunc(qname, timeout=5):
        q = qname.decode() if isinstance(qname, bytes) else qname
        return record if q.rstrip(".") + "." == name else None

    # dkimpy says why a signature failed only through its logger.
    why = []

    class Catch(logging.Handler):
        def emit(self, rec):
            why.append(rec.getMessage())

    log = logging.getLogger("dkim_verify")
    log.addHandler(Catch())
    log.setLevel(logging.DEBUG)

    d = dkim.DKIM(message, logger=log)
    count = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    if count == 0:
        print("fail: no DKIM-Signature field")
        return 1
    ok = True
    for idx in range(count):
        why.clear()
        try:
            good = d.verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            good = False
            why.append(str(e))
        sig = d.signature_fields or {}
        tags = " ".join(f"{k}={sig.get(k.encode(), b'').decode(errors='replace')}"
                        for k in ("d", "s", "h"))
        if good:
            print(f"pass {tags}")
        else:
            ok = False
            print(f"fail {tags}: {'; '.join(why[-2:]) or 'signature did not verify'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
