#include "corpus/kjv.h"

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace procpar::corpus {

std::string kjv_text() {
  constexpr const char* kCommand = "bible -f gen1:1-rev22:21 </dev/null 2>/dev/null";
  constexpr std::size_t kWholeBible = 4'000'000;  // bytes; the text has 4,404,412
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(kCommand, "r"), &pclose);
  if (!pipe) throw std::runtime_error("kjv_text: cannot start `bible`");
  std::string text;
  char buffer[1 << 16];
  std::size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) text.append(buffer, got);
  const int status = pclose(pipe.release());
  if (status != 0 || text.size() < kWholeBible) {
    throw std::runtime_error(
        "kjv_text: `bible -f gen1:1-rev22:21` failed or printed only " +
        std::to_string(text.size()) +
        " bytes; install Debian's bible-kjv and bible-kjv-text (scripts/setup.sh)");
  }
  return text;
}

}  // namespace procpar::corpus
