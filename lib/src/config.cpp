// config.cpp — the key table, the INI reader and validation.  See config.hpp.
//
// keyTable() is the one place a key is declared: name, scope, parser (its
// type), default, restart flag, help.  Each entry becomes a Program_options
// option whose value is po::value<Checked<parser>>: Program_options finds the
// validate() below for it, which runs the parser, so a value from the file
// and one from the command line are converted and checked by the same code,
// and its notifier stores the typed value into a Config or ListenerConfig.
// The defaults are the options' default_value()s: Config() and
// ListenerConfig() store an empty parse and notify, nothing else sets them.
//
// The file reader splits lines and sections itself (it knows line numbers
// and [listener NAME] headers) and stores every key = value as a po::option
// with its scope's description; every Program_options error (unknown option,
// invalid value, multiple occurrences) becomes a ConfigError with file, line
// and key.  Nothing throws for bad input, and parsing goes on after an error
// so all are reported.
//
// Why one file of ~1,050 lines: the key table (~100 lines, one entry per
// key), the ~30 value parsers it names, the Program_options glue and the
// file reader are one unit — a key's parser, its table entry and the reader
// that reports its errors with file:line change together, and splitting
// them would put the table's parser names in a header of their own for no
// reader's benefit.  Sections: parsers, Program_options value types, the
// table, the reader, validation across keys.
#include "rfc8314/config.hpp"

#include "rfc8314/metrics.hpp"
#include "rfc8314/received.hpp"
#include "text.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace po = boost::program_options;

namespace rfc8314 {

std::string_view toString(TraceMode m) noexcept {
    switch (m) {
    case TraceMode::Tls: return "tls";
    case TraceMode::Always: return "always";
    case TraceMode::Off: return "off";
    }
    return "tls";
}

std::string_view toString(TraceClient c) noexcept {
    return c == TraceClient::Hidden ? "hidden" : "full";
}

std::string_view toString(Role r) noexcept {
    switch (r) {
    case Role::Submission: return "submission";
    case Role::Submissions: return "submissions";
    case Role::Relay: return "relay";
    }
    return "relay";
}

std::string_view toString(FailAction a) noexcept {
    return a == FailAction::Accept ? "accept" : "tempfail";
}

std::string_view toString(AuditFormat f) noexcept {
    return f == AuditFormat::Ecs ? "ecs" : "native";
}

std::string_view toString(LogLevel l) noexcept {
    switch (l) {
    case LogLevel::Error: return "error";
    case LogLevel::Warning: return "warning";
    case LogLevel::Notice: return "notice";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    }
    return "info";
}


std::optional<SocketSpec> parseSocketSpec(std::string_view v, std::string* why) {
    auto fail = [why](std::string text) -> std::optional<SocketSpec> {
        if (why)
            *why = std::move(text);
        return std::nullopt;
    };
    const auto colon = v.find(':');
    if (colon == std::string_view::npos)
        return fail("want local:/path, inet:PORT@ADDR or inet6:PORT@ADDR, got \"" + std::string(v) +
                    "\"");
    const auto kind = text::lower(v.substr(0, colon));
    const auto rest = v.substr(colon + 1);
    SocketSpec s;
    if (kind == "local" || kind == "unix") {
        s.kind = SocketSpec::Kind::Local;
        if (rest.empty() || rest.front() != '/')
            return fail("a local socket needs an absolute path");
        // libmilter refuses a path whose length plus its NUL fills
        // sun_path (108 bytes on Linux), so 106 is the longest it binds.
        if (rest.size() > 106)
            return fail("socket path longer than 106 bytes");
        s.path = std::string(rest);
        return s;
    }
    if (kind != "inet" && kind != "inet6")
        return fail("unknown socket type \"" + kind + "\"");
    s.kind = kind == "inet" ? SocketSpec::Kind::Inet : SocketSpec::Kind::Inet6;
    const auto at = rest.find('@');
    const auto port = rest.substr(0, at);
    const auto p = parsePort(port);
    if (!p)
        return fail("bad port \"" + std::string(port) + "\" (want 1 to 65535)");
    s.port = *p;
    if (at == std::string_view::npos)
        return s; // libmilter: any address
    const auto host = rest.substr(at + 1);
    if (host.empty())
        return fail("empty address after @");
    const int family = s.kind == SocketSpec::Kind::Inet ? AF_INET : AF_INET6;
    if (host.front() == '[') {
        // libmilter takes [ADDR] as a numeric address of the socket's family.
        unsigned char buf[sizeof(in6_addr)];
        const std::string inner(host.substr(1, host.size() >= 2 ? host.size() - 2 : 0));
        if (host.back() != ']' || host.size() < 2 || inet_pton(family, inner.c_str(), buf) != 1)
            return fail("bad numeric address \"" + std::string(host) + "\" for " + kind);
    } else {
        // A host name or an address; whether it resolves is for start-up
        // (and -n) to find out: a parser must not depend on DNS.
        for (char c : host)
            if (!text::isAlpha(c) && !text::isDigit(c) && c != '.' && c != '-' && c != '_' &&
                c != ':')
                return fail("bad host \"" + std::string(host) + "\"");
    }
    s.host = std::string(host);
    return s;
}


namespace {

using text::lower;
std::string_view trim(std::string_view s) noexcept { return text::trimSpace(s); }

// ---- parsers: text -> typed value, or why not -------------------------------
//
// Each has the shape Error(std::string_view, T&); the table names one per key.

using Error = std::optional<std::string>;

std::string quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

Error parseText(std::string_view v, std::string& out) {
    out = std::string(v);
    return std::nullopt;
}

Error parseBool(std::string_view v, bool& out) {
    auto l = lower(v);
    if (l == "yes" || l == "true" || l == "on" || l == "1")
        out = true;
    else if (l == "no" || l == "false" || l == "off" || l == "0")
        out = false;
    else
        return "want yes or no, got " + quoted(v);
    return std::nullopt;
}

Error parseSocket(std::string_view v, std::string& out) {
    std::string why;
    if (!parseSocketSpec(v, &why))
        return why;
    out = std::string(v);
    return std::nullopt;
}

// The metrics endpoint, stored in the one spelling the daemon binds.
Error parseMetricsListen(std::string_view v, std::string& out) {
    if (v.empty()) {
        out.clear();
        return std::nullopt;
    }
    std::string why;
    auto a = parseListenAddress(v, &why);
    if (!a)
        return why;
    out = a->str();
    return std::nullopt;
}

Error parseOctal(std::string_view v, unsigned& out) {
    if (v.empty() || v.size() > 4)
        return std::string("want an octal mode such as 007");
    unsigned m = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '7')
            return "want an octal mode such as 007, got " + quoted(v);
        m = m * 8 + static_cast<unsigned>(ch - '0');
    }
    if (m > 0777)
        return std::string("umask above 0777");
    out = m;
    return std::nullopt;
}

