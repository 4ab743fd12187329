// pageref-get-pages-caller: one warning per call of the get-pages family that
// says which iterator kinds reach it, where the pages go, how they are
// released and whether the caller needs references for BVEC/XARRAY/PIPE.
// Docs: docs/checks/get-pages-caller.md
#pragma once

#include "PagerefCheckBase.h"
#include "pageref/CallerClassifier.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace pageref {

class GetPagesCallerCheck : public PagerefCheckBase {
public:
  GetPagesCallerCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context);
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  std::string FactsDir; // where the per-TU JSON goes; empty: none
  std::unique_ptr<CallerClassifier> Classifier;
  nlohmann::json Records = nlohmann::json::array();
  std::string MainFile;
};

} // namespace pageref
