// doctor.cpp — `rfc8314-milter --doctor`: checks how the local Postfix and
// Sendmail are wired to this milter and prints each finding with the exact
// line that fixes it (see doctor.hpp for the output and exit-status contract).
//
// Postfix is read through postconf, never by parsing main.cf ourselves:
// `postconf -x NAME...` gives the *effective* value of each parameter we need
// (defaults included, `$name` expanded — `postconf -n` would omit defaults
// such as milter_protocol = 6), `postconf -M` the services and `postconf -P
// -x` their `-o` overrides.  Sendmail is read from sendmail.cf, the file the
// daemon actually loads (sendmail.mc may not be at hand), but fixes are given
// both as .mc and as .cf lines.
#include "doctor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "rfc8314/macros.hpp"

namespace rfc8314::doctor {
namespace {

// ---- small string helpers ------------------------------------------------------
std::string trim(std::string_view s) {
    const char* ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    auto e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Split on any of `seps`, dropping empty pieces.
std::vector<std::string> splitList(std::string_view s, std::string_view seps) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (seps.find(c) != std::string_view::npos) {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty())
            out += sep;
        out += s;
    }
    return out;
}

std::optional<unsigned> parseNumber(std::string_view s) {
    if (s.empty() || s.size() > 9)
        return std::nullopt;
    unsigned n = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n;
}

// Postfix and Sendmail time values: a number with an optional unit
// (s, m, h, d, w); a bare number is seconds in both.
std::optional<long> parseDuration(std::string_view v) {
    std::string s = lower(trim(v));
    if (s.empty())
        return std::nullopt;
    long mult = 1;
    switch (s.back()) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 604800; break;
    default: mult = 0; break;
    }
    if (mult != 0)
        s.pop_back();
    else
        mult = 1;
    auto n = parseNumber(s);
    if (!n)
        return std::nullopt;
    return static_cast<long>(*n) * mult;
}

std::string showDuration(long s) { return std::to_string(s) + "s"; }

Finding ok(std::string text) { return {Level::Ok, std::move(text), {}}; }
Finding warning(std::string text, std::vector<Fix> fixes) {
    return {Level::Warning, std::move(text), std::move(fixes)};
}
Finding error(std::string text, std::vector<Fix> fixes) {
    return {Level::Error, std::move(text), std::move(fixes)};
}

// Identical findings (a main.cf setting judged once per service) collapse
// into one line; order is kept.
std::vector<Finding> dedupe(std::vector<Finding> in) {
    std::set<std::string> seen;
    std::vector<Finding> out;
    for (auto& f : in) {
        if (seen.insert(f.text).second)
            out.push_back(std::move(f));
    }
    return out;
}

// ---- the milter's side ---------------------------------------------------------

// What the milter asks for with smfi_setsymlist at the stage Sendmail and
// libmilter call `stage`: the one table of macros.hpp.  An MTA that ignores
// smfi_setsymlist must send at least these.
std::vector<std::string> neededMacros(std::string_view stage, const Config& cfg) {
    for (MacroStage s : kMacroStages)
        if (toString(s) == stage)
            return stageMacros(s, cfg.groupMacro);
    return {};
}

// `{j}` and `j` are the same macro to both MTAs.
std::string normMacro(std::string_view m) {
    std::string t = trim(m);
    if (t.size() == 3 && t.front() == '{' && t.back() == '}')
        return t.substr(1, 1);
    return t;
}

std::vector<std::string> missingMacros(const std::vector<std::string>& needed,
                                       const std::vector<std::string>& have) {
    std::set<std::string> h;
    for (const auto& m : have)
        h.insert(normMacro(m));
    std::vector<std::string> out;
    for (const auto& m : needed)
        if (!h.count(normMacro(m)))
            out.push_back(m);
    return out;
}

struct Resolved {
    Config::Listener listener;
    bool needsMilter = false;   // the milter has work on this listener
    bool needsTlsAuth = false;  // its policy refuses AUTH without TLS
    std::string label;          // "submission" or the [listener] name
};

Resolved resolve(const Config& cfg, std::optional<unsigned> port, const std::string& name,
                 const std::string& addr) {
    ListenerFacts f;
    f.name = name;
    f.addr = addr;
    if (port && *port <= 65535)
        f.port = static_cast<std::uint16_t>(*port);
    Resolved r;
    r.listener = cfg.resolveListener(f);
    r.needsMilter = r.listener.role != Role::Relay || r.listener.policy.enabled;
    r.needsTlsAuth = r.listener.policy.enabled && r.listener.policy.requireTlsForAuth;
    r.label = r.listener.name.empty() ? std::string(toString(r.listener.role)) : r.listener.name;
    return r;
}

// A port as written in master.cf or DaemonPortOptions: a number or a
// service name.  The well-known three are built in so the answer does not
// depend on /etc/services.
std::optional<unsigned> portOf(std::string_view s) {
    if (auto n = parseNumber(s))
        return n;
    std::string l = lower(s);
    if (l == "smtp")
        return 25u;
    if (l == "submission")
        return 587u;
    if (l == "submissions" || l == "smtps" || l == "urd")
        return 465u;
    if (struct servent* se = getservbyname(l.c_str(), "tcp"))
        return static_cast<unsigned>(ntohs(static_cast<std::uint16_t>(se->s_port)));
    return std::nullopt;
}

std::string canonHost(const std::string& h) {
    if (h == "localhost")
        return "127.0.0.1";
    if (h == "ip6-localhost")
        return "::1";
    return h;
}

bool anyHost(const std::string& h) {
    return h.empty() || h == "0.0.0.0" || h == "::" || h == "inaddr_any";
}

std::string normPath(const std::string& p) {
    std::string out;
    for (const auto& part : splitList(p, "/")) {
        if (part == ".")
            continue;
        out += "/" + part;
    }
    return out.empty() ? "/" : out;
}

// Same socket?  An inet milter bound to any address is reached by any host
// the MTA names.
bool sameSocket(const SocketAddr& mta, const SocketAddr& milter) {
    if (mta.kind != milter.kind)
        return false;
    if (mta.kind == SocketAddr::Kind::Unix)
        return normPath(mta.path) == normPath(milter.path);
    if (mta.port != milter.port)
        return false;
    return anyHost(milter.host) || canonHost(mta.host) == canonHost(milter.host);
}

std::string milterConfName(const Config& cfg) {
    return cfg.file.empty() ? std::string("rfc8314-milter.conf") : cfg.file;
}

// ---- Postfix helpers -----------------------------------------------------------

