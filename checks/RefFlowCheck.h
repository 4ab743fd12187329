// The two checks on the reference-flow engine share this: find the functions
// of the main file that acquire page references, run RefFlow on each, and
// emit the findings of the kinds the check owns.
#pragma once

#include "PagerefCheckBase.h"
#include "pageref/RefFlow.h"

#include <memory>
#include <set>

namespace pageref {

class RefFlowCheck : public PagerefCheckBase {
public:
  RefFlowCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context, std::set<RefFindingKind> Kinds)
      : PagerefCheckBase(Name, Context), Kinds(std::move(Kinds)) {}
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  std::set<RefFindingKind> Kinds;
  std::unique_ptr<TuIndex> Index;
  std::unique_ptr<RefFlow> Flow;
};

/// pageref-unbalanced-release (docs/checks/unbalanced-release.md)
class UnbalancedReleaseCheck : public RefFlowCheck {
public:
  UnbalancedReleaseCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
      : RefFlowCheck(Name, Context,
                     {RefFindingKind::Leak, RefFindingKind::DoubleRelease, RefFindingKind::BoundHit}) {}
};

/// pageref-release-mismatch (docs/checks/release-mismatch.md)
class ReleaseMismatchCheck : public RefFlowCheck {
public:
  ReleaseMismatchCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
      : RefFlowCheck(Name, Context, {RefFindingKind::WrongFamily, RefFindingKind::ExtractUnconditional}) {}
};

} // namespace pageref
