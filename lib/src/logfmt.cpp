// logfmt.cpp — escaping for log lines and JSON.  See logfmt.hpp.
#include "rfc8314/logfmt.hpp"

#include <cstdint>
#include <cstring>

#include "text.hpp"

namespace rfc8314 {

namespace {

constexpr char kHex[] = "0123456789abcdef";

constexpr bool bareSafeChar(unsigned char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '.': case '_': case '-': case '+': case '@': case '/': case ':': case '[':
    case ']': case '#': case '%': case '~': case '*': case '^': case '!': case '?':
    case '$': case '&': case '\'': case '<': case '>': case '|': case '{': case '}':
        return true;
    default:
        return false;
    }
}

// bareSafeChar as a table: every value of every log line goes through it,
// an audit line is some 250 octets, and a load per octet beats the branches.
struct BareSafeTable {
    bool safe[256];
    constexpr BareSafeTable() : safe() {
        for (int c = 0; c < 256; ++c)
            safe[c] = bareSafeChar(static_cast<unsigned char>(c));
    }
};
constexpr BareSafeTable kBareSafe;

bool bareSafe(unsigned char c) noexcept { return kBareSafe.safe[c]; }

} // namespace

namespace {

// Appends value to out as escapeLogValue would return it (no temporary).
// Whether `value` is written as it is (not empty, every octet bare-safe).
bool isBare(std::string_view value) noexcept {
    if (value.empty())
        return false;
    for (unsigned char c : value)
        if (!bareSafe(c))
            return false;
    return true;
}

void appendLogValue(std::string& out, std::string_view value) {
    if (isBare(value)) {
        out += value;
        return;
    }
    out.reserve(out.size() + value.size() + 2);
    out += '"';
    for (unsigned char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c >= 0x7F) {
                out += "\\x";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

} // namespace

std::string escapeLogValue(std::string_view value) {
    std::string out;
    appendLogValue(out, value);
    return out;
}

LogLine::LogLine(std::string_view queueId) : LogLine(queueId, std::string()) {}

LogLine::LogLine(std::string_view queueId, std::string&& buffer) : out_(std::move(buffer)) {
    out_.clear();
    // An audit line is about 250 octets: one allocation for all of it
    // (none when the buffer had room).
    out_.reserve(320);
    if (queueId.empty())
        return;
    if (isBare(queueId)) {
        // The usual queue id, "QUEUEID: " in one step (as add() does).
        out_.resize(queueId.size() + 2);
        std::memcpy(&out_[0], queueId.data(), queueId.size());
        out_[queueId.size()] = ':';
        out_[queueId.size() + 1] = ' ';
        return;
    }
    appendLogValue(out_, queueId);
    out_ += ": ";
}

void LogLine::key(std::string_view k) {
    if (!first_)
        out_ += ", ";
    first_ = false;
    // Keys are ours, but a key is escaped too so no caller can break a line.
    appendLogValue(out_, k);
    out_ += '=';
}

LogLine& LogLine::add(std::string_view k, std::string_view value) {
    if (isBare(k) && isBare(value)) {
        // The usual case, and the audit line has a dozen of them: ", k=v"
        // in one step into the reserved line rather than four appends.
        const std::size_t sep = first_ ? 0 : 2;
        const std::size_t at = out_.size();
        out_.resize(at + sep + k.size() + 1 + value.size());
        char* p = &out_[at];
        if (sep) {
            *p++ = ',';
            *p++ = ' ';
        }
        std::memcpy(p, k.data(), k.size());
        p += k.size();
        *p++ = '=';
        std::memcpy(p, value.data(), value.size());
        first_ = false;
        return *this;
    }
    key(k);
    appendLogValue(out_, value);
    return *this;
}

LogLine& LogLine::addFields(std::string_view fields) {
    if (fields.empty())
        return *this;
    if (!first_)
        out_ += ", ";
    first_ = false;
    out_ += fields;
    return *this;
}

LogLine& LogLine::add(std::string_view k, long long value) {
    key(k);
    out_ += std::to_string(value);
    return *this;
}

std::string jsonEscape(std::string_view value) {
    return text::utf8Escape(value, [](std::string& out, unsigned char c) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
            } else {
                out += static_cast<char>(c);
            }
        }
    });
}

void JsonLine::key(std::string_view k) {
    if (!body_.empty())
        body_ += ',';
    body_ += '"';
    body_ += jsonEscape(k);
    body_ += "\":";
}

JsonLine& JsonLine::add(std::string_view k, std::string_view value) {
    key(k);
    body_ += '"';
    body_ += jsonEscape(value);
    body_ += '"';
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, long long value) {
    key(k);
    body_ += std::to_string(value);
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, std::optional<int> value) {
    if (value)
        return add(k, static_cast<long long>(*value));
    key(k);
    body_ += "null";
    return *this;
}

} // namespace rfc8314
