// test_config.cpp — the config reader: good and bad files with the exact
// file:line: key: message wanted, listener resolution, that the compiled-in
// configuration is the key table's defaults, that the table's
// Program_options descriptions serve the command line, and that every key in
// the table is documented in the sample config and the man page.
#include <boost/program_options.hpp>
#include <boost/test/unit_test.hpp>

#include "rfc8314/config.hpp"
#include "rfc8314/received.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace po = boost::program_options;

using namespace rfc8314;

namespace {
std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string joinErrors(const ConfigResult& r) {
    std::string out;
    for (const auto& e : r.errors)
        out += e.str() + "\n";
    return out;
}
} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_without_file) {
    auto r = parseConfig("", "");
    BOOST_REQUIRE(r.config);
    const auto& c = *r.config;
    BOOST_TEST(c.socket == "local:/run/rfc8314-milter/rfc8314-milter.sock");
    BOOST_TEST(c.umask == 007u);
    BOOST_TEST((c.onInternalError == FailAction::Tempfail));
    BOOST_TEST((c.trace == TraceMode::Tls));
    BOOST_TEST((c.logLevel == LogLevel::Info));
    BOOST_TEST(c.syslog);
}

BOOST_AUTO_TEST_CASE(good_file) {
    const char* text = "# comment\n"
                       "; also a comment\n"
                       "socket = inet:12025@127.0.0.1\n"
                       "umask = 002\n"
                       "log_level = debug\n"
                       "on_internal_error = accept\n"
                       "group_macro = tls_group\n"
                       "trace = always\n"
                       "audit_file = \"/var/log/x.jsonl\"\n"
                       "\n"
                       "[listener sub]\n"
                       "port = 587\n"
                       "key_exchange_group = X25519\n"
                       "[listener legacy]\n"
                       "daemon_name = MSA\n"
                       "address = 127.0.0.1\n"
                       "role = submission\n"
                       "trace = off\n";
    auto r = parseConfig(text, "t.conf");
    BOOST_REQUIRE_MESSAGE(r.config, joinErrors(r));
    const auto& c = *r.config;
    BOOST_TEST(c.socket == "inet:12025@127.0.0.1");
    BOOST_TEST(c.umask == 002u);
    BOOST_TEST((c.logLevel == LogLevel::Debug));
    BOOST_TEST((c.onInternalError == FailAction::Accept));
    BOOST_TEST(c.groupMacro == "{tls_group}");
    BOOST_TEST(c.auditFile == "/var/log/x.jsonl");
    BOOST_REQUIRE(c.listeners.size() == 2u);
    BOOST_TEST(c.listeners[0].keyExchangeGroup == "x25519", "alias X25519 stored as IANA x25519");

    ListenerFacts f;
    f.port = 587;
    auto l = c.resolveListener(f);
    BOOST_TEST(l.name == "sub");
    BOOST_TEST((l.role == Role::Submission), "role from the port when the section sets none");
    BOOST_TEST((l.trace == TraceMode::Always), "trace falls back to the global default");
    BOOST_TEST(l.keyExchangeGroup == "x25519");

    ListenerFacts g;
    g.port = 2525;
    g.name = "MSA";
    g.addr = "127.0.0.1";
    auto m = c.resolveListener(g);
    BOOST_TEST(m.name == "legacy");
    BOOST_TEST((m.trace == TraceMode::Off));

    g.addr = "127.0.0.2";
    auto n = c.resolveListener(g);
    BOOST_TEST(n.name == "relay", "every criterion must match: got " << n.name);
}

BOOST_AUTO_TEST_CASE(builtin_listeners_by_port) {
    Config c;
    struct Case {
        std::optional<std::uint16_t> port;
        Role want;
    };
    for (auto cs : std::vector<Case>{{587, Role::Submission},
                                     {465, Role::Submissions},
                                     {25, Role::Relay},
                                     {std::nullopt, Role::Relay}}) {
        ListenerFacts f;
        f.port = cs.port;
        auto got = c.resolveListener(f);
        BOOST_TEST((got.role == cs.want), "port " << (cs.port ? *cs.port : 0) << ": got "
                                                   << toString(got.role) << ", want "
                                                   << toString(cs.want));
        BOOST_TEST(got.name == std::string(toString(cs.want)));
    }
}

