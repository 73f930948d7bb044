// input.cpp — lines of the report's input, and a plain file read by
// several threads.  See input.hpp.
#include "input.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>

namespace rfc8314::report {

LineSink::LineSink(const LineParser& parser, Aggregator& agg, bool json)
    : agg_(agg), json_(json), ring_(kDepth, Pending{parser, Record{}, LineKind::Foreign, {}}) {}

void LineSink::line(std::string_view line) {
    ++agg_.counts.lines;
    Pending& p = ring_[head_ % kDepth];
    p.kind = json_ ? p.parser.parseJson(line, p.r) : p.parser.parseSyslog(line, p.r);
    if (p.kind == LineKind::Audit) {
        p.ahead = {};
        agg_.prefetch(p.r, 0, p.ahead);
    }
    ++head_;
    if (head_ - tail_ > kHint) {
        Pending& q = ring_[(head_ - 1 - kHint) % kDepth];
        if (q.kind == LineKind::Audit)
            agg_.prefetch(q.r, 1, q.ahead);
    }
    if (head_ - tail_ == kDepth) {
        Pending& q = ring_[(tail_ + kPeers) % kDepth];
        if (q.kind == LineKind::Audit)
            agg_.prefetch(q.r, 2, q.ahead);
        fold(ring_[tail_++ % kDepth]);
    }
}

void LineSink::fold(Pending& p) {
    switch (p.kind) {
    case LineKind::Audit: agg_.add(p.r, p.ahead); break;
    case LineKind::Foreign: ++agg_.counts.foreign; break;
    case LineKind::Other: ++agg_.counts.other; break;
    case LineKind::Damaged: ++agg_.counts.damaged; break;
    }
}

void LineSink::flush() {
    while (tail_ < head_)
        fold(ring_[tail_++ % kDepth]);
}

void LineSink::damaged() noexcept {
    ++agg_.counts.lines;
    ++agg_.counts.damaged;
}

void LineSplitter::feed(std::size_t n, LineSink& sink) {
    const std::size_t end = have_ + n;
    std::size_t start = 0;
    const char* base = block_.data();
    while (true) {
        const void* nl = std::memchr(base + start, '\n', end - start);
        if (!nl)
            break;
        const std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        if (skipping_)
            skipping_ = false;
        else
            sink.line(std::string_view(base + start, pos - start));
        start = pos + 1;
    }
    sink.flush(); // the lines point into the block: fold them before it moves
    have_ = end - start;
    if (have_ == block_.size()) { // no newline in a whole block
        if (!skipping_)
            sink.damaged();
        skipping_ = true;
        have_ = 0;
    } else if (start > 0 && have_ > 0) {
        std::memmove(block_.data(), base + start, have_);
    }
}

void LineSplitter::end(LineSink& sink, bool cut) {
    if (have_ > 0 && !skipping_) {
        if (cut)
            sink.damaged();
        else
            sink.line(std::string_view(block_.data(), have_));
    }
    sink.flush();
    have_ = 0;
    skipping_ = false;
}

ReadAhead::ReadAhead(Read read, std::size_t blockSize, std::size_t blocks)
    : read_(std::move(read)), blocks_(blocks < 2 ? 2 : blocks) {
    for (Block& b : blocks_)
        b.bytes.resize(blockSize);
    thread_ = std::thread([this] { reader(); });
}

ReadAhead::~ReadAhead() {
    {
        std::lock_guard<std::mutex> lock(m_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void ReadAhead::reader() {
    while (true) {
        Block* b;
        {
            std::unique_lock<std::mutex> lock(m_);
            cv_.wait(lock, [this] { return stop_ || filled_ - consumed_ < blocks_.size(); });
            if (stop_)
                return;
            b = &blocks_[filled_ % blocks_.size()];
        }
        // The block is the reader's alone until filled_ counts it.
        const long n = read_(b->bytes.data(), b->bytes.size());
        b->n = n;
        {
            std::lock_guard<std::mutex> lock(m_);
            ++filled_;
        }
        cv_.notify_all();
        if (n <= 0)
            return;
    }
}

long ReadAhead::feedAll(LineSplitter& split, LineSink& sink) {
    while (true) {
        const Block* b;
        {
            std::unique_lock<std::mutex> lock(m_);
            cv_.wait(lock, [this] { return filled_ > consumed_; });
            b = &blocks_[consumed_ % blocks_.size()];
        }
        if (b->n <= 0)
            return b->n;
        for (std::size_t at = 0, n = static_cast<std::size_t>(b->n); at < n;) {
            const std::size_t k = std::min(split.room(), n - at);
            std::memcpy(split.space(), b->bytes.data() + at, k);
            split.feed(k, sink);
            at += k;
        }
        {
            std::lock_guard<std::mutex> lock(m_);
            ++consumed_;
        }
        cv_.notify_all();
    }
}

namespace {

// pread, whole or until the end of the file; -1 on error.
ssize_t readAt(int fd, char* buf, std::size_t n, std::uint64_t at) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(at + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(done);
}

// Bytes [begin, end) of fd as lines; the segment's last line may lack its
// newline only when end is the end of the file.  "" or strerror.
std::string readRange(int fd, std::uint64_t begin, std::uint64_t end, LineSink& sink, std::size_t blockSize) {
    LineSplitter split(blockSize);
    std::uint64_t at = begin;
    while (at < end) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(split.room(), end - at));
        const ssize_t n = readAt(fd, split.space(), want, at);
        if (n < 0)
            return std::strerror(errno);
        if (n == 0)
            break; // the file shrank under us: what is there is read
        split.feed(static_cast<std::size_t>(n), sink);
        at += static_cast<std::uint64_t>(n);
    }
    split.end(sink, false);
    return {};
}

} // namespace

std::vector<std::uint64_t> segmentStarts(int fd, std::uint64_t size, unsigned parts) {
    std::vector<std::uint64_t> starts{0};
    char buf[64 * 1024];
    for (unsigned k = 1; k < parts; ++k) {
        std::uint64_t at = size / parts * k;
        if (at <= starts.back())
            continue;
        // The line that holds byte `at - 1` ends at the next newline from
        // there: the segment starts after it.
        --at;
        bool found = false;
        while (at < size && !found) {
            const ssize_t n = readAt(fd, buf, sizeof buf, at);
            if (n < 0)
                return {};
            if (n == 0)
                break;
            if (const void* nl = std::memchr(buf, '\n', static_cast<std::size_t>(n))) {
                at += static_cast<std::uint64_t>(static_cast<const char*>(nl) - buf) + 1;
                found = true;
            } else {
                at += static_cast<std::uint64_t>(n);
            }
        }
        if (!found || at >= size)
            break; // the rest is one line: no later segment
        starts.push_back(at);
    }
    return starts;
}

std::string readSegments(int fd, std::uint64_t size, LineParser& parser, Aggregator& agg, bool json,
                         unsigned threads, std::size_t blockSize) {
    const std::vector<std::uint64_t> starts = segmentStarts(fd, size, threads == 0 ? 1 : threads);
    if (starts.empty())
        return std::strerror(errno);
    const std::size_t n = starts.size();
    // The last segment reads on to the end of the file, as a single pass
    // would, should the file have grown since its size was taken.
    auto endOf = [&](std::size_t k) { return k + 1 < n ? starts[k + 1] : UINT64_MAX; };

    struct Part {
        LineParser parser;
        std::unique_ptr<Aggregator> agg;
        std::string error;
        std::exception_ptr thrown;
    };
    std::vector<Part> parts;
    parts.reserve(n - 1);
    for (std::size_t k = 1; k < n; ++k)
        parts.push_back({parser, agg.sibling(), {}, nullptr});
    std::vector<std::thread> workers;
    workers.reserve(n - 1);
    for (std::size_t k = 1; k < n; ++k)
        workers.emplace_back([&, k] {
            Part& p = parts[k - 1];
            try {
                LineSink sink(p.parser, *p.agg, json);
                p.error = readRange(fd, starts[k], endOf(k), sink, blockSize);
            } catch (...) {
                p.thrown = std::current_exception();
            }
        });
    std::string error;
    std::exception_ptr thrown;
    try {
        LineSink sink(parser, agg, json);
        error = readRange(fd, 0, endOf(0), sink, blockSize);
    } catch (...) {
        thrown = std::current_exception();
    }
    for (auto& w : workers)
        w.join();
    if (thrown)
        std::rethrow_exception(thrown);
    for (Part& p : parts) {
        if (p.thrown)
            std::rethrow_exception(p.thrown);
        agg.merge(*p.agg);
        p.agg.reset(); // its memory back before the next merge
        if (error.empty())
            error = p.error;
    }
    return error;
}

} // namespace rfc8314::report
