#include "AsyncBvecDropCheck.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace pageref {

void AsyncBvecDropCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<llvm::StringRef> Names;
  for (auto &E : model().iterConstructors())
    if (E.second.Kinds.contains(IterKind::Bvec))
      Names.push_back(E.first());
  Finder->addMatcher(functionDecl(isDefinition(), isExpansionInMainFile(),
                                  hasDescendant(callExpr(callee(functionDecl(hasAnyName(Names))))))
                         .bind("fn"),
                     this);
}

void AsyncBvecDropCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *F = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (!Analyzer) {
    Index = std::make_unique<TuIndex>(*Result.Context);
    Analyzer = std::make_unique<AsyncBvecAnalyzer>(*Result.Context, model(), *Index);
  }
  for (const AsyncBvecFinding &Finding : Analyzer->analyze(F)) {
    diag(Finding.Loc, "%0") << Finding.Message;
    emitNotes(Finding.Notes);
  }
}

void AsyncBvecDropCheck::onEndOfTranslationUnit() {
  Analyzer.reset();
  Index.reset();
}

} // namespace pageref
