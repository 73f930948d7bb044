// input.hpp — the report's input: lines of a file fed to the parser and
// the aggregator, and a plain file read by several threads at once.
//
// A .gz is inflated by ISA-L where the build has it (readGzip), by zlib
// in main.cpp where not.
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
#include <memory>
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

// A gzip file inflated in fixed blocks (by Intel ISA-L, when the build
// has it: several times faster than zlib), with what zlib's gzread does at
// its edges: members follow one another until something that is not the
// gzip magic (ignored, as zlib ignores it), a stream that stops short is
// Truncated (the output then goes on with zlib, which reads a few bytes
// further than ISA-L: what one pass through zlib gives), anything else
// wrong is Corrupt (the caller asks zlib for its words).  The blocks depend only on the file and the two chunk sizes, so
// two readers of one file see the same blocks: readGzip's cut relies on it.
class GzipBlocks {
public:
    enum class End { More, Clean, Truncated, Corrupt, ReadError };
    static bool available() noexcept; // built with ISA-L
    GzipBlocks(int fd, std::size_t inChunk, std::size_t outChunk);
    ~GzipBlocks();
    GzipBlocks(const GzipBlocks&) = delete;
    GzipBlocks& operator=(const GzipBlocks&) = delete;
    // The next block of output (valid until the next call); empty once
    // end() is not More.  A last block may come with the end.
    std::string_view next();
    End end() const noexcept { return end_; }
    int readErrno() const noexcept { return errno_; }
    std::uint64_t consumed() const noexcept { return fileAt_ - avail(); } // compressed bytes used so far

private:
    bool refill(std::size_t want); // at least `want` bytes of input, unless the file ends
    template <class Count>
    bool topUp(std::vector<unsigned char>& buf, unsigned char*& next, Count& avail, std::uint64_t& at, std::size_t want);
    std::string_view isalNext();
    std::string_view zlibNext();
    void truncated(std::size_t inThisBlock); // on through zlib to where it can read
    std::size_t avail() const noexcept;
    struct State;
    int fd_;
    std::unique_ptr<State> st_;
    std::vector<unsigned char> in_, out_;
    std::uint64_t fileAt_ = 0; // bytes read from the file
    std::uint64_t produced_ = 0; // by ISA-L
    End end_ = End::More;
    int errno_ = 0;
};

// Reads the gzip file fd (size bytes) through GzipBlocks: with threads > 1
// and an aggregator without detail, in two parts, each inflating on its own
// core: the first parses [0, S) into `agg`, the second inflates from the
// start, skips to S and parses [S, end) into a sibling merged after it.  S
// is the first line start after the first block whose input reaches
// `cutAt` of the compressed size (gzCutShare), worked out alike by both;
// 1 thread, or no such S: one pass.  The result and its End are those of
// one pass.  inChunk/outChunk: the blocks (tests use tiny ones).
struct GzipResult {
    GzipBlocks::End end = GzipBlocks::End::Clean;
    int readErrno = 0;
    bool cut = false; // read in two parts
};
GzipResult readGzip(int fd, std::uint64_t size, LineParser& parser, Aggregator& agg, bool json, unsigned threads,
                    std::size_t blockSize, std::size_t inChunk = 256 * 1024, std::size_t outChunk = 1 << 20);

} // namespace rfc8314::report
