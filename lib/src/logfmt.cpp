// logfmt.cpp — escaping for log lines and JSON.  See logfmt.hpp.
#include "rfc8314/logfmt.hpp"

#include <cstdint>

#include "text.hpp"

namespace rfc8314 {

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool bareSafe(unsigned char c) noexcept {
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

} // namespace

namespace {

// Appends value to out as escapeLogValue would return it (no temporary).
void appendLogValue(std::string& out, std::string_view value) {
    bool bare = !value.empty();
    for (unsigned char c : value)
        if (!bareSafe(c)) {
            bare = false;
            break;
        }
    if (bare) {
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

LogLine::LogLine(std::string_view queueId) {
    // An audit line is about 250 octets: one allocation for all of it.
    out_.reserve(320);
    if (!queueId.empty()) {
        appendLogValue(out_, queueId);
        out_ += ": ";
    }
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
    key(k);
    appendLogValue(out_, value);
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
