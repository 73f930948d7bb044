// config.cpp — the key table, the INI reader and validation.  See config.hpp.
// Every failure becomes a ConfigError with file, line and key; nothing throws
// for bad input, and parsing goes on after an error so all are reported.
#include "rfc8314/config.hpp"

#include "text.hpp"

#include <cctype>
#include <fstream>
#include <functional>
#include <sstream>

namespace rfc8314 {

static ConfigResult loadConfigText(const std::string& path,
                                   const std::vector<ConfigOverride>& overrides, bool optional);

std::string_view toString(TraceMode m) noexcept {
    switch (m) {
    case TraceMode::Tls: return "tls";
    case TraceMode::Always: return "always";
    case TraceMode::Off: return "off";
    }
    return "tls";
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

const std::vector<KeySpec>& configKeys() {
    static const std::vector<KeySpec> keys = {
        {"socket", KeyScope::Global, "socket", "local:/run/rfc8314-milter/rfc8314-milter.sock", true,
         "where the milter listens: local:/path, inet:PORT@ADDR or inet6:PORT@ADDR"},
        {"user", KeyScope::Global, "name", "", true, "user to switch to after opening the socket"},
        {"group", KeyScope::Global, "name", "", true, "group to switch to (default: the user's)"},
        {"umask", KeyScope::Global, "octal", "007", true, "umask for the socket and files"},
        {"pid_file", KeyScope::Global, "path", "", true, "write the daemon's pid here"},
        {"syslog", KeyScope::Global, "bool", "yes", true, "log to syslog"},
        {"syslog_facility", KeyScope::Global, "facility", "mail", true,
         "syslog facility: mail, daemon, local0..local7"},
        {"milter_timeout", KeyScope::Global, "seconds", "300", true,
         "libmilter I/O timeout towards the MTA, 1..86400"},
        {"log_stderr", KeyScope::Global, "bool", "no", false,
         "also write every log line to standard error (foreground runs, tests)"},
        {"log_level", KeyScope::Global, "level", "info", false,
         "error, warning, notice, info (audit lines) or debug (also one line per connection)"},
        {"on_internal_error", KeyScope::Global, "action", "tempfail", false,
         "what the MTA is told when the filter itself fails: tempfail or accept"},
        {"audit_file", KeyScope::Global, "path", "", false,
         "append every audit event as one JSON line to this file"},
        {"group_macro", KeyScope::Global, "macro", "", false,
         "name of an MTA macro carrying the key-exchange group, if the MTA passes one"},
        {"hostname", KeyScope::Global, "domain", "", false,
         "host name for the `by` clause (default: the MTA's {j} macro)"},
        {"trace", KeyScope::Global, "trace", "tls", false,
         "default for every listener: tls (trace TLS sessions), always, off"},
        {"exceptions_file", KeyScope::Global, "path", "", false,
         "per-user policy exceptions: `user [until YYYY-MM-DD] [# comment]` or `@domain ...`"},
        {"rollout_salt", KeyScope::Global, "string", "", false,
         "per-site salt for the stable hash that picks rollout_percent of the users"},
        {"port", KeyScope::Listener, "port", "", false, "match the MTA's {daemon_port}"},
        {"daemon_name", KeyScope::Listener, "string", "", false, "match the MTA's {daemon_name}"},
        {"address", KeyScope::Listener, "string", "", false, "match the MTA's {daemon_addr}"},
        {"role", KeyScope::Listener, "role", "", false, "submission, submissions or relay"},
        {"trace", KeyScope::Listener, "trace", "", false, "tls, always or off for this listener"},
        {"key_exchange_group", KeyScope::Listener, "group", "", false,
         "the one key-exchange group this listener's MTA offers (IANA name or alias)"},
        {"policy", KeyScope::Listener, "bool", "", false,
         "apply the submission policy here (default: yes for submission roles, no for relay)"},
        {"require_tls_for_auth", KeyScope::Listener, "bool", "yes", false,
         "refuse authenticated (and, identically, unauthenticated) MAIL over cleartext"},
        {"min_tls_version", KeyScope::Listener, "version", "TLSv1.2", false,
         "oldest TLS version accepted for authenticated submission (RFC 8997: TLSv1.2)"},
        {"min_cipher_bits", KeyScope::Listener, "bits", "128", false,
         "smallest {cipher_bits} accepted for authenticated submission"},
        {"action", KeyScope::Listener, "action", "reject", false,
         "what a shortfall gets: report (log only), tempfail (4xx) or reject (5xx)"},
        {"enforce_from", KeyScope::Listener, "date", "", false,
         "YYYY-MM-DD (UTC); before it the action is report"},
        {"rollout_percent", KeyScope::Listener, "percent", "100", false,
         "share of users (stable hash) the action applies to; the others are reported"},
        {"reply", KeyScope::Listener, "reply", "", false,
         "SMTP reply for tempfail/reject: CODE X.Y.Z TEXT (4xx for tempfail, 5xx for reject)"},
    };
    return keys;
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

namespace {

std::string_view trim(std::string_view s) noexcept { return text::trimSpace(s); }
using text::lower;

using Error = std::optional<std::string>;

Error parseBool(std::string_view v, bool& out) {
    auto l = lower(v);
    if (l == "yes" || l == "true" || l == "on" || l == "1") {
        out = true;
        return std::nullopt;
    }
    if (l == "no" || l == "false" || l == "off" || l == "0") {
        out = false;
        return std::nullopt;
    }
    return "want yes or no, got \"" + std::string(v) + "\"";
}

Error parseTrace(std::string_view v, TraceMode& out) {
    auto l = lower(v);
    if (l == "tls")
        out = TraceMode::Tls;
    else if (l == "always")
        out = TraceMode::Always;
    else if (l == "off")
        out = TraceMode::Off;
    else
        return "want tls, always or off, got \"" + std::string(v) + "\"";
    return std::nullopt;
}

Error parseRole(std::string_view v, Role& out) {
    auto l = lower(v);
    if (l == "submission")
        out = Role::Submission;
    else if (l == "submissions")
        out = Role::Submissions;
    else if (l == "relay")
        out = Role::Relay;
    else
        return "want submission, submissions or relay, got \"" + std::string(v) + "\"";
    return std::nullopt;
}

Error parseSocket(std::string_view v) {
    auto colon = v.find(':');
    if (colon == std::string_view::npos)
        return "want local:/path, inet:PORT@ADDR or inet6:PORT@ADDR, got \"" + std::string(v) + "\"";
    auto kind = lower(v.substr(0, colon));
    auto rest = v.substr(colon + 1);
    if (kind == "local" || kind == "unix") {
        if (rest.empty() || rest.front() != '/')
            return "a local socket needs an absolute path";
        if (rest.size() >= 108)
            return "socket path longer than 107 bytes";
        return std::nullopt;
    }
    if (kind == "inet" || kind == "inet6") {
        auto at = rest.find('@');
        auto port = rest.substr(0, at);
        if (!parsePort(port))
            return "bad port \"" + std::string(port) + "\"";
        if (at != std::string_view::npos && at + 1 == rest.size())
            return "empty address after @";
        return std::nullopt;
    }
    return "unknown socket type \"" + std::string(kind) + "\"";
}

bool isFacility(std::string_view v) {
    static const char* const names[] = {"mail",   "daemon", "user",   "local0", "local1",
                                        "local2", "local3", "local4", "local5", "local6",
                                        "local7"};
    auto l = lower(v);
    for (auto n : names)
        if (l == n)
            return true;
    return false;
}

bool isDomainLike(std::string_view v) {
    if (v.empty() || v.size() > 253)
        return false;
    for (char c : v) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
            return false;
    }
    return v.front() != '.' && v.front() != '-';
}

bool isMacroName(std::string_view v) {
    if (v.size() >= 2 && v.front() == '{' && v.back() == '}')
        v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 64)
        return false;
    for (char c : v)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

// Applies one key to the config; returns an error message or nothing.
Error applyGlobal(Config& c, const std::string& key, std::string_view v) {
    if (key == "socket") {
        if (auto e = parseSocket(v))
            return e;
        c.socket = std::string(v);
    } else if (key == "user") {
        c.user = std::string(v);
    } else if (key == "group") {
        c.group = std::string(v);
    } else if (key == "umask") {
        if (v.empty() || v.size() > 4)
            return "want an octal mode such as 007";
        unsigned m = 0;
        for (char ch : v) {
            if (ch < '0' || ch > '7')
                return "want an octal mode such as 007, got \"" + std::string(v) + "\"";
            m = m * 8 + static_cast<unsigned>(ch - '0');
        }
        if (m > 0777)
            return "umask above 0777";
        c.umask = m;
    } else if (key == "pid_file") {
        if (!v.empty() && v.front() != '/')
            return "want an absolute path";
        c.pidFile = std::string(v);
    } else if (key == "syslog") {
        return parseBool(v, c.syslog);
    } else if (key == "syslog_facility") {
        if (!isFacility(v))
            return "want mail, daemon, user or local0..local7, got \"" + std::string(v) + "\"";
        c.syslogFacility = lower(v);
    } else if (key == "milter_timeout") {
        auto n = parseSmallNumber(v);
        if (!n || *n < 1 || *n > 86400)
            return "want seconds from 1 to 86400, got \"" + std::string(v) + "\"";
        c.milterTimeout = *n;
    } else if (key == "log_stderr") {
        return parseBool(v, c.logStderr);
    } else if (key == "log_level") {
        auto l = lower(v);
        if (l == "error")
            c.logLevel = LogLevel::Error;
        else if (l == "warning")
            c.logLevel = LogLevel::Warning;
        else if (l == "notice")
            c.logLevel = LogLevel::Notice;
        else if (l == "info")
            c.logLevel = LogLevel::Info;
        else if (l == "debug")
            c.logLevel = LogLevel::Debug;
        else
            return "want error, warning, notice, info or debug, got \"" + std::string(v) + "\"";
    } else if (key == "on_internal_error") {
        auto l = lower(v);
        if (l == "tempfail")
            c.onInternalError = FailAction::Tempfail;
        else if (l == "accept")
            c.onInternalError = FailAction::Accept;
        else
            return "want tempfail or accept, got \"" + std::string(v) + "\"";
    } else if (key == "audit_file") {
        if (!v.empty() && v.front() != '/')
            return "want an absolute path";
        c.auditFile = std::string(v);
    } else if (key == "group_macro") {
        if (!v.empty() && !isMacroName(v))
            return "want a macro name such as {tls_group}, got \"" + std::string(v) + "\"";
        c.groupMacro = v.empty() ? std::string() : canonicalMacroName(v);
    } else if (key == "hostname") {
        if (!v.empty() && !isDomainLike(v))
            return "want a domain name, got \"" + std::string(v) + "\"";
        c.hostname = std::string(v);
    } else if (key == "trace") {
        return parseTrace(v, c.trace);
    } else if (key == "exceptions_file") {
        if (!v.empty() && v.front() != '/')
            return "want an absolute path";
        c.exceptionsFile = std::string(v);
    } else if (key == "rollout_salt") {
        c.rolloutSalt = std::string(v);
    } else {
        return std::string("unknown key");
    }
    return std::nullopt;
}

Error applyListener(ListenerConfig& l, const std::string& key, std::string_view v) {
    if (key == "port") {
        l.port = parsePort(v);
        if (!l.port)
            return "want a port 1..65535, got \"" + std::string(v) + "\"";
    } else if (key == "daemon_name") {
        l.daemonName = std::string(v);
    } else if (key == "address") {
        l.address = std::string(v);
    } else if (key == "role") {
        Role r{};
        if (auto e = parseRole(v, r))
            return e;
        l.role = r;
    } else if (key == "trace") {
        TraceMode t{};
        if (auto e = parseTrace(v, t))
            return e;
        l.trace = t;
    } else if (key == "key_exchange_group") {
        auto g = GroupRegistry::instance().ianaName(v);
        if (!g)
            return "not an IANA group name or known alias: \"" + std::string(v) + "\"";
        l.keyExchangeGroup = std::string(*g);
    } else if (key == "policy") {
        bool b = false;
        if (auto e = parseBool(v, b))
            return e;
        l.policy = b;
    } else if (key == "require_tls_for_auth") {
        bool b = false;
        if (auto e = parseBool(v, b))
            return e;
        l.requireTlsForAuth = b;
    } else if (key == "min_tls_version") {
        l.minTlsVersion = parseTlsVersionSetting(v);
        if (!l.minTlsVersion)
            return "want SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3, got \"" + std::string(v) + "\"";
    } else if (key == "min_cipher_bits") {
        l.minCipherBits = parseSmallNumber(v);
        if (!l.minCipherBits || *l.minCipherBits > 512)
            return "want bits from 0 to 512, got \"" + std::string(v) + "\"";
    } else if (key == "action") {
        l.action = parsePolicyAction(lower(v));
        if (!l.action)
            return "want report, tempfail or reject, got \"" + std::string(v) + "\"";
    } else if (key == "enforce_from") {
        l.enforceFrom = Day::parse(v);
        if (!l.enforceFrom)
            return "want a date YYYY-MM-DD, got \"" + std::string(v) + "\"";
    } else if (key == "rollout_percent") {
        l.rolloutPercent = parseSmallNumber(v);
        if (!l.rolloutPercent || *l.rolloutPercent > 100)
            return "want a percentage 0..100, got \"" + std::string(v) + "\"";
    } else if (key == "reply") {
        std::string why;
        l.reply = SmtpReply::parse(v, &why);
        if (!l.reply)
            return why;
    } else {
        return std::string("unknown key in a [listener] section");
    }
    return std::nullopt;
}

bool isGlobalKey(std::string_view k) {
    for (const auto& s : configKeys())
        if (s.scope == KeyScope::Global && s.name == k)
            return true;
    return false;
}

std::string unquote(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        return std::string(v.substr(1, v.size() - 2));
    return std::string(v);
}

} // namespace

ConfigResult parseConfig(std::string_view text, std::string_view fileName,
                         const std::vector<ConfigOverride>& overrides) {
    ConfigResult r;
    auto cfg = std::make_shared<Config>();
    cfg->file = std::string(fileName);
    const std::string file(fileName);
    auto error = [&](int line, const std::string& key, const std::string& msg) {
        r.errors.push_back({file, line, key, msg});
    };

    ListenerConfig* current = nullptr;
    bool ignoring = false; // inside an unknown section: its keys are already reported
    std::vector<std::pair<std::string, int>> seen; // duplicate detection, "section/key"
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
            if (line.back() != ']') {
                error(lineNo, "", "section header without closing ]");
                current = nullptr;
                ignoring = true;
                continue;
            }
            auto inner = trim(line.substr(1, line.size() - 2));
            auto sp = inner.find_first_of(" \t");
            auto kind = lower(inner.substr(0, sp));
            auto name = sp == std::string_view::npos ? std::string_view() : trim(inner.substr(sp));
            if (kind != "listener" || name.empty()) {
                error(lineNo, std::string(inner), "unknown section; want [listener NAME]");
                // Keys under an unknown section must not land in the global scope.
                current = nullptr;
                ignoring = true;
                continue;
            }
            for (const auto& l : cfg->listeners) {
                if (l.name == name)
                    error(lineNo, std::string(name), "listener defined twice (first at line " +
                                                         std::to_string(l.line) + ")");
            }
            ignoring = false;
            cfg->listeners.push_back({});
            current = &cfg->listeners.back();
            current->name = std::string(name);
            current->line = lineNo;
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
        auto value = unquote(trim(line.substr(eq + 1)));
        if (key.empty()) {
            error(lineNo, "", "empty key");
            continue;
        }
        std::string scopeKey = (current ? current->name + "/" : std::string("/")) + key;
        for (const auto& s : seen)
            if (s.first == scopeKey)
                error(lineNo, key, "set twice (first at line " + std::to_string(s.second) + ")");
        seen.emplace_back(scopeKey, lineNo);
        Error e = current ? applyListener(*current, key, value) : applyGlobal(*cfg, key, value);
        if (e)
            error(lineNo, key, *e);
    }

    for (const auto& o : overrides) {
        auto key = lower(o.key);
        if (!isGlobalKey(key)) {
            r.errors.push_back({"command line", 0, key, "unknown key"});
            continue;
        }
        if (auto e = applyGlobal(*cfg, key, o.value))
            r.errors.push_back({"command line", 0, key, *e});
    }

    for (const auto& l : cfg->listeners) {
        if (!l.port && l.daemonName.empty() && l.address.empty())
            error(l.line, "listener " + l.name,
                  "needs at least one of port, daemon_name, address to match");
        if (l.reply && l.action) {
            const char want = *l.action == PolicyAction::Tempfail ? '4' : '5';
            if (*l.action != PolicyAction::Report && l.reply->code[0] != want)
                error(l.line, "listener " + l.name,
                      std::string("reply ") + l.reply->code + " does not fit action " +
                          std::string(toString(*l.action)) + " (want " + want + "xx)");
        }
        if (!l.keyExchangeGroup.empty() && l.trace == TraceMode::Off)
            r.warnings.push_back(file + ":" + std::to_string(l.line) + ": listener " + l.name +
                                 ": key_exchange_group has no effect with trace = off");
    }
    if (cfg->group.size() && cfg->user.empty())
        error(0, "group", "group is set but user is not");

    if (r.errors.empty())
        r.config = std::move(cfg);
    return r;
}

namespace {
// Loads the exceptions file named by a parsed config into it.
void attachExceptions(ConfigResult& r, Day today) {
    if (!r.config || r.config->exceptionsFile.empty())
        return;
    auto load = loadExceptions(r.config->exceptionsFile, today);
    for (auto& e : load.errors)
        r.errors.push_back({r.config->file, 0, "exceptions_file", std::move(e)});
    for (auto& w : load.warnings)
        r.warnings.push_back(std::move(w));
    if (!r.errors.empty()) {
        r.config.reset();
        return;
    }
    auto cfg = std::make_shared<Config>(*r.config);
    cfg->exceptions = std::make_shared<const ExceptionList>(std::move(load.list));
    r.config = std::move(cfg);
}
} // namespace

ConfigResult loadConfig(const std::string& path, const std::vector<ConfigOverride>& overrides,
                        bool optional, Day today) {
    auto r = loadConfigText(path, overrides, optional);
    attachExceptions(r, today);
    return r;
}

static ConfigResult loadConfigText(const std::string& path,
                                   const std::vector<ConfigOverride>& overrides, bool optional) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (optional)
            return parseConfig("", "", overrides);
        ConfigResult r;
        r.errors.push_back({path, 0, "", "cannot read the file"});
        return r;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    const auto text = ss.str();
    if (text.size() > 4 * 1024 * 1024) {
        ConfigResult r;
        r.errors.push_back({path, 0, "", "file larger than 4 MiB"});
        return r;
    }
    return parseConfig(text, path, overrides);
}

