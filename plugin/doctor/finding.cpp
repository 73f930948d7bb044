// finding.cpp — findings and their printed form (see finding.hpp).
#include "finding.hpp"

#include <set>

namespace rfc8314::doctor {

Finding ok(std::string text) { return {Level::Ok, std::move(text), {}}; }

Finding warning(std::string text, std::vector<Fix> fixes) {
    return {Level::Warning, std::move(text), std::move(fixes)};
}

Finding error(std::string text, std::vector<Fix> fixes) {
    return {Level::Error, std::move(text), std::move(fixes)};
}

std::vector<Finding> dedupe(std::vector<Finding> in) {
    std::set<std::string> seen;
    std::vector<Finding> out;
    for (auto& f : in) {
        if (seen.insert(f.text).second)
            out.push_back(std::move(f));
    }
    return out;
}

int printFindings(const std::vector<Finding>& findings, std::ostream& out) {
    int warnings = 0, errors = 0, oks = 0;
    for (const auto& f : findings) {
        switch (f.level) {
        case Level::Ok:
            out << "ok: ";
            ++oks;
            break;
        case Level::Warning:
            out << "warning: ";
            ++warnings;
            break;
        case Level::Error:
            out << "error: ";
            ++errors;
            break;
        }
        out << f.text << "\n";
        for (const auto& x : f.fixes)
            out << "  fix (" << x.where << "): " << x.line << "\n";
    }
    out << "summary: " << oks << " ok, " << warnings << " warning(s), " << errors << " error(s)\n";
    return warnings + errors == 0 ? 0 : 1;
}

} // namespace rfc8314::doctor
