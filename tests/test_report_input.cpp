// test_report_input.cpp — the report's input split among threads: an
// aggregate of a log's first part merged with one of the rest is the
// aggregate of the whole (every table and format, first-seen orders and
// capped peer lists included, at every cut), and a plain file read in
// segments by 1 to 5 threads gives the very output of one pass, with
// segment cuts inside lines, over-long lines across cuts, a last line
// without its newline, CRLF and blank lines; and a .gz inflated by ISA-L,
// in one pass and in two parts, gives what zlib's one pass gives, clean,
// cut short anywhere, in several members, with every block size.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/aggregate.hpp"
#include "engine/input.hpp"
#include "engine/record.hpp"
#include "engine/tables.hpp"

using namespace rfc8314::report;

namespace {

// Feeds all of `all` through one 512-byte LineSplitter, in pieces as large
// as it takes, and ends it: one pass over a text held in memory.
void splitAll(const std::string& all, LineSink& sink) {
    LineSplitter split(512);
    for (std::size_t at = 0; at < all.size();) {
        const std::size_t n = std::min(split.room(), all.size() - at);
        std::copy(all.data() + at, all.data() + at + n, split.space());
        split.feed(n, sink);
        at += n;
    }
    split.end(sink, false);
}

// A log of n lines that exercises every per-entity field: users that
// return with other ciphers, groups and mechanisms, a NAT address with
// more than 16 users, cleartext, unauthenticated refusals, foreign and
// damaged lines, days across a month, and a user named with a space.
std::vector<std::string> sampleLog(int n) {
    static const char* tls[] = {"TLSv1.3", "TLSv1.2", "TLSv1.1", "none"};
    static const char* ciphers[] = {"TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "DES-CBC3-SHA"};
    static const char* groups[] = {"x25519", "secp256r1"};
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) {
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "Nov %2d %02d:%02d:%02d", 1 + (i * 7) % 30, (i * 5) % 24, i % 60,
                      (i * 13) % 60);
        if (i % 97 == 5) {
            lines.push_back(std::string(stamp) + " mx1 postfix/smtpd[7]: connect from x");
            continue;
        }
        if (i % 131 == 7) {
            lines.push_back(std::string(stamp) + " mx1 rfc8314-milter[812]: Q1: user=\"cut");
            continue;
        }
        const int u = (i * i + 3 * i) % 41;
        const std::string user = u == 13 ? "\"j doe\"" : "user" + std::to_string(u);
        const int t = (u + i / 50) % 4;
        const bool nat = i % 3 == 0;
        const std::string addr = nat ? "198.51.100.7" : "192.0.2." + std::to_string(u % 23 + (i / 200) % 3);
        std::string msg;
        if (i % 29 == 3) {
            msg = "Q" + std::to_string(i) + ": user=none, mech=none, tls=none, cipher=none, group=none, bits=none, "
                  "client=unknown[203.0.113." + std::to_string(i % 5) + "]:25, listener=submission/587, "
                  "verdict=reject, reason=cleartext";
        } else {
            const bool clear = tls[t] == std::string("none");
            msg = "Q" + std::to_string(i) + ": user=" + user + ", mech=" + (i % 7 ? "PLAIN" : "LOGIN") +
                  ", tls=" + tls[t] + ", cipher=" + (clear ? "none" : ciphers[(u + i / 300) % 3]) +
                  ", group=" + (clear ? "none" : groups[(i / 40) % 2]) + ", bits=" +
                  (clear ? "none" : (i % 3 ? "128" : "112")) + ", client=" + (i % 2 ? "unknown" : "mail.example") +
                  "[" + addr + "]:5" + std::to_string(i % 1000) + ", listener=" +
                  (i % 5 ? "submission/587" : "submissions/465") + ", verdict=" +
                  (t == 2 ? "tempfail, reason=tls-version" : "accept") + (clear ? ", cleartext_auth=yes" : "");
        }
        lines.push_back(std::string(stamp) + " mx1 rfc8314-milter[812]: " + msg);
    }
    return lines;
}

