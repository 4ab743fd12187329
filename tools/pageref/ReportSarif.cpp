// SARIF 2.1.0 for code scanning (GitHub, GitLab, DefectDojo), within the
// subset GitHub documents: rules with help, results with one primary location
// relative to %SRCROOT%, relatedLocations, codeFlows, fixes and
// partialFingerprints. Built from the scan JSON alone.
#include "ReportInternal.h"

#include "pageref/Config.h"

#include "llvm/Support/Path.h"

#include <map>

using nlohmann::json;

namespace pageref {
namespace report {
namespace {

const char *SrcRoot = "%SRCROOT%";

json artifact(const std::string &File) {
  // Files outside the tree stay absolute in the scan.
  if (llvm::sys::path::is_absolute(File))
    return {{"uri", fileUri(File)}};
  return {{"uri", relativeUri(File)}, {"uriBaseId", SrcRoot}};
}

json physical(const std::string &File, int64_t Line, int64_t Column) {
  json Region = {{"startLine", Line < 1 ? 1 : Line}};
  if (Column > 0)
    Region["startColumn"] = Column;
  return {{"artifactLocation", artifact(File)}, {"region", Region}};
}

json location(const json &At, const std::string &Message, bool WithColumn = true) {
  json L = {{"physicalLocation", physical(At["file"], At["line"], WithColumn ? At.value("column", 0) : 0)}};
  if (!Message.empty())
    L["message"] = {{"text", Message}};
  return L;
}

/// "pageref-unbalanced-release" -> "UnbalancedRelease": SARIF wants a
/// friendly name that is not the id.
std::string pascalName(llvm::StringRef Id) {
  Id.consume_front("pageref-");
  std::string N;
  bool Up = true;
  for (char C : Id) {
    if (C == '-') {
      Up = true;
      continue;
    }
    N += Up ? char(toupper(C)) : C;
    Up = false;
  }
  return N;
}

json rule(const CheckInfo &C, const std::string &DocsUri) {
  std::string Page = llvm::StringRef(C.Page).drop_front(5).str(); // below docs/
  bool Inventory = llvm::StringRef(C.Name) == "pageref-get-pages-caller";
  return {
      {"id", C.Name},
      {"name", pascalName(C.Name)},
      {"shortDescription", {{"text", C.Short}}},
      {"fullDescription", {{"text", C.Help}}},
      {"help",
       {{"text", std::string(C.Help) + " Documentation: " + C.Page + " in pageref's sources."},
        {"markdown", std::string(C.Help) + "\n\nDocumentation: [" + C.Page + "](" + DocsUri + Page + ")"}}},
      {"helpUri", DocsUri + Page},
      {"defaultConfiguration", {{"level", Inventory ? "note" : "warning"}}},
      {"properties",
       {{"tags", Inventory ? json{"linux-kernel", "page-references", "inventory"}
                           : json{"linux-kernel", "page-references", "correctness"}},
        {"precision", Inventory ? "very-high" : "high"},
        {"problem.severity", Inventory ? "recommendation" : "warning"}}},
  };
}

json findingResult(const json &F, size_t RuleIndex) {
  json R = {
      {"ruleId", F["check"]},
      {"ruleIndex", RuleIndex},
      {"level", F["severity"] == "warning" ? "warning" : "note"},
      {"message", {{"text", F["message"]}}},
      {"locations", json::array({location(F, "")})},
      {"partialFingerprints", {{"pagerefFingerprint/v1", F["fingerprint"]}}},
  };
  R["locations"][0]["logicalLocations"] = json::array({{{"name", F["function"]}, {"kind", "function"}}});
  const json &Notes = F["notes"];
  if (!Notes.empty()) {
    json Related = json::array(), Flow = json::array();
    for (size_t I = 0; I < Notes.size(); ++I) {
      json L = location(Notes[I], Notes[I]["message"]);
      L["id"] = I + 1;
      Related.push_back(L);
      L.erase("id");
      Flow.push_back({{"location", L}, {"executionOrder", I + 1}});
    }
    // The path ends where the diagnostic is: the exit that leaks, the drop.
    Flow.push_back({{"location", location(F, F["message"])}, {"executionOrder", Notes.size() + 1}});
    R["relatedLocations"] = Related;
    R["codeFlows"] = json::array({{{"threadFlows", json::array({{{"locations", Flow}}})}}});
  }
  if (!F["fixes"].empty()) {
    // One fix per finding: clang-tidy applies a diagnostic's fix-its together.
    std::map<std::string, json> ByFile;
    for (const json &X : F["fixes"])
      ByFile[X["file"].get<std::string>()].push_back(
          {{"deletedRegion",
            {{"startLine", X["line"]}, {"startColumn", X["column"]}, {"endLine", X["end_line"]},
             {"endColumn", X["end_column"]}}},
           {"insertedContent", {{"text", X["replacement"]}}}});
    json Changes = json::array();
    for (auto &[File, Replacements] : ByFile)
      Changes.push_back({{"artifactLocation", artifact(File)}, {"replacements", Replacements}});
    R["fixes"] = json::array({{{"description", {{"text", "pageref fix-it"}}}, {"artifactChanges", Changes}}});
  }
  if (F.contains("baseline"))
    R["baselineState"] = F["baseline"] == "new" ? "new" : "unchanged";
  json Props = {{"function", F["function"]}, {"severity", F["severity"]}};
  if (F.contains("cross_tu"))
    Props["crossTu"] = F["cross_tu"];
  R["properties"] = Props;
  return R;
}

json callSiteResult(const json &C, size_t RuleIndex, const std::string &Fingerprint) {
  std::string Verdict = C["verdict"];
  json R = {
      {"ruleId", "pageref-get-pages-caller"},
      {"ruleIndex", RuleIndex},
      {"level", "note"},
      {"message",
       {{"text", C["callee"].get<std::string>() + "() in " + C["function"].get<std::string>() + "(): " + Verdict +
                     ": " + C["reason"].get<std::string>()}}},
      {"locations", json::array({location(C, "")})},
      {"partialFingerprints", {{"pagerefFingerprint/v1", Fingerprint}}},
  };
  R["locations"][0]["logicalLocations"] = json::array({{{"name", C["function"]}, {"kind", "function"}}});
  json Related = json::array();
  auto Add = [&](const json &At, const std::string &Msg) {
    json L = location(At, Msg, /*WithColumn=*/false);
    L["id"] = Related.size() + 1;
    Related.push_back(L);
  };
  for (const json &E : C["iter_evidence"])
    Add(E, "iterator kinds: " + E["message"].get<std::string>());
  for (const json &E : C["iter_stops"])
    Add(E, "iterator not followed further: " + E["message"].get<std::string>());
  for (const json &S : C["sinks"])
    Add(S, "pages go to " + S["owner"].get<std::string>() + " via " + S["via"].get<std::string>());
  for (const json &X : C["releases"])
    Add(X, "released by " + X["function"].get<std::string>() + "() in " + X["in_function"].get<std::string>() +
               "() (" + X["family"].get<std::string>() + ", " + X["route"].get<std::string>() +
               (X["conditional"].get<bool>() ? ", conditional" : "") + ")");
  for (const json &E : C["flow_stops"])
    Add(E, "pages not followed further: " + E["message"].get<std::string>());
  if (C.contains("async") && C["async"].is_object())
    Add(C["async"], "references owned by the async completion " + C["async"]["completion"].get<std::string>() +
                        "() (" + C["async"]["via"].get<std::string>() + ")");
  if (!Related.empty())
    R["relatedLocations"] = Related;
  R["properties"] = {{"verdict", Verdict}, {"callee", C["callee"]}, {"iterKinds", C["iter_kinds"]}};
  // `pageref convert`: the draft patch of the site (relative to the report).
  if (C.contains("conversion") && C["conversion"].is_object()) {
    R["properties"]["conversion"] = C["conversion"];
    if (C["conversion"].contains("patch"))
      R["attachments"] = json::array(
          {{{"description", {{"text", "draft conversion to iov_iter_extract_pages(), status " +
                                          C["conversion"].value("status", std::string())}}},
            {"artifactLocation", {{"uri", C["conversion"]["patch"]}}}}});
  }
  return R;
}

} // namespace

json toSarif(const ReportDoc &D) {
  const json &S = D.Scan;
  json Rules = json::array();
  std::map<std::string, size_t> RuleIndex;
  for (const CheckInfo &C : checks()) {
    RuleIndex[C.Name] = Rules.size();
    Rules.push_back(rule(C, D.DocsUri));
  }
  // A check this pageref does not know (a newer scan's) still gets a rule.
  for (const json &F : S["findings"]) {
    std::string Name = F["check"];
    if (RuleIndex.count(Name))
      continue;
    RuleIndex[Name] = Rules.size();
    Rules.push_back({{"id", Name}, {"name", pascalName(Name)}, {"shortDescription", {{"text", Name}}}});
  }

  json Results = json::array();
  std::map<std::string, int> Seen;
  for (const json &C : S["call_sites"]) {
    // Call sites have no fingerprint in the scan: what stays when lines
    // move is the function and the callee, repeats numbered in order.
    std::string FP = digest16({"pageref-get-pages-caller", C["file"], C["function"], C["callee"]});
    if (int N = ++Seen[FP]; N > 1)
      FP += "-" + std::to_string(N);
    Results.push_back(callSiteResult(C, RuleIndex["pageref-get-pages-caller"], FP));
  }
  for (const json &F : S["findings"])
    Results.push_back(findingResult(F, RuleIndex[F["check"].get<std::string>()]));

  // Translation units that could not be analysed: the tool's own notifications.
  json Notes = json::array();
  for (const json &U : S["translation_units"])
    if (U["status"] != "ok")
      Notes.push_back({{"level", "error"},
                       {"message", {{"text", U["file"].get<std::string>() + " not analysed: " +
                                                 U.value("error", std::string("failed"))}}},
                       {"locations", json::array({{{"physicalLocation", {{"artifactLocation", artifact(U["file"])}}}}})},
                       {"descriptor", {{"id", "pageref-tu-failed"}}}});

  std::string Tree = S["tree"];
  if (Tree.empty() || Tree.back() != '/')
    Tree += '/';
  json Run = {
      {"tool",
       {{"driver",
         {{"name", "pageref"},
          {"version", PAGEREF_VERSION},
          {"semanticVersion", PAGEREF_VERSION},
          {"informationUri", D.DocsUri + "reports.md"},
          {"rules", Rules}}}}},
      {"originalUriBaseIds",
       {{SrcRoot,
         {{"uri", llvm::sys::path::is_absolute(Tree) ? fileUri(Tree) : relativeUri(Tree)},
          {"description", {{"text", "The kernel tree the scan analysed."}}}}}}},
      {"invocations", json::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", Notes}}})},
      // Byte columns: the same as code points on the kernel's ASCII sources.
      {"columnKind", "unicodeCodePoints"},
      {"results", Results},
      {"properties",
       {{"apiModel", S["api_model"]}, {"checks", S["checks"]}, {"pagerefVersion", S["pageref_version"]}}},
  };
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({Run})}};
}

} // namespace report
} // namespace pageref
