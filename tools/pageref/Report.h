// `pageref report` and the report writers `pageref scan --format` shares:
// text (clang-tidy style), the scan JSON itself, SARIF 2.1.0 and one
// self-contained HTML conversion report. Formats: docs/reports.md.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pageref {

/// Reads \p Path and checks that it is a `pageref-scan` version 1 document
/// (docs/scan-schema.md) with the fields the writers use. Returns one line
/// naming the file and what is wrong, or empty on success.
std::string loadScan(const std::string &Path, nlohmann::json &Out);

/// A report format and the file it is written to in OUT_DIR.
struct ReportFormat {
  const char *Name; // as --format says it: "sarif"
  const char *File; // "pageref.sarif"
};
/// Every format, in the order the help lists them: text, json, sarif, html, codequality.
const std::vector<ReportFormat> &reportFormats();
/// The format called \p Name, or null.
const ReportFormat *findFormat(const std::string &Name);
/// One line naming the first of \p Formats that is not a format, or empty.
std::string checkFormats(const std::vector<std::string> &Formats);

/// Writes OUT_DIR/pageref.{txt,json,sarif,html,codequality.json} for each of
/// \p Formats (reportFormats()), each atomically. \p Baseline, when not
/// null, is a loaded `pageref-baseline` (or `pageref-scan`) document: findings
/// are marked new/known by fingerprint and the HTML lists the fixed ones. The
/// output depends only on \p Scan, \p Baseline and, for the HTML, the files of
/// the scan's tree (MAINTAINERS, source excerpts). \p DocsUri is where
/// pageref's docs/ are published, for SARIF's helpUri (empty: the file:// URI
/// of the docs this pageref was built from). Returns an error or empty.
std::string writeReports(const nlohmann::json &Scan, const std::vector<std::string> &Formats,
                         const std::string &OutDir, const nlohmann::json *Baseline,
                         const std::string &DocsUri = "");

/// `pageref report JSON... [-o OUT_DIR] [--format text,json,sarif,html] [--baseline FILE]`.
/// Argv[0] is "report". Returns 0, or 2 with one line on stderr.
int runReport(int Argc, char **Argv);

} // namespace pageref