// An absolute path, or empty for "none".
Error parsePath(std::string_view v, std::string& out) {
    if (!v.empty() && v.front() != '/')
        return std::string("want an absolute path");
    out = std::string(v);
    return std::nullopt;
}

Error parseFacility(std::string_view v, std::string& out) {
    static const char* const names[] = {"mail",   "daemon", "user",   "local0", "local1",
                                        "local2", "local3", "local4", "local5", "local6",
                                        "local7"};
    auto l = lower(v);
    for (auto n : names) {
        if (l == n) {
            out = l;
            return std::nullopt;
        }
    }
    return "want mail, daemon, user or local0..local7, got " + quoted(v);
}

// One of an enum's values, by its toString() spelling, any case.  The
// refusal lists them in order: "want tls, always or off, got ...".
template <class E, E... Values>
Error parseOneOf(std::string_view v, E& out) {
    for (E e : {Values...}) {
        if (text::iequals(v, toString(e))) {
            out = e;
            return std::nullopt;
        }
    }
    static const std::string want = [] {
        const std::string_view names[] = {toString(Values)...};
        std::string w = "want ";
        const std::size_t n = sizeof...(Values);
        for (std::size_t i = 0; i < n; ++i)
            w.append(i == 0 ? "" : i + 1 == n ? " or " : ", ").append(names[i]);
        return w;
    }();
    return want + ", got " + quoted(v);
}

constexpr auto parseLogLevel = parseOneOf<LogLevel, LogLevel::Error, LogLevel::Warning, LogLevel::Notice,
                                          LogLevel::Info, LogLevel::Debug>;
constexpr auto parseFailAction = parseOneOf<FailAction, FailAction::Tempfail, FailAction::Accept>;
constexpr auto parseAuditFormat = parseOneOf<AuditFormat, AuditFormat::Native, AuditFormat::Ecs>;
constexpr auto parseTrace = parseOneOf<TraceMode, TraceMode::Tls, TraceMode::Always, TraceMode::Off>;
constexpr auto parseTraceClient = parseOneOf<TraceClient, TraceClient::Full, TraceClient::Hidden>;
constexpr auto parseRole = parseOneOf<Role, Role::Submission, Role::Submissions, Role::Relay>;

Error parseTimeout(std::string_view v, int& out) {
    auto n = parseSmallNumber(v);
    if (!n || *n < 1 || *n > 86400)
        return "want seconds from 1 to 86400, got " + quoted(v);
    out = *n;
    return std::nullopt;
}




bool isMacroName(std::string_view v) {
    if (v.size() >= 2 && v.front() == '{' && v.back() == '}')
        v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 64)
        return false;
    for (char c : v)
        if (!text::isAlpha(c) && !text::isDigit(c) && c != '_')
            return false;
    return true;
}

