// input.cpp — lines of the report's input, a plain file read by several
// threads, and a .gz inflated by ISA-L, in two parts on two cores.  See
// input.hpp.
#include "input.hpp"

#include <unistd.h>

#ifdef RFC8314_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#include <zlib.h>
#endif

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

namespace {

// Bytes into the splitter, as many at a time as it has room for.
void feedBytes(LineSplitter& split, LineSink& sink, const char* p, std::size_t n) {
    for (std::size_t at = 0; at < n;) {
        const std::size_t k = std::min(split.room(), n - at);
        std::memcpy(split.space(), p + at, k);
        split.feed(k, sink);
        at += k;
    }
}

} // namespace

#ifdef RFC8314_HAVE_ISAL
struct GzipBlocks::State {
    inflate_state s;
    // After ISA-L found the file cut short: zlib from the start again, its
    // first `skip` bytes of output dropped (ISA-L gave them).  ISA-L stops
    // a few symbols before the cut, zlib decodes up to the last whole one;
    // one pass through zlib (main.cpp without ISA-L) reads that far, so
    // this does too.
    bool tail = false;
    z_stream z{};
    bool zMemberEnd = false;
    std::uint64_t zAt = 0, skip = 0;
    std::vector<unsigned char> zin;
    ~State() {
        if (tail)
            inflateEnd(&z);
    }
};
bool GzipBlocks::available() noexcept { return true; }
#else
struct GzipBlocks::State {};
bool GzipBlocks::available() noexcept { return false; }
#endif

GzipBlocks::GzipBlocks(int fd, std::size_t inChunk, std::size_t outChunk)
    : fd_(fd), st_(std::make_unique<State>()), in_(inChunk < 2 ? 2 : inChunk), out_(outChunk < 1 ? 1 : outChunk) {
#ifdef RFC8314_HAVE_ISAL
    isal_inflate_init(&st_->s);
    st_->s.crc_flag = ISAL_GZIP; // header parsed, CRC-32 and length checked, as zlib does
    st_->s.next_in = in_.data();
    st_->s.avail_in = 0;
#else
    end_ = End::Corrupt; // never used without ISA-L (available())
#endif
}

GzipBlocks::~GzipBlocks() = default;

#ifdef RFC8314_HAVE_ISAL
std::size_t GzipBlocks::avail() const noexcept { return st_->s.avail_in; }

