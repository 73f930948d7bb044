// config.hpp — the milter's configuration: one typed table of keys, an INI
// reader that remembers file and line, and the resolved per-listener view.
//
// File format: `key = value` lines, `#` or `;` comment lines, and sections
// `[listener NAME]` for per-listener settings.  A comment after a value
// (`key = value # note`) is an error, never part of the value: see
// parseConfig().  Every key is declared once,
// in the table in config.cpp: name, scope, type (its parser), default,
// whether it needs a restart, and help.  From that table come the
// Boost.Program_options descriptions (globalOptions(), listenerOptions())
// that convert and check every value — the file's and the command line's —
// and the defaults Config() and ListenerConfig() start from; no default is
// written anywhere else.
//
// Promises: loading never throws for bad input; it returns *all* errors, each
// naming file, line and key, so `-n` can print them at once and exit 78.
// Unknown keys and sections are errors.  A Config is immutable once loaded
// and shared through std::shared_ptr<const Config>, so a reload never changes
// the rules under a live session.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rfc8314/facts.hpp"
#include "rfc8314/policy.hpp"

namespace boost::program_options {
class options_description;
}

namespace rfc8314 {

enum class TraceMode { Tls, Always, Off };
// What the trace field says about the client: full (HELO name, verified
// name, address) or hidden (none of them; received.hpp says how it reads).
enum class TraceClient { Full, Hidden };
enum class Role { Submission, Submissions, Relay };
enum class FailAction { Tempfail, Accept };
enum class LogLevel { Error, Warning, Notice, Info, Debug };
// The JSON audit file's shape: the filter's own flat keys, or the Elastic
// Common Schema (audit_ecs.hpp).
enum class AuditFormat { Native, Ecs };

std::string_view toString(TraceMode) noexcept;
std::string_view toString(TraceClient) noexcept;
std::string_view toString(Role) noexcept;
std::string_view toString(FailAction) noexcept;
std::string_view toString(LogLevel) noexcept;
std::string_view toString(AuditFormat) noexcept;

enum class KeyScope { Global, Listener };

struct KeySpec {
    std::string_view name;
    KeyScope scope;
    std::string_view type;          // for help: "bool", "octal", "socket", ...
    std::string_view defaultValue;  // as written in the file; empty = unset
    bool needsRestart;
    std::string_view help;
};

// Every key the file (and the command line, for global keys) accepts, in
// table order: a read-only view of the table for help and documentation.
const std::vector<KeySpec>& configKeys();

struct Config;
struct ListenerConfig;

struct ConfigError;
struct ConfigResult;
struct ConfigOverride;

// A `socket` value taken apart, as libmilter will read it.
struct SocketSpec {
    enum class Kind { Local, Inet, Inet6 };
    Kind kind = Kind::Local;
    std::string path;       // Local: the absolute path
    std::uint16_t port = 0; // Inet, Inet6
    std::string host;       // Inet, Inet6: a name, an address or "[address]"; empty = any
};
// Checks the syntax only (a host name is not looked up); nullopt with the
// reason in *why when it is not a socket libmilter could open.
std::optional<SocketSpec> parseSocketSpec(std::string_view v, std::string* why = nullptr);

// The table as Boost.Program_options descriptions: one option per key, whose
// value semantic parses and checks the key's type, carries its default and,
// on po::notify, stores the typed value into *target (null: parse and check
// only, e.g. to recognise the command line's keys and print help).
boost::program_options::options_description globalOptions(Config* target = nullptr);
boost::program_options::options_description listenerOptions(ListenerConfig* target = nullptr);

// One [listener NAME] section.  ListenerConfig() holds every listener key at
// its table default; a key whose default depends on the role or on a global
// key is optional and unset.
struct ListenerConfig {
    ListenerConfig();
    std::string name;                  // from [listener NAME]
    int line = 0;                      // where the section starts
    std::optional<std::uint16_t> port; // match {daemon_port}
    std::string daemonName;            // match {daemon_name}
    std::string address;               // match {daemon_addr}
    std::optional<Role> role;          // unset: from the port
    std::optional<TraceMode> trace;    // unset: the global trace
    TraceClient traceClient{};
    std::string keyExchangeGroup;      // IANA spelling, already validated
    // unset: the global exceptions_file; "": none on this listener; else a
    // file of its own, which replaces the global one here.
    std::optional<std::string> exceptionsFile;
    int exceptionsFileLine = 0;        // where the section set it, for errors in that file
    // Loaded from exceptionsFile by loadConfig(); null when it is unset.
    std::shared_ptr<const ExceptionList> exceptions;
    // Policy keys.
    std::optional<bool> policy;        // unset: on for the submission roles, off for relay
    bool requireTlsForAuth{};
    TlsVersion minTlsVersion{};
    int minCipherBits{};
    PolicyAction action{};
    std::optional<Day> enforceFrom;
    int rolloutPercent{};
    std::optional<SmtpReply> reply;    // unset: defaultReply(action)