WhatIfPolicy rule() {
    WhatIfPolicy p;
    p.requireTls = true;
    p.minTls = rfc8314::TlsVersion::TLSv1_2;
    p.minBits = 128;
    return p;
}

std::string render(const Aggregator& a) {
    std::ostringstream o;
    writeText(a, OutputOptions{}, o);
    writeCsv(a, OutputOptions{}, o);
    writeJson(a, OutputOptions{}, o);
    return o.str();
}

void feed(Aggregator& a, const std::vector<std::string>& lines, std::size_t from, std::size_t to) {
    LineParser parser;
    parser.setYearRule({2025, 12});
    LineSink sink(parser, a, false);
    for (std::size_t i = from; i < to; ++i)
        sink.line(lines[i]);
    sink.flush();
}

std::string oneFile(const std::vector<std::string>& lines, const std::string& extra) {
    char path[] = "/tmp/test_report_input.XXXXXX";
    const int fd = ::mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    all += extra;
    BOOST_REQUIRE_EQUAL(::write(fd, all.data(), all.size()), static_cast<ssize_t>(all.size()));
    ::close(fd);
    return path;
}

} // namespace

BOOST_AUTO_TEST_SUITE(report_input)

BOOST_AUTO_TEST_CASE(merged_halves_are_the_whole) {
    const auto lines = sampleLog(3000);
    Aggregator whole(rule());
    whole.byHost = true;
    feed(whole, lines, 0, lines.size());
    const std::string want = render(whole);
    BOOST_REQUIRE(whole.clients.size() > 0);
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{500}, std::size_t{1499},
                            std::size_t{2999}, lines.size()}) {
        Aggregator a(rule());
        a.byHost = true;
        auto b = a.sibling();
        feed(a, lines, 0, cut);
        feed(*b, lines, cut, lines.size());
        a.merge(*b);
        BOOST_TEST((render(a) == want), "cut at line " << cut << ": the merged report differs from one pass");
    }
    // Three parts, merged in order.
    Aggregator a(rule());
    a.byHost = true;
    auto b = a.sibling(), c = a.sibling();
    feed(a, lines, 0, 700);
    feed(*b, lines, 700, 701);
    feed(*c, lines, 701, lines.size());
    a.merge(*b);
    a.merge(*c);
    BOOST_TEST((render(a) == want), "three parts: the merged report differs from one pass");
}

BOOST_AUTO_TEST_CASE(merge_refuses_detail) {
    Aggregator a(rule());
    a.keepDetail();
    auto b = a.sibling();
    BOOST_CHECK_THROW(a.merge(*b), std::logic_error);
}

BOOST_AUTO_TEST_CASE(segments_start_after_a_newline) {
    const std::string path = oneFile({"a", "bb", "", "a much longer line than the others", "c"}, "tail");
    const int fd = ::open(path.c_str(), O_RDONLY);
    const std::uint64_t size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
    for (unsigned parts = 1; parts <= 8; ++parts) {
        const auto s = segmentStarts(fd, size, parts);
        BOOST_REQUIRE(!s.empty());
        BOOST_TEST(s.front() == 0u);
        for (std::size_t k = 1; k < s.size(); ++k) {
            char before = 0;
            BOOST_REQUIRE_EQUAL(::pread(fd, &before, 1, static_cast<off_t>(s[k] - 1)), 1);
            BOOST_TEST(before == '\n', "parts " << parts << ": segment " << k << " starts inside a line");
            BOOST_TEST(s[k] > s[k - 1]);
            BOOST_TEST(s[k] < size);
        }
        BOOST_TEST(s.size() <= parts);
    }
    ::close(fd);
    ::unlink(path.c_str());
}

