// What the report writers share; not an interface for the rest of pageref.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pageref {
namespace report {

/// A check as the reports describe it: SARIF rule, HTML legend.
struct CheckInfo {
  const char *Name;  // pageref-unbalanced-release
  const char *Page;  // docs/checks/unbalanced-release.md, relative to pageref's sources
  const char *Short; // one sentence
  const char *Help;  // a paragraph: what it finds and what to do
};
const std::vector<CheckInfo> &checks();
const CheckInfo *findCheck(const std::string &Name);

/// What the writers render: the scan with "baseline" set on its findings
/// when a baseline was given, plus the findings of the baseline that are gone.
struct ReportDoc {
  nlohmann::json Scan;
  bool HasBaseline = false;
  std::vector<nlohmann::json> Fixed; // {fingerprint} or, from a scan baseline, the whole finding
  std::string DocsUri;               // absolute URI of pageref's docs/ directory, ending in '/'
};

nlohmann::json toSarif(const ReportDoc &D);
std::string toHtml(const ReportDoc &D);
std::string toText(const ReportDoc &D);
/// GitLab's Code Quality report (a JSON array of CodeClimate issues).
nlohmann::json toCodeQuality(const ReportDoc &D);

/// URIs for SARIF: an absolute path as file://, a relative one encoded.
std::string fileUri(const std::string &AbsPath);
std::string relativeUri(const std::string &Path);

/// 16 hex digits of SHA-256 over \p Parts joined by NULs: the call sites'
/// SARIF fingerprint (findings carry the scan's own).
std::string digest16(const std::vector<std::string> &Parts);

/// Which MAINTAINERS entry covers a file: F:/X: patterns as
/// scripts/get_maintainer.pl reads them, the deepest matching pattern wins.
struct Subsystem {
  std::string Name;
  std::vector<std::string> Maintainers; // M:
  std::vector<std::string> Lists;       // L:
  std::string Status;                   // S:
  std::vector<std::string> Files, Excludes;
};
class Maintainers {
public:
  /// Parses TREE/MAINTAINERS. Returns an error (no file, nothing parsed) or empty.
  std::string load(const std::string &Tree);
  /// The entry for \p File (relative to the tree), or null.
  const Subsystem *lookup(const std::string &File) const;
  const std::vector<Subsystem> &entries() const { return Entries; }

private:
  std::string Tree;
  std::vector<Subsystem> Entries;
};

} // namespace report
} // namespace pageref