    // The policy this section gives a listener of `role`.
    ListenerPolicy policyFor(Role role) const;

private:
    struct FromTable {};
    explicit ListenerConfig(FromTable); // stores the table defaults
    static const ListenerConfig& builtin(); // made once, copied by ListenerConfig()
};

struct Config {
    // Every key at its table default (the built-in configuration).
    Config();

    std::string file; // where it came from ("" = built-in defaults only)

    // Restart-only settings.
    std::string socket;
    std::string user;
    std::string group;
    unsigned umask{};
    std::string pidFile;
    bool syslog{};
    std::string syslogFacility;
    int milterTimeout{};
    std::string metricsListen;         // "ADDR:PORT" of the metrics endpoint; empty = off

    // Reloadable settings.
    bool logStderr{};
    LogLevel logLevel{};
    FailAction onInternalError{};
    std::string auditFile;
    AuditFormat auditFormat{};         // shape of the audit_file's lines
    std::string hostName;              // `host` of every JSON audit event; empty = MTA's {j}, else gethostname
    std::string groupMacro;            // canonical macro name or empty
    std::string hostname;              // override for the `by` host; empty = MTA's {j}
    TraceMode trace{};                 // default for every listener
    std::string exceptionsFile;        // per-user policy exceptions; empty = none
    std::string rolloutSalt;           // per-site salt of the rollout hash
    std::vector<ListenerConfig> listeners;
    // Loaded from exceptionsFile by loadConfig(); never null.
    std::shared_ptr<const ExceptionList> exceptions = std::make_shared<ExceptionList>();

    // An error about a global key found after parsing (start-up checks:
    // the user does not exist, the socket's host does not resolve), placed
    // where the key was set: file and line, the command line, or the file
    // alone for a key left at its default.
    struct ConfigError errorAt(std::string_view key, std::string message) const;

    // What the daemon uses for one connection (filled by resolveListener).
    struct Listener {
        std::string name;          // section name, or the role name for built-ins
        Role role{};
        TraceMode trace{};
        TraceClient traceClient{};
        std::string keyExchangeGroup;
        ListenerPolicy policy;
        // The exceptions the policy consults here: the section's own file,
        // or the global one; never null.
        std::shared_ptr<const ExceptionList> exceptions;
        // False when no [listener] section matched and the MTA passed no
        // {daemon_port}: then this is the relay default, and the session
        // gives an authenticated transaction the submission policy instead
        // (authentication is submission, whatever the port).
        bool determined = true;
    };
    // The compiled-in policy for a role, from the listener keys' table
    // defaults: on for submission and submissions (TLS for auth, TLS 1.2,
    // 128 bits, reject), off for relay.
    static ListenerPolicy defaultPolicy(Role role);
    // First [listener] section whose every given criterion matches; else the
    // built-in by port: 587 submission, 465 submissions, any other port
    // relay; no port at all: relay, not determined.
    Listener resolveListener(const ListenerFacts& facts) const;

private:
    friend ConfigResult parseConfig(std::string_view, std::string_view,
                                    const std::vector<ConfigOverride>&);
    struct Origin {
        std::string source; // the file, or "command line"
        int line = 0;
    };
    std::map<std::string, Origin, std::less<>> origins_; // global keys set explicitly

    struct FromTable {};
    explicit Config(FromTable);     // stores the table defaults
    static const Config& builtin(); // made once, copied by Config()
};

struct ConfigError {
    std::string file;
    int line = 0;     // 0 when not from a file line (the command line, a file that cannot be read)
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
// Read and parse a file, then the exceptions files it names, global and per
// listener (checked against `today` for expired entries; a malformed entry
// is an error, an expired one a warning).  A file that cannot be read is an error naming
// the path and the reason; only when `optional` (the default path, no -c)
// does a file that does not exist (ENOENT) mean the built-in defaults.
ConfigResult loadConfig(const std::string& path, const std::vector<ConfigOverride>& overrides = {},
                        bool optional = false, Day today = Day::fromTime(std::time(nullptr)));

// Global keys whose values differ between two configs, in table order.
std::vector<std::string> changedKeys(const Config& a, const Config& b);
// The restart-only ones among changedKeys(), for the reload warning
// ("socket changed; takes effect at restart").
std::vector<std::string> restartOnlyChanges(const Config& running, const Config& loaded);

} // namespace rfc8314