BOOST_AUTO_TEST_CASE(segments_read_as_one_pass) {
    auto lines = sampleLog(2000);
    // Over-long lines (the block is 512 bytes here), one of them wherever
    // a cut falls; CRLF and blank lines.
    for (std::size_t i = 100; i < lines.size(); i += 97)
        lines[i] += std::string(600 + i % 300, 'x');
    lines[500] += "\r";
    lines[501].clear();
    const std::string extra = lines.back(); // the last line without a newline
    lines.pop_back();
    const std::string path = oneFile(lines, extra);
    const int fd = ::open(path.c_str(), O_RDONLY);
    BOOST_REQUIRE(fd >= 0);
    const std::uint64_t size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));

    Aggregator one(rule());
    {
        LineParser parser;
        parser.setYearRule({2025, 12});
        LineSink sink(parser, one, false);
        std::string all;
        for (const auto& l : lines)
            all += l + "\n";
        all += extra;
        splitAll(all, sink);
    }
    const std::string want = render(one);
    BOOST_TEST(one.counts.lines == lines.size() + 1);
    for (unsigned threads = 1; threads <= 5; ++threads) {
        Aggregator a(rule());
        LineParser parser;
        parser.setYearRule({2025, 12});
        BOOST_TEST(readSegments(fd, size, parser, a, false, threads, 512) == "");
        BOOST_TEST((render(a) == want), threads << " threads: the report differs from one pass");
    }
    ::close(fd);
    ::unlink(path.c_str());
}

BOOST_AUTO_TEST_CASE(read_ahead_is_one_pass) {
    auto lines = sampleLog(1500);
    for (std::size_t i = 50; i < lines.size(); i += 113)
        lines[i] += std::string(700, 'y'); // over-long at a 512-byte block
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    all += "tail without a newline";
    auto direct = [&](Aggregator& a) {
        LineParser parser;
        parser.setYearRule({2025, 12});
        LineSink sink(parser, a, false);
        splitAll(all, sink);
    };
    Aggregator one(rule());
    direct(one);
    const std::string want = render(one);
    // Reads of odd sizes, and an error after some of them.
    for (std::size_t chunk : {std::size_t{7}, std::size_t{77}, std::size_t{512}, std::size_t{5000}}) {
        for (long atEnd : {0L, -1L}) {
            Aggregator a(rule());
            LineParser parser;
            parser.setYearRule({2025, 12});
            LineSink sink(parser, a, false);
            LineSplitter split(512);
            std::size_t at = 0;
            long last;
            {
                ReadAhead ahead(
                    [&](char* buf, std::size_t n) -> long {
                        const std::size_t k = std::min({n, chunk, all.size() - at});
                        if (k == 0)
                            return atEnd;
                        std::copy(all.data() + at, all.data() + at + k, buf);
                        at += k;
                        return static_cast<long>(k);
                    },
                    chunk < 512 ? chunk : 512, 3);
                last = ahead.feedAll(split, sink);
            }
            BOOST_TEST(last == atEnd);
            split.end(sink, false);
            BOOST_TEST((render(a) == want), "reads of " << chunk << " bytes, ending " << atEnd
                                                        << ": the report differs from one pass");
        }
    }
    // Left early (an exception in the parser, say): the reader stops.
    {
        std::size_t reads = 0;
        ReadAhead ahead([&](char*, std::size_t n) { ++reads; return static_cast<long>(n); }, 64, 2);
    }
}

namespace {

std::string tempPath() {
    char path[] = "/tmp/test_report_input_gz.XXXXXX";
    const int fd = ::mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);
    return path;
}

// `members` written as gzip members one after another (zlib's "ab"
// appends a member), then `trailer` as raw bytes.
std::string gzipFile(const std::vector<std::string>& members, const std::string& trailer = "") {
    const std::string path = tempPath();
    bool first = true;
    for (const auto& m : members) {
        gzFile f = gzopen(path.c_str(), first ? "wb6" : "ab6");
        BOOST_REQUIRE(f);
        if (!m.empty())
            BOOST_REQUIRE_EQUAL(gzwrite(f, m.data(), static_cast<unsigned>(m.size())), static_cast<int>(m.size()));
        gzclose(f);
        first = false;
    }
    if (!trailer.empty()) {
        FILE* f = std::fopen(path.c_str(), "ab");
        std::fwrite(trailer.data(), 1, trailer.size(), f);
        std::fclose(f);
    }
    return path;
}

