// socket.hpp — a milter socket in the spellings of the milter, Sendmail and
// Postfix, reduced to what decides identity, so the doctor can tell whether
// an MTA names the socket the milter listens on.
//
// Promises: pure; a spelling that is not understood gives nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rfc8314::doctor {

struct SocketAddr {
    enum class Kind { Inet, Unix } kind = Kind::Inet;
    std::string host; // Inet: as written, lower-case, no brackets; "" = any address
    unsigned port = 0;
    std::string path; // Unix
};

// The milter's and Sendmail's spelling: inet:PORT@HOST, inet6:PORT@HOST,
// local:/path, unix:/path, /path.
std::optional<SocketAddr> parseMilterSocket(std::string_view spec);
// Postfix's spelling: inet:HOST:PORT, unix:PATH, local:PATH (PATH as written;
// relative paths are relative to queue_directory).
std::optional<SocketAddr> parsePostfixSocket(std::string_view spec);
// The milter's socket as Postfix would name it.
std::string postfixSpelling(const SocketAddr& a);

// "/a/./b//c" -> "/a/b/c" (no symlinks resolved: the text is compared).
std::string normPath(const std::string& p);
// An inet host that means "every address" (a milter bound to it is reached
// by any host the MTA names).
bool anyHost(const std::string& host);
// Same socket?  An inet milter bound to any address is reached by any host
// the MTA names.
bool sameSocket(const SocketAddr& mta, const SocketAddr& milter);

} // namespace rfc8314::doctor
