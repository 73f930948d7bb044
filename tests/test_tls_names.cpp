// test_tls_names.cpp — exact IANA names for cipher suites and groups.
//
// The decisive case reads `openssl ciphers -V -stdname` of the installed
// OpenSSL at test time, so it follows whatever OpenSSL the build links, and
// checks every suite it prints; a fixed golden table pins the well-known
// ones and the fallbacks.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rfc8314/rfc5322.hpp"
#include "rfc8314/tls_names.hpp"

using namespace rfc8314;

namespace {

struct OpensslLine {
    std::uint16_t code;
    std::string iana;    // -stdname column
    std::string openssl; // OpenSSL name
};

std::vector<OpensslLine> opensslCiphers() {
    std::vector<OpensslLine> out;
    FILE* p = popen("openssl ciphers -V -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>/dev/null", "r");
    if (!p)
        return out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) {
        // "          0x13,0x02 - TLS_AES_256_GCM_SHA384 - TLS_AES_256_GCM_SHA384 TLSv1.3 Kx=..."
        std::istringstream in(buf);
        std::string code, dash1, iana, dash2, name;
        if (!(in >> code >> dash1 >> iana >> dash2 >> name) || dash1 != "-" || dash2 != "-" ||
            code.size() != 9)
            continue;
        const unsigned hi = static_cast<unsigned>(std::stoul(code.substr(2, 2), nullptr, 16));
        const unsigned lo = static_cast<unsigned>(std::stoul(code.substr(7, 2), nullptr, 16));
        out.push_back({static_cast<std::uint16_t>(hi << 8 | lo), iana, name});
    }
    pclose(p);
    return out;
}

std::string fileText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string env(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v && *v ? v : dflt;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_names)

BOOST_AUTO_TEST_CASE(every_openssl_suite_maps_to_its_iana_name) {
    const auto lines = opensslCiphers();
    // 158 on Debian 12's OpenSSL 3.0; fewer than 150 means the command did
    // not run as expected, and the test must not pass on nothing.
    BOOST_TEST_REQUIRE(lines.size() >= 150u, "openssl printed " << lines.size() << " suites");
    const auto& reg = CipherRegistry::instance();
    for (const auto& l : lines) {
        BOOST_TEST_CONTEXT(l.openssl << " (" << cipherCodeText(l.code) << ")") {
            for (const auto& spelling : {l.openssl, l.iana}) {
                auto got = reg.lookup(spelling);
                BOOST_TEST_REQUIRE(got.has_value(), spelling << " not found");
                BOOST_TEST(got->code == l.code, spelling << ": got " << cipherCodeText(got->code));
                BOOST_TEST(std::string(got->iana) == l.iana, spelling << ": got " << got->iana);
            }
            auto byCode = reg.byCode(l.code);
            BOOST_TEST_REQUIRE(byCode.has_value());
            BOOST_TEST(std::string(byCode->iana) == l.iana);
            BOOST_TEST(tlsClauseValue(*byCode) == l.iana);
        }
    }
    BOOST_TEST_MESSAGE("checked " << lines.size() << " OpenSSL cipher suites");
}

struct CipherCase {
    std::string spelling;
    bool found;
    std::uint16_t code;
    std::string iana;   // "" when only the code is known
    std::string clause; // tlsClauseValue
};