// A macro name, stored in canonical spelling; empty for "none".
Error parseMacro(std::string_view v, std::string& out) {
    if (v.empty()) {
        out.clear();
        return std::nullopt;
    }
    if (!isMacroName(v))
        return "want a macro name such as {tls_group}, got " + quoted(v);
    out = canonicalMacroName(v);
    return std::nullopt;
}

// The `by` host: exactly what buildReceived() writes, or empty for the MTA's.
Error parseHostname(std::string_view v, std::string& out) {
    if (!v.empty() && !isValidByHost(v))
        return "want a domain name (dot-separated labels of letters, digits and inner "
               "hyphens), got " + quoted(v);
    out = std::string(v);
    return std::nullopt;
}



Error parseListenerPort(std::string_view v, std::uint16_t& out) {
    auto p = parsePort(v);
    if (!p)
        return "want a port 1..65535, got " + quoted(v);
    out = *p;
    return std::nullopt;
}


// An IANA group name or known alias, stored in IANA spelling.
Error parseGroup(std::string_view v, std::string& out) {
    auto g = GroupRegistry::instance().ianaName(v);
    if (!g)
        return "not an IANA group name or known alias: " + quoted(v);
    out = std::string(*g);
    return std::nullopt;
}

Error parseMinTlsVersion(std::string_view v, TlsVersion& out) {
    auto t = parseTlsVersionSetting(v);
    if (!t)
        return "want SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3, got " + quoted(v);
    out = *t;
    return std::nullopt;
}

Error parseCipherBits(std::string_view v, int& out) {
    auto n = parseSmallNumber(v);
    if (!n || *n > 512)
        return "want bits from 0 to 512, got " + quoted(v);
    out = *n;
    return std::nullopt;
}

Error parseAction(std::string_view v, PolicyAction& out) {
    auto a = parsePolicyAction(lower(v));
    if (!a)
        return "want report, tempfail or reject, got " + quoted(v);
    out = *a;
    return std::nullopt;
}

Error parseDay(std::string_view v, Day& out) {
    auto d = Day::parse(v);
    if (!d)
        return "want a date YYYY-MM-DD, got " + quoted(v);
    out = *d;
    return std::nullopt;
}

Error parsePercent(std::string_view v, int& out) {
    auto n = parseSmallNumber(v);
    if (!n || *n > 100)
        return "want a percentage 0..100, got " + quoted(v);
    out = *n;
    return std::nullopt;
}

Error parseReply(std::string_view v, SmtpReply& out) {
    std::string why;
    auto r = SmtpReply::parse(v, &why);
    if (!r)
        return why;
    out = std::move(*r);
    return std::nullopt;
}

// ---- the parsers as Program_options value types ----------------------------

template <class F> struct ParsedType;
template <class T> struct ParsedType<Error (*)(std::string_view, T&)> {
    using type = T;
};

// A value as Program_options holds it: what `Parse` made of the text.  The
// type names its parser, so po::value<Checked<Parse>> reaches the validate()
// below through argument-dependent lookup.
template <auto Parse> struct Checked {
    typename ParsedType<decltype(Parse)>::type value{};
};

// A value the parser refused: to Program_options an invalid_option_value;
// the reader reports why() instead of po's generic text.
class BadValue : public po::invalid_option_value {
public:
    BadValue(const std::string& value, std::string why)
        : po::invalid_option_value(value), why_(std::move(why)) {}
    const std::string& why() const noexcept { return why_; }

private:
    std::string why_;
};

// Program_options' custom-validator hook (preferred over its generic
// lexical_cast validate(..., long) by the exact `int`).
template <auto Parse>
void validate(boost::any& store, const std::vector<std::string>& tokens, Checked<Parse>*, int) {
    po::validators::check_first_occurrence(store); // po::multiple_occurrences
    const std::string& text = po::validators::get_single_string(tokens);
    Checked<Parse> out;
    if (auto why = Parse(text, out.value))
        throw BadValue(text, std::move(*why));
    store = out;
}

// ---- the table ---------------------------------------------------------------

enum class Takes { Restart, Reload };

struct KeyDef {
    KeySpec spec;
    // The key's value semantic for a description; its notifier stores into
    // the target (null: none).  Only the one for the key's scope is set.
    std::function<po::value_semantic*(Config*)> globalValue;
    std::function<po::value_semantic*(ListenerConfig*)> listenerValue;
    // Global keys: whether two configs hold the same value.
    std::function<bool(const Config&, const Config&)> same;
};

