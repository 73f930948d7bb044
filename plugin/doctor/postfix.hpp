// postfix.hpp — judges a Postfix configuration (postfix_conf.hpp) against
// the milter's and RFC 8314's: is every submission service wired to the
// milter's socket, is AUTH kept off cleartext where the policy requires TLS
// for it, does a submissions (465) service use implicit TLS and is there one
// at all, does every submission service offer TLS with a valid certificate
// and no protocol below TLS 1.2 (RFC 8997), what Postfix does while the
// milter is down or slow, and whether the macro lists matter (milter
// protocol below 6).
//
// Promises: pure — configuration in, findings out, in a stable order (per
// service, then the 465 check, the failure settings, the macro lists);
// certificates are judged from the facts in PostfixConf::certs; identical
// findings from a main.cf setting seen by several services appear once.
#pragma once

#include <vector>

#include "finding.hpp"
#include "postfix_conf.hpp"
#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

std::vector<Finding> judgePostfix(const Config& cfg, const PostfixConf& pf);

} // namespace rfc8314::doctor
