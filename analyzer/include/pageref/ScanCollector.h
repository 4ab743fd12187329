// What a check hands to the whole-tree driver besides its diagnostics: the
// call-site facts, the summaries of the TU's functions and the findings that
// depend on functions of other files. The driver installs a collector for
// the TU it analyses; in clang-tidy and clangd none is installed and the
// checks only emit diagnostics.
#pragma once

#include "clang/Basic/SourceLocation.h"
#include "clang/Basic/SourceManager.h"

#include <nlohmann/json.hpp>

namespace pageref {

struct ScanCollector {
  nlohmann::json CallSites = nlohmann::json::array(); // CALL_SITE records (docs/facts-schema.md)
  nlohmann::json Summaries = nlohmann::json::array(); // FunctionSummary (docs/summaries.md)
  nlohmann::json Deferred = nlohmann::json::array();  // findings under assumptions about other files
};

/// The collector of the TU being analysed by the driver, or null.
ScanCollector *&activeScanCollector();

/// {"file", "line", "column"} of the file location (macro arguments at their
/// spelling, macro bodies at the expansion), the way clang-tidy reports it.
nlohmann::json locationJson(clang::SourceLocation Loc, const clang::SourceManager &SM);

} // namespace pageref