template <auto Parse, class Target, class Member>
KeyDef key(Member Target::*member, std::string_view name, std::string_view type,
           std::string_view defaultText, Takes takes, std::string_view help) {
    constexpr bool global = std::is_same_v<Target, Config>;
    static_assert(global || std::is_same_v<Target, ListenerConfig>);
    KeyDef k;
    k.spec = {name, global ? KeyScope::Global : KeyScope::Listener, type, defaultText,
              takes == Takes::Restart, help};
    auto value = [member, name, type, defaultText](Target* target) -> po::value_semantic* {
        auto* v = po::value<Checked<Parse>>();
        v->value_name(std::string(type));
        if (!defaultText.empty()) {
            Checked<Parse> d;
            if (auto why = Parse(defaultText, d.value))
                throw std::logic_error("config key " + std::string(name) +
                                       ": bad compiled-in default: " + *why);
            v->default_value(d, std::string(defaultText));
        }
        if (target)
            v->notifier([target, member](const Checked<Parse>& c) { target->*member = c.value; });
        return v;
    };
    if constexpr (global) {
        k.globalValue = value;
        k.same = [member](const Config& a, const Config& b) { return a.*member == b.*member; };
    } else {
        k.listenerValue = value;
    }
    return k;
}

const std::vector<KeyDef>& keyTable() {
    using C = Config;
    using L = ListenerConfig;
    constexpr auto restart = Takes::Restart;
    constexpr auto reload = Takes::Reload;
    static const std::vector<KeyDef> keys = {
        key<parseSocket>(&C::socket, "socket", "socket",
                         "local:/run/rfc8314-milter/rfc8314-milter.sock", restart,
                         "where the milter listens: local:/path, inet:PORT@ADDR or inet6:PORT@ADDR"),
        key<parseText>(&C::user, "user", "name", "", restart,
                       "user to switch to after opening the socket"),
        key<parseText>(&C::group, "group", "name", "", restart,
                       "group to switch to (default: the user's)"),
        key<parseOctal>(&C::umask, "umask", "octal", "007", restart,
                        "umask for the socket and files"),
        key<parsePath>(&C::pidFile, "pid_file", "path", "", restart, "write the daemon's pid here"),
        key<parseBool>(&C::syslog, "syslog", "bool", "yes", restart, "log to syslog"),
        key<parseFacility>(&C::syslogFacility, "syslog_facility", "facility", "mail", restart,
                           "syslog facility: mail, daemon, user, local0..local7"),
        key<parseTimeout>(&C::milterTimeout, "milter_timeout", "seconds", "300", restart,
                          "libmilter I/O timeout towards the MTA, 1..86400"),
        key<parseMetricsListen>(&C::metricsListen, "metrics_listen", "address", "", restart,
                                "serve Prometheus metrics over HTTP at ADDR:PORT (127.0.0.1:9925, "
                                "[::1]:9925); off when unset"),
        key<parseBool>(&C::logStderr, "log_stderr", "bool", "no", reload,
                       "also write every log line to standard error (foreground runs, tests)"),
        key<parseLogLevel>(&C::logLevel, "log_level", "level", "info", reload,
                           "error, warning, notice, info (audit lines) or debug (also one line "
                           "per connection)"),
        key<parseFailAction>(&C::onInternalError, "on_internal_error", "action", "tempfail",
                             reload,
                             "what the MTA is told when the filter itself fails: tempfail or "
                             "accept"),
        key<parsePath>(&C::auditFile, "audit_file", "path", "", reload,
                       "append every audit event as one JSON line to this file"),
        key<parseAuditFormat>(&C::auditFormat, "audit_format", "format", "native", reload,
                              "shape of the audit_file's lines: native (the filter's own keys) or "
                              "ecs (Elastic Common Schema, nested objects)"),
        key<parseHostname>(&C::hostName, "host_name", "domain", "", reload,
                           "`host` of every JSON audit event (default: the MTA's {j} macro, else "
                           "the system's host name)"),
        key<parseMacro>(&C::groupMacro, "group_macro", "macro", "", reload,
                        "name of an MTA macro carrying the key-exchange group, if the MTA "
                        "passes one"),
        key<parseHostname>(&C::hostname, "hostname", "domain", "", reload,
                           "host name for the `by` clause (default: the MTA's {j} macro)"),
        key<parseTrace>(&C::trace, "trace", "trace", "tls", reload,
                        "default for every listener: tls (trace TLS sessions), always, off"),
        key<parsePath>(&C::exceptionsFile, "exceptions_file", "path", "", reload,
                       "per-user policy exceptions: `user [until YYYY-MM-DD] [# comment]` or "
                       "`@domain ...`"),
        key<parseText>(&C::rolloutSalt, "rollout_salt", "string", "", reload,
                       "per-site salt for the stable hash that picks rollout_percent of the "
                       "users"),

        key<parseListenerPort>(&L::port, "port", "port", "", reload,
                               "match the MTA's {daemon_port}"),
        key<parseText>(&L::daemonName, "daemon_name", "string", "", reload,
                       "match the MTA's {daemon_name}"),
        key<parseText>(&L::address, "address", "string", "", reload,
                       "match the MTA's {daemon_addr}"),
        key<parseRole>(&L::role, "role", "role", "", reload,
                       "submission, submissions or relay (default: from the port)"),
        key<parseTrace>(&L::trace, "trace", "trace", "", reload,
                        "tls, always or off for this listener (default: the global trace)"),
        key<parseTraceClient>(&L::traceClient, "trace_client", "mode", "full", reload,
                              "full: the trace field names the client (HELO, name, address); "
                              "hidden: it does not (the audit line still does)"),
        key<parseGroup>(&L::keyExchangeGroup, "key_exchange_group", "group", "", reload,
                        "the one key-exchange group this listener's MTA offers (IANA name or "
                        "alias)"),
        key<parsePath>(&L::exceptionsFile, "exceptions_file", "path", "", reload,
                       "this listener's own exceptions file, used instead of the global one "
                       "(empty: none here)"),
        key<parseBool>(&L::policy, "policy", "bool", "", reload,
                       "apply the submission policy here (default: yes for submission roles, no "
                       "for relay)"),
        key<parseBool>(&L::requireTlsForAuth, "require_tls_for_auth", "bool", "yes", reload,
                       "refuse authenticated (and, identically, unauthenticated) MAIL over "
                       "cleartext"),
        key<parseMinTlsVersion>(&L::minTlsVersion, "min_tls_version", "version", "TLSv1.2",
                                reload,
                                "oldest TLS version accepted for authenticated submission (RFC "
                                "8997: TLSv1.2)"),
        key<parseCipherBits>(&L::minCipherBits, "min_cipher_bits", "bits", "128", reload,
                             "smallest {cipher_bits} accepted for authenticated submission"),
        key<parseAction>(&L::action, "action", "action", "reject", reload,
                         "what a shortfall gets: report (log only), tempfail (4xx) or reject "
                         "(5xx)"),
        key<parseDay>(&L::enforceFrom, "enforce_from", "date", "", reload,
                      "YYYY-MM-DD (UTC); before it the action is report"),
        key<parsePercent>(&L::rolloutPercent, "rollout_percent", "percent", "100", reload,
                          "share of users (stable hash) the action applies to; the others are "
                          "reported"),
        key<parseReply>(&L::reply, "reply", "reply", "", reload,
                        "SMTP reply for tempfail/reject: CODE X.Y.Z TEXT (4xx for tempfail, 5xx "
                        "for reject)"),
    };
    return keys;
}