struct PfMilter {
    std::string spec;
    std::map<std::string, std::string> settings; // Postfix 3.0 per-milter { ... }
};

// smtpd_milters: entries separated by comma or space; an entry may be a
// `{ spec, name=value ... }` group.
std::vector<PfMilter> parsePostfixMilterList(std::string_view v) {
    std::vector<PfMilter> out;
    size_t i = 0;
    auto isSep = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n'; };
    while (i < v.size()) {
        if (isSep(v[i])) {
            ++i;
            continue;
        }
        if (v[i] == '{') {
            auto close = v.find('}', i);
            auto inner = v.substr(i + 1, close == std::string_view::npos ? std::string_view::npos
                                                                         : close - i - 1);
            auto parts = splitList(inner, ",");
            PfMilter m;
            for (size_t k = 0; k < parts.size(); ++k) {
                auto t = trim(parts[k]);
                if (k == 0) {
                    m.spec = t;
                    continue;
                }
                auto eq = t.find('=');
                if (eq != std::string::npos)
                    m.settings[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
            }
            if (!m.spec.empty())
                out.push_back(m);
            i = close == std::string_view::npos ? v.size() : close + 1;
            continue;
        }
        size_t j = i;
        while (j < v.size() && !isSep(v[j]))
            ++j;
        out.push_back({std::string(v.substr(i, j - i)), {}});
        i = j;
    }
    return out;
}

std::string get(const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
}

// A service's effective value: its -o override, else main.cf.
std::string eff(const PostfixConf& pf, const PostfixService& s, const std::string& k,
                bool* overridden = nullptr) {
    auto it = s.overrides.find(k);
    if (overridden)
        *overridden = it != s.overrides.end();
    return it != s.overrides.end() ? it->second : get(pf.main, k);
}

bool yes(const std::string& v) { return lower(trim(v)) == "yes"; }

// The master.cf line of `s` with `-o key=value` set (replacing an existing
// -o for that key), so the fix can be pasted over the old line.
std::string serviceLineWith(const PostfixService& s, const std::string& key,
                            const std::string& value) {
    auto toks = splitList(s.line, " \t");
    std::vector<std::string> out;
    bool done = false;
    for (size_t i = 0; i < toks.size(); ++i) {
        if (toks[i] == "-o" && i + 1 < toks.size()) {
            if (toks[i + 1] == "{") {
                // -o { key = value } — skip the group if it sets our key.
                size_t j = i + 2;
                std::vector<std::string> grp;
                while (j < toks.size() && toks[j] != "}")
                    grp.push_back(toks[j++]);
                std::string g = join(grp, " ");
                if (trim(g.substr(0, g.find('='))) == key) {
                    if (!done)
                        out.push_back("-o " + key + "=" + value);
                    done = true;
                    i = j;
                    continue;
                }
            } else if (startsWith(toks[i + 1], key + "=")) {
                if (!done)
                    out.push_back("-o " + key + "=" + value);
                done = true;
                ++i;
                continue;
            }
        }
        out.push_back(toks[i]);
    }
    if (!done)
        out.push_back("-o " + key + "=" + value);
    return join(out, " ");
}

bool postfixChrooted(const PostfixConf& pf, const PostfixService& s) {
    if (s.chroot == "y")
        return true;
    if (s.chroot != "-")
        return false;
    // "-" is the built-in default: y before Postfix 3.0, n since.
    auto v = get(pf.main, "mail_version");
    auto major = parseNumber(v.substr(0, v.find('.')));
    return major && *major < 3;
}

// What a Postfix unix:PATH names on the file system for this service.
std::string postfixUnixPath(const PostfixConf& pf, const std::string& path, bool chrooted) {
    const std::string queue = get(pf.main, "queue_directory");
    if (path.empty() || path.front() != '/' || chrooted)
        return normPath(queue + "/" + path);
    return normPath(path);
}

// How a service must name the milter's socket.  Chrooted: relative to the
// spool, which only works when the socket lives below it.
std::optional<std::string> postfixSpellingFor(const PostfixConf& pf, const SocketAddr& milter,
                                              bool chrooted) {
    if (milter.kind == SocketAddr::Kind::Inet || !chrooted)
        return postfixSpelling(milter);
    std::string queue = normPath(get(pf.main, "queue_directory"));
    std::string path = normPath(milter.path);
    if (!startsWith(path, queue + "/"))
        return std::nullopt;
    return "unix:" + path.substr(queue.size());
}

struct Bound {
    const char* param;    // main.cf name
    const char* setting;  // per-milter name inside { }
    long max;             // seconds
    const char* fix;      // value the fix line proposes
    const char* why;
};

const Bound kPostfixBounds[] = {
    {"milter_connect_timeout", "connect_timeout", 30, "10s",
     "every SMTP session waits that long for a dead milter"},
    {"milter_command_timeout", "command_timeout", 60, "10s",
     "a hung milter stalls each SMTP command that long"},
    {"milter_content_timeout", "content_timeout", 300, "30s",
     "a hung milter stalls the end of each message that long"},
};

} // namespace

// ---- sockets -------------------------------------------------------------------

std::optional<SocketAddr> parseMilterSocket(std::string_view spec) {
    std::string s = trim(spec);
    SocketAddr a;
    if (!s.empty() && s.front() == '/') {
        a.kind = SocketAddr::Kind::Unix;
        a.path = s;
        return a;
    }
    auto colon = s.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    std::string kind = lower(s.substr(0, colon));
    std::string rest = s.substr(colon + 1);
    if (kind == "local" || kind == "unix") {
        if (rest.empty())
            return std::nullopt;
        a.kind = SocketAddr::Kind::Unix;
        a.path = rest;
        return a;
    }
    if (kind == "inet" || kind == "inet6") {
        auto at = rest.find('@');
        auto port = parseNumber(rest.substr(0, at));
        if (!port || *port > 65535)
            return std::nullopt;
        a.port = *port;
        if (at != std::string::npos)
            a.host = lower(rest.substr(at + 1));
        if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
            a.host = a.host.substr(1, a.host.size() - 2);
        return a;
    }
    return std::nullopt;
}

std::optional<SocketAddr> parsePostfixSocket(std::string_view spec) {
    std::string s = trim(spec);
    auto colon = s.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    std::string kind = lower(s.substr(0, colon));
    std::string rest = s.substr(colon + 1);
    SocketAddr a;
    if (kind == "unix" || kind == "local") {
        if (rest.empty())
            return std::nullopt;
        a.kind = SocketAddr::Kind::Unix;
        a.path = rest;
        return a;
    }
    if (kind == "inet") {
        auto last = rest.rfind(':');
        if (last == std::string::npos)
            return std::nullopt;
        auto port = portOf(rest.substr(last + 1));
        if (!port || *port > 65535)
            return std::nullopt;
        a.port = *port;
        a.host = lower(rest.substr(0, last));
        if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
            a.host = a.host.substr(1, a.host.size() - 2);
        return a;
    }
    return std::nullopt;
}

