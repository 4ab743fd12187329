#include "GetPagesCallerCheck.h"

#include "pageref/Config.h"
#include "pageref/ScanCollector.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace pageref {

GetPagesCallerCheck::GetPagesCallerCheck(llvm::StringRef Name, tidy::ClangTidyContext *Context)
    : PagerefCheckBase(Name, Context), FactsDir(Options.getLocalOrGlobal("FactsDir", "").str()) {}

void GetPagesCallerCheck::storeOptions(tidy::ClangTidyOptions::OptionMap &Opts) {
  PagerefCheckBase::storeOptions(Opts);
  Options.store(Opts, "FactsDir", FactsDir);
}

void GetPagesCallerCheck::registerMatchers(MatchFinder *Finder) {
  // Every TU gets a facts file, even one with no call site: "analyzed, none
  // found" is an answer too.
  Finder->addMatcher(translationUnitDecl().bind("tu"), this);
  std::vector<llvm::StringRef> Names;
  for (auto &E : model().getPagesFns())
    Names.push_back(E.first());
  // No hasAncestor() here: it would build the parent map of the whole TU,
  // headers included; the engine knows the enclosing function anyway.
  Finder->addMatcher(callExpr(isExpansionInMainFile(), callee(functionDecl(hasAnyName(Names)))).bind("call"),
                     this);
}

void GetPagesCallerCheck::check(const MatchFinder::MatchResult &Result) {
  const SourceManager &SM = *Result.SourceManager;
  if (Result.Nodes.getNodeAs<TranslationUnitDecl>("tu")) {
    if (const FileEntry *FE = SM.getFileEntryForID(SM.getMainFileID()))
      MainFile = FE->tryGetRealPathName().str();
    return;
  }
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  const GetPagesFn *Get = model().getPages(calleeName(Call));
  if (!Get)
    return;
  if (!Classifier)
    Classifier = std::make_unique<CallerClassifier>(*Result.Context, model());
  // The family's own implementation (lib/iov_iter.c) calls itself.
  if (const FunctionDecl *F = Classifier->enclosingFunction(Call))
    if (model().getPages(F->getName()))
      return;
  CallerFacts Facts = Classifier->classify(Call, *Get);
  diag(Call->getBeginLoc(), "%0") << Facts.summary();
  emitNotes(Facts.Iter.Why);
  emitNotes(Facts.Iter.Stops, "stopped: ");
  for (const PageSink &S : Facts.Sinks)
    diag(S.Loc, "pages go to %0 via %1", DiagnosticIDs::Note) << S.Owner << S.Via;
  for (const PageRelease &R : Facts.Releases)
    diag(R.Loc, "released by %0()%1", DiagnosticIDs::Note)
        << R.Function
        << (R.Conditional ? " under '" + R.Condition + "'" : std::string(" unconditionally"));
  emitNotes(Facts.FlowStops, "stopped: ");
  if (!FactsDir.empty())
    Records.push_back(toJson(Facts, SM));
  if (ScanCollector *C = activeScanCollector()) {
    C->CallSites.push_back(toJson(Facts, SM));
    // The verdict may hang on a function of another file the pages were
    // passed to: the same facts, assuming it releases them, for the merge
    // to pick with that function's summary (docs/summaries.md).
    if (Facts.Result == Verdict::Unknown)
      for (const std::string &Callee : llvm::ArrayRef(Facts.ExternalCallees).take_front(3))
        for (ReleaseFamily Family : {ReleaseFamily::Ref, ReleaseFamily::Pin}) {
          std::string Assume = std::string("releases-") + (Family == ReleaseFamily::Ref ? "ref" : "pin");
          CallerFacts V =
              Classifier->assumeExternalRelease(Facts, *Get, Callee, Family, "{{release:" + Callee + "}}");
          nlohmann::json Site = toJson(V, SM);
          C->Deferred.push_back({{"kind", "call-site"},
                                 {"file", Site["file"]},
                                 {"line", Site["line"]},
                                 {"column", Site["column"]},
                                 {"externals", {Callee}},
                                 {"assume", {{Callee, Assume}}},
                                 {"call_site", Site}});
        }
  }
}

void GetPagesCallerCheck::onEndOfTranslationUnit() {
  if (FactsDir.empty() || MainFile.empty()) {
    Classifier.reset();
    return;
  }
  // One file per TU, named after the source file plus a digest of its full
  // path so that two files with the same name never collide.
  auto Hash = llvm::SHA256::hash(llvm::arrayRefFromStringRef(MainFile));
  std::string Name = llvm::sys::path::filename(MainFile).str() + "." +
                     llvm::toHex(llvm::ArrayRef<uint8_t>(Hash).take_front(6), true) + ".pageref.json";
  llvm::SmallString<256> Path(FactsDir);
  llvm::sys::path::append(Path, Name);
  nlohmann::json Doc = {{"schema", "pageref-facts"},
                        {"version", FactsSchemaVersion},
                        {"pageref_version", PAGEREF_VERSION},
                        {"api_model", model().digest()},
                        {"translation_unit", MainFile},
                        {"call_sites", Records}};
  std::string Err = writeJsonAtomically(Doc, Path);
  if (!Err.empty())
    configurationDiag("pageref-get-pages-caller: cannot write facts: %0", DiagnosticIDs::Error) << Err;
  Records = nlohmann::json::array();
  Classifier.reset();
}

} // namespace pageref
