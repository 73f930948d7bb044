// test_logfmt.cpp — log escaping: nothing from the network can split a log
// line, forge a key or smuggle a control byte; JSON stays valid.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "rfc8314/logfmt.hpp"

using namespace rfc8314;

BOOST_AUTO_TEST_SUITE(logfmt)

struct EscapeCase {
    std::string in;
    std::string want;
};

BOOST_AUTO_TEST_CASE(escape_table) {
    const std::vector<EscapeCase> cases = {
        {"testuser", "testuser"},
        {"testuser@example.test", "testuser@example.test"},
        {"client.example[127.0.0.1]:4242", "client.example[127.0.0.1]:4242"},
        {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
        {"", "\"\""},
        {"two words", "\"two words\""},
        {"alice, verdict=accept", "\"alice, verdict=accept\""},
        {"a=b", "\"a=b\""},
        {"quote\"d", "\"quote\\\"d\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"line\nbreak", "\"line\\nbreak\""},
        {"cr\rhere", "\"cr\\rhere\""},
        {"tab\there", "\"tab\\there\""},
        {std::string("nul\0byte", 8), "\"nul\\x00byte\""},
        {"del\x7f", "\"del\\x7f\""},
        {"\xc3\xa9t\xc3\xa9", "\"\\xc3\\xa9t\\xc3\\xa9\""},
        {"\x1b[31mred", "\"\\x1b[31mred\""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input '" << escapeLogValue(c.in) << "'") {
            BOOST_TEST(escapeLogValue(c.in) == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_byte_is_safe) {
    // For every single byte and a few pairs: no CR, LF or NUL in the output,
    // and a value that needed quoting is quoted.
    for (int b = 0; b < 256; ++b) {
        const std::string in = "x" + std::string(1, static_cast<char>(b)) + "y";
        const std::string out = escapeLogValue(in);
        BOOST_TEST_CONTEXT("byte " << b) {
            BOOST_TEST(out.find('\n') == std::string::npos);
            BOOST_TEST(out.find('\r') == std::string::npos);
            BOOST_TEST(out.find('\0') == std::string::npos);
            BOOST_TEST(out.find(", ") == std::string::npos);
            for (char c : out)
                BOOST_TEST((static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f));
        }
    }
}

BOOST_AUTO_TEST_CASE(line_shape) {
    LogLine l("3F2A1C0B9");
    l.add("user", "testuser").add("bits", 256).add("client", "x, verdict=accept");
    BOOST_TEST(l.str() == "3F2A1C0B9: user=testuser, bits=256, client=\"x, verdict=accept\"");
    LogLine noq;
    noq.add("event", "start");
    BOOST_TEST(noq.str() == "event=start");
    LogLine hostileQ("Q\nID");
    hostileQ.add("k", "v");
    BOOST_TEST(hostileQ.str() == "\"Q\\nID\": k=v");
    LogLine neg;
    neg.add("bucket", -1);
    BOOST_TEST(neg.str() == "bucket=-1");
}

BOOST_AUTO_TEST_CASE(json_escape_table) {
    const std::vector<EscapeCase> cases = {
        {"plain", "plain"},
        {"q\"b\\", "q\\\"b\\\\"},
        {"\n\r\t\b\f", "\\n\\r\\t\\b\\f"},
        {std::string("\0\x01\x1f\x7f", 4), "\\u0000\\u0001\\u001f\\u007f"},
        {"\xc3\xa9", "\xc3\xa9"},                 // valid UTF-8 passes
        {"\xe2\x82\xac", "\xe2\x82\xac"},         // euro sign
        {"\xf0\x9f\x93\xa7", "\xf0\x9f\x93\xa7"}, // 4-byte
        {"\xff", "\xef\xbf\xbd"},                 // invalid byte
        {"\xc3", "\xef\xbf\xbd"},                 // truncated sequence
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"}, // overlong
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, // surrogate
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input '" << escapeLogValue(c.in) << "'") {
            BOOST_TEST(jsonEscape(c.in) == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(json_line) {
    JsonLine j;
    j.add("user", "a\"b").add("bits", 128).add("cipher", "");
    BOOST_TEST(j.str() == "{\"user\":\"a\\\"b\",\"bits\":128,\"cipher\":\"\"}");
    BOOST_TEST(JsonLine().str() == "{}");
    // An unknown number is null, never 0 (0 bits is a real NULL cipher).
    JsonLine k;
    k.add("bits", std::optional<int>()).add("zero", std::optional<int>(0));
    BOOST_TEST(k.str() == "{\"bits\":null,\"zero\":0}");
}

BOOST_AUTO_TEST_SUITE_END()