std::string fileBytes(const std::string& path) {
    std::string all;
    FILE* f = std::fopen(path.c_str(), "rb");
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        all.append(buf, n);
    std::fclose(f);
    return all;
}

std::string writeBytes(const std::string& bytes) {
    const std::string path = tempPath();
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
}

// zlib's one pass, as main.cpp reads without ISA-L: the report and how it
// ended ("" clean, "truncated", or zlib's error).
std::pair<std::string, std::string> zlibPass(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    BOOST_REQUIRE(f);
    Aggregator a(rule());
    LineParser parser;
    parser.setYearRule({2025, 12});
    LineSink sink(parser, a, false);
    LineSplitter split(512);
    int n;
    while ((n = gzread(f, split.space(), static_cast<unsigned>(split.room()))) > 0)
        split.feed(static_cast<std::size_t>(n), sink);
    int err = 0;
    const std::string why = gzerror(f, &err);
    gzclose(f);
    std::string end;
    if (n < 0)
        end = "error: " + why;
    else if (err == Z_BUF_ERROR)
        end = "truncated";
    if (end.empty() || end == "truncated") // on an error main.cpp drops the unfinished line
        split.end(sink, end == "truncated");
    return {render(a), end};
}

const char* endName(GzipBlocks::End e) {
    switch (e) {
    case GzipBlocks::End::More: return "more";
    case GzipBlocks::End::Clean: return "";
    case GzipBlocks::End::Truncated: return "truncated";
    case GzipBlocks::End::Corrupt: return "corrupt";
    case GzipBlocks::End::ReadError: return "read error";
    }
    return "?";
}

struct GzRun {
    std::string report;
    std::string end;
    bool cut;
};

GzRun isalPass(const std::string& path, unsigned threads, std::size_t inChunk, std::size_t outChunk) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    BOOST_REQUIRE(fd >= 0);
    const auto size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
    Aggregator a(rule());
    LineParser parser;
    parser.setYearRule({2025, 12});
    const GzipResult r = readGzip(fd, size, parser, a, false, threads, 512, inChunk, outChunk);
    ::close(fd);
    return {render(a), endName(r.end), r.cut};
}

// A log with over-long lines (at the tests' 512-byte block), CRLF, a
// blank line and a last line without its newline.
std::string gzSample(int n) {
    auto lines = sampleLog(n);
    for (std::size_t i = 40; i < lines.size(); i += 89)
        lines[i] += std::string(600 + i % 300, 'x');
    lines[30] += "\r";
    lines[31].clear();
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    all.pop_back();
    return all;
}

// Every block size against zlib's one pass; returns how many of the 25
// two-part runs were really cut in two.
int checkGzip(const std::string& path, const std::string& what, const std::string& wantEnd) {
    const auto [want, zend] = zlibPass(path);
    BOOST_TEST(zend == wantEnd, what << ": zlib ends with '" << zend << "', want '" << wantEnd << "'");
    int cuts = 0;
    for (std::size_t in : {std::size_t{1}, std::size_t{7}, std::size_t{300}, std::size_t{4096}, std::size_t{1} << 18})
        for (std::size_t out : {std::size_t{1}, std::size_t{61}, std::size_t{512}, std::size_t{5000}, std::size_t{1} << 20})
            for (unsigned threads : {1u, 2u}) {
                const GzRun got = isalPass(path, threads, in, out);
                const std::string gotEnd = zend.rfind("error", 0) == 0 && got.end == "corrupt" ? zend : got.end;
                BOOST_TEST(gotEnd == zend, what << ", in " << in << ", out " << out << ", " << threads
                                                << " threads: ends '" << got.end << "', zlib '" << zend << "'");
                if (zend.rfind("error", 0) != 0) // what precedes an error depends on zlib's buffers
                    BOOST_TEST((got.report == want), what << ", in " << in << ", out " << out << ", " << threads
                                                          << " threads: the report differs from zlib's one pass");
                cuts += got.cut;
            }
    return cuts;
}

} // namespace

