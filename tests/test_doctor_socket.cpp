// test_doctor_socket.cpp — the doctor's socket spellings and identity
// (plugin/doctor/socket.hpp) and the MTA value grammar it reads them with
// (mta_text.hpp): tables of spellings in, addresses and answers out.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include "doctor/mta_text.hpp"
#include "doctor/socket.hpp"

using namespace rfc8314::doctor;

namespace {

std::string show(const std::optional<SocketAddr>& a) {
    if (!a)
        return "(none)";
    if (a->kind == SocketAddr::Kind::Unix)
        return "unix " + a->path;
    return "inet [" + a->host + "] " + std::to_string(a->port);
}

} // namespace

BOOST_AUTO_TEST_SUITE(doctor_socket)

BOOST_AUTO_TEST_CASE(milter_spellings) {
    const struct {
        const char* spec;
        const char* want;
    } cases[] = {
        {"inet:8891@127.0.0.1", "inet [127.0.0.1] 8891"},
        {"inet:8891@[::1]", "inet [::1] 8891"},
        {"inet6:8891@[::1]", "inet [::1] 8891"},
        {"INET:8891@LocalHost", "inet [localhost] 8891"},
        {"inet:8891", "inet [] 8891"},
        {" inet:8891@127.0.0.1 ", "inet [127.0.0.1] 8891"},
        {"local:/run/m.sock", "unix /run/m.sock"},
        {"unix:/run/m.sock", "unix /run/m.sock"},
        {"/run/m.sock", "unix /run/m.sock"},
        {"inet:65536@127.0.0.1", "(none)"},
        {"inet:x@127.0.0.1", "(none)"},
        {"local:", "(none)"},
        {"tcp:8891", "(none)"},
        {"8891", "(none)"},
        {"", "(none)"},
    };
    for (const auto& c : cases) {
        const auto got = show(parseMilterSocket(c.spec));
        BOOST_TEST(got == c.want,
                   "parseMilterSocket(\"" << c.spec << "\"): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(postfix_spellings) {
    const struct {
        const char* spec;
        const char* want;
    } cases[] = {
        {"inet:127.0.0.1:8891", "inet [127.0.0.1] 8891"},
        {"inet:[::1]:8891", "inet [::1] 8891"},
        {"inet:localhost:smtp", "inet [localhost] 25"},
        {"unix:/rfc8314/milter.sock", "unix /rfc8314/milter.sock"},
        {"unix:rfc8314/milter.sock", "unix rfc8314/milter.sock"},
        {"local:/x", "unix /x"},
        {"inet:127.0.0.1", "(none)"},
        {"inet:127.0.0.1:99999", "(none)"},
        {"unix:", "(none)"},
        {"/run/m.sock", "(none)"},
    };
    for (const auto& c : cases) {
        const auto got = show(parsePostfixSocket(c.spec));
        BOOST_TEST(got == c.want,
                   "parsePostfixSocket(\"" << c.spec << "\"): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(milter_socket_as_postfix_names_it) {
    const struct {
        const char* milter;
        const char* want;
    } cases[] = {
        {"inet:8891@127.0.0.1", "inet:127.0.0.1:8891"},
        {"inet:8891", "inet:127.0.0.1:8891"},
        {"inet:8891@0.0.0.0", "inet:127.0.0.1:8891"},
        {"inet6:8891@[::]", "inet:[::1]:8891"},
        {"inet6:8891@[2001:db8::1]", "inet:[2001:db8::1]:8891"},
        {"local:/run/m.sock", "unix:/run/m.sock"},
    };
    for (const auto& c : cases) {
        const auto a = parseMilterSocket(c.milter);
        BOOST_TEST_REQUIRE(a.has_value(), c.milter);
        const auto got = postfixSpelling(*a);
        BOOST_TEST(got == c.want, c.milter << ": got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(same_socket) {
    const struct {
        const char* mta;    // Postfix spelling
        const char* milter; // milter spelling
        bool want;
    } cases[] = {
        {"inet:127.0.0.1:8891", "inet:8891@127.0.0.1", true},
        {"inet:localhost:8891", "inet:8891@127.0.0.1", true},
        {"inet:192.0.2.1:8891", "inet:8891", true}, // milter on every address
        {"inet:192.0.2.1:8891", "inet:8891@0.0.0.0", true},
        {"inet:127.0.0.1:8892", "inet:8891@127.0.0.1", false},
        {"inet:192.0.2.1:8891", "inet:8891@127.0.0.1", false},
        {"unix:/run//m/./x.sock", "local:/run/m/x.sock", true},
        {"unix:/run/m/y.sock", "local:/run/m/x.sock", false},
        {"unix:/run/m/x.sock", "inet:8891@127.0.0.1", false},
    };
    for (const auto& c : cases) {
        const auto mta = parsePostfixSocket(c.mta);
        const auto milter = parseMilterSocket(c.milter);
        BOOST_TEST_REQUIRE((mta && milter), c.mta << " / " << c.milter);
        BOOST_TEST(sameSocket(*mta, *milter) == c.want,
                   c.mta << " vs " << c.milter << ": want " << (c.want ? "same" : "different"));
    }
}

BOOST_AUTO_TEST_CASE(durations) {
    const struct {
        const char* text;
        long want; // -1: not a time value
    } cases[] = {
        {"10s", 10},    {"10", 10},    {"5m", 300},  {"1h", 3600}, {"2d", 172800},
        {"1w", 604800}, {" 30s ", 30}, {"5M", 300},  {"", -1},     {"s", -1},
        {"1x", -1},     {"-5s", -1},   {"1.5m", -1}, {"1 0s", -1},
    };
    for (const auto& c : cases) {
        const auto got = parseDuration(c.text);
        BOOST_TEST(got.value_or(-1) == c.want, "parseDuration(\"" << c.text << "\"): got "
                                                                  << got.value_or(-1) << ", want "
                                                                  << c.want);
    }
}

BOOST_AUTO_TEST_CASE(ports_and_releases) {
    BOOST_TEST(portOf("587").value_or(0) == 587u);
    BOOST_TEST(portOf("submission").value_or(0) == 587u);
    BOOST_TEST(portOf("SUBMISSIONS").value_or(0) == 465u);
    BOOST_TEST(portOf("smtps").value_or(0) == 465u);
    BOOST_TEST(portOf("smtp").value_or(0) == 25u);
    BOOST_TEST(!portOf("no-such-service-name").has_value());
    const struct {
        const char* version;
        unsigned major, minor;
        bool want;
    } cases[] = {
        {"3.7.11", 3, 6, true}, {"3.6.0", 3, 6, true},     {"3.5.20", 3, 6, false},
        {"4.0", 3, 6, true},    {"8.17.1.9", 8, 14, true}, {"8.13.8", 8, 14, false},
        {"", 8, 14, false},     {"x.y", 3, 0, false},
    };
    for (const auto& c : cases)
        BOOST_TEST(versionAtLeast(c.version, c.major, c.minor) == c.want,
                   "versionAtLeast(\"" << c.version << "\", " << c.major << ", " << c.minor
                                       << "): want " << c.want);
}

BOOST_AUTO_TEST_CASE(lists) {
    BOOST_TEST(join(splitList(" a, b,,c ", ", "), "|") == "a|b|c");
    BOOST_TEST(splitList("", ",").empty());
}

BOOST_AUTO_TEST_SUITE_END()