// ISA-L's and zlib's input alike: what is left of `buf` from `next` on
// moved to its front, then the file read at `at` until there are `want`
// bytes; false at the end of the file, or on an error (end_ ReadError).
template <class Count>
bool GzipBlocks::topUp(std::vector<unsigned char>& buf, unsigned char*& next, Count& avail, std::uint64_t& at,
                       std::size_t want) {
    if (avail >= want)
        return true;
    if (avail > 0)
        std::memmove(buf.data(), next, avail);
    next = buf.data();
    while (avail < want) {
        const ssize_t n = readAt(fd_, reinterpret_cast<char*>(buf.data()) + avail, buf.size() - avail, at);
        if (n < 0) {
            errno_ = errno;
            end_ = End::ReadError;
            return false;
        }
        if (n == 0)
            return false;
        avail += static_cast<Count>(n);
        at += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool GzipBlocks::refill(std::size_t want) { return topUp(in_, st_->s.next_in, st_->s.avail_in, fileAt_, want); }

std::string_view GzipBlocks::next() {
    std::string_view b;
    while (end_ == End::More && b.empty())
        b = st_->tail ? zlibNext() : isalNext();
    return b;
}

std::string_view GzipBlocks::zlibNext() {
    State& t = *st_;
    z_stream& z = t.z;
    // At least `want` bytes of input, unless the file ends.
    auto fill = [&](std::size_t want) { return topUp(t.zin, z.next_in, z.avail_in, t.zAt, want); };
    z.next_out = out_.data();
    z.avail_out = static_cast<uInt>(out_.size());
    while (z.avail_out > 0) {
        if (t.zMemberEnd) {
            const bool two = fill(2);
            if (end_ != End::More)
                break;
            if (!two || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) {
                end_ = End::Clean; // cannot be: ISA-L found the file cut short
                break;
            }
            inflateReset(&z);
            t.zMemberEnd = false;
        }
        if (z.avail_in == 0 && !fill(1)) {
            if (end_ == End::More)
                end_ = End::Truncated;
            break;
        }
        const int r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            t.zMemberEnd = true;
        else if (r != Z_OK) {
            end_ = End::Corrupt;
            break;
        }
    }
    std::size_t n = out_.size() - z.avail_out, drop = 0;
    if (t.skip > 0) {
        drop = static_cast<std::size_t>(std::min<std::uint64_t>(t.skip, n));
        t.skip -= drop;
    }
    return {reinterpret_cast<const char*>(out_.data()) + drop, n - drop};
}

std::string_view GzipBlocks::isalNext() {
    inflate_state& s = st_->s;
    s.next_out = out_.data();
    s.avail_out = static_cast<std::uint32_t>(out_.size());
    while (s.avail_out > 0) {
        if (s.block_state == ISAL_BLOCK_FINISH) {
            // A member ended.  As zlib: another follows only where the
            // gzip magic does; anything else after it is not read.
            const bool two = refill(2);
            if (end_ != End::More)
                break;
            if (!two || s.next_in[0] != 0x1f || s.next_in[1] != 0x8b) {
                end_ = End::Clean;
                break;
            }
            unsigned char* const at = s.next_in;
            const std::uint32_t have = s.avail_in;
            unsigned char* const out = s.next_out;
            const std::uint32_t room = s.avail_out;
            isal_inflate_reset(&s);
            s.crc_flag = ISAL_GZIP;
            s.next_in = at;
            s.avail_in = have;
            s.next_out = out;
            s.avail_out = room;
        }
        if (s.avail_in == 0 && !refill(1)) {
            if (end_ == End::More)
                truncated(out_.size() - s.avail_out); // the file ended inside a member
            break;
        }
        const std::uint32_t inBefore = s.avail_in, outBefore = s.avail_out;
        const auto stateBefore = s.block_state;
        if (isal_inflate(&s) != ISAL_DECOMP_OK) {
            end_ = End::Corrupt;
            break;
        }
        if (s.avail_in == inBefore && s.avail_out == outBefore && s.block_state == stateBefore &&
            s.block_state != ISAL_BLOCK_FINISH) {
            // No step forward with input and room to spare: the input
            // buffer holds less than ISA-L must see at once (cannot be at
            // 64 KiB and up); refuse rather than spin.
            if (s.avail_in == in_.size() || !refill(s.avail_in + 1)) {
                if (end_ == End::More && s.avail_in == in_.size())
                    end_ = End::Corrupt;
                else if (end_ == End::More)
                    truncated(out_.size() - s.avail_out);
                break;
            }
        }
    }
    produced_ += out_.size() - s.avail_out;
    return {reinterpret_cast<const char*>(out_.data()), out_.size() - s.avail_out};
}

void GzipBlocks::truncated(std::size_t inThisBlock) {
    State& t = *st_;
    t.zin.resize(in_.size());
    if (inflateInit2(&t.z, 16 + MAX_WBITS) != Z_OK) {
        end_ = End::Truncated; // no memory for zlib: what ISA-L read stands
        return;
    }
    t.tail = true;
    t.skip = produced_ + inThisBlock;
}
#else
std::size_t GzipBlocks::avail() const noexcept { return 0; }
bool GzipBlocks::refill(std::size_t) { return false; }
std::string_view GzipBlocks::next() { return {}; }
std::string_view GzipBlocks::isalNext() { return {}; }
std::string_view GzipBlocks::zlibNext() { return {}; }
void GzipBlocks::truncated(std::size_t) {}
#endif

namespace {

// Where the second part of a .gz starts: the first line start after the
// first block whose input reaches `at` compressed bytes.  Fed every block
// in order, by both parts alike.
class GzipCut {
public:
    explicit GzipCut(std::uint64_t at) : at_(at) {}
    // How many bytes of this block belong to the first part, once the cut
    // falls in it; npos before.  `consumed`: the reader's after the block.
    std::size_t inBlock(std::string_view b, std::uint64_t consumed) {
        if (!reached_) {
            reached_ = consumed >= at_;
            return std::string_view::npos; // the search starts with the next block
        }
        const std::size_t nl = b.find('\n');
        return nl == std::string_view::npos ? nl : nl + 1;
    }

private:
    std::uint64_t at_;
    bool reached_ = false;
};

// The thread's share of the compressed size that ends the first part: the
// second part also inflates the first one (ISA-L: ~0.14 s per million
// lines, a ninth of parsing them), so the first part takes a little more:
// a = (I + P) / (I + 2P) balances them (I: inflate, P: parse, of the whole).
constexpr std::uint64_t kGzCutPercent = 53;

// The end of a part, as main.cpp's zlib path ends: a last line without
// its newline counts, whole or (cut short) damaged; after an error the
// unfinished line is dropped.
GzipResult finish(const GzipBlocks& r, LineSplitter& split, LineSink& sink) {
    if (r.end() == GzipBlocks::End::Clean || r.end() == GzipBlocks::End::Truncated)
        split.end(sink, r.end() == GzipBlocks::End::Truncated);
    else
        sink.flush();
    return {r.end(), r.readErrno(), false};
}

} // namespace

GzipResult readGzip(int fd, std::uint64_t size, LineParser& parser, Aggregator& agg, bool json, unsigned threads,
                    std::size_t blockSize, std::size_t inChunk, std::size_t outChunk) {
    if (threads <= 1 || agg.keepsDetail()) {
        GzipBlocks r(fd, inChunk, outChunk);
        LineSink sink(parser, agg, json);
        LineSplitter split(blockSize);
        for (std::string_view b; !(b = r.next()).empty();)
            feedBytes(split, sink, b.data(), b.size());
        return finish(r, split, sink);
    }
    const std::uint64_t cutAt = size / 100 * kGzCutPercent + size % 100 * kGzCutPercent / 100;

    // The second part: inflate, skip to the cut, parse the rest.
    LineParser parser2 = parser;
    std::unique_ptr<Aggregator> agg2 = agg.sibling();
    GzipResult second;
    bool secondFound = false;
    std::exception_ptr thrown2;
    std::thread worker([&] {
        try {
            GzipBlocks r(fd, inChunk, outChunk);
            GzipCut cut(cutAt);
            LineSink sink(parser2, *agg2, json);
            LineSplitter split(blockSize);
            for (std::string_view b; !(b = r.next()).empty();) {
                if (!secondFound) {
                    const std::size_t k = cut.inBlock(b, r.consumed());
                    if (k == std::string_view::npos)
                        continue;
                    secondFound = true;
                    b.remove_prefix(k);
                }
                feedBytes(split, sink, b.data(), b.size());
            }
            second = finish(r, split, sink);
        } catch (...) {
            thrown2 = std::current_exception();
        }
    });

    // The first part, here: up to the cut, or all of it when there is none.
    GzipResult first;
    bool firstCut = false;
    std::exception_ptr thrown;
    try {
        GzipBlocks r(fd, inChunk, outChunk);
        GzipCut cut(cutAt);
        LineSink sink(parser, agg, json);
        LineSplitter split(blockSize);
        for (std::string_view b; !(b = r.next()).empty();) {
            const std::size_t k = cut.inBlock(b, r.consumed());
            if (k != std::string_view::npos) {
                b = b.substr(0, k);
                firstCut = true;
            }
            feedBytes(split, sink, b.data(), b.size());
            if (firstCut)
                break;
        }
        // At the cut the splitter holds no partial line (the cut follows a
        // newline): nothing to end there.
        if (firstCut)
            split.end(sink, false);
        else
            first = finish(r, split, sink);
    } catch (...) {
        thrown = std::current_exception();
    }
    worker.join();
    if (thrown)
        std::rethrow_exception(thrown);
    if (thrown2)
        std::rethrow_exception(thrown2);
    if (!firstCut)
        return first; // no cut: the first part read it all; the second found nothing
    agg.merge(*agg2);
    second.cut = true;
    return second;
}

} // namespace rfc8314::report