BOOST_AUTO_TEST_CASE(every_error_reported_with_file_line_key) {
    const char* text = "socket = tcp:25\n"              // 1
                       "umask = 9\n"                    // 2
                       "colour = blue\n"                // 3
                       "log_level = loud\n"             // 4
                       "this line has no equals\n"      // 5
                       "[listener x]\n"                 // 6
                       "port = 70000\n"                 // 7
                       "key_exchange_group = P-999\n"   // 8
                       "bogus = 1\n"                    // 9
                       "[frobnicate]\n"                 // 10
                       "anything = goes\n"              // 11
                       "[listener empty]\n"             // 12
                       "trace = sometimes\n"            // 13
                       "milter_timeout = 0\n";          // 14 (inside a listener: unknown there)
    auto r = parseConfig(text, "/etc/x.conf");
    BOOST_TEST(!r.config);
    std::vector<std::string> want = {
        "/etc/x.conf:1: socket: unknown socket type \"tcp\"",
        "/etc/x.conf:2: umask: want an octal mode such as 007, got \"9\"",
        "/etc/x.conf:3: colour: unknown key",
        "/etc/x.conf:4: log_level: want error, warning, notice, info or debug, got \"loud\"",
        "/etc/x.conf:5: this line has no equals: want key = value",
        "/etc/x.conf:7: port: want a port 1..65535, got \"70000\"",
        "/etc/x.conf:8: key_exchange_group: not an IANA group name or known alias: \"P-999\"",
        "/etc/x.conf:9: bogus: unknown key in a [listener] section",
        "/etc/x.conf:10: frobnicate: unknown section; want [listener NAME]",
        "/etc/x.conf:13: trace: want tls, always or off, got \"sometimes\"",
        "/etc/x.conf:14: milter_timeout: unknown key in a [listener] section",
        "/etc/x.conf:6: listener x: needs at least one of port, daemon_name, address to match",
        "/etc/x.conf:12: listener empty: needs at least one of port, daemon_name, address to match",
    };
    std::vector<std::string> got;
    for (const auto& e : r.errors)
        got.push_back(e.str());
    BOOST_TEST(got.size() == want.size(), "got " << got.size() << " errors, want " << want.size()
                                                 << ":\n" << joinErrors(r));
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
        BOOST_TEST(got[i] == want[i], "error " << i << ": got '" << got[i] << "', want '"
                                               << want[i] << "'");
}

