// test_facts.cpp — macro normalisation: tables of what Postfix and Sendmail
// really send (MTA-FACTS.md §1-§3) and of malformed values.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include "rfc8314/facts.hpp"

#include <string>
#include <vector>

using namespace rfc8314;

BOOST_AUTO_TEST_SUITE(facts)

BOOST_AUTO_TEST_CASE(tls_version_table) {
    struct Case {
        std::string in;
        TlsVersion want;
    };
    const std::vector<Case> cases = {
        {"TLSv1.3", TlsVersion::TLSv1_3}, {"TLSv1.2", TlsVersion::TLSv1_2},
        {"TLSv1.1", TlsVersion::TLSv1_1}, {"TLSv1", TlsVersion::TLSv1_0},
        {"TLSv1.0", TlsVersion::TLSv1_0}, {"SSLv3", TlsVersion::SSLv3},
        {"tlsv1.2", TlsVersion::TLSv1_2}, {" TLSv1.2 ", TlsVersion::TLSv1_2},
        {"", TlsVersion::None},           {"   ", TlsVersion::None},
        {"TLSv1.4", TlsVersion::Unknown}, {"garbage", TlsVersion::Unknown},
        {std::string("TLSv1.2\0x", 9), TlsVersion::Unknown},
        {std::string(10000, 'A'), TlsVersion::Unknown},
    };
    for (const auto& c : cases) {
        auto got = parseTlsVersion(c.in);
        BOOST_TEST((got == c.want), "parseTlsVersion(\"" << c.in.substr(0, 20) << "\"): got "
                                                        << toString(got) << ", want "
                                                        << toString(c.want));
    }
}

BOOST_AUTO_TEST_CASE(tls_version_order) {
    BOOST_TEST((TlsVersion::None < TlsVersion::SSLv3));
    BOOST_TEST((TlsVersion::SSLv3 < TlsVersion::TLSv1_0));
    BOOST_TEST((TlsVersion::TLSv1_1 < TlsVersion::TLSv1_2));
    BOOST_TEST((TlsVersion::TLSv1_2 < TlsVersion::TLSv1_3));
    BOOST_TEST((TlsVersion::TLSv1_3 < TlsVersion::Unknown));
    BOOST_TEST(!parseTlsVersionSetting("unknown").has_value());
    BOOST_TEST(!parseTlsVersionSetting("none").has_value());
    BOOST_TEST((parseTlsVersionSetting("TLSv1.2") == TlsVersion::TLSv1_2));
}

BOOST_AUTO_TEST_CASE(macro_names_are_canonical) {
    MacroMap m;
    m.set("cipher", "X");
    m.set("{i}", "QID");
    BOOST_TEST(m.get("{cipher}").value_or("-") == "X");
    BOOST_TEST(m.get("cipher").value_or("-") == "X");
    BOOST_TEST(m.get("i").value_or("-") == "QID");
    BOOST_TEST(m.get("{i}").value_or("-") == "QID");
    BOOST_TEST(!m.get("{j}").has_value());
    BOOST_TEST(m.setAssignment("{tls_version}=TLSv1.3"));
    BOOST_TEST(m.get("{tls_version}").value_or("-") == "TLSv1.3");
    BOOST_TEST(m.setAssignment("{x}=a=b"));
    BOOST_TEST(m.get("x").value_or("-") == "a=b");
    BOOST_TEST(!m.setAssignment("=value"));
    BOOST_TEST(!m.setAssignment("novalue"));
}

// The buffer form (what the daemon hands smfi_getsymval) spells every name
// as the string form does, and refuses a buffer too small.
BOOST_AUTO_TEST_CASE(macro_name_into_buffer_table) {
    struct Case {
        std::string_view name;
        std::string_view want;
    };
    const Case cases[] = {
        {"i", "i"},           {"{i}", "i"},       {"cipher", "{cipher}"}, {"{cipher}", "{cipher}"},
        {"", "{}"},           {"{}", "{}"},       {"{", "{"},             {"}", "}"},
        {"{x", "{{x}"},       {"_", "_"},         {"{{j}}", "{{j}}"},     {"daemon_port", "{daemon_port}"},
    };
    for (const auto& c : cases) {
        BOOST_TEST(canonicalMacroName(c.name) == c.want, c.name << ": string form");
        char buf[32];
        BOOST_TEST(canonicalMacroName(c.name, buf, sizeof buf), c.name);
        BOOST_TEST(std::string_view(buf) == c.want, c.name << ": got " << buf << ", want " << c.want);
        char exact[32];
        BOOST_TEST(canonicalMacroName(c.name, exact, c.want.size() + 1), c.name << ": exact fit");
        BOOST_TEST(!canonicalMacroName(c.name, exact, c.want.size()), c.name << ": one octet short");
    }
}

