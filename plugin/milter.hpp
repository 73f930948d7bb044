// milter.hpp — the libmilter registration of rfc8314-milter's callbacks.
#pragma once

#include <libmilter/mfapi.h>

namespace rfc8314 {
// The filter description for smfi_register: name, flags and callbacks.
smfiDesc milterDescription();
} // namespace rfc8314