BOOST_AUTO_TEST_CASE(golden_cipher_table) {
    const std::vector<CipherCase> cases = {
        {"ECDHE-RSA-AES128-GCM-SHA256", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"ECDHE-RSA-AES256-GCM-SHA384", true, 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
         "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
        {"ECDHE-ECDSA-AES128-GCM-SHA256", true, 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
        {"ECDHE-ECDSA-CHACHA20-POLY1305", true, 0xCCA9,
         "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
        {"ECDHE-RSA-CHACHA20-POLY1305", true, 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
         "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
        {"DHE-RSA-AES128-GCM-SHA256", true, 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"DHE-RSA-AES256-SHA", true, 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
         "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
        {"AES128-SHA", true, 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"},
        {"AES256-GCM-SHA384", true, 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384",
         "TLS_RSA_WITH_AES_256_GCM_SHA384"},
        // 3DES and RC4 are gone from current OpenSSL; older MTAs still
        // report them by their OpenSSL names.
        {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", true, 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
         "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
        {"DES-CBC3-SHA", true, 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
        {"EDH-RSA-DES-CBC3-SHA", true, 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
         "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
        {"ECDHE-RSA-DES-CBC3-SHA", true, 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
         "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
        {"RC4-SHA", true, 0x0005, "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_RC4_128_SHA"},
        {"ECDH-RSA-AES128-SHA", true, 0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
         "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"},
        // In libssl's table but unusable without the GOST engine.
        {"GOST2012-KUZNYECHIK-KUZNYECHIKOMAC", true, 0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC",
         "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"},
        {"ECDHE-RSA-AES128-SHA", true, 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
         "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
        {"TLS_AES_256_GCM_SHA384", true, 0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
        {"TLS_AES_128_GCM_SHA256", true, 0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
        {"TLS_CHACHA20_POLY1305_SHA256", true, 0x1303, "TLS_CHACHA20_POLY1305_SHA256",
         "TLS_CHACHA20_POLY1305_SHA256"},
        {"TLS_AES_128_CCM_8_SHA256", true, 0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256"},
        {"TLS13_AES_256_GCM_SHA384", true, 0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
        {"TLS13_AES_128_GCM_SHA256", true, 0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
        {"tls13_aes_128_ccm_sha256", true, 0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256"},
        {"TLS13_SM4_GCM_SM3", true, 0x00C6, "TLS_SM4_GCM_SM3", "TLS_SM4_GCM_SM3"},
        {"TLS13_CHACHA20_POLY1305_SHA256", true, 0x1303, "TLS_CHACHA20_POLY1305_SHA256",
         "TLS_CHACHA20_POLY1305_SHA256"},
        {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"ecdhe-rsa-aes128-gcm-sha256", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"  ECDHE-RSA-AES128-GCM-SHA256 ", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        // Only in the IANA registry (not in OpenSSL 3.0): still named.
        {"TLS_ECCPWD_WITH_AES_128_GCM_SHA256", true, 0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256",
         "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"},
        {"TLS_SM4_GCM_SM3", true, 0x00C6, "TLS_SM4_GCM_SM3", "TLS_SM4_GCM_SM3"},
        // Code point spellings.
        {"0xC02F", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"0xc0,0x2f", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        {"{0xC0, 0x2F}", true, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
        // Code known, no name anywhere (GREASE): the hex form.
        {"0x0A0A", true, 0x0A0A, "", "0x0A0A"},
        {"0xfe,0xfe", true, 0xFEFE, "", "0xFEFE"},
        // Not understood at all.
        {"", false, 0, "", ""},
        {"   ", false, 0, "", ""},
        {"NO-SUCH-CIPHER", false, 0, "", ""},
        {"TLS13_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, 0, "", ""},
        {"TLS13_FALLBACK_SCSV", false, 0, "", ""},
        {"0xC02", false, 0, "", ""},
        {"0xC0,0x2", false, 0, "", ""},
        {std::string(500, 'A'), false, 0, "", ""},
        {std::string("ECDHE-RSA-AES128-GCM-SHA256\0x", 29), false, 0, "", ""},
    };
    const auto& reg = CipherRegistry::instance();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.spelling.substr(0, 60) << "'") {
            auto got = reg.lookup(c.spelling);
            BOOST_TEST(got.has_value() == c.found);
            if (got && c.found) {
                BOOST_TEST(cipherCodeText(got->code) == cipherCodeText(c.code));
                BOOST_TEST(std::string(got->iana) == c.iana);
                BOOST_TEST(tlsClauseValue(*got) == c.clause);
            }
        }
    }
    BOOST_TEST(cipherCodeText(0x002F) == "0x002F");
    BOOST_TEST(cipherCodeText(0xC0B0) == "0xC0B0");
}

BOOST_AUTO_TEST_CASE(explicit_registry) {
    CipherRegistry r({{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
                      {0x1234, "", "PRIVATE-SUITE"}});
    BOOST_TEST(r.size() == 2u);
    auto a = r.lookup("ECDHE-RSA-AES128-GCM-SHA256");
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(a->code == 0xC02F);
    auto b = r.lookup("private-suite");
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(tlsClauseValue(*b) == "0x1234");
    BOOST_TEST(!r.lookup("AES128-SHA").has_value());
}

struct GroupCase {
    std::string spelling;
    std::string want; // "" = not found
};

BOOST_AUTO_TEST_CASE(group_aliases) {
    const std::vector<GroupCase> cases = {
        {"x25519", "x25519"},
        {"X25519", "x25519"},
        {"X448", "x448"},
        {"P-256", "secp256r1"},
        {"prime256v1", "secp256r1"},
        {"secp256r1", "secp256r1"},
        {"ECDHE (prime256v1)", "secp256r1"},
        {"ECDHE (secp384r1)", "secp384r1"},
        {"ECDHE (secp256r1)", "secp256r1"},
        {"ECDHE (x25519)", "x25519"},
        {"CurveP256", "secp256r1"},
        {"SM2", "curveSM2"},
        {"GC256A", "GC256A"},
        {"P-384", "secp384r1"},
        {"P-521", "secp521r1"},
        {"secp521r1", "secp521r1"},
        {"ffdhe2048", "ffdhe2048"},
        {"FFDHE3072", "ffdhe3072"},
        {"DHE (ffdhe4096)", "ffdhe4096"},
        {"X25519MLKEM768", "X25519MLKEM768"},
        {"x25519mlkem768", "X25519MLKEM768"},
        {"SecP256r1MLKEM768", "SecP256r1MLKEM768"},
        {"MLKEM768", "MLKEM768"},
        {"brainpoolP256r1", "brainpoolP256r1"},
        {"brainpoolP384r1tls13", "brainpoolP384r1tls13"},
        {"29", "x25519"},
        {"0x001D", "x25519"},
        {"0x1d", "x25519"},
        {"0X11EC", "X25519MLKEM768"},
        {"0x0001D", ""},
        {"0x", ""},
        {"23", "secp256r1"},
        {" X25519 ", "x25519"},
        {"", ""},
        {"X25519Kyber768Draft00", ""},
        {"P-999", ""},
        {"12345678", ""},
        {"0", ""},
        {"()", ""},
        {"x25519; DROP", ""},
    };
    const auto& reg = GroupRegistry::instance();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.spelling << "'") {
            auto got = reg.ianaName(c.spelling);
            BOOST_TEST(got.has_value() == !c.want.empty());
            if (got)
                BOOST_TEST(std::string(*got) == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_group_name_is_clause_safe) {
    const auto& reg = GroupRegistry::instance();
    BOOST_TEST(reg.size() >= 50u);
    std::size_t named = 0;
    for (unsigned code = 0; code <= 0xFFFF; ++code) {
        auto name = reg.ianaName(std::to_string(code));
        if (!name)
            continue;
        ++named;
        BOOST_TEST(isValidDhGroup(*name), *name);
    }
    BOOST_TEST(named == reg.size());
    for (std::size_t i = 0; i < iana::kCipherSuiteCount; ++i)
        BOOST_TEST(isValidTlsCipherValue(iana::kCipherSuites[i].name), iana::kCipherSuites[i].name);
}

BOOST_AUTO_TEST_CASE(group_clause_abnf) {
    // RFC 8314 §4.3: dh-group = ALPHA *(ALPHA / DIGIT / "_" / "-").
    const std::vector<std::pair<std::string, bool>> cases = {
        {"x25519", true}, {"X25519MLKEM768", true}, {"a_b", true},  {"A", true},
        {"P-256", true},  {"secp256r1-x", true},    {"", false},    {"1abc", false},
        {"_a", false},    {"-a", false},            {"a b", false}, {"x25519\n", false},
        {"a.b", false},
    };
    for (const auto& [s, ok] : cases)
        BOOST_TEST(isValidDhGroup(s) == ok, "'" << s << "'");
}

// RFC 8314 §4.3: the group "when applicable and known".  A suite's key
// exchange decides which groups it can have used at all.
BOOST_AUTO_TEST_CASE(group_fits_the_suites_key_exchange) {
    struct Case {
        const char* cipher; // as an MTA sends it
        const char* group;
        bool fits;
    };
    const Case table[] = {
        {"TLS_AES_256_GCM_SHA384", "x25519", true},      // TLS 1.3: any named group
        {"TLS_AES_128_GCM_SHA256", "ffdhe2048", true},
        {"TLS_CHACHA20_POLY1305_SHA256", "X25519MLKEM768", true},
        {"ECDHE-RSA-AES128-GCM-SHA256", "x25519", true}, // ECDHE: elliptic curves
        {"ECDHE-ECDSA-AES256-GCM-SHA384", "secp384r1", true},
        {"ECDHE-RSA-AES128-GCM-SHA256", "ffdhe2048", false},
        {"ECDHE-RSA-AES128-GCM-SHA256", "X25519MLKEM768", false},
        {"ECDHE-RSA-AES128-GCM-SHA256", "brainpoolP256r1tls13", false},
        {"DHE-RSA-AES128-GCM-SHA256", "ffdhe2048", true}, // DHE: finite-field groups
        {"DHE-RSA-AES128-GCM-SHA256", "x25519", false},
        {"AES256-GCM-SHA384", "x25519", false}, // RSA key transport: no group
        {"AES256-GCM-SHA384", "ffdhe2048", false},
        {"NULL-SHA256", "x25519", false},
        {"PSK-AES128-GCM-SHA256", "x25519", false},
        {"ECDHE-PSK-AES128-CBC-SHA256", "secp256r1", true},
        {"0xFFFE", "x25519", false}, // a code point without a name: not known
    };
    const auto& ciphers = CipherRegistry::instance();
    const auto& groups = GroupRegistry::instance();
    for (const auto& c : table) {
        const auto cipher = ciphers.lookup(c.cipher);
        const auto group = groups.code(c.group);
        BOOST_TEST_REQUIRE(cipher.has_value(), c.cipher);
        BOOST_TEST_REQUIRE(group.has_value(), c.group);
        BOOST_TEST(groupFitsCipher(*cipher, *group) == c.fits,
                   c.cipher << " (" << cipher->iana << ") with " << c.group << ": want "
                            << (c.fits ? "fits" : "does not fit"));
    }
}

BOOST_AUTO_TEST_CASE(generated_tables_follow_the_registry) {
    // The registry CSVs have 350+ single-code cipher suites and 50+ groups.
    BOOST_TEST(iana::kCipherSuiteCount >= 340u);
    BOOST_TEST(iana::kGroupCount >= 50u);
    for (std::size_t i = 1; i < iana::kCipherSuiteCount; ++i)
        BOOST_TEST(iana::kCipherSuites[i - 1].code < iana::kCipherSuites[i].code);
    // The vendored copies must be the shared registry files, byte for byte.
    const std::string mine = env("IANA_DIR", "data/iana");
    const std::string shared = env("IANA_SHARED_DIR", "../shared/data/iana");
    for (const char* f : {"tls-parameters-4.csv", "tls-parameters-8.csv"}) {
        const std::string a = fileText(mine + "/" + f);
        BOOST_TEST_REQUIRE(!a.empty(), mine << "/" << f << " missing");
        const std::string b = fileText(shared + "/" + f);
        if (b.empty()) {
            BOOST_TEST_MESSAGE(shared << "/" << f << " not present: vendored copy not compared");
            continue;
        }
        BOOST_TEST(a == b, mine << "/" << f << " differs from " << shared << "/" << f);
    }
}

// tools/gen_iana must refuse a malformed registry rather than emit a short
// table.  It is a separate program, so this runs only when the build says
// where it is (GEN_IANA=path/to/gen_iana).
BOOST_AUTO_TEST_CASE(generator_rejects_malformed_csv) {
    const std::string gen = env("GEN_IANA", "");
    if (gen.empty()) {
        BOOST_TEST_MESSAGE("GEN_IANA not set: generator error paths not checked");
        return;
    }
    const std::string groups = env("IANA_DIR", "data/iana") + "/tls-parameters-8.csv";
    const std::string header = "Value,Description,DTLS-OK,Recommended,Reference\n";
    struct BadCsv {
        std::string what, body, where;
    };
    const std::vector<BadCsv> cases = {
        {"unterminated quote", header + "\"0x00,0x01\",TLS_A,Y,N,[R]\n\"0x00,0x02,TLS_B,Y,N,[R]\n", ":3:"},
        {"text after closing quote", header + "\"0x00,0x01\"x,TLS_A,Y,N,[R]\n", ":2:"},
        {"short record", header + "\"0x00,0x01\",TLS_A,Y,N\n", ":2:"},
        {"stray quote", header + "\"0x00,0x01\",TLS_\"A,Y,N,[R]\n", ":2:"},
        {"name with a blank", header + "\"0x00,0x01\",\"TLS A\",Y,N,[R]\n", ":2:"},
        {"no header", "0,x,y\n", ":1:"},
        // A quoted line break counts: the bad record starts on line 4.
        {"multi-line field", header + "\"0x00,0x47-4F\",\"Reserved to\navoid\",,,[R]\n\"0x00,0x01\"x,T,Y,N,[R]\n",
         ":4:"},
    };
    char tmpl[] = "/tmp/test_tls_names.XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const std::string csv = dir + "/bad.csv", err = dir + "/err.txt";
            std::ofstream(csv, std::ios::binary) << c.body;
            const std::string cmd = "'" + gen + "' " + csv + " '" + groups + "' >/dev/null 2>" + err;
            const int rc = std::system(cmd.c_str());
            BOOST_TEST(rc != 0);
            const std::string msg = fileText(err);
            BOOST_TEST(msg.find("bad.csv" + c.where) != std::string::npos, msg);
            std::remove(csv.c_str());
            std::remove(err.c_str());
        }
    }
    ::rmdir(dir.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
