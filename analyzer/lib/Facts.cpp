#include "pageref/Facts.h"
#include "pageref/AstUtil.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace pageref {

llvm::StringRef verdictName(Verdict V) {
  switch (V) {
  case Verdict::ExtractReady: return "extract-ready";
  case Verdict::NeedsRefs: return "needs-refs";
  case Verdict::AlreadyConditional: return "already-conditional";
  case Verdict::Unknown: return "unknown";
  }
  return "unknown";
}

std::string CallerFacts::summary() const {
  std::string S = Callee + "() in " + Function + "(): iterator kinds " + Iter.Kinds.str() + "; pages ";
  if (Sinks.empty())
    S += "kept locally";
  else {
    std::vector<std::string> Owners;
    for (const PageSink &K : Sinks)
      if (!llvm::is_contained(Owners, K.Owner))
        Owners.push_back(K.Owner);
    S += "go to " + llvm::join(Owners, ", ");
  }
  S += "; released by ";
  if (Releases.empty())
    S += "nothing found";
  else {
    std::vector<std::string> Fns;
    for (const PageRelease &R : Releases) {
      std::string F = R.Function + "()" + (R.KindConditional ? " (kind-conditional)" : R.Conditional ? " (conditional)" : "");
      if (!llvm::is_contained(Fns, F))
        Fns.push_back(F);
    }
    S += llvm::join(Fns, ", ");
  }
  if (Async)
    S += "; references owned by async completion " + Async->Completion + "() (" + Async->Via + "), " +
         (Async->Unwaited ? std::string("not waited for on the submitting path")
                          : "waited for by " + Async->Wait);
  S += "; verdict " + verdictName(Result).str() + ": " + Reason;
  return S;
}

static json where(clang::SourceLocation L, const clang::SourceManager &SM) {
  clang::PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(L));
  if (P.isInvalid())
    return json{{"file", ""}, {"line", 0}};
  return json{{"file", P.getFilename()}, {"line", P.getLine()}};
}

static json evidence(const std::vector<Evidence> &Es, const clang::SourceManager &SM) {
  json A = json::array();
  for (const Evidence &E : Es) {
    json J = where(E.Loc, SM);
    J["message"] = E.Message;
    A.push_back(J);
  }
  return A;
}

json toJson(const CallerFacts &F, const clang::SourceManager &SM) {
  clang::PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(F.Call->getBeginLoc()));
  json J;
  J["file"] = P.isValid() ? P.getFilename() : "";
  J["line"] = P.isValid() ? P.getLine() : 0;
  J["column"] = P.isValid() ? P.getColumn() : 0;
  J["function"] = F.Function;
  J["callee"] = F.Callee;
  J["iter_kinds"] = F.Iter.Kinds.names();
  J["iter_evidence"] = evidence(F.Iter.Why, SM);
  J["iter_stops"] = evidence(F.Iter.Stops, SM);
  json Sinks = json::array();
  for (const PageSink &S : F.Sinks) {
    json K = where(S.Loc, SM);
    K["owner"] = S.Owner;
    K["via"] = S.Via;
    K["in_function"] = S.InFunction;
    Sinks.push_back(K);
  }
  J["sinks"] = Sinks;
  json Rels = json::array();
  for (const PageRelease &R : F.Releases) {
    json K = where(R.Loc, SM);
    K["function"] = R.Function;
    K["family"] = familyName(R.Family);
    K["in_function"] = R.InFunction;
    K["route"] = R.Route;
    K["conditional"] = R.Conditional;
    K["kind_conditional"] = R.KindConditional;
    if (R.OtherTranslationUnit)
      K["other_translation_unit"] = true;
    K["condition"] = R.Condition;
    Rels.push_back(K);
  }
  J["releases"] = Rels;
  J["flow_stops"] = evidence(F.FlowStops, SM);
  if (F.Async) {
    json A = where(F.Async->WiredAt, SM);
    A["completion"] = F.Async->Completion;
    A["via"] = F.Async->Via;
    A["wait"] = F.Async->Wait;
    if (!F.Async->Wait.empty())
      A["wait_line"] = where(F.Async->WaitAt, SM)["line"];
    A["unwaited"] = F.Async->Unwaited;
    J["async"] = A;
  } else {
    J["async"] = nullptr;
  }
  J["verdict"] = verdictName(F.Result);
  J["reason"] = F.Reason;
  return J;
}

std::string writeTextAtomically(llvm::StringRef Text, llvm::StringRef Path) {
  llvm::SmallString<256> Dir(Path);
  llvm::sys::path::remove_filename(Dir);
  if (!Dir.empty())
    if (std::error_code EC = llvm::sys::fs::create_directories(Dir))
      return (Dir + ": cannot create directory: " + EC.message()).str();
  llvm::SmallString<256> Tmp;
  int FD;
  if (std::error_code EC = llvm::sys::fs::createUniqueFile(Path + ".tmp-%%%%%%", FD, Tmp))
    return (Path + ": cannot create a temporary file next to it: " + EC.message()).str();
  {
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << Text;
    OS.flush();
    if (OS.has_error()) {
      std::string Msg = OS.error().message();
      OS.clear_error();
      llvm::sys::fs::remove(Tmp);
      return (Path + ": write failed: " + Msg).str();
    }
  }
  if (std::error_code EC = llvm::sys::fs::rename(Tmp, Path)) {
    llvm::sys::fs::remove(Tmp);
    return (Path + ": cannot rename the temporary file into place: " + EC.message()).str();
  }
  return "";
}

std::string writeJsonAtomically(const json &Doc, llvm::StringRef Path) {
  return writeTextAtomically(Doc.dump(2) + "\n", Path);
}

} // namespace pageref
