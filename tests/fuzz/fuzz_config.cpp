// fuzz_config.cpp — libFuzzer target: parseConfig on arbitrary text.
//
// Input: the whole configuration file.
//
// Properties (abort() on violation): no crash, no exception escapes; the
// result holds a config exactly when it holds no error; every error names
// the file it was given and a line that exists in the text (1..number of
// lines), cross-key checks such as "group without user" included; an
// accepted config resolves a listener for any port without crashing, and
// its listener sections all start on existing lines.
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/config.hpp"

using namespace rfc8314;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::asText(data, size);
    const std::string_view file = "fuzz.conf";
    const ConfigResult r = parseConfig(text, file);

    fuzz::require((r.config != nullptr) == r.errors.empty(), "config is set exactly when there are no errors",
                  text.substr(0, 200));

    long lines = 1;
    for (char c : text)
        lines += c == '\n';
    for (const auto& e : r.errors) {
        fuzz::require(e.file == file, "an error names the file", e.str());
        fuzz::require(e.line >= 1 && e.line <= lines, "an error's line exists in the text", e.str());
        (void)e.str();
    }
    if (!text.empty() && r.config == nullptr)
        fuzz::require(!r.errors.empty(), "a rejected file says why", text.substr(0, 200));

    if (r.config) {
        for (const auto& l : r.config->listeners)
            fuzz::require(l.line >= 1 && l.line <= lines, "a listener section starts on an existing line",
                          l.name);
        for (unsigned port : {0u, 25u, 465u, 587u, static_cast<unsigned>(size % 65536)}) {
            ListenerFacts facts;
            if (port)
                facts.port = static_cast<std::uint16_t>(port);
            facts.name = "MSA";
            facts.addr = "127.0.0.1";
            (void)r.config->resolveListener(facts);
        }
        (void)restartOnlyChanges(Config(), *r.config);
    }
    return 0;
}