std::string postfixSpelling(const SocketAddr& a) {
    if (a.kind == SocketAddr::Kind::Unix)
        return "unix:" + a.path;
    std::string host = a.host;
    if (host.empty() || host == "0.0.0.0" || host == "inaddr_any")
        host = "127.0.0.1";
    else if (host == "::")
        host = "::1";
    if (host.find(':') != std::string::npos)
        host = "[" + host + "]";
    return "inet:" + host + ":" + std::to_string(a.port);
}

// ---- Postfix -------------------------------------------------------------------

std::map<std::string, std::string> parsePostconfMain(std::string_view text) {
    std::map<std::string, std::string> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        auto name = trim(line.substr(0, eq));
        if (!name.empty() && name.find(' ') == std::string::npos)
            out[name] = trim(line.substr(eq + 1));
    }
    return out;
}

std::vector<PostfixService> parsePostconfMaster(std::string_view text) {
    std::vector<PostfixService> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        auto t = trim(line);
        if (t.empty() || t.front() == '#')
            continue;
        auto toks = splitList(t, " \t");
        if (toks.size() < 8)
            continue;
        PostfixService s;
        s.name = toks[0];
        s.type = toks[1];
        s.priv = toks[2];
        s.unpriv = toks[3];
        s.chroot = toks[4];
        s.wakeup = toks[5];
        s.maxproc = toks[6];
        s.command = toks[7];
        s.line = t;
        out.push_back(s);
    }
    return out;
}

void applyPostconfOverrides(std::vector<PostfixService>& services, std::string_view text) {
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        auto key = splitList(trim(line.substr(0, eq)), "/");
        if (key.size() != 3)
            continue;
        for (auto& s : services)
            if (s.name == key[0] && s.type == key[1])
                s.overrides[key[2]] = trim(line.substr(eq + 1));
    }
}

const std::vector<std::string>& postfixParameters() {
    static const std::vector<std::string> names = {
        "mail_version",           "queue_directory",           "mail_owner",
        "smtpd_milters",          "milter_protocol",           "milter_default_action",
        "milter_connect_timeout", "milter_command_timeout",    "milter_content_timeout",
        "milter_connect_macros",  "milter_helo_macros",        "milter_mail_macros",
        "milter_end_of_data_macros", "milter_macro_daemon_name", "smtpd_tls_auth_only",
        "smtpd_sasl_auth_enable", "smtpd_tls_wrappermode",     "smtpd_tls_security_level",
    };
    return names;
}

std::string postfixUser(const PostfixConf& pf) {
    auto u = get(pf.main, "mail_owner");
    return u.empty() ? std::string("postfix") : u;
}

// The milter's own socket cannot be read: nothing else can be judged.
Finding socketNotUnderstood(const Config& cfg) {
    return error("milter: socket " + cfg.socket + " is not understood",
                 {{milterConfName(cfg), "socket = inet:8891@127.0.0.1"}});
}

