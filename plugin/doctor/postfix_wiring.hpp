// postfix_wiring.hpp — is a Postfix submission service wired to the
// milter's socket: through smtpd_milters, or through smtpd_milter_maps
// (Postfix >= 3.2: per client address, with smtpd_milters for the clients
// no table lists), main.cf or -o, chroot taken into account.
//
// Promises: pure; one or more findings per service, each non-ok one with
// the line that fixes it (in main.cf, master.cf, the milter's config or the
// map's source file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "finding.hpp"
#include "postfix_conf.hpp"
#include "rfc8314/config.hpp"
#include "socket.hpp"

namespace rfc8314::doctor {

// The entry that names the milter (for its per-milter settings), where it
// is ("smtpd_milters", or "smtpd_milter_maps TABLE KEY"), and how a fix of
// its settings is written: WHERE gets PREFIX + "{ spec, k=v }".
struct Wiring {
    std::optional<PfMilter> ours;
    std::string source = "smtpd_milters";
    std::string fixWhere;
    std::string fixPrefix;
};

Wiring judgeWiring(const Config& cfg, const PostfixConf& pf, const PostfixService& s,
                   const SocketAddr& milter, const std::string& who, std::vector<Finding>& out);

} // namespace rfc8314::doctor
