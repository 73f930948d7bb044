// doctor.hpp — `rfc8314-milter --doctor`: reads the local Postfix and/or
// Sendmail configuration and says whether the MTA is wired to this milter the
// way the milter's configuration needs it (socket, macro lists, TLS-only AUTH,
// failure action and timeouts, socket reachability) and does what RFC 8314
// asks of the MTA side (implicit TLS on 465, TLS with a valid certificate,
// TLS 1.2 or later).
//
// The work is split by job under plugin/doctor/: the pure half takes text
// and a Config and touches nothing else (postfix_conf, postfix_maps,
// postfix_wiring, postfix; sendmail_cf, sendmail; tls, socket, milter_view,
// mta_text, finding), so the unit tests drive it with tables; the system
// half runs postconf and postmap (exec), reads certificate files (certs),
// probes the socket as the MTA's user (probe) and drives it all (run).
//
// Output: one line per check, "ok: ", "warning: " or "error: " and a text;
// a non-ok line that a line of configuration (or a command) can fix is
// followed by one or more "  fix (WHERE): LINE" lines whose LINE is exactly
// what to put into WHERE.  Exit status of runDoctor:
// 0 when every check is ok, 1 when there is any warning or error, 70 on an
// internal failure.  (A bad milter configuration never gets here: main()
// exits 78 first.)
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

struct Options {
    std::optional<std::string> postfixConfig; // --postfix-config DIR
    std::optional<std::string> sendmailCf;    // --sendmail-cf FILE
};

// Checks Postfix and Sendmail: both at their default places when neither
// option is given, else only those named.  Never throws.
int runDoctor(const Config& cfg, const Options& opts, std::ostream& out) noexcept;

} // namespace rfc8314::doctor