std::string helpText(const KeySpec& k) {
    return std::string(k.help) + (k.needsRestart ? " [restart]" : " [reload]");
}

template <class Target>
po::options_description describe(KeyScope scope, Target* target) {
    po::options_description d;
    for (const auto& k : keyTable()) {
        if (k.spec.scope != scope)
            continue;
        po::value_semantic* v = nullptr;
        if constexpr (std::is_same_v<Target, Config>)
            v = k.globalValue(target);
        else
            v = k.listenerValue(target);
        d.add_options()(std::string(k.spec.name).c_str(), v, helpText(k.spec).c_str());
    }
    return d;
}

// Stores an empty parse: every key with a default gets it, through po.
void storeDefaults(const po::options_description& desc) {
    po::variables_map vm;
    po::store(po::parsed_options(&desc), vm);
    po::notify(vm);
}

// ---- one scope of key = value pairs through Program_options ----------------

// The global keys of a file, one [listener] section, or the command line:
// each key = value is stored with the scope's description into the scope's
// variables_map, one po::option at a time so that one bad line does not hide
// the next, and each Program_options error becomes a ConfigError.
class Scope {
public:
    Scope(po::options_description desc, std::string source, std::string unknownKey)
        : desc_(std::move(desc)), source_(std::move(source)), unknownKey_(std::move(unknownKey)) {}

    void set(int line, const std::string& key, const std::string& value,
             std::vector<ConfigError>& errors) {
        po::parsed_options one(&desc_);
        one.options.emplace_back(key, std::vector<std::string>{value});
        one.options.back().original_tokens = {key, value};
        try {
            // Within one po::store a second value throws multiple_occurrences;
            // across stores po would keep the first silently, so say it here.
            if (desc_.find_nothrow(key, false) && first_.count(key))
                throw po::multiple_occurrences();
            first_.emplace(key, line);
            po::store(one, vm_);
            return;
        } catch (const BadValue& e) {
            errors.push_back({source_, line, key, e.why()});
        } catch (const po::multiple_occurrences&) {
            const int first = first_[key];
            errors.push_back({source_, line, key,
                              first > 0 ? "set twice (first at line " + std::to_string(first) + ")"
                                        : std::string("set twice")});
            return; // the first value stands
        } catch (const po::unknown_option&) {
            errors.push_back({source_, line, key, unknownKey_});
        } catch (const po::error& e) {
            errors.push_back({source_, line, key, e.what()});
        }
        failed_.insert(key);
    }

