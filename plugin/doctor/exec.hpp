// exec.hpp — runs the MTA's own tools (postconf) the safe way: fork/exec
// without a shell, so no argument is ever re-parsed, stdin from /dev/null,
// stdout and stderr captured together so neither pipe can fill and block.
//
// Promises: never throws for a program that fails; status -1 when it could
// not run or died by a signal.
#pragma once

#include <string>
#include <vector>

namespace rfc8314::doctor {

struct RunResult {
    int status = -1; // exit status; -1 when it did not run or died
    std::string out, err;
};

// The program in PATH or the sbin directories (postconf lives in /usr/sbin,
// often not in a non-root PATH); "" when not found.
std::string findProgram(const std::string& name);
RunResult runProgram(const std::string& prog, const std::vector<std::string>& args);
// The first line of a program's output, trimmed (for error texts).
std::string firstLine(const std::string& s);

} // namespace rfc8314::doctor