// A comment after a value is refused where it stands, never folded into
// the value: `socket = inet:8891@127.0.0.1 # local` would only fail at
// start, `rollout_salt = abc # x` would silently move every user's bucket.
BOOST_AUTO_TEST_CASE(comment_after_a_value_is_an_error) {
    const std::string comment =
        "comment after the value; a comment must be on a line of its own (write a value in "
        "double quotes if it contains \" #\" or \" ;\")";
    struct Case {
        const char* line;
        const char* key;   // the error's key, or "" for an accepted line
        const char* value; // what an accepted line stores (rollout_salt / reply text)
    };
    const Case cases[] = {
        {"socket = inet:8891@127.0.0.1 # local", "socket", ""},
        {"rollout_salt = abc # x", "rollout_salt", ""},
        {"rollout_salt = abc\t# x", "rollout_salt", ""},
        {"rollout_salt = abc ; x", "rollout_salt", ""},
        {"rollout_salt = # nothing", "rollout_salt", ""},
        {"rollout_salt = \"abc\" # x", "rollout_salt", ""},
        {"rollout_salt = abc#x", "", "abc#x"},
        {"rollout_salt = abc;x", "", "abc;x"},
        {"rollout_salt = \"abc # x\"", "", "abc # x"},
        {"rollout_salt = \"a ; b\"", "", "a ; b"},
    };
    for (const auto& c : cases) {
        auto r = parseConfig(std::string(c.line) + "\n", "c.conf");
        if (*c.key) {
            const std::string want = "c.conf:1: " + std::string(c.key) + ": " + comment;
            BOOST_TEST(joinErrors(r) == want + "\n", c.line << ": got '" << joinErrors(r)
                                                           << "', want '" << want << "'");
        } else {
            BOOST_REQUIRE_MESSAGE(r.config, c.line << ": " << joinErrors(r));
            BOOST_TEST(r.config->rolloutSalt == c.value,
                       c.line << ": got '" << r.config->rolloutSalt << "', want '" << c.value << "'");
        }
    }
    // In a listener section, after a section header, and on a key that
    // another check depends on (no second error for `group` then).
    auto r = parseConfig("[listener a] # main\nport = 587\n"
                         "[listener b]\nport = 465\nreply = 530 5.7.0 No #\n",
                         "c.conf");
    BOOST_TEST(joinErrors(r) ==
                   "c.conf:1: comment after the section header; a comment must be on a line of "
                   "its own (write a value in double quotes if it contains \" #\" or \" ;\")\n"
                   "c.conf:5: reply: " + comment + "\n",
               joinErrors(r));
    auto g = parseConfig("user = nobody # x\ngroup = nogroup\n", "c.conf");
    BOOST_TEST(joinErrors(g) == "c.conf:1: user: " + comment + "\n", joinErrors(g));
    auto url = parseConfig("[listener b]\nport = 465\n"
                           "reply = 530 5.7.0 See https://example.org/tls#faq\n",
                           "c.conf");
    BOOST_REQUIRE_MESSAGE(url.config, joinErrors(url));
    BOOST_TEST(url.config->listeners[0].reply->text == "See https://example.org/tls#faq");
}

// What libmilter would refuse at start is refused by the parser already;
// only whether a host name resolves is left to start-up (and -n).
BOOST_AUTO_TEST_CASE(socket_values_libmilter_can_open) {
    const std::string path106 = "/" + std::string(105, 'p');
    struct Case {
        std::string value;
        std::string why; // "" = accepted
    };
    const Case cases[] = {
        {"local:/run/m.sock", ""},
        {"unix:/run/m.sock", ""},
        {"local:" + path106, ""},
        {"local:" + path106 + "x", "socket path longer than 106 bytes"},
        {"local:run/m.sock", "a local socket needs an absolute path"},
        {"inet:8891", ""},
        {"inet:8891@127.0.0.1", ""},
        {"inet:8891@localhost", ""},
        {"inet:8891@[127.0.0.1]", ""},
        {"inet6:8891@[::1]", ""},
        {"inet6:8891@::1", ""},
        {"inet:0@127.0.0.1", "bad port \"0\" (want 1 to 65535)"},
        {"inet:65536@127.0.0.1", "bad port \"65536\" (want 1 to 65535)"},
        {"inet:smtp@127.0.0.1", "bad port \"smtp\" (want 1 to 65535)"},
        {"inet:8891@", "empty address after @"},
        {"inet:8891@[::1]", "bad numeric address \"[::1]\" for inet"},
        {"inet6:8891@[127.0.0.1]", "bad numeric address \"[127.0.0.1]\" for inet6"},
        {"inet:8891@[127.0.0.1", "bad numeric address \"[127.0.0.1\" for inet"},
        {"inet:8891@127.0.0.1 local", "bad host \"127.0.0.1 local\""},
        {"inet:8891@host/x", "bad host \"host/x\""},
        {"tcp:25", "unknown socket type \"tcp\""},
        {"/run/m.sock", "want local:/path, inet:PORT@ADDR or inet6:PORT@ADDR, got \"/run/m.sock\""},
    };
    for (const auto& c : cases) {
        std::string why;
        const bool ok = parseSocketSpec(c.value, &why).has_value();
        BOOST_TEST(ok == c.why.empty(), c.value << ": got " << (ok ? "accepted" : why));
        if (!ok)
            BOOST_TEST(why == c.why, c.value << ": got '" << why << "', want '" << c.why << "'");
    }
    auto s = parseSocketSpec("inet6:8891@[::1]");
    BOOST_REQUIRE(s);
    BOOST_TEST((s->kind == SocketSpec::Kind::Inet6));
    BOOST_TEST(s->port == 8891);
    BOOST_TEST(s->host == "[::1]");
    auto l = parseSocketSpec("local:/run/m.sock");
    BOOST_REQUIRE(l);
    BOOST_TEST(l->path == "/run/m.sock");
}

