#include "RefFlowCheck.h"

#include "pageref/ScanCollector.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace pageref {

void RefFlowCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<llvm::StringRef> Names;
  for (auto &E : model().getPagesFns())
    Names.push_back(E.first());
  for (auto &E : model().acquireFns())
    Names.push_back(E.first());
  // Functions that only release pages another function kept in a struct
  // field: their family is checked against what was stored there.
  for (auto &E : model().releaseFns())
    Names.push_back(E.first());
  matchFunctionsCalling(Finder, Names);
  // For the whole-tree driver: every function of the main file other files
  // can call, so that its summary is known to them.
  if (activeScanCollector() && SummaryExporter)
    Finder->addMatcher(functionDecl(isDefinition(), isExpansionInMainFile(), unless(isStaticStorageClass()))
                           .bind("summarize"),
                       this);
}

void RefFlowCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  PagerefCheckBase::storeOptions(Opts);
  Options.store(Opts, "SummariesFile", SummariesFile);
  Options.store(Opts, "MaxBlockVisits", MaxBlockVisitsText);
}

void RefFlowCheck::loadSummaries() {
  if (SummariesFile.empty())
    return;
  std::string Error;
  OtherFileEffects = loadExternalEffects(SummariesFile, Error);
  if (!OtherFileEffects)
    configurationDiag("%0 (option SummariesFile of %1)", clang::DiagnosticIDs::Error) << Error << CheckName;
}

nlohmann::json RefFlowCheck::findingJson(const RefFinding &F, const clang::SourceManager &SM,
                                         const clang::LangOptions &LO) const {
  nlohmann::json J = locationJson(F.Loc, SM);
  J["check"] = CheckName;
  J["severity"] = F.Kind == RefFindingKind::BoundHit ? "remark" : "warning";
  J["message"] = F.Message;
  nlohmann::json Notes = nlohmann::json::array();
  for (const Evidence &E : F.Notes) {
    nlohmann::json N = locationJson(E.Loc, SM);
    N["message"] = E.Message;
    Notes.push_back(N);
  }
  J["notes"] = Notes;
  nlohmann::json Fixes = nlohmann::json::array();
  if (F.FixRange.isValid()) {
    clang::CharSourceRange R = clang::Lexer::makeFileCharRange(clang::CharSourceRange::getTokenRange(F.FixRange), SM, LO);
    if (R.isValid()) {
      nlohmann::json Fx = locationJson(R.getBegin(), SM);
      nlohmann::json End = locationJson(R.getEnd(), SM);
      Fx["end_line"] = End["line"];
      Fx["end_column"] = End["column"];
      Fx["replacement"] = F.FixText;
      Fixes.push_back(Fx);
    }
  }
  J["fixes"] = Fixes;
  return J;
}

