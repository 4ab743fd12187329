#include "pageref/ScanCollector.h"

namespace pageref {

ScanCollector *&activeScanCollector() {
  static ScanCollector *Active = nullptr;
  return Active;
}

nlohmann::json locationJson(clang::SourceLocation Loc, const clang::SourceManager &SM) {
  if (Loc.isInvalid())
    return {{"file", ""}, {"line", 0}, {"column", 0}};
  clang::SourceLocation F = SM.getFileLoc(Loc);
  return {{"file", SM.getFilename(F).str()},
          {"line", SM.getSpellingLineNumber(F)},
          {"column", SM.getSpellingColumnNumber(F)}};
}

} // namespace pageref
