// pidfile.hpp — the daemon's pid file: written safely, held while the
// daemon runs, removed at exit.
//
// Promises: acquire() never follows a symbolic link (O_NOFOLLOW on the last
// component), writes only a regular file with a single link, and never
// takes over a file another live process owns: one locked by another
// process (flock or fcntl lock), or one naming a running process other than
// this one.  The flock is held until the process ends and is shared with
// the daemon's child across fork(), so a second instance is refused before
// it touches the socket.  remove() unlinks the path only while it still is
// this file.  No member throws; each failure comes back as text.
#pragma once

#include <sys/types.h>

#include <string>

namespace rfc8314 {

class PidFile {
public:
    PidFile() = default;
    ~PidFile();
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

    // Opens (creating it 0644 if need be) and locks `path`.  Empty, or why
    // not; on failure nothing is left of a file this call created.
    std::string acquire(const std::string& path);
    // Hands the file to the user the daemon switches to, so that user may
    // remove it from a sticky directory.
    std::string chown(uid_t uid, gid_t gid);
    // Replaces the content with "PID\n" (nothing when none is held).
    std::string write(pid_t pid);
    // Unlinks the path if it is still this file, then closes it.  Empty, or
    // why the file could not be removed.
    std::string remove() noexcept;

    bool held() const noexcept { return fd_ >= 0; }
    const std::string& path() const noexcept { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

} // namespace rfc8314
