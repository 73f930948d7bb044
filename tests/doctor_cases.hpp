// doctor_cases.hpp — what the test_doctor_*.cpp tables share: a milter
// Config from text, and one check that a judge's findings hold the wanted
// ones (level, text, fix lines) and none of the unwanted, with got/want
// messages that print every finding as --doctor would.
#pragma once

#include <boost/test/unit_test.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "doctor/finding.hpp"
#include "rfc8314/config.hpp"

namespace doctor_cases {

using rfc8314::doctor::Finding;
using rfc8314::doctor::Fix;
using rfc8314::doctor::Level;

inline std::shared_ptr<const rfc8314::Config> config(const std::string& text) {
    auto r = rfc8314::parseConfig(text, "milter.conf");
    BOOST_TEST_REQUIRE(r.config != nullptr, (r.errors.empty() ? "" : r.errors.front().str()));
    return r.config;
}

// The milter's configuration with its socket on inet:8891@127.0.0.1 (the
// README's) and `extra` lines after it.
inline std::shared_ptr<const rfc8314::Config> milter(const std::string& extra = "") {
    return config("socket = inet:8891@127.0.0.1\n" + extra);
}

inline std::string show(const std::vector<Finding>& got) {
    std::ostringstream out;
    rfc8314::doctor::printFindings(got, out);
    return out.str();
}

// A wanted finding: its level, a part of its text, and fix lines it must
// carry (exactly these, in this order, when `fixes` is not empty).
struct Want {
    Level level;
    std::string text;
    std::vector<Fix> fixes = {};
};

inline const char* levelName(Level l) {
    return l == Level::Ok ? "ok" : l == Level::Warning ? "warning" : "error";
}

inline void expectFindings(const std::string& name, const std::vector<Finding>& got,
                           const std::vector<Want>& want,
                           const std::vector<std::string>& absent = {}) {
    for (const auto& w : want) {
        const Finding* hit = nullptr;
        for (const auto& f : got)
            if (f.text.find(w.text) != std::string::npos) {
                hit = &f;
                break;
            }
        BOOST_TEST(hit != nullptr, name << ": want " << levelName(w.level) << " '" << w.text
                                        << "', got:\n"
                                        << show(got));
        if (!hit)
            continue;
        BOOST_TEST((hit->level == w.level), name << ": '" << w.text << "': got "
                                                 << levelName(hit->level) << ", want "
                                                 << levelName(w.level));
        if (w.fixes.empty())
            continue;
        bool same = hit->fixes.size() == w.fixes.size();
        for (std::size_t i = 0; same && i < w.fixes.size(); ++i)
            same = hit->fixes[i] == w.fixes[i];
        std::string wantText;
        for (const auto& x : w.fixes)
            wantText += "\n  fix (" + x.where + "): " + x.line;
        BOOST_TEST(same, name << ": '" << w.text << "': want the fixes" << wantText << "\ngot:\n"
                              << show({*hit}));
    }
    for (const auto& a : absent)
        for (const auto& f : got)
            BOOST_TEST(f.text.find(a) == std::string::npos,
                       name << ": did not want '" << a << "', got: " << f.text);
}

// Every finding ok.
inline void expectAllOk(const std::string& name, const std::vector<Finding>& got) {
    bool allOk = !got.empty();
    for (const auto& f : got)
        allOk = allOk && f.level == Level::Ok;
    BOOST_TEST(allOk, name << ": want only ok lines, got:\n" << show(got));
}

} // namespace doctor_cases
