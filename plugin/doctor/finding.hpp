// finding.hpp — what every check of `rfc8314-milter --doctor` produces: a
// finding (ok, warning or error, a text) with the exact lines that fix it,
// and how findings are printed.
//
// Promises: pure values, no I/O except printFindings' stream.  The printed
// form is the contract of doctor.hpp: one line per finding, "ok: ",
// "warning: " or "error: " and the text, each fix on its own line as
// "  fix (WHERE): LINE", then a summary line.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace rfc8314::doctor {

enum class Level { Ok, Warning, Error };

struct Fix {
    std::string where; // "main.cf", "master.cf", "sendmail.mc", a file name, "shell"
    std::string line;  // exactly what to write there
    bool operator==(const Fix& o) const { return where == o.where && line == o.line; }
};

struct Finding {
    Level level = Level::Ok;
    std::string text;
    std::vector<Fix> fixes;
};

Finding ok(std::string text);
Finding warning(std::string text, std::vector<Fix> fixes = {});
Finding error(std::string text, std::vector<Fix> fixes = {});

// Identical findings (a main.cf setting judged once per service) collapse
// into one line; order is kept.
std::vector<Finding> dedupe(std::vector<Finding> in);

// Prints findings as described at the top; returns 0 when every finding is
// ok, 1 otherwise.
int printFindings(const std::vector<Finding>& findings, std::ostream& out);

} // namespace rfc8314::doctor