std::vector<Finding> judgePostfix(const Config& cfg, const PostfixConf& pf) {
    std::vector<Finding> out;
    const auto milter = parseMilterSocket(cfg.socket);
    if (!milter) {
        out.push_back(socketNotUnderstood(cfg));
        return out;
    }
    const std::string queue = get(pf.main, "queue_directory");

    struct Sub {
        const PostfixService* svc;
        Resolved r;
    };
    std::vector<Sub> subs;
    for (const auto& s : pf.services) {
        if (s.type != "inet" || s.command != "smtpd")
            continue;
        std::string addr, port = s.name;
        auto colon = s.name.rfind(':');
        if (colon != std::string::npos) {
            addr = s.name.substr(0, colon);
            port = s.name.substr(colon + 1);
            if (addr.size() >= 2 && addr.front() == '[')
                addr = addr.substr(1, addr.size() - 2);
        }
        auto r = resolve(cfg, portOf(port), eff(pf, s, "milter_macro_daemon_name"), addr);
        if (r.needsMilter)
            subs.push_back({&s, r});
    }
    if (subs.empty()) {
        out.push_back(warning(
            "postfix: no smtpd service in master.cf is a submission listener by the milter's "
            "configuration (port 587/465 or a [listener] section)",
            {{"master.cf", "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                           "-o smtpd_tls_auth_only=yes"}}));
    }

    std::vector<Finding> actions; // (4), after the per-service lines
    for (const auto& sub : subs) {
        const auto& s = *sub.svc;
        const std::string who = "postfix: service " + s.name + "/" + s.type + " (listener " +
                                sub.r.label + ")";
        const bool chrooted = postfixChrooted(pf, s);

        // (1) wiring.
        bool milOverride = false;
        const std::string list = eff(pf, s, "smtpd_milters", &milOverride);
        const auto entries = parsePostfixMilterList(list);
        const PfMilter* ours = nullptr;
        bool chrootMiss = false;
        for (const auto& e : entries) {
            auto a = parsePostfixSocket(e.spec);
            if (!a)
                continue;
            SocketAddr seen = *a;
            if (seen.kind == SocketAddr::Kind::Unix) {
                seen.path = postfixUnixPath(pf, a->path, chrooted);
                if (chrooted && sameSocket(*a, *milter))
                    chrootMiss = true; // right path, but the chroot moves it
            }
            if (sameSocket(seen, *milter)) {
                ours = &e;
                break;
            }
        }
        const std::string where = milOverride ? "master.cf" : "main.cf";
        const auto want = postfixSpellingFor(pf, *milter, chrooted);
        if (ours) {
            out.push_back(ok(who + ": smtpd_milters names the milter (" + ours->spec + ")"));
        } else if (!want) {
            // A chrooted smtpd sees only the spool: a socket elsewhere is
            // out of its reach whatever smtpd_milters says.
            const std::string rel = "/rfc8314-milter/rfc8314-milter.sock";
            out.push_back(error(
                who + ": runs chrooted (master.cf chroot column) in " + queue +
                    " and cannot reach the milter's socket " + milter->path +
                    (chrootMiss ? " (smtpd_milters names it, but inside the chroot it is " +
                                      postfixUnixPath(pf, milter->path, true) + ")"
                                : "") +
                    "; use an inet: socket or one below the spool",
                {{milterConfName(cfg), "socket = local:" + normPath(queue + rel)},
                 {where, milOverride ? serviceLineWith(s, "smtpd_milters", "unix:" + rel)
                                     : "smtpd_milters = unix:" + rel}}));
        } else {
            // Replace a lone (presumably stale) entry; append to a longer
            // list so other milters stay.
            std::vector<std::string> specs;
            if (entries.size() > 1)
                for (const auto& e : entries)
                    specs.push_back(e.spec);
            specs.push_back(*want);
            std::string text = who + ": smtpd_milters";
            text += milOverride ? " (-o in master.cf)" : " (main.cf)";
            text += list.empty() ? " is empty" : " = " + list;
            text += ": does not name the milter's socket " + cfg.socket + " (Postfix spelling " +
                    *want + ")";
            out.push_back(error(text, {{where, milOverride
                                                   ? serviceLineWith(s, "smtpd_milters",
                                                                     join(specs, ","))
                                                   : "smtpd_milters = " + join(specs, ", ")}}));
        }

        // (3) the MTA must keep AUTH off cleartext: the milter only ever
        // sees the transaction after Postfix has answered AUTH.
        if (sub.r.needsTlsAuth) {
            if (yes(eff(pf, s, "smtpd_tls_wrappermode"))) {
                out.push_back(ok(who + ": implicit TLS (smtpd_tls_wrappermode = yes); AUTH "
                                       "never crosses in cleartext"));
            } else if (!yes(eff(pf, s, "smtpd_sasl_auth_enable"))) {
                out.push_back(ok(who + ": AUTH is not offered (smtpd_sasl_auth_enable = no)"));
            } else if (yes(eff(pf, s, "smtpd_tls_auth_only"))) {
                out.push_back(ok(who + ": smtpd_tls_auth_only = yes; AUTH only after STARTTLS"));
            } else if (lower(eff(pf, s, "smtpd_tls_security_level")) == "encrypt") {
                out.push_back(ok(who + ": smtpd_tls_security_level = encrypt; no cleartext "
                                       "session reaches AUTH"));
            } else {
                out.push_back(warning(
                    who + ": the milter requires TLS for AUTH here, but smtpd_tls_auth_only is "
                          "not yes: Postfix offers AUTH over cleartext, the password crosses "
                          "the wire unencrypted, and Postfix's AUTH reply tells the client "
                          "whether the credentials were valid before the milter can refuse",
                    {{"master.cf", serviceLineWith(s, "smtpd_tls_auth_only", "yes")}}));
            }
        }

        // (4) what Postfix does when the milter is down or slow.  Per-milter
        // { } settings win over -o, which wins over main.cf.
        auto source = [&](const std::string& param, const char* setting, std::string& value,
                          std::string& label, Fix& fix, const std::string& good) {
            if (ours && ours->settings.count(setting)) {
                value = ours->settings.at(setting);
                label = who + ": " + setting + " in smtpd_milters";
                fix = {where, "smtpd_milters = { " + ours->spec + ", " + setting + "=" + good +
                                  " }"};
                return;
            }
            bool over = false;
            value = eff(pf, s, param, &over);
            if (over) {
                label = who + ": -o " + param;
                fix = {"master.cf", serviceLineWith(s, param, good)};
            } else {
                label = "postfix: " + param;
                fix = {"main.cf", param + " = " + good};
            }
        };
        std::string value, label;
        Fix fix;
        source("milter_default_action", "default_action", value, label, fix, "tempfail");
        const std::string act = lower(value.empty() ? "tempfail" : value);
        if (act == "tempfail")
            actions.push_back(ok(label + " = tempfail: mail is deferred while the milter is "
                                         "unreachable"));
        else if (act == "accept")
            actions.push_back(warning(label + " = accept: while the milter is down, mail "
                                              "passes with no trace field, no policy and no "
                                              "audit line",
                                      {fix}));
        else
            actions.push_back(warning(label + " = " + act + ": while the milter is down, "
                                                            "submitted mail is refused or held "
                                                            "instead of deferred; tempfail lets "
                                                            "clients retry",
                                      {fix}));
        for (const auto& b : kPostfixBounds) {
            source(b.param, b.setting, value, label, fix, b.fix);
            auto secs = parseDuration(value);
            if (!secs)
                actions.push_back(warning(label + " = " + value + " is not a time value", {fix}));
            else if (*secs > b.max)
                actions.push_back(warning(label + " = " + value + " is above " +
                                              showDuration(b.max) + ": " + b.why,
                                          {fix}));
            else
                actions.push_back(ok(label + " = " + value + " (at most " + showDuration(b.max) +
                                     ")"));
        }
    }
    for (auto& a : actions)
        out.push_back(std::move(a));

    // (2) macro lists: only an MTA that ignores smfi_setsymlist needs them.
    const auto proto = parseNumber(get(pf.main, "milter_protocol"));
    if (proto && *proto >= 6) {
        out.push_back(ok("postfix: milter_protocol = " + std::to_string(*proto) +
                         ": Postfix honours smfi_setsymlist; the macro lists need no change"));
    } else {
        out.push_back(warning("postfix: milter_protocol = " + get(pf.main, "milter_protocol") +
                                  ": Postfix ignores smfi_setsymlist below 6, so the milter "
                                  "gets only the macros of Postfix's own lists",
                              {{"main.cf", "milter_protocol = 6"}}));
        const std::pair<const char*, const char*> stages[] = {
            {"connect", "milter_connect_macros"},
            {"helo", "milter_helo_macros"},
            {"envfrom", "milter_mail_macros"},
            {"eom", "milter_end_of_data_macros"}};
        for (const auto& [stage, param] : stages) {
            auto have = splitList(get(pf.main, param), " ,\t");
            auto miss = missingMacros(neededMacros(stage, cfg), have);
            if (miss.empty()) {
                out.push_back(ok(std::string("postfix: ") + param + " has every macro the " +
                                 "milter needs at " + stage));
            } else {
                auto all = have;
                all.insert(all.end(), miss.begin(), miss.end());
                out.push_back(warning(std::string("postfix: ") + param + " lacks " +
                                          join(miss, " "),
                                      {{"main.cf", std::string(param) + " = " + join(all, " ")}}));
            }
        }
    }
    return dedupe(std::move(out));
}

// ---- Sendmail ------------------------------------------------------------------

namespace {

SendmailDaemon parseDaemon(const std::string& value, size_t index) {
    SendmailDaemon d;
    d.value = value;
    d.name = "Daemon" + std::to_string(index);
    d.portText = "smtp";
    for (const auto& part : splitList(value, ",")) {
        auto eq = part.find('=');
        if (eq == std::string::npos)
            continue;
        auto key = trim(part.substr(0, eq));
        auto val = trim(part.substr(eq + 1));
        if (key.empty())
            continue;
        // Sendmail itself looks only at the first letter of each key.
        switch (std::toupper(static_cast<unsigned char>(key[0]))) {
        case 'P': d.portText = val; break;
        case 'N': d.name = val; break;
        case 'A': d.addr = val; break;
        case 'M': d.modifiers = val; break;
        case 'I': d.inputFilters = val; break;
        default: break;
        }
    }
    d.port = portOf(d.portText);
    return d;
}

// Sendmail's built-in lists, used when the cf has no Milter.macros line.
std::string sendmailDefaultMacros(std::string_view stage) {
    if (stage == "connect")
        return "j, _, {daemon_name}, {if_name}, {if_addr}";
    if (stage == "helo")
        return "{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}";
    if (stage == "envfrom")
        return "i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, "
               "{mail_host}, {mail_addr}";
    if (stage == "eom")
        return "{msg_id}";
    return {};
}

std::string filterLine(const SendmailFilter& f, const std::string& flags) {
    std::string l = "X" + f.name + ", S=" + f.socket;
    if (!flags.empty())
        l += ", F=" + flags;
    if (!f.timeouts.empty())
        l += ", T=" + f.timeouts;
    return l;
}

std::string mcFilterLine(const std::string& name, const std::string& socket,
                         const std::string& flags, const std::string& timeouts) {
    return "INPUT_MAIL_FILTER(`" + name + "', `S=" + socket + ", F=" + flags + ", T=" + timeouts +
           "')dnl";
}

} // namespace

SendmailCf parseSendmailCf(std::string_view text) {
    SendmailCf cf;
    // Join continuation lines (leading blank) first, as Sendmail does.
    std::vector<std::string> lines;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !lines.empty())
            lines.back() += " " + trim(line);
        else
            lines.push_back(line);
    }
    for (const auto& l : lines) {
        if (startsWith(l, "DZ")) {
            cf.version = trim(l.substr(2));
        } else if (startsWith(l, "O ")) {
            auto rest = l.substr(2);
            auto eq = rest.find('=');
            auto name = trim(rest.substr(0, eq));
            auto value = eq == std::string::npos ? std::string() : trim(rest.substr(eq + 1));
            if (name == "DaemonPortOptions")
                cf.daemons.push_back(parseDaemon(value, cf.daemons.size()));
            else
                cf.options[name] = value;
        } else if (startsWith(l, "X") && l.size() > 1) {
            auto parts = splitList(l.substr(1), ",");
            if (parts.empty())
                continue;
            SendmailFilter f;
            f.line = l;
            f.name = trim(parts[0]);
            for (size_t i = 1; i < parts.size(); ++i) {
                auto p = trim(parts[i]);
                auto eq = p.find('=');
                if (eq == std::string::npos)
                    continue;
                auto key = lower(trim(p.substr(0, eq)));
                auto val = trim(p.substr(eq + 1));
                if (key == "s")
                    f.socket = val;
                else if (key == "f") {
                    f.flags = val;
                    f.hasFlags = true;
                } else if (key == "t")
                    f.timeouts = val;
            }
            cf.filters.push_back(f);
        }
    }
    return cf;
}

std::vector<Finding> judgeSendmail(const Config& cfg, const SendmailCf& sm) {
    std::vector<Finding> out;
    const auto milter = parseMilterSocket(cfg.socket);
    if (!milter) {
        out.push_back(socketNotUnderstood(cfg));
        return out;
    }
    const std::string defaultTimeouts = "S:30s;R:30s;E:1m";
    const auto global = splitList(get(sm.options, "InputMailFilters"), ", ");

    // X lines that name our socket.
    std::vector<const SendmailFilter*> ours;
    for (const auto& f : sm.filters) {
        auto a = parseMilterSocket(f.socket);
        if (a && sameSocket(*a, *milter))
            ours.push_back(&f);
    }

    bool anySub = false;
    std::vector<const SendmailFilter*> used; // our filters on submission daemons
    for (const auto& d : sm.daemons) {
        auto r = resolve(cfg, d.port, d.name, d.addr);
        if (!r.needsMilter)
            continue;
        anySub = true;
        const std::string who = "sendmail: daemon " + d.name + " (port " + d.portText +
                                ", listener " + r.label + ")";
        // (1) wiring.
        const auto list = d.inputFilters ? splitList(*d.inputFilters, ", ;") : global;
        const SendmailFilter* active = nullptr;
        for (const auto* f : ours)
            if (std::find(list.begin(), list.end(), f->name) != list.end())
                active = f;
        if (active) {
            out.push_back(ok(who + ": milter " + active->name + " (S=" + active->socket +
                             ") is in InputMailFilters"));
            if (std::find(used.begin(), used.end(), active) == used.end())
                used.push_back(active);
        } else if (!ours.empty()) {
            auto all = list;
            all.push_back(ours.front()->name);
            out.push_back(error(
                who + ": the X line " + ours.front()->name + " names the milter's socket but is "
                      "not listed in " + (d.inputFilters ? "this daemon's I=" : "InputMailFilters"),
                {{"sendmail.mc", mcFilterLine(ours.front()->name, ours.front()->socket, "T",
                                              defaultTimeouts)},
                 {"sendmail.cf", "O InputMailFilters=" + join(all, ",")}}));
        } else {
            std::string others;
            for (const auto& f : sm.filters)
                others += (others.empty() ? "" : ", ") + f.name + " S=" + f.socket;
            auto all = list;
            all.push_back("rfc8314");
            out.push_back(error(
                who + ": no X line names the milter's socket " + cfg.socket +
                    (others.empty() ? " (no milter is defined)" : " (defined: " + others + ")"),
                {{"sendmail.mc", mcFilterLine("rfc8314", cfg.socket, "T", defaultTimeouts)},
                 {"sendmail.cf", "Xrfc8314, S=" + cfg.socket + ", F=T, T=" + defaultTimeouts},
                 {"sendmail.cf", "O InputMailFilters=" + join(all, ",")}}));
        }

        // (3) TLS-only AUTH, and no Sendmail-made 530 before the milter.
        if (r.needsTlsAuth) {
            const auto authOpts = splitList(get(sm.options, "AuthOptions"), ", ");
            const bool tlsOnly =
                std::find(authOpts.begin(), authOpts.end(), "p") != authOpts.end();
            if (d.modifiers.find('s') != std::string::npos) {
                out.push_back(ok(who + ": implicit TLS (M=s); AUTH never crosses in cleartext"));
            } else if (tlsOnly) {
                out.push_back(ok(who + ": AuthOptions has p; AUTH only after STARTTLS"));
            } else {
                auto opts = authOpts;
                opts.push_back("p");
                out.push_back(warning(
                    who + ": the milter requires TLS for AUTH here, but AuthOptions lacks p: "
                          "Sendmail offers AUTH over cleartext, the password crosses the wire "
                          "unencrypted, and Sendmail's AUTH reply tells the client whether the "
                          "credentials were valid before the milter can refuse",
                    {{"sendmail.mc", "define(`confAUTH_OPTIONS', `" + join(opts, ",") + "')dnl"},
                     {"sendmail.cf", "O AuthOptions=" + join(opts, ",")}}));
            }
            if (d.modifiers.find('a') != std::string::npos) {
                std::string mods;
                for (char c : d.modifiers)
                    if (c != 'a')
                        mods += c;
                std::vector<std::string> parts;
                for (const auto& p : splitList(d.value, ",")) {
                    auto t = trim(p);
                    if (t.empty())
                        continue;
                    if (std::toupper(static_cast<unsigned char>(t[0])) == 'M' &&
                        t.find('=') != std::string::npos) {
                        if (!mods.empty())
                            parts.push_back("M=" + mods);
                    } else {
                        parts.push_back(t);
                    }
                }
                out.push_back(warning(
                    who + ": M=a makes Sendmail refuse unauthenticated MAIL itself with "
                          "530 5.7.0 Authentication required, which differs from the milter's "
                          "reply and so tells a client whether its credentials were accepted",
                    {{"sendmail.mc", "DAEMON_OPTIONS(`" + join(parts, ", ") + "')dnl"},
                     {"sendmail.cf", "O DaemonPortOptions=" + join(parts, ", ")}}));
            }
        }
    }
    if (!anySub) {
        out.push_back(warning(
            "sendmail: no DaemonPortOptions line is a submission listener by the milter's "
            "configuration (port 587/465 or a [listener] section)",
            {{"sendmail.mc", "DAEMON_OPTIONS(`Port=587, Name=MSA, M=E')dnl"}}));
    }

    // (4) what Sendmail does when the milter is down or slow.
    for (const auto* f : used) {
        const std::string who = "sendmail: milter " + f->name;
        if (f->flags.find('T') != std::string::npos) {
            out.push_back(ok(who + ": F=T: mail is deferred while the milter is unreachable"));
        } else {
            const bool reject = f->flags.find('R') != std::string::npos;
            out.push_back(warning(
                who + (f->flags.empty() ? std::string(": no F= flag") : ": F=" + f->flags) +
                    (reject ? ": while the milter is down, submitted mail is refused instead of "
                              "deferred; T lets clients retry"
                            : ": while the milter is down, mail passes with no trace field, no "
                              "policy and no audit line"),
                {{"sendmail.mc",
                  mcFilterLine(f->name, f->socket, "T",
                               f->timeouts.empty() ? defaultTimeouts : f->timeouts)},
                 {"sendmail.cf", filterLine(*f, "T")}}));
        }
        // T=C:connect;S:send;R:read;E:overall.  Sendmail's own defaults
        // (C 5m, S/R 10s, E 5m) are all within these bounds.
        const std::pair<char, long> bounds[] = {{'C', 300}, {'S', 60}, {'R', 60}, {'E', 600}};
        bool allOk = true;
        for (const auto& part : splitList(f->timeouts, ";")) {
            auto colon = part.find(':');
            if (colon == std::string::npos)
                continue;
            char k = static_cast<char>(std::toupper(static_cast<unsigned char>(trim(part)[0])));
            auto secs = parseDuration(part.substr(colon + 1));
            for (const auto& [bk, max] : bounds) {
                if (bk != k || !secs || *secs <= max)
                    continue;
                allOk = false;
                SendmailFilter g = *f;
                g.timeouts = defaultTimeouts;
                out.push_back(warning(
                    who + ": T= " + std::string(1, k) + ":" + trim(part.substr(colon + 1)) +
                        " is above " + showDuration(max) +
                        ": a hung milter stalls the SMTP session that long",
                    {{"sendmail.mc", mcFilterLine(f->name, f->socket,
                                                  f->flags.empty() ? "T" : f->flags,
                                                  defaultTimeouts)},
                     {"sendmail.cf", filterLine(g, f->flags.empty() ? "T" : f->flags)}}));
            }
        }
        if (allOk)
            out.push_back(ok(who + ": T=" + (f->timeouts.empty() ? "(defaults)" : f->timeouts) +
                             " within bounds (C 5m, S 60s, R 60s, E 10m)"));
    }

    // (2) macro lists: Sendmail 8.14 and later honour smfi_setsymlist.
    int major = 0, minor = 0;
    const auto vparts = splitList(sm.version, ".");
    if (vparts.size() >= 2) {
        major = static_cast<int>(parseNumber(vparts[0]).value_or(0));
        minor = static_cast<int>(parseNumber(vparts[1]).value_or(0));
    }
    if (major > 8 || (major == 8 && minor >= 14)) {
        out.push_back(ok("sendmail: version " + sm.version +
                         " honours smfi_setsymlist; the macro lists need no change"));
    } else {
        out.push_back(warning(
            "sendmail: " +
                (sm.version.empty() ? std::string("version unknown (no DZ line)")
                                    : "version " + sm.version + " is older than 8.14") +
                ": smfi_setsymlist may be ignored, so the lists below must carry the milter's "
                "macros",
            {{"sendmail.cf", "DZ8.14.0  (or later: upgrade Sendmail)"}}));
        const std::pair<const char*, const char*> stages[] = {
            {"connect", "CONNECT"}, {"helo", "HELO"}, {"envfrom", "ENVFROM"}, {"eom", "EOM"}};
        for (const auto& [stage, mc] : stages) {
            const std::string opt = std::string("Milter.macros.") + stage;
            auto it = sm.options.find(opt);
            auto have = splitList(it != sm.options.end() ? it->second
                                                         : sendmailDefaultMacros(stage),
                                  ", ");
            auto miss = missingMacros(neededMacros(stage, cfg), have);
            if (miss.empty()) {
                out.push_back(ok("sendmail: " + opt + " has every macro the milter needs"));
            } else {
                auto all = have;
                all.insert(all.end(), miss.begin(), miss.end());
                out.push_back(warning(
                    "sendmail: " + opt + " lacks " + join(miss, " "),
                    {{"sendmail.mc", std::string("define(`confMILTER_MACROS_") + mc + "', `" +
                                         join(all, ", ") + "')dnl"},
                     {"sendmail.cf", "O " + opt + "=" + join(all, ", ")}}));
            }
        }
    }
    return dedupe(std::move(out));
}

// ---- probing the socket ----------------------------------------------------------

namespace {

// Can uid/gids do `want` (R_OK/W_OK/X_OK bits as 4/2/1) on st?
bool permits(const struct stat& st, uid_t uid, const std::vector<gid_t>& gids, unsigned want) {
    if (uid == 0)
        return true;
    unsigned mode = static_cast<unsigned>(st.st_mode);
    if (st.st_uid == uid)
        return ((mode >> 6) & want) == want;
    if (std::find(gids.begin(), gids.end(), st.st_gid) != gids.end())
        return ((mode >> 3) & want) == want;
    return (mode & want) == want;
}

std::string groupName(gid_t g) {
    if (struct group* gr = getgrgid(g))
        return gr->gr_name;
    return std::to_string(g);
}

std::string octal(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

// A TCP connect with a deadline, so a filtered port cannot hang the doctor.
std::string tcpConnect(const std::string& host, unsigned port) {
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0)
        return gai_strerror(rc);
    std::string err = "no address";
    for (auto* ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            err = std::strerror(errno);
            continue;
        }
        int c = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (c != 0 && errno == EINPROGRESS) {
            struct pollfd p {fd, POLLOUT, 0};
            if (poll(&p, 1, 3000) == 1) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
                c = soerr == 0 ? 0 : -1;
                errno = soerr;
            } else {
                errno = ETIMEDOUT;
            }
        }
        if (c == 0) {
            close(fd);
            freeaddrinfo(res);
            return {};
        }
        err = std::strerror(errno);
        close(fd);
    }
    freeaddrinfo(res);
    return err;
}

} // namespace

