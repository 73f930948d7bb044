#!/usr/bin/python3
"""notify_sink.py SOCKET OUT [MILTER_SOCKET] -- stand in for systemd's notify socket.

Binds a datagram socket at SOCKET (a path, or @name for the abstract
namespace), then writes every datagram it receives to OUT as one JSON line:
{"t": seconds since the sink started, "msg": the datagram as text}.  When
MILTER_SOCKET (a unix socket path or HOST:PORT) is given, the first READY=1
is followed at once by a milter negotiation (SMFIC_OPTNEG, as Postfix sends
it) on that socket, and the line gets "probe": "ok" or the error: so the
suite sees whether the milter really answered when it said it was ready.
Creates OUT.bound once the socket is bound.  Runs until killed.
"""
import json
import os
import socket
import struct
import sys
import time


def probe(spec):
    try:
        if spec.startswith("/"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = spec
        else:
            host, port = spec.rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            addr = (host, int(port))
        s.settimeout(5)
        s.connect(addr)
        s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1FF, 0x1FFFFF))
        head = b""
        while len(head) < 5:
            chunk = s.recv(5 - len(head))
            if not chunk:
                return "closed"
            head += chunk
        s.sendall(struct.pack(">Ic", 1, b"Q"))
        s.close()
        return "ok" if head[4:5] == b"O" else "reply %r" % head[4:5]
    except OSError as e:
        return "error %s" % e


def main():
    path, out = sys.argv[1], sys.argv[2]
    milter = sys.argv[3] if len(sys.argv) > 3 else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if path.startswith("@"):
        s.bind("\0" + path[1:])
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s.bind(path)
    start = time.monotonic()
    probed = False
    with open(out, "a", buffering=1) as f:
        with open(out + ".bound", "w") as b:
            b.write("bound\n")
        while True:
            data = s.recv(65536)
            rec = {"t": round(time.monotonic() - start, 3), "msg": data.decode("utf-8", "replace")}
            if milter and not probed and "READY=1" in rec["msg"].split("\n"):
                probed = True
                rec["probe"] = probe(milter)
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