    // Runs the notifiers of the keys set here, so their typed values land in
    // the target; keys not set keep what the target holds (its defaults, or
    // what an earlier scope stored).
    void commit() const {
        for (const auto& [key, v] : vm_) {
            if (!v.empty() && !v.defaulted() && !failed_.count(key))
                desc_.find(key, false).semantic()->notify(v.value());
        }
    }

    // A line whose value was refused before reaching the scope: the key
    // counts as failed, so checks that depend on it stay quiet.
    void refuse(const std::string& key) { failed_.insert(key); }

    // Every key set here that was accepted, with its line.
    std::vector<std::pair<std::string, int>> accepted() const {
        std::vector<std::pair<std::string, int>> out;
        for (const auto& [key, line] : first_)
            if (!failed_.count(key) && desc_.find_nothrow(key, false))
                out.emplace_back(key, line);
        return out;
    }

    bool has(const std::string& key) const { return first_.count(key) && !failed_.count(key); }
    bool failed(const std::string& key) const { return failed_.count(key) > 0; }
    int lineOf(const std::string& key) const {
        auto it = first_.find(key);
        return it == first_.end() ? 0 : it->second;
    }
    const std::string& source() const noexcept { return source_; }

private:
    po::options_description desc_;
    std::string source_;
    std::string unknownKey_;
    po::variables_map vm_;
    std::map<std::string, int> first_; // key -> line it was first set on
    std::set<std::string> failed_;     // keys whose value was refused
};

// A [listener NAME] section: its ListenerConfig and the scope that fills it
// (not movable: the scope's notifiers point at `listener`).
struct Section {
    Section(const std::string& file, const std::string& name, int line)
        : scope(listenerOptions(&listener), file, "unknown key in a [listener] section") {
        listener.name = name;
        listener.line = line;
    }
    ListenerConfig listener;
    Scope scope;
};

// Why a comment after a value is refused rather than cut off: a file
// written for a reader that kept `# note` in the value would otherwise
// change meaning without a word (a rollout_salt, and with it every user's
// bucket), and free-text values (reply, rollout_salt, daemon_name) may
// need a '#' or ';' of their own.  A marker counts where it starts a word,
// so `https://example.org/tls#faq` stays one value; a value that must hold
// " #" is written in double quotes.
std::string trailingComment(const char* after) {
    return std::string("comment after the ") + after +
           "; a comment must be on a line of its own (write a value in double quotes if it "
           "contains \" #\" or \" ;\")";
}

bool hasTrailingComment(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        return false;
    for (std::size_t i = 0; i < v.size(); ++i)
        if ((v[i] == '#' || v[i] == ';') && (i == 0 || text::isBlank(v[i - 1])))
            return true;
    return false;
}

std::string unquote(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        return std::string(v.substr(1, v.size() - 2));
    return std::string(v);
}

} // namespace

const std::vector<KeySpec>& configKeys() {
    static const std::vector<KeySpec> specs = [] {
        std::vector<KeySpec> out;
        for (const auto& k : keyTable())
            out.push_back(k.spec);
        return out;
    }();
    return specs;
}

po::options_description globalOptions(Config* target) {
    return describe(KeyScope::Global, target);
}

po::options_description listenerOptions(ListenerConfig* target) {
    return describe(KeyScope::Listener, target);
}

Config::Config(FromTable) { storeDefaults(globalOptions(this)); }

const Config& Config::builtin() {
    static const Config c{FromTable{}};
    return c;
}

Config::Config() : Config(builtin()) {}

ListenerConfig::ListenerConfig(FromTable) { storeDefaults(listenerOptions(this)); }

const ListenerConfig& ListenerConfig::builtin() {
    static const ListenerConfig l{FromTable{}};
    return l;
}

ListenerConfig::ListenerConfig() : ListenerConfig(builtin()) {}

ListenerPolicy ListenerConfig::policyFor(Role r) const {
    ListenerPolicy p;
    p.enabled = policy.value_or(r != Role::Relay);
    p.requireTlsForAuth = requireTlsForAuth;
    p.minTlsVersion = minTlsVersion;
    p.minCipherBits = minCipherBits;
    p.action = action;
    p.enforceFrom = enforceFrom;
    p.rolloutPercent = rolloutPercent;
    p.reply = reply;
    return p;
}

std::string ConfigError::str() const {
    std::string out = file.empty() ? std::string("(config)") : file;
    if (line > 0)
        out += ":" + std::to_string(line);
    out += ": ";
    if (!key.empty())
        out += key + ": ";
    out += message;
    return out;
}

