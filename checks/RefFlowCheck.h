// The two checks on the reference-flow engine share this: find the functions
// of the main file that acquire page references, run RefFlow on each, and
// emit the findings of the kinds the check owns.
#pragma once

#include "ExternalSummaries.h"
#include "PagerefCheckBase.h"
#include "pageref/RefFlow.h"
#include "llvm/ADT/StringExtras.h"
#include "pageref/ScanCollector.h"

#include <memory>
#include <set>

namespace pageref {

class RefFlowCheck : public PagerefCheckBase {
public:
  RefFlowCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context, std::set<RefFindingKind> Kinds,
               bool SummaryExporter)
      : PagerefCheckBase(Name, Context), Kinds(std::move(Kinds)), SummaryExporter(SummaryExporter),
        SummariesFile(Options.getLocalOrGlobal("SummariesFile", "").str()),
        MaxBlockVisitsText(Options.getLocalOrGlobal("MaxBlockVisits", "20000").str()) {
    loadSummaries();
    // The string form: the integer overloads are templates clang-tidy-19 does not export.
    if (!llvm::to_integer(MaxBlockVisitsText, Limits.MaxBlockVisits) || Limits.MaxBlockVisits == 0)
      configurationDiag("option MaxBlockVisits of %0 needs a positive number, got '%1'",
                        clang::DiagnosticIDs::Error)
          << CheckName << MaxBlockVisitsText;
  }
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  /// The findings of \p F again, under each assumption about what the
  /// functions of other files it hands pages to do with them; the driver's
  /// merge picks the variant their summaries select (docs/summaries.md).
  void deferExternal(const clang::FunctionDecl *F, const std::set<std::string> &Externals,
                     const std::vector<RefFinding> &Base, clang::ASTContext &Ctx, ScanCollector &C);
  /// Reads the SummariesFile option's file (effects of functions of other files).
  void loadSummaries();
  nlohmann::json findingJson(const RefFinding &F, const clang::SourceManager &SM, const clang::LangOptions &LO) const;

  std::set<RefFindingKind> Kinds;
  bool SummaryExporter; // one of the two checks writes the TU's summaries
  std::string SummariesFile; // a previous scan's pageref.json; empty: none
  std::string MaxBlockVisitsText; // per acquisition; hitting it is a remark, not a stall
  RefFlowLimits Limits;
  std::shared_ptr<const ExternalEffects> OtherFileEffects;
  std::unique_ptr<TuIndex> Index;
  std::unique_ptr<RefFlow> Flow;
};

/// pageref-unbalanced-release (docs/checks/unbalanced-release.md)
class UnbalancedReleaseCheck : public RefFlowCheck {
public:
  UnbalancedReleaseCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
      : RefFlowCheck(Name, Context,
                     {RefFindingKind::Leak, RefFindingKind::DoubleRelease, RefFindingKind::NegativeCount,
                      RefFindingKind::CountMismatch, RefFindingKind::ReleaseUnacquired, RefFindingKind::BoundHit},
                     /*SummaryExporter=*/true) {}
};

/// pageref-release-mismatch (docs/checks/release-mismatch.md)
class ReleaseMismatchCheck : public RefFlowCheck {
public:
  ReleaseMismatchCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
      : RefFlowCheck(Name, Context, {RefFindingKind::WrongFamily, RefFindingKind::ExtractUnconditional},
                     /*SummaryExporter=*/false) {}
};

} // namespace pageref