Config::Listener Config::resolveListener(const ListenerFacts& facts) const {
    Listener out;
    out.trace = trace;
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
        else if (facts.port == 587)
            out.role = Role::Submission;
        else if (facts.port == 465)
            out.role = Role::Submissions;
        else
            out.role = Role::Relay;
        if (l.trace)
            out.trace = *l.trace;
        out.keyExchangeGroup = l.keyExchangeGroup;
        auto& p = out.policy;
        p = defaultPolicy(out.role);
        if (l.policy)
            p.enabled = *l.policy;
        if (l.requireTlsForAuth)
            p.requireTlsForAuth = *l.requireTlsForAuth;
        if (l.minTlsVersion)
            p.minTlsVersion = *l.minTlsVersion;
        if (l.minCipherBits)
            p.minCipherBits = *l.minCipherBits;
        if (l.action)
            p.action = *l.action;
        p.enforceFrom = l.enforceFrom;
        if (l.rolloutPercent)
            p.rolloutPercent = *l.rolloutPercent;
        p.reply = l.reply;
        return out;
    }
    if (facts.port == 587)
        out.role = Role::Submission;
    else if (facts.port == 465)
        out.role = Role::Submissions;
    else
        out.role = Role::Relay;
    out.name = std::string(toString(out.role));
    out.policy = defaultPolicy(out.role);
    return out;
}

ListenerPolicy Config::defaultPolicy(Role role) {
    ListenerPolicy p;
    p.enabled = role != Role::Relay;
    return p;
}

std::vector<std::string> restartOnlyChanges(const Config& a, const Config& b) {
    std::vector<std::string> out;
    if (a.socket != b.socket)
        out.push_back("socket");
    if (a.user != b.user)
        out.push_back("user");
    if (a.group != b.group)
        out.push_back("group");
    if (a.umask != b.umask)
        out.push_back("umask");
    if (a.pidFile != b.pidFile)
        out.push_back("pid_file");
    if (a.syslog != b.syslog)
        out.push_back("syslog");
    if (a.syslogFacility != b.syslogFacility)
        out.push_back("syslog_facility");
    if (a.milterTimeout != b.milterTimeout)
        out.push_back("milter_timeout");
    return out;
}

} // namespace rfc8314
