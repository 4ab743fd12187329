// What every pageref check shares: the API model (built-in table plus the
// user's files from the ApiModelFiles option) and turning engine evidence into
// notes. A check itself stays a page of code.
#pragma once

#include "ClangTidyCheck.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "pageref/ApiModel.h"
#include "pageref/Facts.h"

#include <string>

namespace pageref {

class PagerefCheckBase : public clang::tidy::ClangTidyCheck {
public:
  PagerefCheckBase(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context);
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  bool isLanguageVersionSupported(const clang::LangOptions &LangOpts) const override { return !LangOpts.ObjC; }

protected:
  const ApiModel &model() const { return Model; }
  const std::string CheckName; // as registered: "pageref-unbalanced-release"
  /// Matches, bound as "fn", every function defined in the main file that
  /// calls one of \p Names: the unit the engine's flow analyses work on.
  void matchFunctionsCalling(clang::ast_matchers::MatchFinder *Finder, const std::vector<llvm::StringRef> &Names);
  /// One note per piece of evidence, at its location.
  void emitNotes(const std::vector<Evidence> &Notes, llvm::StringRef Prefix = "");

private:
  std::string ApiModelFiles; // ';'-separated JSON files
  ApiModel Model;
};

} // namespace pageref
