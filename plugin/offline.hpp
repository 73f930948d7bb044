// offline.hpp — `rfc8314-milter -t`: run one session through the same
// Session code the daemon uses, with macros from the command line instead of
// an MTA, and print what the filter would do.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "rfc8314/config.hpp"

namespace rfc8314 {

struct OfflineRequest {
    std::vector<std::string> macros; // "NAME=VALUE"
    std::string helo;
    std::vector<std::string> rcpts;
};

// Prints facts, the Received field, the verdict/reply and the log lines.
// Returns the exit status: 0, or 64 for a malformed --macro.
int runOffline(const std::shared_ptr<const Config>& cfg, const OfflineRequest& req,
               std::ostream& out, std::ostream& err);

} // namespace rfc8314
