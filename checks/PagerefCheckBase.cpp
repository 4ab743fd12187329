#include "PagerefCheckBase.h"

#include "llvm/ADT/StringExtras.h"

namespace pageref {

PagerefCheckBase::PagerefCheckBase(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), CheckName(Name.str()), ApiModelFiles(Options.getLocalOrGlobal("ApiModelFiles", "").str()),
      Model(ApiModel::builtin()) {
  llvm::SmallVector<llvm::StringRef, 4> Files;
  llvm::StringRef(ApiModelFiles).split(Files, ';', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef File : Files) {
    if (auto Err = Model.mergeFile(File.trim()))
      configurationDiag("%0 (option ApiModelFiles of %1)", clang::DiagnosticIDs::Error) << *Err << Name;
  }
}

void PagerefCheckBase::storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ApiModelFiles", ApiModelFiles);
}

void PagerefCheckBase::matchFunctionsCalling(clang::ast_matchers::MatchFinder *Finder,
                                             const std::vector<llvm::StringRef> &Names) {
  using namespace clang::ast_matchers;
  Finder->addMatcher(functionDecl(isDefinition(), isExpansionInMainFile(),
                                  hasDescendant(callExpr(callee(functionDecl(hasAnyName(Names))))))
                         .bind("fn"),
                     this);
}

void PagerefCheckBase::emitNotes(const std::vector<Evidence> &Notes, llvm::StringRef Prefix) {
  for (const Evidence &E : Notes)
    diag(E.Loc, "%0%1", clang::DiagnosticIDs::Note) << Prefix << E.Message;
}

} // namespace pageref
