// pageref-async-bvec-drop (docs/checks/async-bvec-drop.md)
#pragma once

#include "PagerefCheckBase.h"
#include "pageref/AsyncBvec.h"
#include "pageref/RefFlow.h"

#include <memory>

namespace pageref {

class AsyncBvecDropCheck : public PagerefCheckBase {
public:
  AsyncBvecDropCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
      : PagerefCheckBase(Name, Context), ReportSubmissions(Options.get("ReportSubmissions", "false").equals_insensitive("true")) {}
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  bool ReportSubmissions; // a remark per async ITER_BVEC submission, for reviewers
  std::unique_ptr<TuIndex> Index;
  std::unique_ptr<AsyncBvecAnalyzer> Analyzer; // the submissions, for ReportSubmissions
  std::unique_ptr<RefFlow> Flow;              // the drops: the reference-flow engine (refflow/Async.cpp)
};

} // namespace pageref
