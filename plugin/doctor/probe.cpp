// probe.cpp — the milter's socket probed as the MTA's user (see probe.hpp).
// Permissions are the kernel's answer to access(2) in a child running as
// that user, so ACLs and group memberships count exactly as for the MTA.
#include "probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "milter_view.hpp"
#include "mta_text.hpp"
#include "socket.hpp"

namespace rfc8314::doctor {
namespace {

// The MTA's user, as the kernel will see it when the MTA connects.
struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

std::optional<Account> account(const std::string& user) {
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw)
        return std::nullopt;
    Account a;
    a.uid = pw->pw_uid;
    a.gid = pw->pw_gid;
    const std::string name = pw->pw_name; // getpw* storage is reused below
    int n = 64;
    a.groups.resize(static_cast<std::size_t>(n));
    if (getgrouplist(name.c_str(), a.gid, a.groups.data(), &n) < 0) {
        a.groups.resize(static_cast<std::size_t>(n));
        getgrouplist(name.c_str(), a.gid, a.groups.data(), &n);
    }
    a.groups.resize(static_cast<std::size_t>(n));
    return a;
}

struct AccessCheck {
    std::string path;
    int mode; // X_OK, W_OK
};

// The first of `checks` that `a` fails (its index and errno), or index -1
// when every one passes.  The checks run in a child that has taken the
// user's groups, gid and uid, so the kernel answers — permission bits,
// ACLs and all — instead of a re-derivation from the mode bits.  Only root
// can become another user; nullopt when the doctor cannot.
struct AccessOutcome {
    int failed = -1;
    int err = 0;
};

std::optional<AccessOutcome> accessAs(const Account& a, const std::vector<AccessCheck>& checks) {
    const bool become = geteuid() != a.uid;
    if (become && geteuid() != 0)
        return std::nullopt;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return AccessOutcome{-2, errno};
    // Everything the child touches is ready before fork(): it only makes
    // async-signal-safe calls.
    std::vector<const char*> paths;
    for (const auto& c : checks)
        paths.push_back(c.path.c_str());
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int result[2] = {-1, 0};
        if (become && (setgroups(a.groups.size(), a.groups.data()) != 0 || setgid(a.gid) != 0 ||
                       setuid(a.uid) != 0)) {
            result[0] = -2;
            result[1] = errno;
        } else {
            for (std::size_t i = 0; i < checks.size(); ++i) {
                if (access(paths[i], checks[i].mode) != 0) {
                    result[0] = static_cast<int>(i);
                    result[1] = errno;
                    break;
                }
            }
        }
        const ssize_t n = write(fds[1], result, sizeof result);
        _exit(n == static_cast<ssize_t>(sizeof result) ? 0 : 1);
    }
    close(fds[1]);
    if (pid < 0) {
        const int e = errno;
        close(fds[0]);
        return AccessOutcome{-2, e};
    }
    int result[2] = {-2, EIO};
    ssize_t n;
    while ((n = read(fds[0], result, sizeof result)) < 0 && errno == EINTR) {
    }
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof result))
        return AccessOutcome{-2, EIO};
    return AccessOutcome{result[0], result[1]};
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
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = std::strerror(errno);
            continue;
        }
        int c = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (c != 0 && errno == EINPROGRESS) {
            struct pollfd p {
                fd, POLLOUT, 0
            };
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
            out.push_back(
                ok(who + ": the milter's socket " + cfg.socket + " accepts TCP connections"));
        else
            out.push_back(error(who + ": cannot connect to the milter's socket " + cfg.socket +
                                    " (" + host + " port " + std::to_string(a->port) + "): " + err +
                                    "; is rfc8314-milter running?",
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

    // Search on every directory on the way and write on the socket itself,
    // checked as the MTA's user.
    const auto acct = account(user);
    if (!acct) {
        out.push_back(warning(who + ": user " + user +
                                  " does not exist; socket permissions "
                                  "not checked",
                              {{"shell", "id " + user}}));
    } else {
        std::vector<AccessCheck> checks;
        std::string dir;
        for (const auto& part : splitList(path.substr(0, path.rfind('/')), "/")) {
            dir += "/" + part;
            checks.push_back({dir, X_OK});
        }
        checks.push_back({path, W_OK});
        const auto got = accessAs(*acct, checks);
        if (!got) {
            out.push_back(warning(who + ": socket permissions of user " + user +
                                  " not checked: only root can act as another user (the "
                                  "doctor runs as uid " +
                                  std::to_string(geteuid()) + ")"));
        } else if (got->failed == -1) {
            out.push_back(ok(who + ": user " + user + " may connect to " + path));
        } else if (got->failed < 0) {
            out.push_back(warning(who + ": socket permissions of user " + user +
                                  " not checked: " + std::strerror(got->err)));
        } else if (static_cast<std::size_t>(got->failed) + 1 < checks.size()) {
            const std::string& d = checks[static_cast<std::size_t>(got->failed)].path;
            struct stat ds {};
            stat(d.c_str(), &ds);
            const std::string g = groupName(ds.st_gid);
            out.push_back(error(
                who + ": user " + user + " cannot search " + d + " (mode " + octal(ds.st_mode) +
                    ", group " + g + "): " + std::strerror(got->err),
                {((ds.st_mode & S_IXGRP) != 0)
                     ? Fix{"shell", "usermod -a -G " + g + " " + user}
                     : Fix{"shell", "chmod g+x " + d + " && usermod -a -G " + g + " " + user}}));
        } else {
            const std::string g = groupName(st.st_gid);
            std::vector<Fix> fixes;
            if ((st.st_mode & S_IWGRP) == 0)
                fixes.push_back({milterConfName(cfg), "umask = 007"});
            fixes.push_back({"shell", "usermod -a -G " + g + " " + user});
            out.push_back(error(who + ": user " + user + " cannot write to the socket " + path +
                                    " (mode " + octal(st.st_mode) + ", group " + g +
                                    "): " + std::strerror(got->err),
                                fixes));
        }
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