void RefFlowCheck::deferExternal(const FunctionDecl *F, const std::set<std::string> &Externals,
                                 const std::vector<RefFinding> &Base, ASTContext &Ctx, ScanCollector &C) {
  const SourceManager &SM = Ctx.getSourceManager();
  auto Keep = [&](const std::vector<RefFinding> &All) {
    nlohmann::json Out = nlohmann::json::array();
    for (const RefFinding &Fd : All)
      if (Kinds.count(Fd.Kind))
        Out.push_back(findingJson(Fd, SM, Ctx.getLangOpts()));
    return Out;
  };
  nlohmann::json BaseJson = Keep(Base);
  std::vector<std::string> Names(Externals.begin(), Externals.end());
  nlohmann::json Record = {{"check", CheckName}, {"function", F->getNameAsString()}, {"externals", Names}};
  // Beyond two unknown functions the combinations grow too fast; the merge
  // then keeps the single-TU answer and says so.
  if (Names.size() > 2) {
    Record["variants"] = nlohmann::json::array();
    Record["truncated"] = true;
    C.Deferred.push_back(Record);
    return;
  }
  // What a function of another file can do with the pages it is handed; the
  // hand-off (takes-over) is the single-TU answer already given.
  std::vector<ParamEffect> Choices(4);
  Choices[0].Effect = ParamEffect::Uses;
  Choices[1].Effect = ParamEffect::Releases;
  Choices[1].Family = ReleaseFamily::Ref;
  Choices[2].Effect = ParamEffect::Releases;
  Choices[2].Family = ReleaseFamily::Pin;
  Choices[3].Effect = ParamEffect::TakesOverIfNonNull;
  nlohmann::json Variants = nlohmann::json::array();
  unsigned Combos = 1;
  for (size_t I = 0; I < Names.size(); ++I)
    Combos *= Choices.size() + 1;
  for (unsigned Combo = 1; Combo < Combos; ++Combo) {
    std::map<std::string, ParamEffect> Assume;
    nlohmann::json AssumeJson = nlohmann::json::object();
    unsigned Rest = Combo;
    for (const std::string &N : Names) {
      unsigned Pick = Rest % (Choices.size() + 1);
      Rest /= Choices.size() + 1;
      if (Pick == 0) {
        AssumeJson[N] = "takes-over";
        continue;
      }
      ParamEffect E = Choices[Pick - 1];
      E.Via = "{{via:" + N + "}}";
      Assume[N] = E;
      AssumeJson[N] = assumptionName(E);
    }
    Flow->assumeExternal(Assume);
    nlohmann::json Findings = Keep(Flow->analyze(F));
    Flow->assumeExternal(OtherFileEffects ? *OtherFileEffects : ExternalEffects());
    Flow->takeExternalsSeen();
    if (Findings != BaseJson)
      Variants.push_back({{"assume", AssumeJson}, {"findings", Findings}});
  }
  Record["variants"] = Variants;
  C.Deferred.push_back(Record);
}

void RefFlowCheck::check(const MatchFinder::MatchResult &Result) {
  if (!Flow) {
    Index = std::make_unique<TuIndex>(*Result.Context);
    Flow = std::make_unique<RefFlow>(*Result.Context, model(), *Index, Limits);
    if (OtherFileEffects)
      Flow->assumeExternal(*OtherFileEffects);
  }
  ScanCollector *Collector = activeScanCollector();
  if (const auto *S = Result.Nodes.getNodeAs<FunctionDecl>("summarize")) {
    if (!Collector || !S->isExternallyVisible() ||
        llvm::none_of(S->parameters(), [](const ParmVarDecl *P) { return isPageCarryingType(P->getType()); }))
      return;
    nlohmann::json J = toJson(Flow->summary(S));
    J["file"] = locationJson(S->getLocation(), *Result.SourceManager)["file"];
    J["line"] = locationJson(S->getLocation(), *Result.SourceManager)["line"];
    Collector->Summaries.push_back(J);
    Flow->takeExternalsSeen();
    return;
  }
  const auto *F = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  std::vector<RefFinding> Findings = Flow->analyze(F);
  if (Collector) {
    std::set<std::string> Externals = Flow->takeExternalsSeen();
    if (!Externals.empty())
      deferExternal(F, Externals, Findings, *Result.Context, *Collector);
  }
  for (const RefFinding &Finding : Findings) {
    if (!Kinds.count(Finding.Kind))
      continue;
    auto Level = Finding.Kind == RefFindingKind::BoundHit ? DiagnosticIDs::Remark : DiagnosticIDs::Warning;
    {
      auto D = diag(Finding.Loc, "%0", Level) << Finding.Message;
      if (Finding.FixRange.isValid())
        D << FixItHint::CreateReplacement(CharSourceRange::getTokenRange(Finding.FixRange), Finding.FixText);
    }
    emitNotes(Finding.Notes);
  }
}

void RefFlowCheck::onEndOfTranslationUnit() {
  Flow.reset();
  Index.reset();
}

} // namespace pageref
