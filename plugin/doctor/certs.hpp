// certs.hpp — reads a server certificate file the way the MTA will (PEM,
// every certificate in it, keys skipped) and returns its facts for
// tls.hpp's judgement.
//
// Promises: never throws; a file that cannot be opened, holds no
// certificate or does not parse gives facts with an error text.  The file is
// read as the doctor's own user: the MTAs load their certificates as root
// before dropping privileges, so the doctor run as root sees what they see;
// run as another user, a permission error is reported as "not checked".
#pragma once

#include <string>

#include "tls.hpp"

namespace rfc8314::doctor {

CertFacts readCertificateFile(const std::string& path);

} // namespace rfc8314::doctor