std::vector<Finding> probeSocket(const Config& cfg, const std::string& who,
                                 const std::string& user) {
    std::vector<Finding> out;
    const auto a = parseMilterSocket(cfg.socket);
    if (!a)
        return out;
    const std::string start =
        "rfc8314-milter" + (cfg.file.empty() ? std::string() : " -c " + cfg.file);
    if (a->kind == SocketAddr::Kind::Inet) {
        std::string host = a->host;
        if (anyHost(host))
            host = host == "::" ? "::1" : "127.0.0.1";
        auto err = tcpConnect(host, a->port);
        if (err.empty())
            out.push_back(ok(who + ": the milter's socket " + cfg.socket +
                             " accepts TCP connections"));
        else
            out.push_back(error(who + ": cannot connect to the milter's socket " + cfg.socket +
                                    " (" + host + " port " + std::to_string(a->port) + "): " +
                                    err + "; is rfc8314-milter running?",
                                {{"shell", start}}));
        return out;
    }

    const std::string path = normPath(a->path);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        out.push_back(error(who + ": the milter's socket " + path + ": " + std::strerror(errno) +
                                "; is rfc8314-milter running?",
                            {{"shell", start}}));
        return out;
    }
    if (!S_ISSOCK(st.st_mode)) {
        out.push_back(error(who + ": " + path + " exists but is not a socket",
                            {{"shell", "rm " + path + " && " + start}}));
        return out;
    }

    // Permissions as the MTA's user sees them: search on every directory on
    // the way, write on the socket itself.
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) {
        out.push_back(warning(who + ": user " + user + " does not exist; socket permissions "
                                    "not checked",
                              {{"shell", "id " + user}}));
    } else {
        const uid_t uid = pw->pw_uid;
        const gid_t gid = pw->pw_gid;
        const std::string name = pw->pw_name; // getpw* storage is reused below
        int n = 64;
        std::vector<gid_t> gids(static_cast<size_t>(n));
        if (getgrouplist(name.c_str(), gid, gids.data(), &n) < 0) {
            gids.resize(static_cast<size_t>(n));
            getgrouplist(name.c_str(), gid, gids.data(), &n);
        }
        gids.resize(static_cast<size_t>(n));
        bool good = true;
        std::string dir;
        for (const auto& part : splitList(path.substr(0, path.rfind('/')), "/")) {
            dir += "/" + part;
            struct stat ds {};
            if (stat(dir.c_str(), &ds) != 0 || permits(ds, uid, gids, 1))
                continue;
            good = false;
            const std::string g = groupName(ds.st_gid);
            out.push_back(error(
                who + ": user " + user + " cannot search " + dir + " (mode " +
                    octal(ds.st_mode) + ", group " + g + ")",
                {((ds.st_mode & S_IXGRP) != 0)
                     ? Fix{"shell", "usermod -a -G " + g + " " + user}
                     : Fix{"shell", "chmod g+x " + dir + " && usermod -a -G " + g + " " + user}}));
            break;
        }
        if (good && !permits(st, uid, gids, 2)) {
            good = false;
            const std::string g = groupName(st.st_gid);
            std::vector<Fix> fixes;
            if ((st.st_mode & S_IWGRP) == 0)
                fixes.push_back({milterConfName(cfg), "umask = 007"});
            fixes.push_back({"shell", "usermod -a -G " + g + " " + user});
            out.push_back(error(who + ": user " + user + " cannot write to the socket " + path +
                                    " (mode " + octal(st.st_mode) + ", group " + g + ")",
                                fixes));
        }
        if (good)
            out.push_back(ok(who + ": user " + user + " may connect to " + path));
    }

    // Something must also be listening behind the file.
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun {};
    sun.sun_family = AF_UNIX;
    if (fd >= 0 && path.size() < sizeof sun.sun_path) {
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        if (connect(fd, reinterpret_cast<struct sockaddr*>(&sun), sizeof sun) == 0)
            out.push_back(ok(who + ": the milter accepts connections on " + path));
        else if (errno == EACCES)
            out.push_back(ok(who + ": connect to " + path + " not tried (no permission as uid " +
                             std::to_string(geteuid()) + ")"));
        else
            out.push_back(error(who + ": nothing accepts connections on " + path + ": " +
                                    std::strerror(errno) + "; is rfc8314-milter running?",
                                {{"shell", start}}));
    }
    if (fd >= 0)
        close(fd);
    return out;
}