ConfigResult parseConfig(std::string_view text, std::string_view fileName,
                         const std::vector<ConfigOverride>& overrides) {
    ConfigResult r;
    auto cfg = std::make_shared<Config>();
    cfg->file = std::string(fileName);
    const std::string file(fileName);
    auto error = [&](int line, const std::string& key, const std::string& msg) {
        r.errors.push_back({file, line, key, msg});
    };

    Scope global(globalOptions(cfg.get()), file, "unknown key");
    std::vector<std::unique_ptr<Section>> sections;
    Section* current = nullptr;
    bool ignoring = false; // inside an unknown section: its keys are already reported
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        auto raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineNo;
        auto line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;
        if (line.find('\0') != std::string_view::npos) {
            error(lineNo, "", "NUL byte in line");
            continue;
        }
        if (line.front() == '[') {
            current = nullptr;
            ignoring = true;
            if (line.back() != ']') {
                const auto close = line.find(']');
                error(lineNo, "",
                      close != std::string_view::npos && hasTrailingComment(line.substr(close + 1))
                          ? trailingComment("section header")
                          : std::string("section header without closing ]"));
                continue;
            }
            auto inner = trim(line.substr(1, line.size() - 2));
            auto sp = inner.find_first_of(" \t");
            auto kind = lower(inner.substr(0, sp));
            auto name = sp == std::string_view::npos ? std::string_view() : trim(inner.substr(sp));
            if (kind != "listener" || name.empty()) {
                // Keys under an unknown section must not land in the global scope.
                error(lineNo, std::string(inner), "unknown section; want [listener NAME]");
                continue;
            }
            for (const auto& s : sections) {
                if (s->listener.name == name)
                    error(lineNo, std::string(name), "listener defined twice (first at line " +
                                                         std::to_string(s->listener.line) + ")");
            }
            ignoring = false;
            sections.push_back(std::make_unique<Section>(file, std::string(name), lineNo));
            current = sections.back().get();
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            error(lineNo, std::string(line.substr(0, 40)), "want key = value");
            continue;
        }
        if (ignoring)
            continue;
        auto key = lower(trim(line.substr(0, eq)));
        const auto rawValue = trim(line.substr(eq + 1));
        if (key.empty()) {
            error(lineNo, "", "empty key");
            continue;
        }
        if (hasTrailingComment(rawValue)) {
            error(lineNo, key, trailingComment("value"));
            if (current)
                current->scope.refuse(key);
            else
                global.refuse(key);
            continue;
        }
        auto value = unquote(rawValue);
        (current ? current->scope : global).set(lineNo, key, value, r.errors);
    }

    // The command line's keys, through the same description; stored after
    // the file's, so they win.
    std::optional<Scope> commandLine;
    if (!overrides.empty())
        commandLine.emplace(globalOptions(cfg.get()), "command line", "unknown key");
    for (const auto& o : overrides)
        commandLine->set(0, lower(o.key), o.value, r.errors);

    global.commit();
    for (const auto& [key, line] : global.accepted())
        cfg->origins_[key] = {file, line};
    if (commandLine) {
        commandLine->commit();
        for (const auto& [key, line] : commandLine->accepted())
            cfg->origins_[key] = {"command line", line};
    }
    for (auto& s : sections)
        s->scope.commit();

    // Settings that conflict: reported at the line of the key at fault.
    for (const auto& s : sections) {
        const auto& l = s->listener;
        if (!l.port && l.daemonName.empty() && l.address.empty())
            error(l.line, "listener " + l.name,
                  "needs at least one of port, daemon_name, address to match");
        // The reply must fit the action in force, explicit or default.
        if (l.reply && l.action != PolicyAction::Report && !s->scope.failed("action")) {
            const char want = l.action == PolicyAction::Tempfail ? '4' : '5';
            if (l.reply->code[0] != want)
                error(s->scope.lineOf("reply"), "reply",
                      l.reply->code + " does not fit " +
                          (s->scope.has("action") ? std::string("action ")
                                                  : std::string("the default action ")) +
                          std::string(toString(l.action)) + " (want " + want + "xx)");
        }
        for (const char* key : {"key_exchange_group", "trace_client"})
            if (s->scope.has(key) && l.trace == TraceMode::Off)
                r.warnings.push_back(file + ":" + std::to_string(s->scope.lineOf(key)) +
                                     ": listener " + l.name + ": " + key +
                                     " has no effect with trace = off");
    }
    if (!cfg->group.empty() && cfg->user.empty() && !global.failed("user")) {
        const Scope& where = commandLine && commandLine->has("group") ? *commandLine : global;
        r.errors.push_back({where.source(), where.lineOf("group"), "group",
                            "group is set but user is not"});
    }

    for (auto& s : sections) {
        if (s->scope.has("exceptions_file"))
            s->listener.exceptionsFileLine = s->scope.lineOf("exceptions_file");
        cfg->listeners.push_back(std::move(s->listener));
    }
    if (r.errors.empty())
        r.config = std::move(cfg);
    return r;
}

