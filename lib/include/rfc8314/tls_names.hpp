// tls_names.hpp — exact IANA names for TLS cipher suites and key-exchange
// groups (the `tls` and `group` clauses of RFC 8314 §4.3, registered in
// §7.4), and which groups a suite's key exchange can use at all.
//
// The MTA hands {cipher} in OpenSSL spelling ("ECDHE-RSA-AES128-GCM-SHA256");
// the trace field wants the IANA registered name
// ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") or, when only the code point is
// known, "0xC02F".  Both registries are built once, on first use, and are
// read-only afterwards (safe to share between milter threads).
//
// Sources, merged: the linked OpenSSL (every suite it knows, including those
// disabled by default or by security level) and a table generated at build
// time from the IANA registry CSVs (data/iana/, by tools/gen_iana).  Where
// both know a code point the IANA registry's name wins.
//
// Promises: no lookup throws, allocates on the hot path, or reads outside
// its tables; unknown input gives nullopt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rfc8314 {

struct CipherInfo {
    std::uint16_t code = 0;  // TLS CipherSuite code point, e.g. 0xC02F
    std::string_view iana;   // IANA registered name; empty when none is known
};

inline bool operator==(const CipherInfo& a, const CipherInfo& b) noexcept {
    return a.code == b.code && a.iana == b.iana;
}

// "0xC02F": the ABNF form of an unnamed code point (uppercase, 4 hex digits).
std::string cipherCodeText(std::uint16_t code);

// The tls clause value for a cipher: its IANA name, else "0xC02F".
std::string tlsClauseValue(const CipherInfo& c);

class CipherRegistry {
public:
    static const CipherRegistry& instance();

    // Any spelling an MTA may send, case-insensitively:
    //   OpenSSL "ECDHE-RSA-AES128-GCM-SHA256", IANA
    //   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", rustls-style
    //   "TLS13_AES_256_GCM_SHA384", and code points "0xC02F" / "0xC0,0x2F" /
    //   "{0xC0,0x2F}".  Surrounding blanks are ignored.
    std::optional<CipherInfo> lookup(std::string_view name) const noexcept;
    std::optional<CipherInfo> byCode(std::uint16_t code) const noexcept;
    std::size_t size() const noexcept { return byCode_.size(); }

    // Built from explicit tables (tests); instance() uses OpenSSL + IANA.
    struct Entry {
        std::uint16_t code;
        std::string iana;    // may be empty
        std::string openssl; // may be empty
    };
    explicit CipherRegistry(const std::vector<Entry>& entries);

private:
    CipherRegistry() = default;
    void add(std::uint16_t code, std::string_view iana, std::string_view spelling);
    void index(std::string_view spelling, std::uint16_t code);
    void finish();
    std::vector<std::string> names_;                        // owns every IANA name handed out
    std::unordered_map<std::uint16_t, std::size_t> byCode_; // -> names_ index
    // Upper-cased spellings, sorted, so a lookup is a binary search over
    // string_views: no allocation on the per-message path.
    std::vector<std::pair<std::string, std::uint16_t>> byName_;
};

class GroupRegistry {
public:
    static const GroupRegistry& instance();

    // The IANA Supported Groups name for any spelling ("X25519", "P-256",
    // "prime256v1", "secp256r1", "ECDHE (prime256v1)", "ffdhe2048",
    // "X25519MLKEM768", a decimal or 0x code point).  Only names matching the
    // group clause ABNF (isValidDhGroup, rfc5322.hpp) are ever returned.
    std::optional<std::string_view> ianaName(std::string_view spelling) const noexcept;
    std::optional<std::uint16_t> code(std::string_view spelling) const noexcept;
    std::size_t size() const noexcept { return names_.size(); }

private:
    GroupRegistry();
    std::unordered_map<std::uint16_t, std::string> names_;           // code -> IANA name
    std::vector<std::pair<std::string, std::uint16_t>> byName_;      // upper-cased alias -> code, sorted
};

// Whether a suite's key exchange uses a group of this code point, so that
// the `group` clause may name it (RFC 8314 §4.3: the group "when applicable
// and known"):
//   - TLS 1.3 suites (named without a key exchange, "TLS_AES_128_GCM_SHA256"):
//     any named group, elliptic, finite-field or hybrid;
//   - TLS_ECDHE_* suites: the elliptic curves of TLS 1.2 and older
//     (code points 1-255 except the TLS 1.3-only brainpool*tls13, and the
//     two arbitrary_explicit_* curves);
//   - TLS_DHE_* suites: the finite-field groups (256-511, ffdhe2048...);
//   - every other suite (RSA key transport, static DH/ECDH, PSK, anonymous,
//     a bare code point whose name is unknown): none.
bool groupFitsCipher(const CipherInfo& cipher, std::uint16_t group) noexcept;
// Whether the suite's key exchange uses a group at all (TLS 1.3, ECDHE,
// DHE): when not, the audit line says group=none, not "unknown".
bool cipherUsesGroup(const CipherInfo& cipher) noexcept;

} // namespace rfc8314

// Generated by tools/gen_iana from the IANA CSVs (build/gen/iana_tables.cpp).
namespace rfc8314::iana {
struct CipherRow {
    std::uint16_t code;
    const char* name;
};
struct GroupRow {
    std::uint16_t code;
    const char* name;
};
extern const CipherRow kCipherSuites[];
extern const std::size_t kCipherSuiteCount;
extern const GroupRow kGroups[];
extern const std::size_t kGroupCount;
} // namespace rfc8314::iana