// ---- running postconf, printing, the driver --------------------------------------

namespace {

struct RunResult {
    int status = -1;      // exit status; -1 when it did not run or died
    std::string out, err;
};

std::string findProgram(const std::string& name) {
    // sbin directories too: postconf lives in /usr/sbin, often not in a
    // non-root PATH.
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/sbin:/usr/local/sbin";
    for (const auto& dir : splitList(path, ":")) {
        std::string p = dir + "/" + name;
        if (access(p.c_str(), X_OK) == 0)
            return p;
    }
    return {};
}

// fork/exec without a shell, so no argument is ever re-parsed.
RunResult runProgram(const std::string& prog, const std::vector<std::string>& args) {
    RunResult r;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(prog.c_str()));
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) != 0)
        return r;
    if (pipe2(errp, O_CLOEXEC) != 0) {
        close(outp[0]);
        close(outp[1]);
        return r;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        execv(prog.c_str(), argv.data());
        _exit(127);
    }
    if (devnull >= 0)
        close(devnull);
    close(outp[1]);
    close(errp[1]);
    if (pid < 0) {
        close(outp[0]);
        close(errp[0]);
        return r;
    }
    // Read both pipes together: a full stderr pipe must not block postconf
    // while we wait on stdout.
    struct pollfd fds[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    std::string* bufs[2] = {&r.out, &r.err};
    int open_ = 2;
    while (open_ > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                bufs[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0)
            close(f.fd);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return r;
}

std::string firstLine(const std::string& s) { return trim(s.substr(0, s.find('\n'))); }

// Postfix: nullopt when skipped (with a note), else the findings.
std::optional<std::vector<Finding>> doPostfix(const Config& cfg, const Options& opts,
                                               std::vector<std::string>& notes,
                                               std::vector<Finding>& errors) {
    const bool asked = opts.postfixConfig.has_value();
    auto skip = [&](const std::string& why) -> std::optional<std::vector<Finding>> {
        if (asked)
            errors.push_back(error("postfix: " + why, {}));
        else
            notes.push_back("postfix: " + why + "; Postfix not checked");
        return std::nullopt;
    };
    const std::string prog = findProgram("postconf");
    if (prog.empty())
        return skip("postconf not found");
    std::vector<std::string> base;
    if (asked)
        base = {"-c", *opts.postfixConfig};
    auto args = base;
    args.push_back("-x");
    for (const auto& p : postfixParameters())
        args.push_back(p);
    auto mainRun = runProgram(prog, args);
    if (mainRun.status != 0)
        return skip("postconf failed: " + firstLine(mainRun.err));
    args = base;
    args.push_back("-M");
    auto masterRun = runProgram(prog, args);
    if (masterRun.status != 0)
        return skip("postconf -M failed: " + firstLine(masterRun.err));
    args = base;
    args.insert(args.end(), {"-P", "-x"});
    auto overRun = runProgram(prog, args);
    if (overRun.status != 0)
        return skip("postconf -P failed: " + firstLine(overRun.err));

    PostfixConf pf;
    pf.dir = asked ? *opts.postfixConfig : std::string();
    pf.main = parsePostconfMain(mainRun.out);
    pf.services = parsePostconfMaster(masterRun.out);
    applyPostconfOverrides(pf.services, overRun.out);
    auto f = judgePostfix(cfg, pf);
    auto p = probeSocket(cfg, "postfix", postfixUser(pf));
    f.insert(f.end(), p.begin(), p.end());
    return f;
}

std::optional<std::vector<Finding>> doSendmail(const Config& cfg, const Options& opts,
                                                std::vector<std::string>& notes,
                                                std::vector<Finding>& errors) {
    const bool asked = opts.sendmailCf.has_value();
    const std::string path = asked ? *opts.sendmailCf : std::string("/etc/mail/sendmail.cf");
    std::ifstream in(path);
    if (!in) {
        std::string why = "cannot read " + path + ": " + std::strerror(errno);
        if (asked)
            errors.push_back(error("sendmail: " + why, {}));
        else
            notes.push_back("sendmail: " + why + "; Sendmail not checked");
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto sm = parseSendmailCf(ss.str());
    sm.path = path;
    auto f = judgeSendmail(cfg, sm);
    // The daemon connects to milters as RunAsUser when set, else as root.
    std::string user = get(sm.options, "RunAsUser");
    user = user.substr(0, user.find(':'));
    auto p = probeSocket(cfg, "sendmail", user.empty() ? "root" : user);
    f.insert(f.end(), p.begin(), p.end());
    return f;
}

} // namespace

int printFindings(const std::vector<Finding>& findings, std::ostream& out) {
    int warnings = 0, errors = 0, oks = 0;
    for (const auto& f : findings) {
        switch (f.level) {
        case Level::Ok: out << "ok: "; ++oks; break;
        case Level::Warning: out << "warning: "; ++warnings; break;
        case Level::Error: out << "error: "; ++errors; break;
        }
        out << f.text << "\n";
        for (const auto& x : f.fixes)
            out << "  fix (" << x.where << "): " << x.line << "\n";
    }
    out << "summary: " << oks << " ok, " << warnings << " warning(s), " << errors
        << " error(s)\n";
    return warnings + errors == 0 ? 0 : 1;
}

int runDoctor(const Config& cfg, const Options& opts, std::ostream& out) noexcept {
    try {
        // With neither option, look at both MTAs where they normally live;
        // naming one means "check this one".
        const bool none = !opts.postfixConfig && !opts.sendmailCf;
        std::vector<std::string> notes;
        std::vector<Finding> all;
        std::vector<Finding> errs;
        bool checked = false;
        out << "rfc8314-milter doctor: milter config "
            << (cfg.file.empty() ? std::string("(built-in defaults)") : cfg.file) << ", socket "
            << cfg.socket << "\n";
        if (none || opts.postfixConfig) {
            if (auto f = doPostfix(cfg, opts, notes, errs)) {
                checked = true;
                all.insert(all.end(), f->begin(), f->end());
            }
        }
        if (none || opts.sendmailCf) {
            if (auto f = doSendmail(cfg, opts, notes, errs)) {
                checked = true;
                all.insert(all.end(), f->begin(), f->end());
            }
        }
        for (const auto& n : notes)
            out << "note: " << n << "\n";
        all.insert(all.begin(), errs.begin(), errs.end());
        if (!checked && errs.empty())
            all.push_back(error("no MTA configuration found (neither postconf's nor "
                                "/etc/mail/sendmail.cf); name one with --postfix-config DIR "
                                "or --sendmail-cf FILE",
                                {}));
        return printFindings(all, out);
    } catch (const std::exception& e) {
        out << "error: doctor failed: " << e.what() << "\n";
        return 70;
    } catch (...) {
        out << "error: doctor failed\n";
        return 70;
    }
}

} // namespace rfc8314::doctor
