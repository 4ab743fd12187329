#include "RefFlowCheck.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace pageref {

void RefFlowCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<llvm::StringRef> Names;
  for (auto &E : model().getPagesFns())
    Names.push_back(E.first());
  for (auto &E : model().acquireFns())
    if (E.second.ReturnsCount)
      Names.push_back(E.first());
  matchFunctionsCalling(Finder, Names);
}

void RefFlowCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *F = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (!Flow) {
    Index = std::make_unique<TuIndex>(*Result.Context);
    Flow = std::make_unique<RefFlow>(*Result.Context, model(), *Index);
  }
  for (const RefFinding &Finding : Flow->analyze(F)) {
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
