// pageref-async-bvec-drop (docs/checks/async-bvec-drop.md)
#pragma once

#include "PagerefCheckBase.h"
#include "pageref/AsyncBvec.h"

#include <memory>

namespace pageref {

class AsyncBvecDropCheck : public PagerefCheckBase {
public:
  using PagerefCheckBase::PagerefCheckBase;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  std::unique_ptr<TuIndex> Index;
  std::unique_ptr<AsyncBvecAnalyzer> Analyzer;
};

} // namespace pageref