// Errors found after parsing (start-up checks) point where the key was set.
BOOST_AUTO_TEST_CASE(errors_after_parsing_point_at_the_key) {
    auto r = parseConfig("syslog = no\n\nuser = nosuchuser\n", "/etc/m.conf",
                         {{"socket", "inet:1@nowhere.invalid"}});
    BOOST_REQUIRE_MESSAGE(r.config, joinErrors(r));
    struct Case {
        const char* key;
        const char* want;
    };
    for (const auto& c : {Case{"user", "/etc/m.conf:3: user: x"},
                          Case{"socket", "command line: socket: x"},
                          Case{"pid_file", "/etc/m.conf: pid_file: x"}}) {
        const auto got = r.config->errorAt(c.key, "x").str();
        BOOST_TEST(got == c.want, c.key << ": got '" << got << "', want '" << c.want << "'");
    }
}

BOOST_AUTO_TEST_CASE(duplicates_and_overrides) {
    auto r = parseConfig("trace = tls\ntrace = off\n", "d.conf");
    BOOST_REQUIRE(r.errors.size() == 1u);
    BOOST_TEST(r.errors[0].str() == "d.conf:2: trace: set twice (first at line 1)");

    auto o = parseConfig("socket = inet:1@127.0.0.1\n", "o.conf",
                         {{"socket", "inet:2@127.0.0.1"}, {"log_level", "debug"}});
    BOOST_REQUIRE(o.config);
    BOOST_TEST(o.config->socket == "inet:2@127.0.0.1", "the command line wins");
    auto bad = parseConfig("", "o.conf", {{"port", "587"}, {"umask", "x"}});
    BOOST_REQUIRE(bad.errors.size() == 2u);
    BOOST_TEST(bad.errors[0].str() == "command line: port: unknown key");

    auto twice = parseConfig("", "o.conf",
                             {{"socket", "inet:1@127.0.0.1"}, {"socket", "inet:2@127.0.0.1"}});
    BOOST_REQUIRE(twice.errors.size() == 1u);
    BOOST_TEST(twice.errors[0].str() == "command line: socket: set twice");
}

namespace {
// loadConfig(path, {}, optional) as an unprivileged user: root reads a
// mode-0 file anyway, so when run as root the load happens in a child that
// has switched to nobody; its errors come back through a pipe.
ConfigResult loadAsNonRoot(const std::string& path, bool optional) {
    if (geteuid() != 0)
        return loadConfig(path, {}, optional);
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        auto r = loadConfig(path, {}, optional);
        std::string out = r.config ? "ok\t" + r.config->file + "\n" : "";
        for (const auto& e : r.errors)
            out += e.file + "\t" + e.message + "\n";
        const ssize_t n = write(fds[1], out.data(), out.size());
        _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 3);
    }
    close(fds[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
        got.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: " << status);
    ConfigResult r;
    if (got.rfind("ok\t", 0) == 0) {
        auto c = std::make_shared<Config>();
        c->file = got.substr(3, got.size() - 4);
        r.config = std::move(c);
        return r;
    }
    std::istringstream in(got);
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        r.errors.push_back({line.substr(0, tab), 0, "", line.substr(tab + 1)});
    }
    return r;
}
} // namespace

