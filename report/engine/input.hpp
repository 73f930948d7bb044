// input.hpp — the report's input: lines of a file fed to the parser and
// the aggregator, and a plain file read by several threads at once.
//
// Promises: a line is what lies between two newlines (the last one may
// lack its newline); a line of at least the block size is counted as one
// damaged line and skipped, so memory never follows line length.  A
// plain file read in segments gives the very result of reading it in one
// pass (segments start at line starts and are merged in file order,
// Aggregator::merge).  Read errors are returned, never thrown; only
// std::bad_alloc and std::system_error (no thread) escape.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aggregate.hpp"
#include "record.hpp"

namespace rfc8314::report {

// Lines into a parser and an aggregator, counted by kind.  A line is
// parsed at once but folded into the aggregator a few lines later, in
// order: meanwhile the memory of its user and client (hash slot, name,
// entity: cache misses, with hundreds of thousands of them) is fetched
// (Aggregator::prefetch).  So a record's views must outlive a few more
// lines: each of the last kDepth lines has a parser (and its buffers) of
// its own, and flush() folds what is pending before the bytes the lines
// point into are reused.
class LineSink {
public:
    LineSink(const LineParser& parser, Aggregator& agg, bool json);
    void line(std::string_view line); // without its newline; valid until flush()
    void damaged() noexcept;          // a line that could not be read at all (over-long, cut)
    void flush();                     // every line so far into the aggregator

private:
    static constexpr std::size_t kDepth = 8; // lines parsed ahead of the fold
    static constexpr std::size_t kHint = 3;  // lines after parsing: names and entities
    static constexpr std::size_t kPeers = 2; // lines before the fold: the client's peers
    struct Pending {
        LineParser parser;
        Record r;
        LineKind kind = LineKind::Foreign;
        Aggregator::Ahead ahead; // the hashes of its names, made once
    };
    void fold(Pending& p);
    Aggregator& agg_;
    bool json_;
    std::vector<Pending> ring_;
    std::size_t head_ = 0, tail_ = 0; // lines parsed, lines folded
};

// Cuts a block stream into lines: feed() the bytes read into the block's
// free space, end() at the end of the input.
class LineSplitter {
public:
    explicit LineSplitter(std::size_t blockSize) : block_(blockSize) {}
    // Where to read the next bytes to, and how many fit.
    char* space() noexcept { return block_.data() + have_; }
    std::size_t room() const noexcept { return block_.size() - have_; }
    // n bytes were read into space(): their complete lines go to sink.
    void feed(std::size_t n, LineSink& sink);
    // The input ended: an unterminated last line goes to sink, whole
    // (cut = false) or as a damaged line (cut = true: the input stopped
    // short, e.g. a truncated .gz).
    void end(LineSink& sink, bool cut);

private:
    std::vector<char> block_;
    std::size_t have_ = 0;
    bool skipping_ = false; // inside an over-long line
};

// Reads ahead on a thread of its own (gzip's inflate, a pipe) while the
// caller cuts and parses the blocks read before: `read(buf, n)` returns
// the bytes read, 0 at the end, < 0 on an error, as gzread does.
class ReadAhead {
public:
    using Read = std::function<long(char* buf, std::size_t n)>;
    ReadAhead(Read read, std::size_t blockSize, std::size_t blocks = 4);
    ~ReadAhead(); // stops and joins the reader
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;
    // Every block into split and sink, in order; returns the read's last
    // result (0 or < 0).  Does not call split.end().
    long feedAll(LineSplitter& split, LineSink& sink);

private:
    struct Block {
        std::vector<char> bytes;
        long n = 0; // filled; <= 0: the read's end or error
    };
    void reader();
    Read read_;
    std::vector<Block> blocks_;
    std::size_t filled_ = 0, consumed_ = 0; // counts; block k is blocks_[k % size]
    bool stop_ = false;
    std::mutex m_;
    std::condition_variable cv_;
    std::thread thread_;
};

// Where the segments of a plain file of `size` bytes start when read by
// `parts` threads: 0, then the starts of the lines that follow each
// (size * k / parts)-th byte; fewer when a line spans a cut.  Empty on a
// read error (errno set).
std::vector<std::uint64_t> segmentStarts(int fd, std::uint64_t size, unsigned parts);

// Reads the plain file fd (size bytes) in segmentStarts(fd, size, threads)
// segments, one thread each, the first into `agg` with `parser`, the others
// into siblings merged into `agg` in file order.  Not for an aggregator
// that keeps detail (Aggregator::merge).  "" when every byte was read,
// else strerror of the failure (what was read is still counted).
std::string readSegments(int fd, std::uint64_t size, LineParser& parser, Aggregator& agg, bool json,
                         unsigned threads, std::size_t blockSize);

} // namespace rfc8314::report
