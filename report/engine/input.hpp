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

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate.hpp"
#include "record.hpp"

namespace rfc8314::report {

// Lines into a parser and an aggregator, counted by kind.
class LineSink {
public:
    LineSink(LineParser& parser, Aggregator& agg, bool json) : parser_(parser), agg_(agg), json_(json) {}
    void line(std::string_view line); // without its newline
    void damaged() noexcept;          // a line that could not be read at all (over-long, cut)

private:
    LineParser& parser_;
    Aggregator& agg_;
    bool json_;
    Record r_;
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