// Only a default path that does not exist means the built-in defaults; any
// other failure to read is an error with the path and the reason.
BOOST_AUTO_TEST_CASE(unreadable_files) {
    char dir[] = "/tmp/rfc8314-config-XXXXXX";
    BOOST_REQUIRE(mkdtemp(dir) != nullptr);
    const std::string base(dir);
    BOOST_REQUIRE(chmod(dir, 0755) == 0);
    const std::string locked = base + "/locked.conf";
    std::ofstream(locked) << "trace = tls\n";
    BOOST_REQUIRE(chmod(locked.c_str(), 0) == 0);

    struct Case {
        std::string path;
        bool optional;
        std::string want; // "" = the built-in defaults
    };
    const std::vector<Case> cases = {
        {"/nonexistent/rfc8314.conf", false,
         "/nonexistent/rfc8314.conf: cannot read the file: " + std::string(std::strerror(ENOENT))},
        {"/nonexistent/rfc8314.conf", true, ""},
        {base, true, base + ": cannot read the file: " + std::strerror(EISDIR)},
        {base, false, base + ": cannot read the file: " + std::strerror(EISDIR)},
        {locked, true, locked + ": cannot read the file: " + std::strerror(EACCES)},
        {locked, false, locked + ": cannot read the file: " + std::strerror(EACCES)},
    };
    for (const auto& c : cases) {
        auto r = loadAsNonRoot(c.path, c.optional);
        if (c.want.empty()) {
            BOOST_TEST(r.config != nullptr, c.path << ": " << joinErrors(r));
            if (r.config)
                BOOST_TEST(r.config->file.empty(), "built-in defaults");
        } else {
            BOOST_TEST(!r.config, c.path << ": accepted");
            BOOST_TEST(joinErrors(r) == c.want + "\n", "got '" << joinErrors(r) << "', want '" << c.want
                                                               << "'");
        }
    }
    unlink(locked.c_str());
    rmdir(base.c_str());
}

// The defaults live only in the key table: Config() and ListenerConfig()
// hold them, and writing every key's default explicitly changes nothing.
BOOST_AUTO_TEST_CASE(compiled_in_config_is_the_table_defaults) {
    std::string globals, section = "[listener d]\nport = 587\n";
    for (const auto& k : configKeys()) {
        const std::string line = std::string(k.name) + " = " + std::string(k.defaultValue) + "\n";
        if (k.scope == KeyScope::Global)
            globals += line;
        else if (!k.defaultValue.empty())
            section += line;
    }
    auto r = parseConfig(globals + section, "defaults.conf");
    BOOST_REQUIRE_MESSAGE(r.config, joinErrors(r));
    const Config builtin;
    auto changed = changedKeys(builtin, *r.config);
    std::string names;
    for (const auto& n : changed)
        names += n + " ";
    BOOST_TEST(changed.empty(), "keys whose compiled-in value is not the table default: " << names);
    BOOST_TEST(changedKeys(builtin, *parseConfig("", "").config).empty());

    // Listener keys: a section that writes out every default resolves to the
    // built-in policy, as does one that writes none.
    auto same = [](const ListenerPolicy& a, const ListenerPolicy& b) {
        return a.enabled == b.enabled && a.requireTlsForAuth == b.requireTlsForAuth &&
               a.minTlsVersion == b.minTlsVersion && a.minCipherBits == b.minCipherBits &&
               a.action == b.action && a.enforceFrom.has_value() == b.enforceFrom.has_value() &&
               a.rolloutPercent == b.rolloutPercent && a.reply.has_value() == b.reply.has_value();
    };
    ListenerFacts f;
    f.port = 587;
    BOOST_TEST(same(r.config->resolveListener(f).policy, Config::defaultPolicy(Role::Submission)));
    BOOST_TEST(same(ListenerConfig().policyFor(Role::Relay), Config::defaultPolicy(Role::Relay)));
    BOOST_TEST(same(builtin.resolveListener(f).policy, Config::defaultPolicy(Role::Submission)));

    // What those defaults are (RFC 8314 §4.1, RFC 8997), once.
    const auto p = Config::defaultPolicy(Role::Submission);
    BOOST_TEST(p.enabled);
    BOOST_TEST(p.requireTlsForAuth);
    BOOST_TEST((p.minTlsVersion == TlsVersion::TLSv1_2));
    BOOST_TEST(p.minCipherBits == 128);
    BOOST_TEST((p.action == PolicyAction::Reject));
    BOOST_TEST(p.rolloutPercent == 100);
    BOOST_TEST(!Config::defaultPolicy(Role::Relay).enabled);
}

