// config.hpp — the milter's configuration: one typed table of keys, an INI
// reader that remembers file and line, and the resolved per-listener view.
//
// File format: `key = value` lines, `#` or `;` comments, and sections
// `[listener NAME]` for per-listener settings.  Every key is declared once in
// configKeys() with its type, default, scope and whether it needs a restart;
// the daemon builds its command line from the same table.
//
// Promises: loading never throws for bad input; it returns *all* errors, each
// naming file, line and key, so `-n` can print them at once and exit 78.
// Unknown keys and sections are errors.  A Config is immutable once loaded
// and shared through std::shared_ptr<const Config>, so a reload never changes
// the rules under a live session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rfc8314/facts.hpp"
#include "rfc8314/policy.hpp"

namespace rfc8314 {

enum class TraceMode { Tls, Always, Off };
enum class Role { Submission, Submissions, Relay };
enum class FailAction { Tempfail, Accept };
enum class LogLevel { Error, Warning, Notice, Info, Debug };

std::string_view toString(TraceMode) noexcept;
std::string_view toString(Role) noexcept;
std::string_view toString(FailAction) noexcept;
std::string_view toString(LogLevel) noexcept;

enum class KeyScope { Global, Listener };

struct KeySpec {
    std::string_view name;
    KeyScope scope;
    std::string_view type;          // for help: "bool", "octal", "socket", ...
    std::string_view defaultValue;  // as written in the file; empty = unset
    bool needsRestart;
    std::string_view help;
};

// Every key the file (and the command line, for global keys) accepts.
const std::vector<KeySpec>& configKeys();

// Per-listener settings as written; unset fields fall back to the built-in
// defaults for the listener's role.
struct ListenerConfig {
    std::string name;                  // from [listener NAME]
    int line = 0;                      // where the section starts
    std::optional<std::uint16_t> port; // match {daemon_port}
    std::string daemonName;            // match {daemon_name}
    std::string address;               // match {daemon_addr}
    std::optional<Role> role;
    std::optional<TraceMode> trace;
    std::string keyExchangeGroup;      // IANA spelling, already validated
    // Policy keys as written (unset: the role's default).
    std::optional<bool> policy;
    std::optional<bool> requireTlsForAuth;
    std::optional<TlsVersion> minTlsVersion;
    std::optional<int> minCipherBits;
    std::optional<PolicyAction> action;
    std::optional<Day> enforceFrom;
    std::optional<int> rolloutPercent;
    std::optional<SmtpReply> reply;
};

struct Config {
    std::string file; // where it came from ("" = built-in defaults only)

    // Restart-only settings.
    std::string socket = "local:/run/rfc8314-milter/rfc8314-milter.sock";
    std::string user;
    std::string group;
    unsigned umask = 007;
    std::string pidFile;
    bool syslog = true;
    std::string syslogFacility = "mail";
    int milterTimeout = 300;

    // Reloadable settings.
    bool logStderr = false;
    LogLevel logLevel = LogLevel::Info;
    FailAction onInternalError = FailAction::Tempfail;
    std::string auditFile;
    std::string groupMacro;            // canonical macro name or empty
    std::string hostname;              // override for the `by` host; empty = MTA's {j}
    TraceMode trace = TraceMode::Tls;  // default for every listener
    std::string exceptionsFile;        // per-user policy exceptions; empty = none
    std::string rolloutSalt;           // per-site salt of the rollout hash
    std::vector<ListenerConfig> listeners;
    // Loaded from exceptionsFile by loadConfig(); never null.
    std::shared_ptr<const ExceptionList> exceptions = std::make_shared<ExceptionList>();

    // What the daemon uses for one connection.
    struct Listener {
        std::string name;          // section name, or the role name for built-ins
        Role role = Role::Relay;
        TraceMode trace = TraceMode::Tls;
        std::string keyExchangeGroup;
        ListenerPolicy policy;
    };
    // The compiled-in policy for a role: on for submission and submissions
    // (TLS for auth, TLS 1.2, 128 bits, reject), off for relay.
    static ListenerPolicy defaultPolicy(Role role);
    // First [listener] section whose every given criterion matches; else the
    // built-in by port: 587 submission, 465 submissions, anything else relay.
    Listener resolveListener(const ListenerFacts& facts) const;
};

struct ConfigError {
    std::string file;
    int line = 0;     // 0 when not tied to a line (e.g. command line)
    std::string key;
    std::string message;
    std::string str() const; // "file:line: key: message"
};

struct ConfigResult {
    std::shared_ptr<const Config> config; // null when there were errors
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;
};

// One key = value pair from outside the file (the command line); applied
// after the file, so it wins.
struct ConfigOverride {
    std::string key;
    std::string value;
};

// Parse `text` as if read from `fileName`.
ConfigResult parseConfig(std::string_view text, std::string_view fileName,
                         const std::vector<ConfigOverride>& overrides = {});
// Read and parse a file, then the exceptions file it names (checked
// against `today` for expired entries); a missing config file is an error
// unless `optional`.
ConfigResult loadConfig(const std::string& path, const std::vector<ConfigOverride>& overrides = {},
                        bool optional = false, Day today = Day::fromTime(std::time(nullptr)));

// Restart-only keys whose values differ between two configs, for the reload
// warning ("socket changed; takes effect at restart").
std::vector<std::string> restartOnlyChanges(const Config& running, const Config& loaded);

} // namespace rfc8314
