#!/usr/bin/env python3
"""shutdown_load.py — SMTP clients for test_shutdown.sh.

Usage: shutdown_load.py PORT RCPT HOLD STREAM CONTROL_DIR

HOLD clients each open one transaction up to the end of DATA (headers and
body sent, the final "." not), so each is open in the milter; when all are
there the script creates CONTROL_DIR/ready.  They send "." once
CONTROL_DIR/release exists.  STREAM clients meanwhile run transactions back
to back, a new connection each, until CONTROL_DIR/stop exists.

Every transaction is one line on standard output:
    CASE OUTCOME CODE STAGE
OUTCOME is "accepted" (250 after the final "."), "tempfail" (a 4xx reply at
any stage) or "error" (a 5xx, no reply, a reset, a timeout — anything the
MTA should never do to a client during a milter's stop).  Each message
carries its CASE in an X-Case header, so the delivered mail can be matched.
Exit status 0 unless the script itself failed.
"""
import os
import socket
import sys
import threading
import time

TIMEOUT = 60  # longer than any milter or Postfix timeout in the suite


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""

    def reply(self):
        """One (multi-line) reply; its code as text, or raises."""
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    raise ConnectionError("connection closed")
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b"-":
                continue
            return line[:3].decode("ascii", "replace")

    def send(self, text):
        self.sock.sendall(text.encode("ascii") + b"\r\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def classify(code):
    if code.startswith("4"):
        return "tempfail"
    return "error"


class Transaction:
    """One transaction in steps, so HOLD clients can stop before the '.'."""

    def __init__(self, port, rcpt, case):
        self.port, self.rcpt, self.case = port, rcpt, case
        self.client = None
        self.result = None  # (outcome, code, stage) once decided

    def _step(self, stage, text, want):
        if text is not None:
            self.client.send(text)
        code = self.client.reply()
        if code != want:
            self.result = (classify(code), code, stage)
            return False
        return True

    def open(self):
        """Up to the end of DATA; False once the transaction has its result."""
        try:
            self.client = Client(self.port)
            if not (self._step("banner", None, "220")
                    and self._step("ehlo", "EHLO client.example.test", "250")
                    and self._step("mail", "MAIL FROM:<sender@example.test>", "250")
                    and self._step("rcpt", "RCPT TO:<%s>" % self.rcpt, "250")
                    and self._step("data", "DATA", "354")):
                return False
            for line in ("From: <sender@example.test>", "To: <%s>" % self.rcpt,
                         "Subject: %s" % self.case, "X-Case: %s" % self.case, "",
                         "A transaction during the milter's stop."):
                self.client.send(line)
            return True
        except (OSError, ConnectionError) as e:
            self.result = ("error", "-", "open: %s" % e)
            return False

    def finish(self):
        try:
            self.client.send(".")
            code = self.client.reply()
            self.result = ("accepted", code, "dot") if code == "250" else (classify(code), code, "dot")
        except (OSError, ConnectionError) as e:
            self.result = ("error", "-", "dot: %s" % e)

    def close(self):
        if self.client:
            try:
                self.client.send("QUIT")
                self.client.reply()
            except (OSError, ConnectionError):
                pass
            self.client.close()


def main():
    port, rcpt, hold, stream, control = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                         int(sys.argv[4]), sys.argv[5])
    out_lock = threading.Lock()

    def report(t):
        with out_lock:
            print(t.case, *t.result, flush=True)

    def flag(name):
        return os.path.exists(os.path.join(control, name))

    # The stream: transactions back to back until told to stop.
    def streamer(n):
        k = 0
        while not flag("stop"):
            t = Transaction(port, rcpt, "stream-%d-%d" % (n, k))
            k += 1
            if t.open():
                t.finish()
            t.close()
            report(t)
            if t.result[0] != "accepted":
                time.sleep(0.2)  # Postfix answers a stopped milter at once; do not spin

    threads = [threading.Thread(target=streamer, args=(n,)) for n in range(stream)]
    for th in threads:
        th.start()

    # The held transactions, opened in parallel.
    held = [Transaction(port, rcpt, "hold-%d" % i) for i in range(hold)]
    opened = []

    def opener(t):
        if t.open():
            with out_lock:
                opened.append(t)

    openers = [threading.Thread(target=opener, args=(t,)) for t in held]
    for th in openers:
        th.start()
    for th in openers:
        th.join()
    open(os.path.join(control, "ready"), "w").write("%d\n" % len(opened))
    while not flag("release"):
        time.sleep(0.05)
    finishers = [threading.Thread(target=t.finish) for t in opened]
    for th in finishers:
        th.start()
    for th in finishers:
        th.join()
    for t in held:
        t.close()
        report(t)
    for th in threads:
        th.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
