// logfmt.hpp — log lines in the Postfix grammar, and the same events as JSON.
//
// A line is "QUEUEID: key=value, key=value" (queue id first when known).
// Values come from the network (user names, HELO, cipher strings), so every
// value goes through escapeLogValue: a value made only of safe characters is
// written as it is; anything else is written as a double-quoted string with
// backslash escapes, so no value can split a line, forge a key or hide a
// byte.  JSON output is always valid UTF-8 JSON on one line.
//
// Promises: the output of str() never contains CR, LF or NUL, whatever the
// input; nothing here throws except std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rfc8314 {

// Bare when every byte is in [A-Za-z0-9] or one of "._-+@/:[]#%~*^!?$&'<>|{}";
// otherwise "..." with \" \\ \n \r \t and \xHH for other control, DEL and
// 8-bit bytes.  The empty value is written as "".
std::string escapeLogValue(std::string_view value);

class LogLine {
public:
    LogLine() = default;
    // The queue id leads the line ("3F2A1C0B9: "); it is escaped like a value.
    explicit LogLine(std::string_view queueId);
    // The same, written into `buffer` (its text dropped, its capacity
    // kept): a caller that keeps the buffer of the line before saves the
    // allocation per line.
    LogLine(std::string_view queueId, std::string&& buffer);
    LogLine& add(std::string_view key, std::string_view value);
    LogLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    LogLine& add(std::string_view key, long long value);
    // Appends "key=value, ..." as str() of another LogLine without a queue
    // id spelled it (already escaped), after a separator as add() writes.
    LogLine& addFields(std::string_view fields);
    const std::string& str() const noexcept { return out_; }
    // The line, moved out (the LogLine is left empty): no copy of it.
    std::string take() noexcept { return std::move(out_); }

private:
    void key(std::string_view k);
    std::string out_;
    bool first_ = true;
};

// JSON string body (no surrounding quotes): \" \\ \b \f \n \r \t, \u00XX for
// other control bytes and DEL; valid UTF-8 passes through; a byte that is not
// part of valid UTF-8 becomes U+FFFD.
std::string jsonEscape(std::string_view value);

class JsonLine {
public:
    JsonLine& add(std::string_view key, std::string_view value);
    JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonLine& add(std::string_view key, long long value);
    // A number when `value` holds one, else null: an unknown value is not 0.
    JsonLine& add(std::string_view key, std::optional<int> value);
    // The object, "{...}", without a trailing newline.
    std::string str() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_;
};

} // namespace rfc8314
