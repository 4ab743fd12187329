// GitLab's Code Quality report: a JSON array of issues in the CodeClimate
// format, which GitLab shows in merge requests (new and resolved findings, by
// fingerprint) and in the pipeline's Code Quality tab. The fields are those
// GitLab's documentation lists for a custom tool (doc/ci/testing/code_quality.md,
// "Implement a custom tool"): description, check_name, fingerprint, severity,
// location.path, location.lines.begin; plus the ones the CodeClimate spec
// requires of an issue (type, categories) and its content.body. docs/reports.md.
#include "ReportInternal.h"

#include <string>
#include <vector>

using nlohmann::json;

namespace pageref {
namespace report {
namespace {

std::string place(const json &L) {
  return L["file"].get<std::string>() + ":" + std::to_string(L["line"].get<int64_t>());
}

/// Markdown for content.body: the path steps, the helpers it was decided
/// with, the fix-its and what the check is about, as paragraphs.
std::string body(const json &F) {
  std::vector<std::string> Parts;
  const json &Notes = F["notes"];
  if (!Notes.empty()) {
    std::string Steps;
    for (size_t I = 0; I < Notes.size(); ++I)
      Steps += std::to_string(I + 1) + ". " + place(Notes[I]) + ": " + Notes[I]["message"].get<std::string>() + "\n";
    Parts.push_back(Steps + std::to_string(Notes.size() + 1) + ". " + place(F) + ": reported here\n");
  }
  if (F.contains("cross_tu"))
    for (const json &X : F["cross_tu"])
      Parts.push_back("Decided with the summary of `" + X["function"].get<std::string>() + "()` in " +
                      X["file"].get<std::string>() + ": " + X["effect"].get<std::string>() + ".\n");
  for (const json &X : F["fixes"])
    Parts.push_back("Fix-it: " + place(X) + ": replace up to " + std::to_string(X["end_line"].get<int64_t>()) + ":" +
                    std::to_string(X["end_column"].get<int64_t>()) + " with `" +
                    X["replacement"].get<std::string>() + "`.\n");
  if (const CheckInfo *C = findCheck(F["check"]))
    Parts.push_back(std::string(C->Help) + "\n");
  std::string B;
  for (const std::string &P : Parts)
    B += (B.empty() ? "" : "\n") + P;
  return B;
}

} // namespace

json toCodeQuality(const ReportDoc &D) {
  json Issues = json::array();
  for (const json &F : D.Scan["findings"]) {
    // Findings are relative to the tree, which CI scans as the checkout:
    // GitLab wants paths relative to the repository. Files outside the tree
    // stay absolute, as in the scan (GitLab cannot link them).
    json Issue = {
        {"type", "issue"},
        {"check_name", F["check"]},
        {"description", F["message"]},
        {"categories", json::array({"Bug Risk"})},
        {"fingerprint", F["fingerprint"]},
        // A remark says the analysis stopped at a bound: information, not a defect.
        {"severity", F["severity"] == "warning" ? "major" : "info"},
        {"location", {{"path", F["file"]}, {"lines", {{"begin", F["line"]}}}}},
        {"content", {{"body", body(F)}}},
    };
    Issues.push_back(std::move(Issue));
  }
  return Issues;
}

} // namespace report
} // namespace pageref
