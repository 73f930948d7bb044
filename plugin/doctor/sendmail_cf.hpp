// sendmail_cf.hpp — sendmail.cf as the doctor sees it: options (last one
// wins, as in Sendmail), the milters (X lines), the listeners
// (DaemonPortOptions) and the release (DZ).  Read from the .cf the daemon
// actually loads, since the .mc may not be at hand; fixes are written in
// both forms.
//
// Promises: pure; continuation lines are joined as Sendmail joins them;
// lines that are not understood are skipped, never fatal.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls.hpp"

namespace rfc8314::doctor {

struct SendmailFilter {
    std::string name, socket, flags, timeouts, line;
    bool hasFlags = false;
};

struct SendmailDaemon {
    std::string name;     // Name= (default "Daemon<n>")
    std::string portText; // Port= as written (default "smtp")
    std::optional<unsigned> port;
    std::string addr;                        // Addr=
    std::string modifiers;                   // M=
    std::optional<std::string> inputFilters; // per-daemon InputMailFilters (I=)
    std::string value;                       // everything after "DaemonPortOptions="
};

struct SendmailCf {
    std::string path;
    std::string version;                        // from DZ; "" unknown
    std::map<std::string, std::string> options; // O Name=value (last wins)
    std::vector<SendmailFilter> filters;        // X lines
    std::vector<SendmailDaemon> daemons;        // O DaemonPortOptions= lines
    // ServerCertFile as read by certs.hpp (missing: not read).
    std::map<std::string, CertFacts> certs;
};

SendmailCf parseSendmailCf(std::string_view text);

// The option's value ("" when unset).
std::string option(const SendmailCf& sm, const std::string& name);
// The daemon's DaemonPortOptions value with M= replaced by `modifiers`
// (dropped when empty, appended when there was none), as the fix for a
// DAEMON_OPTIONS line.
std::string daemonValueWithModifiers(const SendmailDaemon& d, const std::string& modifiers);
// Sendmail's built-in macro list of a stage, used when the cf has no
// Milter.macros line for it.
std::string sendmailDefaultMacros(std::string_view stage);
// The X line and the INPUT_MAIL_FILTER line of a milter with other flags.
std::string filterLine(const SendmailFilter& f, const std::string& flags);
std::string mcFilterLine(const std::string& name, const std::string& socket,
                         const std::string& flags, const std::string& timeouts);

} // namespace rfc8314::doctor
