// pidfile.cpp — the daemon's pid file.  See pidfile.hpp.
#include "pidfile.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace rfc8314 {

namespace {

// The pid a pid file names, or 0.
pid_t recordedPid(int fd) {
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    long v = 0;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
        v = v * 10 + (buf[i] - '0');
        if (v > 4194304) // PID_MAX_LIMIT
            return 0;
    }
    return static_cast<pid_t>(v);
}

bool running(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

std::string commandOf(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(in, comm);
    return comm.empty() ? std::string("?") : comm;
}

bool sameFile(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Unlinks `path` only while it is the file open as `fd`: never someone
// else's file that took its place.  0 or an errno value.
int unlinkIfSame(int fd, const std::string& path) noexcept {
    struct stat mine{}, there{};
    if (fstat(fd, &mine) != 0 || stat(path.c_str(), &there) != 0 || !sameFile(mine, there))
        return 0;
    return ::unlink(path.c_str()) == 0 ? 0 : errno;
}

constexpr const char* kRetry = "";

// Whether `fd` may become our pid file: "ok", why not, or kRetry when the
// path no longer leads to it.
std::string judge(int fd, const std::string& path, bool created) {
    struct stat st{};
    if (fstat(fd, &st) != 0)
        return path + ": " + std::strerror(errno);
    if (!S_ISREG(st.st_mode))
        return path + " is not a regular file";
    // A second link would let whoever made it point the daemon's write at
    // another file.
    if (st.st_nlink != 1)
        return path + " has " + std::to_string(st.st_nlink) + " hard links; refusing to write it";
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            return path + ": cannot lock: " + std::strerror(errno);
        const pid_t holder = recordedPid(fd);
        return path + " is held by a running process" +
               (holder > 0 ? " (pid " + std::to_string(holder) + ", " + commandOf(holder) + ")"
                           : std::string()) +
               "; is another rfc8314-milter running?";
    }
    struct flock probe{};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK)
        return path + " is locked by running process " + std::to_string(probe.l_pid) + " (" +
               commandOf(probe.l_pid) + ")";
    if (!created) {
        const pid_t named = recordedPid(fd);
        if (named != getpid() && running(named))
            return path + " names running process " + std::to_string(named) + " (" +
                   commandOf(named) + "); if that is no rfc8314-milter, remove the stale file";
    }
    struct stat now{};
    if (stat(path.c_str(), &now) != 0 || !sameFile(now, st))
        return kRetry;
    return "ok";
}

} // namespace

PidFile::~PidFile() {
    if (fd_ >= 0)
        ::close(fd_);
}

std::string PidFile::acquire(const std::string& path) {
    // Another process may remove or replace the file between our open and
    // our lock; then the lock is on a file nobody can see, and we try again.
    for (int attempt = 0; attempt < 5; ++attempt) {
        constexpr int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
        int fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL, 0644);
        const bool created = fd >= 0;
        if (fd < 0 && errno == EEXIST)
            fd = ::open(path.c_str(), flags);
        if (fd < 0) {
            if (errno == ENOENT && attempt + 1 < 5)
                continue;
            if (errno == ELOOP)
                return path + " is a symbolic link; the pid file is never written through one";
            return path + ": " + std::strerror(errno);
        }
        auto why = judge(fd, path, created);
        if (why == "ok") {
            fd_ = fd;
            path_ = path;
            return {};
        }
        if (created)
            unlinkIfSame(fd, path);
        ::close(fd);
        if (why != kRetry)
            return why;
    }
    return path + " keeps changing under the daemon; not written";
}

std::string PidFile::chown(uid_t uid, gid_t gid) {
    if (fd_ >= 0 && fchown(fd_, uid, gid) != 0)
        return path_ + ": cannot hand it to the daemon's user: " + std::strerror(errno);
    return {};
}

std::string PidFile::write(pid_t pid) {
    if (fd_ < 0)
        return {}; // no pid_file
    const std::string text = std::to_string(pid) + "\n";
    if (ftruncate(fd_, 0) != 0 ||
        pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        return path_ + ": cannot write: " + std::strerror(errno);
    return {};
}

std::string PidFile::remove() noexcept {
    if (fd_ < 0)
        return {};
    std::string why;
    if (const int err = unlinkIfSame(fd_, path_)) {
        try {
            why = path_ + ": cannot remove: " + std::strerror(err);
        } catch (...) {
        }
    }
    ::close(fd_); // releases the lock, after the unlink
    fd_ = -1;
    return why;
}

} // namespace rfc8314
