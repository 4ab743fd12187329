#include "AsyncBvecDropCheck.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace pageref {

void AsyncBvecDropCheck::storeOptions(tidy::ClangTidyOptions::OptionMap &Opts) {
  PagerefCheckBase::storeOptions(Opts);
  // The string forms: the bool overloads are templates clang-tidy-19 does not export.
  Options.store(Opts, "ReportSubmissions", ReportSubmissions ? "true" : "false");
}

void AsyncBvecDropCheck::registerMatchers(MatchFinder *Finder) {
  std::vector<llvm::StringRef> Names;
  for (auto &E : model().iterConstructors())
    if (E.second.Kinds.contains(IterKind::Bvec))
      Names.push_back(E.first());
  matchFunctionsCalling(Finder, Names);
}

void AsyncBvecDropCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *F = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (!Analyzer) {
    Index = std::make_unique<TuIndex>(*Result.Context);
    Analyzer = std::make_unique<AsyncBvecAnalyzer>(*Result.Context, model(), *Index);
    Flow = std::make_unique<RefFlow>(*Result.Context, model(), *Index);
  }
  size_t Seen = Analyzer->submissions().size();
  Analyzer->analyze(F);
  for (const RefFinding &Finding : Flow->analyzeAsync(F)) {
    if (Finding.Kind != RefFindingKind::AsyncDrop)
      continue;
    diag(Finding.Loc, "%0") << Finding.Message;
    emitNotes(Finding.Notes);
  }
  if (ReportSubmissions)
    for (size_t I = Seen; I < Analyzer->submissions().size(); ++I)
      diag(Analyzer->submissions()[I].Loc, "%0", DiagnosticIDs::Remark) << Analyzer->submissions()[I].Message;
}

void AsyncBvecDropCheck::onEndOfTranslationUnit() {
  Flow.reset();
  Analyzer.reset();
  Index.reset();
}

} // namespace pageref
