// test_macros.cpp — the per-stage macro table is exactly what the session
// reads: a recording MacroSource drives a Session through every stage and
// the names it asked for are compared with stageMacros() of that stage.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "rfc8314/config.hpp"
#include "rfc8314/macros.hpp"
#include "rfc8314/session.hpp"

using namespace rfc8314;

namespace {

// Answers from a map and records every name asked for, canonically.
class Recorder : public MacroSource {
public:
    explicit Recorder(MacroMap values) : values_(std::move(values)) {}
    std::optional<std::string_view> get(std::string_view name) const override {
        asked.insert(canonicalMacroName(name));
        return values_.get(name);
    }
    mutable std::set<std::string> asked;

private:
    MacroMap values_;
};

std::set<std::string> asSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::string show(const std::set<std::string>& s) {
    std::string out;
    for (const auto& m : s)
        out += (out.empty() ? "" : " ") + m;
    return out;
}

std::shared_ptr<const Config> config(const std::string& text) {
    auto r = parseConfig(text, "test.conf");
    BOOST_TEST_REQUIRE(r.config != nullptr, (r.errors.empty() ? "" : r.errors.front().str()));
    return r.config;
}

} // namespace

BOOST_AUTO_TEST_SUITE(macros)

BOOST_AUTO_TEST_CASE(stage_names_are_libmilters) {
    BOOST_TEST(toString(MacroStage::Connect) == "connect");
    BOOST_TEST(toString(MacroStage::Helo) == "helo");
    BOOST_TEST(toString(MacroStage::Mail) == "envfrom");
    BOOST_TEST(toString(MacroStage::Eom) == "eom");
}

BOOST_AUTO_TEST_CASE(list_is_the_table_space_separated) {
    BOOST_TEST(stageMacroList(MacroStage::Eom, "") == "i");
    BOOST_TEST(stageMacroList(MacroStage::Helo, "") == "{tls_version} {cipher} {cipher_bits}");
    BOOST_TEST(stageMacroList(MacroStage::Helo, "{tls_group}") ==
               "{tls_version} {cipher} {cipher_bits} {tls_group}");
}

BOOST_AUTO_TEST_CASE(advice_for_an_mta_without_setsymlist_names_every_stage) {
    // An MTA that does not offer smfi_setsymlist needs each stage's macros
    // in its own lists.
    const std::string got = symlistAdvice("{tls_group}");
    for (MacroStage stage : kMacroStages) {
        for (const auto& setting : {postfixMacroSetting(stage), sendmailMacroSetting(stage)}) {
            const std::string want = std::string(setting) + " (" + stageMacroList(stage, "{tls_group}") + ")";
            BOOST_TEST(got.find(want) != std::string::npos, "want '" << want << "' in '" << got << "'");
        }
    }
    BOOST_TEST(got.find("{daemon_port}") != std::string::npos);
    BOOST_TEST(postfixMacroSetting(MacroStage::Eom) == "milter_end_of_data_macros");
    BOOST_TEST(sendmailMacroSetting(MacroStage::Mail) == "confMILTER_MACROS_ENVFROM");
}

// For each configuration, what a session reads at each stage, united over
// the paths that read the most (nothing sent, so every fallback is tried;
// and TLS from connect on, so the group macro is read wherever TLS facts
// are), is the table of that stage — except `_`, the connect fallback for
// MTAs that ignore smfi_setsymlist, which is read but never asked for (an
// MTA that honours the list sends {client_addr} and {client_name} instead).
BOOST_AUTO_TEST_CASE(session_reads_exactly_the_table) {
    // No `hostname`: the `by` host then comes from the MTA's `j`.
    const std::string configs[] = {"", "group_macro = {tls_group}\n"};
    for (const auto& text : configs) {
        auto cfg = config(text);
        const auto group = cfg->groupMacro;
        std::map<MacroStage, std::set<std::string>> asked;
        std::set<std::string> rcptAsked;
        const MacroMap tls = [] {
            MacroMap m;
            m.set("{tls_version}", "TLSv1.3");
            m.set("{cipher}", "TLS_AES_128_GCM_SHA256");
            m.set("{cipher_bits}", "128");
            m.set("{tls_group}", "X25519");
            return m;
        }();
        for (const MacroMap& sent : {MacroMap{}, tls}) {
            Session s(cfg);
            Recorder connect{sent}, helo{sent}, mail{sent}, rcpt{sent}, eom{sent};
            s.onConnect(connect, "unknown", "192.0.2.1");
            s.onHelo(helo, "client.example");
            s.onMailFrom(mail, "<a@example.org>", Clock{});
            s.onRcpt(rcpt, "<b@example.org>");
            s.onEndOfMessage(eom, Clock{});
            connect.asked.erase("_");
            asked[MacroStage::Connect].insert(connect.asked.begin(), connect.asked.end());
            asked[MacroStage::Helo].insert(helo.asked.begin(), helo.asked.end());
            asked[MacroStage::Mail].insert(mail.asked.begin(), mail.asked.end());
            asked[MacroStage::Eom].insert(eom.asked.begin(), eom.asked.end());
            rcptAsked.insert(rcpt.asked.begin(), rcpt.asked.end());
        }
        for (MacroStage stage : kMacroStages) {
            const auto& got = asked[stage];
            const auto want = asSet(stageMacros(stage, group));
            BOOST_TEST((got == want), toString(stage) << " with group_macro '" << group
                                                      << "': read {" << show(got) << "}, table {"
                                                      << show(want) << "}");
        }
        BOOST_TEST(rcptAsked.empty(), "rcpt reads no macro, got {" << show(rcptAsked) << "}");
    }
}

BOOST_AUTO_TEST_SUITE_END()