namespace {
// Loads the exceptions files a parsed config names, the global one and each
// listener's own, into a copy of it.  Every error names the config line that
// set the key, the key, and the exceptions file and its line.
void attachExceptions(ConfigResult& r, Day today) {
    if (!r.config)
        return;
    auto cfg = std::make_shared<Config>(*r.config);
    auto load = [&](const std::string& path, ConfigError where) {
        auto got = loadExceptions(path, today);
        for (auto& e : got.errors) {
            where.message = std::move(e);
            r.errors.push_back(where);
        }
        for (auto& w : got.warnings)
            r.warnings.push_back(std::move(w));
        return std::make_shared<const ExceptionList>(std::move(got.list));
    };
    if (!cfg->exceptionsFile.empty())
        cfg->exceptions = load(cfg->exceptionsFile, cfg->errorAt("exceptions_file", ""));
    for (auto& l : cfg->listeners)
        if (l.exceptionsFile)
            l.exceptions = l.exceptionsFile->empty()
                               ? std::make_shared<const ExceptionList>()
                               : load(*l.exceptionsFile, {cfg->file, l.exceptionsFileLine,
                                                          "listener " + l.name + ": exceptions_file", ""});
    if (r.errors.empty())
        r.config = std::move(cfg);
    else
        r.config.reset();
}

constexpr std::size_t kMaxConfigSize = 4 * 1024 * 1024;

// Reads a whole file of at most kMaxConfigSize bytes: 0, or an errno value
// (EFBIG when it is larger).
int readConfigFile(const std::string& path, std::string& out) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    char buf[65536];
    int err = 0;
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxConfigSize) {
            err = EFBIG;
            break;
        }
    }
    ::close(fd);
    return err;
}
} // namespace

ConfigResult loadConfig(const std::string& path, const std::vector<ConfigOverride>& overrides,
                        bool optional, Day today) {
    ConfigResult r;
    std::string text;
    const int err = readConfigFile(path, text);
    if (err == ENOENT && optional) {
        r = parseConfig("", "", overrides);
    } else if (err == EFBIG) {
        r.errors.push_back({path, 0, "", "file larger than 4 MiB"});
    } else if (err != 0) {
        r.errors.push_back({path, 0, "", std::string("cannot read the file: ") + std::strerror(err)});
    } else {
        r = parseConfig(text, path, overrides);
    }
    attachExceptions(r, today);
    return r;
}

Config::Listener Config::resolveListener(const ListenerFacts& facts) const {
    Listener out;
    out.trace = trace;
    if (facts.port == 587)
        out.role = Role::Submission;
    else if (facts.port == 465)
        out.role = Role::Submissions;
    else
        out.role = Role::Relay;
    for (const auto& l : listeners) {
        if (l.port && l.port != facts.port)
            continue;
        if (!l.daemonName.empty() && l.daemonName != facts.name)
            continue;
        if (!l.address.empty() && l.address != facts.addr)
            continue;
        out.name = l.name;
        if (l.role)
            out.role = *l.role;
        if (l.trace)
            out.trace = *l.trace;
        out.traceClient = l.traceClient;
        out.keyExchangeGroup = l.keyExchangeGroup;
        out.policy = l.policyFor(out.role);
        out.exceptions = l.exceptions ? l.exceptions : exceptions;
        return out;
    }
    out.exceptions = exceptions;
    out.name = std::string(toString(out.role));
    out.policy = defaultPolicy(out.role);
    out.determined = facts.port.has_value();
    return out;
}

ListenerPolicy Config::defaultPolicy(Role role) {
    static const ListenerConfig defaults; // every listener key at its table default
    return defaults.policyFor(role);
}

std::vector<std::string> changedKeys(const Config& a, const Config& b) {
    std::vector<std::string> out;
    for (const auto& k : keyTable())
        if (k.same && !k.same(a, b))
            out.emplace_back(k.spec.name);
    return out;
}

std::vector<std::string> restartOnlyChanges(const Config& a, const Config& b) {
    auto out = changedKeys(a, b);
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](const std::string& name) {
                                 for (const auto& k : keyTable())
                                     if (k.spec.name == name)
                                         return !k.spec.needsRestart;
                                 return true;
                             }),
              out.end());
    return out;
}

ConfigError Config::errorAt(std::string_view key, std::string message) const {
    auto it = origins_.find(key);
    if (it == origins_.end())
        return {file, 0, std::string(key), std::move(message)};
    return {it->second.source, it->second.line, std::string(key), std::move(message)};
}

} // namespace rfc8314
