#!/usr/bin/env python3
"""rfc5321_stamp.py — an independent reading of RFC 5321's Time-stamp-line.

Reads one RFC 5322 message on standard input (Python's email parser unfolds
the header fields, not the project's code) and checks every Received field
that carries an RFC 8314 `tls` clause against a regular expression written
from the grammar of RFC 5321 section 4.4 (and RFC 5322 section 3.3 for the
date), not from the project's reader (rfc5322.cpp):

  Stamp          = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
  From-domain    = "FROM" FWS Extended-Domain
  By-domain      = CFWS "BY" FWS Extended-Domain
  Extended-Domain = Domain / ( Domain FWS "(" TCP-info ")" ) /
                   ( address-literal FWS "(" TCP-info ")" )
  TCP-info       = address-literal / ( Domain FWS address-literal )
  Opt-info       = [Via] [With] [ID] [For] [Additional-Registered-Clauses]
  With           = CFWS "WITH" FWS Protocol
  ID             = CFWS "ID" FWS ( Atom / msg-id )
  For            = CFWS "FOR" FWS ( Path / Mailbox )
  Additional-Registered-Clauses = CFWS Atom FWS String

Simplifications, each stricter than the RFC: comments may not nest, and a
Path is <local@domain> with a dot-atom local part.  Keywords are
case-insensitive (RFC 5321 section 2.4).

Options: --hidden also requires `from hidden.invalid` and no TCP-info in the
from clause (trace_client = hidden).
Exit 0 when at least one such field was found and all match; 1 when one
does not (printed); 2 when there is none.
"""
import email
import email.policy
import re
import sys

FWS = r"[ \t]+"
COMMENT = r"\((?:[^()\\]|\\.)*\)"
CFWS = rf"(?:(?:{FWS})?{COMMENT})*(?:{FWS})"  # at least the blanks around
LET_DIG = r"[A-Za-z0-9]"
SUB_DOMAIN = rf"{LET_DIG}(?:[A-Za-z0-9-]*{LET_DIG})?"
DOMAIN = rf"{SUB_DOMAIN}(?:\.{SUB_DOMAIN})*"
IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
IPV6 = r"IPv6:[0-9A-Fa-f:.]+"
ADDRESS_LITERAL = rf"\[(?:{IPV4}|{IPV6})\]"
TCP_INFO = rf"(?:{ADDRESS_LITERAL}|{DOMAIN}{FWS}{ADDRESS_LITERAL})"
EXTENDED_DOMAIN = (rf"(?:{DOMAIN}{FWS}\({TCP_INFO}\)|{ADDRESS_LITERAL}{FWS}\({TCP_INFO}\)"
                   rf"|{DOMAIN})")
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
ATOM = rf"{ATEXT}+"
DOT_ATOM = rf"{ATOM}(?:\.{ATOM})*"
PATH = rf"<{DOT_ATOM}@{DOMAIN}>"
STRING = rf"(?:{ATOM}|\"(?:[^\"\\]|\\.)*\")"
DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
DATE_TIME = (rf"(?:{DAY},{FWS})?\d{{1,2}}{FWS}{MONTH}{FWS}\d{{4}}{FWS}"
             rf"\d\d:\d\d(?::\d\d)?{FWS}[+-]\d{{4}}")


def stamp_re(from_part):
    return re.compile(
        rf"(?i:from){FWS}(?P<from>{from_part})"
        rf"(?:{CFWS}(?:{COMMENT}))*"  # comments after the from clause
        rf"{CFWS}(?i:by){FWS}{EXTENDED_DOMAIN}"
        rf"(?:{CFWS}(?i:with){FWS}{ATOM})?"
        rf"(?:{CFWS}(?i:id){FWS}{ATOM})?"
        rf"(?:{CFWS}(?i:for){FWS}{PATH})?"
        rf"(?:{CFWS}{ATOM}{FWS}{STRING})*"
        rf"(?:{CFWS})?;{FWS}{DATE_TIME}(?:{CFWS}{COMMENT})?[ \t]*",
        re.ASCII)


def main():
    hidden = "--hidden" in sys.argv[1:]
    msg = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.compat32)
    pattern = stamp_re("hidden.invalid" if hidden else EXTENDED_DOMAIN)
    found = bad = 0
    for raw in msg.get_all("Received") or []:
        value = re.sub(r"\r?\n", "", str(raw)).strip()
        if not re.search(r"[ \t](?i:tls)[ \t]", value):
            continue
        found += 1
        if not pattern.fullmatch(value):
            bad += 1
            print(f"not an RFC 5321 Time-stamp-line{' (hidden)' if hidden else ''}: {value}")
        else:
            print(f"ok: {value}")
    if found == 0:
        print("no Received field with a tls clause")
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