BOOST_AUTO_TEST_CASE(port_and_number_table) {
    struct Case {
        std::string in;
        std::optional<std::uint16_t> want;
    };
    const std::vector<Case> cases = {
        {"587", 587}, {"465", 465}, {"65535", 65535}, {"1", 1},       {"0", std::nullopt},
        {"65536", std::nullopt},    {"-1", std::nullopt},             {"", std::nullopt},
        {"58 7", std::nullopt},     {"99999999999999999999", std::nullopt},
        {"0x24b", std::nullopt},
    };
    for (const auto& c : cases) {
        auto got = parsePort(c.in);
        BOOST_TEST((got == c.want), "parsePort(\"" << c.in << "\"): got "
                                                   << (got ? std::to_string(*got) : "none"));
    }
    BOOST_TEST(parseSmallNumber("256").value_or(-1) == 256);
    BOOST_TEST(!parseSmallNumber("256 bits").has_value());
    BOOST_TEST(!parseSmallNumber("").has_value());
}

BOOST_AUTO_TEST_CASE(postfix_tls13_session) {
    MacroMap m;
    m.set("{tls_version}", "TLSv1.3");
    m.set("{cipher}", "TLS_AES_256_GCM_SHA384");
    m.set("{cipher_bits}", "256");
    auto t = readTlsFacts(m);
    BOOST_TEST((t.version == TlsVersion::TLSv1_3));
    BOOST_TEST(t.active());
    BOOST_TEST(t.bits.value_or(-1) == 256);
    BOOST_TEST(t.clause == "TLS_AES_256_GCM_SHA384");
}

