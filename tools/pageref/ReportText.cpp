// The text report, in clang-tidy's shape (`file:line:col: warning: ... [check]`
// then its notes) so that editors' quickfix lists and CI log parsers read it.
#include "ReportInternal.h"

#include <map>
#include <sstream>

using nlohmann::json;

namespace pageref {
namespace report {
namespace {

std::string at(const json &L) {
  return L["file"].get<std::string>() + ":" + std::to_string(L["line"].get<int64_t>()) + ":" +
         std::to_string(L.value("column", int64_t(1)) > 0 ? L.value("column", int64_t(1)) : 1);
}

} // namespace

std::string toText(const ReportDoc &D) {
  const json &S = D.Scan;
  std::ostringstream OS;
  std::map<std::string, int> Severities, Baseline, Verdicts;
  for (const json &F : S["findings"]) {
    std::string Sev = F["severity"];
    ++Severities[Sev];
    // The baseline state leads the message: the check name stays last.
    std::string State;
    if (F.contains("baseline")) {
      ++Baseline[F["baseline"]];
      State = "[" + F["baseline"].get<std::string>() + "] ";
    }
    OS << at(F) << ": " << Sev << ": " << State << F["message"].get<std::string>() << " ["
       << F["check"].get<std::string>() << "]\n";
    for (const json &N : F["notes"])
      OS << at(N) << ": note: " << N["message"].get<std::string>() << "\n";
    for (const json &X : F["fixes"])
      OS << at(X) << ": note: fix-it: replace up to " << X["end_line"] << ":" << X["end_column"] << " with '"
         << X["replacement"].get<std::string>() << "'\n";
    if (F.contains("cross_tu"))
      for (const json &X : F["cross_tu"])
        OS << at(F) << ": note: decided with the summary of " << X["function"].get<std::string>() << "() in "
           << X["file"].get<std::string>() << ": " << X["effect"].get<std::string>() << "\n";
  }
  // The inventory: one remark per get-pages call site, so that CI jobs that
  // fail on warnings do not fail on it.
  for (const json &C : S["call_sites"]) {
    std::string V = C["verdict"];
    ++Verdicts[V];
    OS << at(C) << ": remark: " << C["callee"].get<std::string>() << "() in " << C["function"].get<std::string>()
       << "(): " << V << ": " << C["reason"].get<std::string>() << " [pageref-get-pages-caller]\n";
  }
  int Failed = 0;
  for (const json &U : S["translation_units"])
    if (U["status"] != "ok") {
      ++Failed;
      OS << U["file"].get<std::string>() << ":1:1: remark: translation unit not analysed: "
         << U.value("error", std::string("failed")) << " [pageref-scan]\n";
    }

  auto Counts = [](const std::map<std::string, int> &M, bool Plural) {
    std::string R;
    for (auto &[K, N] : M)
      R += (R.empty() ? "" : ", ") + std::to_string(N) + " " + K + (Plural && N != 1 ? "s" : "");
    return R.empty() ? std::string("none") : R;
  };
  OS << "pageref: " << S["findings"].size() << " findings (" << Counts(Severities, true) << ")";
  if (D.HasBaseline)
    OS << ", baseline: " << Counts(Baseline, false) << ", " << D.Fixed.size() << " fixed";
  OS << "; " << S["call_sites"].size() << " get-pages call sites (" << Counts(Verdicts, false) << "); "
     << S["translation_units"].size() << " translation units, " << Failed << " not analysed\n";
  return OS.str();
}

} // namespace report
} // namespace pageref
