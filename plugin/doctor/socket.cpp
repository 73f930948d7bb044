// socket.cpp — milter socket spellings and identity (see socket.hpp).
#include "socket.hpp"

#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {
namespace {

std::string canonHost(const std::string& h) {
    if (h == "localhost")
        return "127.0.0.1";
    if (h == "ip6-localhost")
        return "::1";
    return h;
}

std::string unbracket(std::string h) {
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
        return h.substr(1, h.size() - 2);
    return h;
}

} // namespace

std::optional<SocketAddr> parseMilterSocket(std::string_view spec) {
    const std::string s = trimmed(spec);
    SocketAddr a;
    if (!s.empty() && s.front() == '/') {
        a.kind = SocketAddr::Kind::Unix;
        a.path = s;
        return a;
    }
    const auto colon = s.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    const std::string kind = text::lower(s.substr(0, colon));
    const std::string rest = s.substr(colon + 1);
    if (kind == "local" || kind == "unix") {
        if (rest.empty())
            return std::nullopt;
        a.kind = SocketAddr::Kind::Unix;
        a.path = rest;
        return a;
    }
    if (kind == "inet" || kind == "inet6") {
        const auto at = rest.find('@');
        const auto port = number(rest.substr(0, at));
        if (!port || *port > 65535)
            return std::nullopt;
        a.port = *port;
        if (at != std::string::npos)
            a.host = unbracket(text::lower(rest.substr(at + 1)));
        return a;
    }
    return std::nullopt;
}

std::optional<SocketAddr> parsePostfixSocket(std::string_view spec) {
    const std::string s = trimmed(spec);
    const auto colon = s.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    const std::string kind = text::lower(s.substr(0, colon));
    const std::string rest = s.substr(colon + 1);
    SocketAddr a;
    if (kind == "unix" || kind == "local") {
        if (rest.empty())
            return std::nullopt;
        a.kind = SocketAddr::Kind::Unix;
        a.path = rest;
        return a;
    }
    if (kind == "inet") {
        const auto last = rest.rfind(':');
        if (last == std::string::npos)
            return std::nullopt;
        const auto port = portOf(rest.substr(last + 1));
        if (!port || *port > 65535)
            return std::nullopt;
        a.port = *port;
        a.host = unbracket(text::lower(rest.substr(0, last)));
        return a;
    }
    return std::nullopt;
}

std::string postfixSpelling(const SocketAddr& a) {
    if (a.kind == SocketAddr::Kind::Unix)
        return "unix:" + a.path;
    std::string host = a.host;
    if (host.empty() || host == "0.0.0.0" || host == "inaddr_any")
        host = "127.0.0.1";
    else if (host == "::")
        host = "::1";
    if (host.find(':') != std::string::npos)
        host = "[" + host + "]";
    return "inet:" + host + ":" + std::to_string(a.port);
}

std::string normPath(const std::string& p) {
    std::string out;
    for (const auto& part : splitList(p, "/")) {
        if (part == ".")
            continue;
        out += "/" + part;
    }
    return out.empty() ? "/" : out;
}

bool anyHost(const std::string& h) {
    return h.empty() || h == "0.0.0.0" || h == "::" || h == "inaddr_any";
}

bool sameSocket(const SocketAddr& mta, const SocketAddr& milter) {
    if (mta.kind != milter.kind)
        return false;
    if (mta.kind == SocketAddr::Kind::Unix)
        return normPath(mta.path) == normPath(milter.path);
    if (mta.port != milter.port)
        return false;
    return anyHost(milter.host) || canonHost(mta.host) == canonHost(milter.host);
}

} // namespace rfc8314::doctor
