// The driver's own front end: one parse of one translation unit with the
// very checks of the clang-tidy plugin (linked from clang-tidy's static
// libraries), skipping the bodies of header functions no check can look at.
// Runs in a worker process (`pageref worker`) or, for Kbuild's checker hook,
// in `pageref check` itself.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace pageref {

struct CompileJob {
  std::string Directory;
  std::string File;              // absolute
  std::vector<std::string> Args; // argv, compiler first
};

struct FrontendSettings {
  std::string Checks = "pageref-*";       // a clang-tidy glob over the pageref checks
  std::vector<std::string> ApiModelFiles; // the user's additions to the API model
  bool RunChecks = true;                  // false: the parse floor of the benchmark
  bool SkipHeaderBodies = true;
};

/// GCC-only options clang rejects (a GCC-built compile database, Kbuild's
/// flags for GCC) are removed; returns what was removed, for the report.
std::vector<std::string> adjustForClang(std::vector<std::string> &Args);

/// Parses and checks one TU. The result (schema `pageref-tu`, see
/// docs/scan-schema.md) has "status": "ok" or "failed" with "error"; it never
/// throws and never exits.
nlohmann::json analyzeTranslationUnit(const CompileJob &Job, const FrontendSettings &S);

/// Applies \p F to every "file" string of a JSON tree (the records of the
/// checks, the scan's reports), to make paths absolute or relative.
void forEachFileField(nlohmann::json &J, const std::function<void(nlohmann::json &)> &F);

/// Absolute, `.`/`..`-free form of \p Path seen from \p Dir.
std::string absolutePath(const std::string &Path, const std::string &Dir);

} // namespace pageref
