// postfix.hpp — judges a Postfix configuration (postfix_conf.hpp) against
// the milter's: is every submission service wired to the milter's socket,
// is AUTH kept off cleartext where the policy requires TLS for it, what
// Postfix does while the milter is down or slow, and whether the macro
// lists matter (milter protocol below 6).
//
// Promises: pure — configuration in, findings out, in a stable order (per
// service, then the failure settings, then the macro lists); identical
// findings from a main.cf setting seen by several services appear once.
#pragma once

#include <vector>

#include "finding.hpp"
#include "postfix_conf.hpp"
#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

std::vector<Finding> judgePostfix(const Config& cfg, const PostfixConf& pf);

} // namespace rfc8314::doctor