// The command line uses the same descriptions: the table's types, defaults
// and typed setters work through po::command_line_parser unchanged.
BOOST_AUTO_TEST_CASE(descriptions_serve_the_command_line) {
    Config c;
    auto desc = globalOptions(&c);
    for (const auto& k : configKeys()) {
        const std::string name(k.name);
        const bool inGlobal = desc.find_nothrow(name, false) != nullptr;
        const bool inListener = listenerOptions().find_nothrow(name, false) != nullptr;
        // Keys a listener can override: in both tables.
        const bool both = name == "trace" || name == "exceptions_file";
        BOOST_TEST(inGlobal == (k.scope == KeyScope::Global || both), name);
        BOOST_TEST(inListener == (k.scope == KeyScope::Listener || both), name);
    }
    const char* argv[] = {"rfc8314-milter", "--umask=002", "--log_level", "debug", "--trace=off"};
    po::variables_map vm;
    po::store(po::command_line_parser(5, argv).options(desc).run(), vm);
    po::notify(vm);
    BOOST_TEST(c.umask == 002u);
    BOOST_TEST((c.logLevel == LogLevel::Debug));
    BOOST_TEST((c.trace == TraceMode::Off));
    BOOST_TEST(c.socket == "local:/run/rfc8314-milter/rfc8314-milter.sock", "default kept");

    const char* bad[] = {"rfc8314-milter", "--umask=9"};
    po::variables_map vm2;
    BOOST_CHECK_THROW(po::store(po::command_line_parser(2, bad).options(desc).run(), vm2),
                      po::invalid_option_value);
}

// Settings that conflict are reported at the line of the key at fault.
BOOST_AUTO_TEST_CASE(group_without_user) {
    struct Case {
        std::string text;
        std::vector<ConfigOverride> overrides;
        std::string want; // "" = valid
    };
    const std::vector<Case> cases = {
        {"trace = tls\ngroup = mail\n", {}, "g.conf:2: group: group is set but user is not\n"},
        {"user = milter\ngroup = mail\n", {}, ""},
        {"group = mail\n", {{"user", "milter"}}, ""},
        {"", {{"group", "mail"}}, "command line: group: group is set but user is not\n"},
        {"group = mail\n", {{"group", "other"}}, "command line: group: group is set but user is not\n"},
        {"group =\n", {}, ""},
    };
    for (const auto& c : cases) {
        auto r = parseConfig(c.text, "g.conf", c.overrides);
        BOOST_TEST(joinErrors(r) == c.want, "text:\n" << c.text << "got:\n" << joinErrors(r)
                                                     << "want:\n" << c.want);
    }
}

// hostname is checked with the rule the Received builder applies to its
// `by` host, so a value that passes -n is the one the trace field shows.
BOOST_AUTO_TEST_CASE(hostname_is_what_the_trace_field_writes) {
    struct Case {
        const char* host;
        bool valid;
    };
    const std::vector<Case> cases = {
        {"mx.example.org", true},   {"localhost", true},      {"mx-1.example.org", true},
        {"MX.Example.ORG", true},   {"mx..example-", false},  {"mx.example-", false},
        {"-mx.example.org", false}, {".mx.example", false},   {"mx.example.", false},
        {"mx_1.example", false},    {"mx example", false},    {"[192.0.2.1]", false},
        {"a.b-.c", false},
    };
    for (const auto& c : cases) {
        auto r = parseConfig(std::string("hostname = ") + c.host + "\n", "h.conf");
        BOOST_TEST((r.config != nullptr) == c.valid, c.host << ": " << joinErrors(r));
        BOOST_TEST(isValidByHost(c.host) == c.valid, c.host);
        ReceivedInput in;
        in.byHost = c.host;
        in.when = 1795507501;
        const auto field = buildReceived(in);
        const bool written = field.find(std::string("by ") + c.host + " ") != std::string::npos;
        BOOST_TEST(written == c.valid, c.host << ": " << field);
        if (!c.valid)
            BOOST_TEST(joinErrors(r).rfind("h.conf:1: hostname: want a domain name", 0) == 0,
                       joinErrors(r));
    }
    BOOST_TEST(parseConfig("hostname =\n", "h.conf").config != nullptr, "empty: the MTA's {j}");
}