BOOST_AUTO_TEST_CASE(gzip_reads_as_zlib_one_pass) {
    if (!GzipBlocks::available()) {
        BOOST_TEST_MESSAGE("built without ISA-L: .gz goes through zlib alone");
        return;
    }
    const std::string all = gzSample(1500);
    const std::string path = gzipFile({all});
    BOOST_TEST(checkGzip(path, "one member", "") > 0, "no two-part run was cut in two");
    ::unlink(path.c_str());

    // Members that cut lines, an empty one, and bytes after the last
    // member that are not a gzip header (zlib ignores them).
    const std::string multi = gzipFile({all.substr(0, 10000), "", all.substr(10000, 30001), all.substr(40001)},
                                       std::string("\0\0\0junk", 7));
    BOOST_TEST(checkGzip(multi, "four members", "") > 0, "no two-part run of the members was cut in two");
    ::unlink(multi.c_str());

    // No newline after the half: nothing to cut, one pass (with small
    // output blocks ISA-L's input runs up to 64 KiB of output ahead, so
    // the half is reached in the short lines and some runs do cut).
    std::string noCut = all.substr(0, 2000) + "\n";
    std::uint32_t x = 12345;
    for (int i = 0; i < 60000; ++i) {
        x = x * 1103515245u + 12345u;
        noCut += static_cast<char>('!' + (x >> 16) % 90);
    }
    const std::string last = gzipFile({noCut});
    BOOST_TEST(checkGzip(last, "one long last line", "") < 25, "every two-part run found a line start to cut at");
    ::unlink(last.c_str());
    // ... or only at the very end: the second part reads nothing.
    const std::string atEnd = gzipFile({noCut + "\n"});
    checkGzip(atEnd, "one long line to the end", "");
    ::unlink(atEnd.c_str());
}

BOOST_AUTO_TEST_CASE(gzip_cut_short_reads_as_zlib) {
    if (!GzipBlocks::available())
        return;
    const std::string all = gzSample(600);
    const std::string full = gzipFile({all.substr(0, 30000), all.substr(30000)});
    const std::string whole = fileBytes(full);
    ::unlink(full.c_str());
    // Cuts in the header, in the deflate data of each member, in each
    // trailer, and one byte short.
    std::vector<std::size_t> at{2, 5, 11, whole.size() / 5, whole.size() / 3, whole.size() / 2,
                                whole.size() * 2 / 3, whole.size() - 9, whole.size() - 8, whole.size() - 4,
                                whole.size() - 1};
    for (std::size_t k : at) {
        const std::string path = writeBytes(whole.substr(0, k));
        checkGzip(path, "cut at " + std::to_string(k) + " of " + std::to_string(whole.size()), "truncated");
        ::unlink(path.c_str());
    }
}

BOOST_AUTO_TEST_CASE(gzip_corrupt_is_an_error) {
    if (!GzipBlocks::available())
        return;
    const std::string all = gzSample(600);
    const std::string good = gzipFile({all});
    const std::string bytes = fileBytes(good);
    ::unlink(good.c_str());
    // A byte of the deflate data, and the CRC-32 in the trailer.
    for (std::size_t k : {bytes.size() / 2, bytes.size() - 6}) {
        std::string bad = bytes;
        bad[k] = static_cast<char>(bad[k] ^ 0x55);
        const std::string path = writeBytes(bad);
        checkGzip(path, "byte " + std::to_string(k) + " changed", zlibPass(path).second);
        BOOST_TEST(zlibPass(path).second.rfind("error", 0) == 0, "zlib reads byte " << k << " changed as fine");
        ::unlink(path.c_str());
    }
}

BOOST_AUTO_TEST_SUITE_END()