BOOST_AUTO_TEST_CASE(sendmail_tls12_session_openssl_name) {
    MacroMap m;
    m.set("{tls_version}", "TLSv1.2");
    m.set("{cipher}", "ECDHE-RSA-AES128-GCM-SHA256");
    m.set("{cipher_bits}", "128");
    m.set("{alg_bits}", "128");
    m.set("{verify}", "NO");
    m.set("{cert_subject}", "");
    m.set("{cert_issuer}", "");
    auto t = readTlsFacts(m);
    BOOST_TEST((t.version == TlsVersion::TLSv1_2));
    BOOST_TEST(t.clause == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    BOOST_TEST(t.bits.value_or(-1) == 128);
}

BOOST_AUTO_TEST_CASE(cleartext_and_malformed_tls) {
    MacroMap none;
    auto t = readTlsFacts(none);
    BOOST_TEST(!t.active());
    BOOST_TEST(t.clause.empty());
    BOOST_TEST(!t.bits.has_value());

    MacroMap odd;
    odd.set("{cipher}", "NOT-A-CIPHER");
    odd.set("{cipher_bits}", "lots");
    auto u = readTlsFacts(odd);
    BOOST_TEST((u.version == TlsVersion::Unknown), "a cipher without a version is still TLS");
    BOOST_TEST(u.clause.empty());
    BOOST_TEST(!u.bits.has_value());
    BOOST_TEST(u.cipherText == "NOT-A-CIPHER");
}

BOOST_AUTO_TEST_CASE(unknown_version_and_bits_stay_unknown) {
    struct Case {
        const char* version;
        const char* bits;
        TlsVersion want;
        std::optional<int> wantBits;
    };
    const Case table[] = {
        // Sendmail against OpenSSL 1.0: SSL_CIPHER_get_version's text.
        {"TLSv1/SSLv3", "256", TlsVersion::Unknown, 256},
        {"TLSv1.4", "256", TlsVersion::Unknown, 256},
        {"TLSv1.2", "", TlsVersion::TLSv1_2, std::nullopt},
        {"TLSv1.2", "lots", TlsVersion::TLSv1_2, std::nullopt},
        // NULL-SHA256: really 0 bits, which is not "unknown".
        {"TLSv1.2", "0", TlsVersion::TLSv1_2, 0},
    };
    for (const auto& c : table) {
        MacroMap m;
        m.set("{tls_version}", c.version);
        m.set("{cipher}", "NULL-SHA256");
        m.set("{cipher_bits}", c.bits);
        const auto t = readTlsFacts(m);
        BOOST_TEST((t.version == c.want), c.version << ": got " << toString(t.version));
        BOOST_TEST((t.bits == c.wantBits), c.version << "/" << c.bits << ": got "
                                                     << (t.bits ? std::to_string(*t.bits) : "unknown"));
        BOOST_TEST(t.versionText == c.version, "the raw text is kept for the log");
        BOOST_TEST(t.clause == "TLS_RSA_WITH_NULL_SHA256");
    }
}

// ipv4Text replaces inet_ntop for IPv4 at connect: the same text for
// every octet value in every position.
BOOST_AUTO_TEST_CASE(ipv4_text_is_inet_ntop_text) {
    for (unsigned v = 0; v < 256; ++v) {
        const unsigned char patterns[][4] = {
            {static_cast<unsigned char>(v), 0, 0, 0},
            {1, static_cast<unsigned char>(v), 10, 100},
            {255, 99, static_cast<unsigned char>(v), 9},
            {static_cast<unsigned char>(255 - v), 0, 255, static_cast<unsigned char>(v)},
        };
        for (const auto& a : patterns) {
            char want[INET_ADDRSTRLEN] = {};
            BOOST_REQUIRE(inet_ntop(AF_INET, a, want, sizeof want));
            char got[16];
            const std::size_t n = ipv4Text(a, got);
            BOOST_TEST(std::string(got, n) == want);
            BOOST_TEST(std::string(got) == want); // NUL-terminated too
        }
    }
}

BOOST_AUTO_TEST_CASE(client_addresses_are_canonical) {
    struct Case {
        const char* in;
        const char* want; // "" = not an address
    };
    const Case table[] = {
        {"192.0.2.10", "192.0.2.10"},
        // Postfix's {client_addr} for an IPv6 client.
        {"IPv6:2001:db8::10", "2001:db8::10"},
        {"ipv6:2001:DB8:0:0:0:0:0:10", "2001:db8::10"},
        {"2001:0db8::0010", "2001:db8::10"},
        {" ::1 ", "::1"},
        {"IPv6:::ffff:192.0.2.7", "::ffff:192.0.2.7"},
        {"IPv6:", ""},
        {"IPv6:192.0.2.1x", ""},
        {"unknown", ""},
        {"", ""},
        {"2001:db8::10%eth0", ""},
    };
    for (const auto& c : table) {
        const auto got = canonicalAddress(c.in);
        BOOST_TEST(got.value_or("") == c.want, "'" << c.in << "': got '" << got.value_or("(none)")
                                                   << "', want '" << c.want << "'");
    }
    // Postfix and Sendmail spell the same client differently: one fact.
    MacroMap postfix, sendmail;
    postfix.set("{client_addr}", "IPv6:2001:db8::10");
    sendmail.set("_", "laptop.example [IPv6:2001:DB8:0::10]");
    BOOST_TEST(readClientFacts(postfix).addr == "2001:db8::10");
    BOOST_TEST(readClientFacts(sendmail).addr == "2001:db8::10");
    // Not an address: kept as sent (the log escapes it), never rewritten.
    MacroMap odd;
    odd.set("{client_addr}", "not an address");
    BOOST_TEST(readClientFacts(odd).addr == "not an address");
}

BOOST_AUTO_TEST_CASE(auth_facts_both_mtas) {
    MacroMap pf;
    pf.set("{auth_type}", "PLAIN");
    pf.set("{auth_authen}", "testuser@localhost");
    auto a = readAuthFacts(pf);
    BOOST_TEST(a.authenticated());
    BOOST_TEST(a.authen == "testuser@localhost");

    MacroMap sm;
    sm.set("{auth_type}", "PLAIN");
    sm.set("{auth_authen}", "testuser");
    sm.set("{auth_ssf}", "0");
    sm.set("{auth_author}", "");
    auto b = readAuthFacts(sm);
    BOOST_TEST(b.authenticated());
    BOOST_TEST(b.authen == "testuser");

    MacroMap anon;
    anon.set("{auth_authen}", "");
    BOOST_TEST(!readAuthFacts(anon).authenticated());
}

// Read into the session's kept facts at every MAIL: nothing of the
// previous transaction's authentication may survive a MAIL without it.
BOOST_AUTO_TEST_CASE(auth_facts_read_into_overwrite_every_field) {
    struct Case {
        const char* type;
        const char* authen;
    };
    const Case cases[] = {{nullptr, nullptr}, {"PLAIN", nullptr}, {nullptr, "bob"}, {"LOGIN", "carol@example.org"}};
    for (const auto& c : cases) {
        MacroMap m;
        if (c.type)
            m.set("{auth_type}", c.type);
        if (c.authen)
            m.set("{auth_authen}", c.authen);
        AuthFacts into;
        into.type = "CRAM-MD5";
        into.authen = "a-previous-user-with-a-long-name@example.org";
        readAuthFacts(m, into);
        const AuthFacts want = readAuthFacts(m);
        BOOST_TEST_INFO("type=" << (c.type ? c.type : "(none)") << " authen=" << (c.authen ? c.authen : "(none)"));
        BOOST_TEST(into.type == want.type);
        BOOST_TEST(into.authen == want.authen);
        BOOST_TEST(into.type == std::string(c.type ? c.type : ""));
        BOOST_TEST(into.authen == std::string(c.authen ? c.authen : ""));
        BOOST_TEST(into.authenticated() == (c.type || c.authen));
    }
}

BOOST_AUTO_TEST_CASE(listener_and_client) {
    MacroMap m;
    m.set("{daemon_name}", "ORIGINATING");
    m.set("{daemon_addr}", "127.0.0.1");
    m.set("{daemon_port}", "587");
    m.set("{client_addr}", "192.0.2.7");
    m.set("{client_name}", "unknown");
    m.set("{client_port}", "40000");
    auto l = readListenerFacts(m);
    BOOST_TEST(l.name == "ORIGINATING");
    BOOST_TEST(l.port.value_or(0) == 587);
    auto c = readClientFacts(m);
    BOOST_TEST(c.addr == "192.0.2.7");
    BOOST_TEST(c.name.empty(), "'unknown' is no name");
    BOOST_TEST(c.port.value_or(0) == 40000);

    // `_` fills what the MTA left out (an MTA that ignores smfi_setsymlist).
    struct Underscore {
        const char* value;
        const char* name;
        const char* addr;
    };
    const Underscore table[] = {
        {"client.example.test [192.0.2.8]", "client.example.test", "192.0.2.8"},
        {"ident@client.example.test [192.0.2.8]", "client.example.test", "192.0.2.8"},
        {"client.example.test [192.0.2.8] (may be forged)", "", "192.0.2.8"},
        {"unknown [192.0.2.8]", "", "192.0.2.8"},
        {"[192.0.2.8]", "", ""}, // no name before the bracket: not this form
        {"host [IPv6:2001:db8::1]", "host", "2001:db8::1"},
        {"host [not.an.addr]", "", ""},
        {"host [192.0.2.8", "", ""},
        {"", "", ""},
    };
    for (const auto& t : table) {
        auto [name, addr] = parseClientMacro(t.value);
        BOOST_TEST(name == t.name, "_ = '" << t.value << "': got name '" << name << "', want '" << t.name << "'");
        BOOST_TEST(addr == t.addr, "_ = '" << t.value << "': got addr '" << addr << "', want '" << t.addr << "'");
    }
    MacroMap only;
    only.set("_", "client.example.test [192.0.2.9]");
    auto u = readClientFacts(only);
    BOOST_TEST(u.addr == "192.0.2.9");
    BOOST_TEST(u.name == "client.example.test");
    MacroMap both; // the MTA's own macros win; "unknown" keeps the name empty
    both.set("_", "forged.example [192.0.2.9]");
    both.set("{client_addr}", "192.0.2.7");
    both.set("{client_name}", "unknown");
    auto b = readClientFacts(both);
    BOOST_TEST(b.addr == "192.0.2.7");
    BOOST_TEST(b.name.empty());

    BOOST_TEST(clientNameFromConnect("[127.0.0.1]").empty());
    BOOST_TEST(clientNameFromConnect("unknown").empty());
    BOOST_TEST(clientNameFromConnect("localhost") == "localhost");
}

BOOST_AUTO_TEST_SUITE_END()
