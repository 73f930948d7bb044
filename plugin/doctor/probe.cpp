// probe.cpp — the milter's socket probed as the MTA's user (see probe.hpp).
#include "probe.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "milter_view.hpp"
#include "mta_text.hpp"
#include "socket.hpp"

namespace rfc8314::doctor {
namespace {

// Can uid/gids do `want` (R_OK/W_OK/X_OK bits as 4/2/1) on st?
bool permits(const struct stat& st, uid_t uid, const std::vector<gid_t>& gids, unsigned want) {
    if (uid == 0)
        return true;
    unsigned mode = static_cast<unsigned>(st.st_mode);
    if (st.st_uid == uid)
        return ((mode >> 6) & want) == want;
    if (std::find(gids.begin(), gids.end(), st.st_gid) != gids.end())
        return ((mode >> 3) & want) == want;
    return (mode & want) == want;
}

std::string groupName(gid_t g) {
    if (struct group* gr = getgrgid(g))
        return gr->gr_name;
    return std::to_string(g);
}

std::string octal(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

// A TCP connect with a deadline, so a filtered port cannot hang the doctor.
std::string tcpConnect(const std::string& host, unsigned port) {
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0)
        return gai_strerror(rc);
    std::string err = "no address";
    for (auto* ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            err = std::strerror(errno);
            continue;
        }
        int c = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (c != 0 && errno == EINPROGRESS) {
            struct pollfd p {fd, POLLOUT, 0};
            if (poll(&p, 1, 3000) == 1) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
                c = soerr == 0 ? 0 : -1;
                errno = soerr;
            } else {
                errno = ETIMEDOUT;
            }
        }
        if (c == 0) {
            close(fd);
            freeaddrinfo(res);
            return {};
        }
        err = std::strerror(errno);
        close(fd);
    }
    freeaddrinfo(res);
    return err;
}

} // namespace

std::vector<Finding> probeSocket(const Config& cfg, const std::string& who,
                                 const std::string& user) {
    std::vector<Finding> out;
    const auto a = parseMilterSocket(cfg.socket);
    if (!a)
        return out;
    const std::string start =
        "rfc8314-milter" + (cfg.file.empty() ? std::string() : " -c " + cfg.file);
    if (a->kind == SocketAddr::Kind::Inet) {
        std::string host = a->host;
        if (anyHost(host))
            host = host == "::" ? "::1" : "127.0.0.1";
        auto err = tcpConnect(host, a->port);
        if (err.empty())
            out.push_back(ok(who + ": the milter's socket " + cfg.socket +
                             " accepts TCP connections"));
        else
            out.push_back(error(who + ": cannot connect to the milter's socket " + cfg.socket +
                                    " (" + host + " port " + std::to_string(a->port) + "): " +
                                    err + "; is rfc8314-milter running?",
                                {{"shell", start}}));
        return out;
    }

    const std::string path = normPath(a->path);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        out.push_back(error(who + ": the milter's socket " + path + ": " + std::strerror(errno) +
                                "; is rfc8314-milter running?",
                            {{"shell", start}}));
        return out;
    }
    if (!S_ISSOCK(st.st_mode)) {
        out.push_back(error(who + ": " + path + " exists but is not a socket",
                            {{"shell", "rm " + path + " && " + start}}));
        return out;
    }

    // Permissions as the MTA's user sees them: search on every directory on
    // the way, write on the socket itself.
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) {
        out.push_back(warning(who + ": user " + user + " does not exist; socket permissions "
                                    "not checked",
                              {{"shell", "id " + user}}));
    } else {
        const uid_t uid = pw->pw_uid;
        const gid_t gid = pw->pw_gid;
        const std::string name = pw->pw_name; // getpw* storage is reused below
        int n = 64;
        std::vector<gid_t> gids(static_cast<size_t>(n));
        if (getgrouplist(name.c_str(), gid, gids.data(), &n) < 0) {
            gids.resize(static_cast<size_t>(n));
            getgrouplist(name.c_str(), gid, gids.data(), &n);
        }
        gids.resize(static_cast<size_t>(n));
        bool good = true;
        std::string dir;
        for (const auto& part : splitList(path.substr(0, path.rfind('/')), "/")) {
            dir += "/" + part;
            struct stat ds {};
            if (stat(dir.c_str(), &ds) != 0 || permits(ds, uid, gids, 1))
                continue;
            good = false;
            const std::string g = groupName(ds.st_gid);
            out.push_back(error(
                who + ": user " + user + " cannot search " + dir + " (mode " +
                    octal(ds.st_mode) + ", group " + g + ")",
                {((ds.st_mode & S_IXGRP) != 0)
                     ? Fix{"shell", "usermod -a -G " + g + " " + user}
                     : Fix{"shell", "chmod g+x " + dir + " && usermod -a -G " + g + " " + user}}));
            break;
        }
        if (good && !permits(st, uid, gids, 2)) {
            good = false;
            const std::string g = groupName(st.st_gid);
            std::vector<Fix> fixes;
            if ((st.st_mode & S_IWGRP) == 0)
                fixes.push_back({milterConfName(cfg), "umask = 007"});
            fixes.push_back({"shell", "usermod -a -G " + g + " " + user});
            out.push_back(error(who + ": user " + user + " cannot write to the socket " + path +
                                    " (mode " + octal(st.st_mode) + ", group " + g + ")",
                                fixes));
        }
        if (good)
            out.push_back(ok(who + ": user " + user + " may connect to " + path));
    }

    // Something must also be listening behind the file.
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun {};
    sun.sun_family = AF_UNIX;
    if (fd >= 0 && path.size() < sizeof sun.sun_path) {
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        if (connect(fd, reinterpret_cast<struct sockaddr*>(&sun), sizeof sun) == 0)
            out.push_back(ok(who + ": the milter accepts connections on " + path));
        else if (errno == EACCES)
            out.push_back(ok(who + ": connect to " + path + " not tried (no permission as uid " +
                             std::to_string(geteuid()) + ")"));
        else
            out.push_back(error(who + ": nothing accepts connections on " + path + ": " +
                                    std::strerror(errno) + "; is rfc8314-milter running?",
                                {{"shell", start}}));
    }
    if (fd >= 0)
        close(fd);
    return out;
}

} // namespace rfc8314::doctor
