// test_metrics.cpp — the metrics registry and its renderings: the
// metrics_listen address, content negotiation, label escaping, value
// formatting, bounded label tables, exact counts under concurrency, both
// exposition formats line by line, and promtool's verdict on a rendering.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "rfc8314/config.hpp"
#include "rfc8314/metrics.hpp"
#include "rfc8314/session.hpp"

using namespace rfc8314;
using metrics::Format;

namespace {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

bool hasLine(const std::string& text, const std::string& line) {
    for (const auto& l : lines(text))
        if (l == line)
            return true;
    return false;
}

// The value of the one sample line that starts with `series` + " ".
std::string sampleValue(const std::string& text, const std::string& series) {
    for (const auto& l : lines(text))
        if (l.rfind(series + " ", 0) == 0)
            return l.substr(series.size() + 1);
    return "(absent)";
}

// A registry with every family populated, hostile listener names included.
void populate(Metrics& m) {
    m.declareListener("submission");
    m.declareListener("submissions");
    m.declareListener("relay");
    m.transaction({"submission", "reject", "cleartext", "none", "none", true});
    m.transaction({"submission", "reject", "cleartext", "none", "none", false});
    m.transaction({"submission", "accept", "", "TLSv1.3", "TLS_AES_256_GCM_SHA384", false});
    m.transaction({"submissions", "would-reject", "tls-version", "TLSv1.1",
                   "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false});
    m.transaction({"we\"ird\\na\nme \xff", "exempt", "", "TLSv1.2", "0xC0FF", false});
    m.internalError(Stage::Eom);
    m.observe(Stage::Mail, std::chrono::microseconds(3));
    m.observe(Stage::Mail, std::chrono::microseconds(30));
    m.observe(Stage::Mail, std::chrono::seconds(2));
    m.sessionOpened();
    m.sessionOpened();
    m.sessionClosed();
    m.reloaded(true, 1700000100);
    m.reloaded(false, 1700000200);
}

struct Populated {
    Populated() { populate(m); }
    Metrics m{"0.1.0", "OpenSSL 3.0.17 1 Jul 2025", 1700000000};
};

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_suite)

struct ListenCase {
    std::string in;
    std::string want; // canonical form, or "" when it must be refused
};

BOOST_AUTO_TEST_CASE(listen_address_table) {
    const std::vector<ListenCase> cases = {
        {"127.0.0.1:9925", "127.0.0.1:9925"},
        {"0.0.0.0:1", "0.0.0.0:1"},
        {"[::1]:9925", "[::1]:9925"},
        {"[::]:65535", "[::]:65535"},
        {"[2001:db8::10]:80", "[2001:db8::10]:80"},
        {"127.0.0.1", ""},
        {"127.0.0.1:", ""},
        {"127.0.0.1:0", ""},
        {"127.0.0.1:65536", ""},
        {"127.0.0.1:99x", ""},
        {":9925", ""},
        {"localhost:9925", ""},
        {"::1:9925", ""},
        {"[::1]9925", ""},
        {"[::1]:", ""},
        {"[127.0.0.1]:9925", ""},
        {"[::1:9925", ""},
        {"", ""},
        {"256.0.0.1:9925", ""},
    };
    for (const auto& c : cases) {
        std::string why;
        auto got = parseListenAddress(c.in, &why);
        BOOST_TEST_CONTEXT("input '" << c.in << "'") {
            if (c.want.empty()) {
                BOOST_TEST(!got.has_value(), "got " << (got ? got->str() : "") << ", want refused");
                BOOST_TEST(!why.empty(), "a refusal says why");
            } else {
                BOOST_TEST_REQUIRE(got.has_value(), "refused: " << why);
                BOOST_TEST(got->str() == c.want, "got " << got->str() << ", want " << c.want);
            }
        }
    }
}

// The key reaches the config in its one canonical spelling, and a bad value
// is a configuration error with file, line and key (so -n catches it).
BOOST_AUTO_TEST_CASE(metrics_listen_key) {
    auto good = parseConfig("metrics_listen = [::1]:9925\n", "m.conf");
    BOOST_TEST_REQUIRE(good.config != nullptr);
    BOOST_TEST(good.config->metricsListen == "[::1]:9925");
    auto unset = parseConfig("", "m.conf");
    BOOST_TEST_REQUIRE(unset.config != nullptr);
    BOOST_TEST(unset.config->metricsListen.empty(), "off when unset");
    auto bad = parseConfig("\nmetrics_listen = localhost:9925\n", "m.conf");
    BOOST_TEST_REQUIRE(bad.errors.size() == 1u);
    BOOST_TEST(bad.errors[0].str().rfind("m.conf:2: metrics_listen: want ADDR:PORT", 0) == 0, bad.errors[0].str());
}

struct AcceptCase {
    std::string accept;
    Format want;
};

BOOST_AUTO_TEST_CASE(negotiate_table) {
    const std::vector<AcceptCase> cases = {
        {"", Format::Prometheus},
        {"*/*", Format::Prometheus},
        {"text/plain", Format::Prometheus},
        {"application/json", Format::Prometheus},
        // What Prometheus 2.42 sends.
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
         "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         Format::OpenMetrics},
        {"application/openmetrics-text", Format::OpenMetrics},
        {"Application/OpenMetrics-Text; version=1.0.0", Format::OpenMetrics},
        {"application/openmetrics-text; version=1.0.0; charset=utf-8", Format::OpenMetrics},
        // Only an older OpenMetrics version: not what we write.
        {"application/openmetrics-text;version=0.0.1", Format::Prometheus},
        // q decides; a tie goes to the format the client named specifically.
        {"text/plain;q=0.9, application/openmetrics-text;q=0.5", Format::Prometheus},
        {"text/plain;q=0.5, application/openmetrics-text;q=0.9", Format::OpenMetrics},
        {"text/plain, application/openmetrics-text", Format::OpenMetrics},
        {"application/openmetrics-text;q=0", Format::Prometheus},
        {"application/openmetrics-text;q=1.000", Format::OpenMetrics},
        // A malformed q discards that range only.
        {"application/openmetrics-text;q=abc, text/plain", Format::Prometheus},
        {"application/openmetrics-text;q=1.5", Format::Prometheus},
        {",,;;=,application/openmetrics-text", Format::OpenMetrics},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("Accept: " << c.accept) {
            BOOST_TEST((metrics::negotiate(c.accept) == c.want));
        }
    }
    BOOST_TEST(metrics::contentType(Format::OpenMetrics) ==
               "application/openmetrics-text; version=1.0.0; charset=utf-8");
    BOOST_TEST(metrics::contentType(Format::Prometheus) == "text/plain; version=0.0.4; charset=utf-8");
}

struct EscapeCase {
    std::string in;
    std::string want;
};

BOOST_AUTO_TEST_CASE(label_value_table) {
    const std::vector<EscapeCase> cases = {
        {"submission", "submission"},
        {"", ""},
        {"a\"b", "a\\\"b"},
        {"a\\b", "a\\\\b"},
        {"a\nb", "a\\nb"},
        {"tab\there", "tab\there"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
        {"bad\xff", "bad\xef\xbf\xbd"},
        {"\xc3", "\xef\xbf\xbd"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, // a surrogate is not UTF-8
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.in << "'") {
            BOOST_TEST(metrics::escapeLabelValue(c.in) == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(value_table) {
    const std::vector<std::pair<double, std::string>> cases = {
        {0, "0"},        {1, "1"},         {1700000000, "1700000000"}, {0.005, "0.005"},
        {1e-05, "1e-05"}, {2.000033, "2.000033"}, {1.0 / 0.0, "+Inf"}, {-1.0 / 0.0, "-Inf"},
    };
    for (const auto& [in, want] : cases) {
        BOOST_TEST(metrics::formatValue(in) == want, "got " << metrics::formatValue(in) << ", want " << want);
    }
}

BOOST_AUTO_TEST_CASE(label_values_are_bounded) {
    metrics::LabelValues v(3, "other");
    BOOST_TEST(v.index("a") == 0u);
    BOOST_TEST(v.index("b") == 1u);
    BOOST_TEST(v.index("a") == 0u, "a value seen before keeps its slot");
    BOOST_TEST(v.index("c") == 2u);
    BOOST_TEST(v.index("d") == 3u, "past the capacity: the overflow slot");
    BOOST_TEST(v.index("e") == 3u);
    BOOST_TEST(v.size() == 3u);
    BOOST_TEST(v.slots() == 4u);
    BOOST_TEST(v.name(1) == "b");
    BOOST_TEST(v.name(3) == "other");
}

// Every event counts exactly once, with many threads adding at once and
// label values (more than fit) first seen concurrently.
BOOST_AUTO_TEST_CASE(exact_under_concurrency) {
    Metrics m("v", "o", 0);
    constexpr int kThreads = 8;
    constexpr int kEach = 20000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&m, t] {
            // 8 threads x 3 names = 24 listeners: 16 get a slot, the rest "other".
            const std::string names[] = {"l" + std::to_string(t), "m" + std::to_string(t),
                                         "n" + std::to_string(t)};
            for (int i = 0; i < kEach; ++i) {
                m.transaction({names[i % 3], "accept", "", "TLSv1.3", "TLS_AES_128_GCM_SHA256", i % 2 == 0});
                m.observe(Stage::Rcpt, std::chrono::nanoseconds(i));
                m.sessionOpened();
                m.sessionClosed();
            }
        });
    }
    for (auto& th : threads)
        th.join();
    const auto text = m.render(Format::Prometheus);
    long long transactions = 0, tls = 0, cleartext = 0, listeners = 0;
    bool sawOther = false;
    for (const auto& l : lines(text)) {
        const auto value = [&] { return std::atoll(l.substr(l.rfind(' ') + 1).c_str()); };
        if (l.rfind("rfc8314_transactions_total{", 0) == 0) {
            transactions += value();
            ++listeners;
            sawOther = sawOther || l.find("listener=\"other\"") != std::string::npos;
        } else if (l.rfind("rfc8314_tls_transactions_total{", 0) == 0) {
            tls += value();
        } else if (l.rfind("rfc8314_cleartext_auth_total{", 0) == 0) {
            cleartext += value();
        }
    }
    const long long want = static_cast<long long>(kThreads) * kEach;
    BOOST_TEST(transactions == want);
    BOOST_TEST(tls == want);
    BOOST_TEST(cleartext == want / 2);
    BOOST_TEST(listeners == 17, "16 listener slots and other, got " << listeners);
    BOOST_TEST(sawOther);
    BOOST_TEST(sampleValue(text, "rfc8314_callback_duration_seconds_count{stage=\"rcpt\"}") ==
               std::to_string(want));
    BOOST_TEST(sampleValue(text, "rfc8314_callback_duration_seconds_bucket{stage=\"rcpt\",le=\"+Inf\"}") ==
               std::to_string(want));
    BOOST_TEST(sampleValue(text, "rfc8314_sessions_active") == "0");
}

struct SampleCase {
    std::string series;
    std::string want;
};

BOOST_AUTO_TEST_CASE(prometheus_text) {
    const auto text = Populated().m.render(Format::Prometheus);
    const std::vector<SampleCase> cases = {
        {"rfc8314_transactions_total{listener=\"submission\",verdict=\"reject\",reason=\"cleartext\"}", "2"},
        {"rfc8314_transactions_total{listener=\"submission\",verdict=\"accept\",reason=\"\"}", "1"},
        {"rfc8314_transactions_total{listener=\"submissions\",verdict=\"would-reject\",reason=\"tls-version\"}", "1"},
        {"rfc8314_transactions_total{listener=\"we\\\"ird\\\\na\\nme \xef\xbf\xbd\",verdict=\"exempt\",reason=\"\"}", "1"},
        {"rfc8314_transactions_total{listener=\"relay\",verdict=\"accept\",reason=\"\"}", "(absent)"},
        {"rfc8314_tls_transactions_total{listener=\"submission\",tls_version=\"none\",cipher=\"none\"}", "2"},
        {"rfc8314_tls_transactions_total{listener=\"submission\",tls_version=\"TLSv1.3\",cipher=\"TLS_AES_256_GCM_SHA384\"}", "1"},
        {"rfc8314_tls_transactions_total{listener=\"submissions\",tls_version=\"TLSv1.1\",cipher=\"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\"}", "1"},
        {"rfc8314_cleartext_auth_total{listener=\"submission\"}", "1"},
        {"rfc8314_cleartext_auth_total{listener=\"relay\"}", "0"},
        {"rfc8314_internal_errors_total{stage=\"eom\"}", "1"},
        {"rfc8314_internal_errors_total{stage=\"mail\"}", "0"},
        {"rfc8314_internal_errors_total{stage=\"other\"}", "(absent)"},
        {"rfc8314_config_reloads_total{result=\"ok\"}", "1"},
        {"rfc8314_config_reloads_total{result=\"failed\"}", "1"},
        {"rfc8314_config_last_reload_successful", "0"},
        {"rfc8314_config_last_reload_success_timestamp_seconds", "1700000100"},
        {"rfc8314_sessions_active", "1"},
        {"rfc8314_callback_duration_seconds_bucket{stage=\"mail\",le=\"1e-05\"}", "1"},
        {"rfc8314_callback_duration_seconds_bucket{stage=\"mail\",le=\"2.5e-05\"}", "1"},
        {"rfc8314_callback_duration_seconds_bucket{stage=\"mail\",le=\"5e-05\"}", "2"},
        {"rfc8314_callback_duration_seconds_bucket{stage=\"mail\",le=\"1\"}", "2"},
        {"rfc8314_callback_duration_seconds_bucket{stage=\"mail\",le=\"+Inf\"}", "3"},
        {"rfc8314_callback_duration_seconds_sum{stage=\"mail\"}", "2.000033"},
        {"rfc8314_callback_duration_seconds_count{stage=\"mail\"}", "3"},
        {"rfc8314_callback_duration_seconds_count{stage=\"helo\"}", "0"},
        {"rfc8314_callback_duration_seconds_count{stage=\"other\"}", "(absent)"},
        {"rfc8314_build_info{version=\"0.1.0\",openssl=\"OpenSSL 3.0.17 1 Jul 2025\"}", "1"},
    };
    for (const auto& c : cases) {
        const auto got = sampleValue(text, c.series);
        BOOST_TEST(got == c.want, c.series << ": got " << got << ", want " << c.want);
    }
    for (const auto& head : {"# TYPE rfc8314_transactions_total counter",
                             "# TYPE rfc8314_callback_duration_seconds histogram",
                             "# TYPE rfc8314_build_info gauge", "# TYPE rfc8314_sessions_active gauge"}) {
        BOOST_TEST(hasLine(text, head), head);
    }
    BOOST_TEST(text.find("# EOF") == std::string::npos);
    BOOST_TEST(text.back() == '\n');
}

BOOST_AUTO_TEST_CASE(openmetrics_text) {
    const Populated p;
    const auto& m = p.m;
    const auto om = m.render(Format::OpenMetrics);
    const auto text = m.render(Format::Prometheus);
    // Same samples; only the descriptors and the end differ.
    std::vector<std::string> omSamples, textSamples;
    for (const auto& l : lines(om))
        if (l.empty() || l[0] != '#')
            omSamples.push_back(l);
    for (const auto& l : lines(text))
        if (l.empty() || l[0] != '#')
            textSamples.push_back(l);
    BOOST_TEST(omSamples == textSamples);
    BOOST_TEST(om.size() >= 6);
    BOOST_TEST(om.substr(om.size() - 6) == "# EOF\n", "ends in # EOF");
    for (const auto& head : {"# TYPE rfc8314_transactions counter",
                             "# HELP rfc8314_transactions Audit events: one per authenticated "
                             "transaction and per decision that is not a plain accept, by listener, "
                             "verdict and reason (empty when none).",
                             "# TYPE rfc8314_config_reloads counter", "# TYPE rfc8314_build info",
                             "# TYPE rfc8314_callback_duration_seconds histogram"}) {
        BOOST_TEST(hasLine(om, head), head);
    }
    BOOST_TEST(om.find("_total counter") == std::string::npos,
               "an OpenMetrics counter family is named without _total");
}

BOOST_AUTO_TEST_CASE(request_head_length_table) {
    const std::vector<std::pair<std::string, std::size_t>> cases = {
        {"", 0},
        {"GET /metrics HTTP/1.1\r\n", 0},
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n", 0},
        {"GET /metrics HTTP/1.1\r\n\r\n", 25},
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nbody", 34},
        {"GET /metrics HTTP/1.1\n\n", 23},
        {"GET /metrics HTTP/1.1\r\n\r", 0},
    };
    for (const auto& [in, want] : cases) {
        BOOST_TEST(metrics::requestHeadLength(in) == want, "'" << in << "': got "
                                                                << metrics::requestHeadLength(in) << ", want " << want);
    }
}

struct HttpCase {
    std::string head;
    std::string status;       // the status line
    std::string contentType;  // "" = not checked
    bool body;                // the registry follows the head
};

BOOST_AUTO_TEST_CASE(http_response_table) {
    const Populated p;
    const std::string om = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    const std::string text = "text/plain; version=0.0.4; charset=utf-8";
    const std::vector<HttpCase> cases = {
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", text, true},
        {"GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", text, true},
        {"GET /metrics?x=1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK", text, true},
        {"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n",
         "HTTP/1.1 200 OK", om, true},
        {"GET /metrics HTTP/1.1\r\naccept:application/openmetrics-text\r\n\r\n", "HTTP/1.1 200 OK", om, true},
        // Two Accept fields are one list.
        {"GET /metrics HTTP/1.1\r\nAccept: text/plain;q=0.1\r\nAccept: application/openmetrics-text\r\n\r\n",
         "HTTP/1.1 200 OK", om, true},
        {"GET /metrics HTTP/1.1\nAccept: */*\n\n", "HTTP/1.1 200 OK", text, true},
        {"HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK", text, false},
        {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "", false},
        {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "", false},
        {"GET /Metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "", false},
        {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n", "HTTP/1.1 404 Not Found", "", false},
        {"get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "", false},
        {"GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 400 Bad Request", "", false},
        {"GET /metrics\r\n\r\n", "HTTP/1.1 400 Bad Request", "", false},
        {"GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", "", false},
        {"\r\n\r\n", "HTTP/1.1 400 Bad Request", "", false},
        {std::string("GET /metrics\0 HTTP/1.1\r\n\r\n", 26), "HTTP/1.1 404 Not Found", "", false},
    };
    for (const auto& c : cases) {
        const auto r = metrics::httpResponse(c.head, p.m);
        const auto headEnd = r.find("\r\n\r\n");
        BOOST_TEST_CONTEXT("request '" << c.head << "'") {
            BOOST_TEST_REQUIRE(headEnd != std::string::npos);
            const auto head = r.substr(0, headEnd + 2);
            const auto body = r.substr(headEnd + 4);
            BOOST_TEST(head.substr(0, head.find("\r\n")) == c.status);
            if (!c.contentType.empty())
                BOOST_TEST(head.find("\r\nContent-Type: " + c.contentType + "\r\n") != std::string::npos, head);
            BOOST_TEST(head.find("\r\nConnection: close\r\n") != std::string::npos);
            BOOST_TEST((body.find("rfc8314_build_info{") != std::string::npos) == c.body, body.substr(0, 80));
            if (c.head.rfind("HEAD", 0) != 0) {
                BOOST_TEST(head.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") !=
                           std::string::npos, "Content-Length matches the body");
            }
        }
    }
    BOOST_TEST(metrics::httpTooLarge().rfind("HTTP/1.1 431 ", 0) == 0);
}

// The rendering as promtool, Prometheus's own checker, reads it: no parse
// error and no lint finding.
BOOST_AUTO_TEST_CASE(promtool_accepts_the_text_format) {
    // A private file, not one in a build directory: the test runs from any
    // build (build/, build-san/) with the source tree as its directory.
    char path[] = "/tmp/rfc8314-test-metrics.XXXXXX";
    const int fd = mkstemp(path);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    {
        std::ofstream f(path);
        f << Populated().m.render(Format::Prometheus);
        BOOST_TEST_REQUIRE(static_cast<bool>(f.flush()), "cannot write " << path);
    }
    const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p))
        out += buf;
    const int rc = pclose(p);
    ::unlink(path);
    BOOST_TEST(rc == 0, "promtool check metrics: exit " << rc << ": " << out);
    BOOST_TEST(out.empty(), "promtool findings: " << out);
}

struct SummaryCase {
    std::string tlsVersion; // {tls_version}; "" = cleartext
    std::string cipher;     // {cipher}
    std::string verdict, reason, cipherName;
    bool cleartextAuth;
};

// The counters count what the audit line says: the summary a session puts
// on an audit event carries the line's verdict and reason, and the TLS facts
// of the transaction.
BOOST_AUTO_TEST_CASE(audit_summary_matches_the_line) {
    const std::vector<SummaryCase> cases = {
        {"", "", "reject", "cleartext", "", true},
        {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "accept", "", "TLS_AES_256_GCM_SHA384", false},
        {"TLSv1.1", "ECDHE-RSA-AES256-SHA", "reject", "tls-version", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("tls '" << c.tlsVersion << "' cipher '" << c.cipher << "'") {
            Session s(std::make_shared<const Config>());
            MacroMap m;
            m.set("{daemon_port}", "587");
            m.set("{client_addr}", "192.0.2.1");
            if (!c.tlsVersion.empty()) {
                m.set("{tls_version}", c.tlsVersion);
                m.set("{cipher}", c.cipher);
                m.set("{cipher_bits}", "256");
            }
            s.onConnect(m, "client.example", "192.0.2.1");
            s.onHelo(m, "client.example");
            m.set("{auth_type}", "PLAIN");
            m.set("{auth_authen}", "alice");
            m.set("i", "4XyZ1");
            Clock clock;
            clock.now = 1700000000;
            std::vector<LogEvent> events = s.onMailFrom(m, "<a@example.org>", clock).logs;
            for (auto& e : s.onEndOfMessage(m, clock).logs)
                events.push_back(e);
            const LogEvent* audit = nullptr;
            for (const auto& e : events)
                if (!e.summary.verdict.empty())
                    audit = &e;
            BOOST_TEST_REQUIRE(audit != nullptr);
            BOOST_TEST(audit->summary.verdict == c.verdict);
            BOOST_TEST(audit->summary.reason == c.reason);
            BOOST_TEST(audit->line.find("verdict=" + c.verdict) != std::string::npos, audit->line);
            BOOST_TEST((audit->line.find("reason=") != std::string::npos) == !c.reason.empty(), audit->line);
            if (!c.reason.empty())
                BOOST_TEST(audit->line.find("reason=" + c.reason) != std::string::npos, audit->line);
            BOOST_TEST(std::string(toString(audit->summary.tls)) == (c.tlsVersion.empty() ? "none" : c.tlsVersion));
            BOOST_TEST(std::string(audit->summary.cipher ? audit->summary.cipher->iana : "") == c.cipherName);
            BOOST_TEST(audit->summary.cleartextAuth == c.cleartextAuth);
            // An internal error on the same transaction: its line's verdict.
            const auto failed = s.onFailure(Stage::Eom, "test", clock.now);
            BOOST_TEST_REQUIRE(failed.logs.size() == 2u);
            BOOST_TEST(failed.logs[1].summary.verdict == "tempfail");
            BOOST_TEST(failed.logs[1].summary.reason == "internal-error");
        }
    }
}

// An internal error is counted as the transaction's one audit event, with
// the verdict the answer applies, even when the step that failed (connect,
// HELO, RCPT) could not answer and a later step does: the daemon counts
// every event whose summary has a verdict (plugin/milter.cpp countEvent),
// so a second summary, or one at the failed step, would count it twice.
BOOST_AUTO_TEST_CASE(an_internal_error_is_counted_once_with_the_applied_verdict) {
    struct Case {
        Stage failAt;
        const char* answeredAt; // the step whose Decision carries the answer
    };
    const Case table[] = {{Stage::Connect, "mail"}, {Stage::Helo, "mail"}, {Stage::Mail, "mail"},
                          {Stage::Rcpt, "eom"},     {Stage::Eom, "eom"}};
    auto macros = [](std::initializer_list<std::pair<const char*, const char*>> kv) {
        MacroMap m;
        for (const auto& [k, v] : kv)
            m.set(k, v);
        return m;
    };
    const MacroMap connect = macros({{"{daemon_port}", "587"}, {"{client_addr}", "192.0.2.10"},
                                     {"{client_port}", "50123"}});
    const MacroMap tls = macros({{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"},
                                 {"{cipher_bits}", "256"}});
    const MacroMap auth = macros({{"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice"}});
    Clock clock;
    clock.now = 1700000000;
    for (const std::string action : {"tempfail", "accept"}) {
        for (const auto& c : table) {
            BOOST_TEST_CONTEXT("on_internal_error = " << action << ", failure at " << toString(c.failAt)) {
                auto parsed = parseConfig("hostname = mx.example.test\non_internal_error = " + action + "\n",
                                          "test.conf");
                BOOST_TEST_REQUIRE(parsed.config != nullptr);
                Session s(parsed.config);
                std::vector<std::pair<std::string, Decision>> ds; // step, its applied Decision
                auto step = [&](const char* name, Stage stage, Decision d) {
                    ds.emplace_back(name, c.failAt == stage ? s.onFailure(stage, "boom", clock.now) : d);
                };
                step("connect", Stage::Connect, s.onConnect(connect, "laptop.example", "192.0.2.10"));
                step("helo", Stage::Helo, s.onHelo(tls, "laptop.example"));
                step("mail", Stage::Mail, s.onMailFrom(auth, "<a@example.org>", clock));
                if (ds.back().second.verdict == Verdict::Continue) {
                    step("rcpt", Stage::Rcpt, s.onRcpt(MacroMap{}, "<b@example.org>"));
                    MacroMap eom;
                    eom.set("i", "Q1");
                    step("eom", Stage::Eom, s.onEndOfMessage(eom, clock));
                }
                Metrics m("v", "o", 0);
                m.declareListener("submission");
                std::vector<std::string> counted; // "step verdict"
                for (const auto& [name, d] : ds)
                    for (const auto& e : d.logs)
                        if (!e.summary.verdict.empty()) {
                            const auto& a = e.summary;
                            m.transaction({a.listener, a.verdict, a.reason, toString(a.tls),
                                           a.cipher ? std::string_view(a.cipher->iana) : "unknown",
                                           a.cleartextAuth});
                            counted.push_back(name + " " + std::string(a.verdict) + " / applied " +
                                              std::string(toString(d.verdict)));
                        }
                std::string got;
                for (const auto& x : counted)
                    got += "[" + x + "]";
                const std::string want =
                    "[" + std::string(c.answeredAt) + " " + action + " / applied " + action + "]";
                BOOST_TEST(got == want, "got " << got << ", want " << want);
                const auto text = m.render(Format::Prometheus);
                BOOST_TEST(sampleValue(text, "rfc8314_transactions_total{listener=\"submission\",verdict=\"" +
                                                 action + "\",reason=\"internal-error\"}") == "1",
                           text);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
