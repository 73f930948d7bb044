// probe.hpp — the doctor's look at the running system: can the MTA's user
// reach the milter's socket, and does something accept connections on it.
//
// Promises: never throws; every outcome is a finding.  Connects with a
// deadline (3 s), so a filtered port cannot hang the doctor.
#pragma once

#include <string>
#include <vector>

#include "finding.hpp"
#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

// Whether `user` can reach the milter's socket: unix sockets by existence,
// type, then search permission on every directory and write permission on
// the socket as `user` (a child process takes its groups, gid and uid; only
// root can do that, otherwise a warning says it was not checked), then a
// connect(); inet by a TCP connect.  `who` names the MTA in the text.
std::vector<Finding> probeSocket(const Config& cfg, const std::string& who,
                                 const std::string& user);

} // namespace rfc8314::doctor
