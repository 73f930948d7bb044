// milter_view.hpp — the milter's own side of every doctor check: which MTA
// listener is a submission listener by the milter's configuration, what its
// policy asks of the MTA, and which macros the milter needs per stage (the
// one table of rfc8314/macros.hpp, also used by smfi_setsymlist).
//
// Promises: pure, reads only the Config it is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finding.hpp"
#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

struct Resolved {
    Config::Listener listener;
    bool needsMilter = false;  // the milter has work on this listener
    bool needsTlsAuth = false; // its policy refuses AUTH without TLS
    bool implicitTls = false;  // role submissions: TLS from the first byte (port 465)
    std::string label;         // "submission" or the [listener] name
};

// The listener an MTA service with this port, {daemon_name} and address
// resolves to.
Resolved resolve(const Config& cfg, std::optional<unsigned> port, const std::string& name,
                 const std::string& addr);

// What the milter asks for with smfi_setsymlist at `stage` ("connect",
// "helo", "envfrom", "eom"): an MTA that ignores smfi_setsymlist must send
// at least these.
std::vector<std::string> neededMacros(std::string_view stage, const Config& cfg);
// The entries of `needed` that `have` lacks (`j` and `{j}` are one macro).
std::vector<std::string> missingMacros(const std::vector<std::string>& needed,
                                       const std::vector<std::string>& have);

// The sentence that says why a connect list without {daemon_port} matters
// (starting with "; "); empty when `missing` does not hold it.
std::string daemonPortConsequence(const std::vector<std::string>& missing);

// The milter configuration file as a fix names it.
std::string milterConfName(const Config& cfg);
// The milter's own socket cannot be read: nothing else can be judged.
Finding socketNotUnderstood(const Config& cfg);

} // namespace rfc8314::doctor