BOOST_AUTO_TEST_CASE(restart_only_changes_listed) {
    Config a, b;
    b.socket = "inet:1@127.0.0.1";
    b.logLevel = LogLevel::Debug;
    auto ch = restartOnlyChanges(a, b);
    BOOST_REQUIRE(ch.size() == 1u);
    BOOST_TEST(ch[0] == "socket");
}

namespace {
// The text of a man page section: from ".SH TITLE" to the next ".SH".
std::string manSection(const std::string& man, const std::string& title) {
    const auto start = man.find("\n.SH " + title + "\n");
    if (start == std::string::npos)
        return {};
    const auto end = man.find("\n.SH ", start + 1);
    return man.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Whether a man page section has an entry of its own for `key`: a tagged
// paragraph whose tag is the key, ".TP" then ".B key" on the next line.
bool hasManEntry(const std::string& section, const std::string& key) {
    return section.find("\n.TP\n.B " + key + "\n") != std::string::npos;
}
} // namespace

// trace_client and a listener's own exceptions file: parsed, resolved per
// listener, and every error in an exceptions file reported with its file and
// line under the key that named it.
BOOST_AUTO_TEST_CASE(listener_trace_client_and_exceptions_file) {
    char dir[] = "/tmp/rfc8314-config-XXXXXX";
    BOOST_REQUIRE(mkdtemp(dir) != nullptr);
    const std::string d(dir);
    std::ofstream(d + "/global") << "alice@example.org\n";
    std::ofstream(d + "/legacy") << "# devices\n192.0.2.0/24 until 2099-01-01\n";
    std::ofstream(d + "/bad") << "192.0.2.0/24\n192.0.2.1/24\n";
    const std::string head = "exceptions_file = " + d + "/global\n";
    const std::string text = head +
                             "[listener main]\nport = 587\n"
                             "[listener legacy]\nport = 10587\ntrace_client = Hidden\n"
                             "exceptions_file = " + d + "/legacy\n"
                             "[listener none]\nport = 2587\nexceptions_file =\n";
    std::ofstream(d + "/ok.conf") << text;
    auto r = loadConfig(d + "/ok.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST_REQUIRE(r.config != nullptr, joinErrors(r));
    struct Case {
        std::uint16_t port;
        TraceClient trace;
        std::string file; // the exceptions file the policy consults
        std::size_t entries;
    };
    const std::vector<Case> cases = {
        {587, TraceClient::Full, d + "/global", 1},
        {10587, TraceClient::Hidden, d + "/legacy", 1},
        {2587, TraceClient::Full, "", 0},
        {25, TraceClient::Full, d + "/global", 1}, // no section: the built-in relay
    };
    for (const auto& c : cases) {
        ListenerFacts f;
        f.port = c.port;
        const auto l = r.config->resolveListener(f);
        BOOST_TEST((l.traceClient == c.trace), c.port << ": trace_client " << toString(l.traceClient));
        BOOST_TEST_REQUIRE(l.exceptions != nullptr, c.port);
        BOOST_TEST(l.exceptions->file == c.file, c.port << ": got '" << l.exceptions->file << "'");
        BOOST_TEST(l.exceptions->entries.size() == c.entries, c.port);
    }

    std::ofstream(d + "/bad.conf") << "[listener legacy]\nport = 10587\ntrace_client = secret\n"
                                   << "exceptions_file = relative/path\n";
    r = loadConfig(d + "/bad.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST(!r.config);
    BOOST_TEST(joinErrors(r) == d + "/bad.conf:3: trace_client: want full or hidden, got \"secret\"\n" +
                                    d + "/bad.conf:4: exceptions_file: want an absolute path\n",
               joinErrors(r));

    std::ofstream(d + "/badexc.conf") << "[listener legacy]\nport = 10587\nexceptions_file = " << d
                                      << "/bad\n";
    r = loadConfig(d + "/badexc.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST(!r.config);
    // The config line that named the file, the key, then the exceptions file's own line.
    BOOST_TEST(joinErrors(r).find(d + "/badexc.conf:3: listener legacy: exceptions_file: " + d +
                                  "/bad:2: bad network \"192.0.2.1/24\": host bits set") != std::string::npos,
               joinErrors(r));
    std::ofstream(d + "/badexc.conf") << "# global\n\nexceptions_file = " << d << "/bad\n";
    r = loadConfig(d + "/badexc.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST(!r.config);
    BOOST_TEST(joinErrors(r).find(d + "/badexc.conf:3: exceptions_file: " + d +
                                  "/bad:2: bad network \"192.0.2.1/24\": host bits set") != std::string::npos,
               joinErrors(r));

    std::ofstream(d + "/off.conf") << "[listener x]\nport = 10587\ntrace = off\ntrace_client = hidden\n";
    r = loadConfig(d + "/off.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST_REQUIRE(r.config != nullptr, joinErrors(r));
    BOOST_TEST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(r.warnings[0] == d + "/off.conf:4: listener x: trace_client has no effect with trace = off");

    for (const char* f : {"/global", "/legacy", "/bad", "/ok.conf", "/bad.conf", "/badexc.conf", "/off.conf"})
        unlink((d + f).c_str());
    rmdir(dir);
}

BOOST_AUTO_TEST_CASE(sample_config_is_valid_and_every_key_documented) {
    auto r = loadConfig("conf/rfc8314-milter.conf");
    BOOST_TEST(r.config != nullptr, joinErrors(r));
    const auto sample = readFile("conf/rfc8314-milter.conf");
    const auto man = readFile("man/rfc8314-milter.conf.5");
    BOOST_REQUIRE(!sample.empty());
    BOOST_REQUIRE(!man.empty());
    // Global keys come before the first (possibly commented-out) line that
    // opens a [listener] section.
    const auto firstSection = std::min(sample.find("\n[listener "), sample.find("\n#[listener "));
    BOOST_REQUIRE(firstSection != std::string::npos);
    const std::string sampleGlobal = sample.substr(0, firstSection);
    const std::string sampleListener = sample.substr(firstSection);
    const std::string manGlobal = manSection(man, "GLOBAL KEYS");
    const std::string manListener = manSection(man, "LISTENER KEYS");
    BOOST_REQUIRE(!manGlobal.empty());
    BOOST_REQUIRE(!manListener.empty());
    for (const auto& k : configKeys()) {
        const std::string name(k.name);
        const bool global = k.scope == KeyScope::Global;
        const auto& in = global ? sampleGlobal : sampleListener;
        // A line of its own, set or commented out: "key = ..." or "#key = ...".
        bool found = false;
        std::istringstream lines(in);
        for (std::string l; std::getline(lines, l) && !found;)
            found = l.rfind(name + " = ", 0) == 0 || l.rfind("#" + name + " = ", 0) == 0 ||
                    l == name + " =" || l == "#" + name + " =";
        BOOST_TEST(found, (global ? "global" : "listener")
                              << " key " << name << " has no line '" << name
                              << " = ...' in conf/rfc8314-milter.conf");
        BOOST_TEST(hasManEntry(global ? manGlobal : manListener, name),
                   (global ? "global" : "listener")
                       << " key " << name << " has no entry in man/rfc8314-milter.conf.5 (want "
                       << "'.TP' then '.B " << name << "' under "
                       << (global ? "GLOBAL KEYS" : "LISTENER KEYS") << ")");
    }
}

BOOST_AUTO_TEST_SUITE_END()
