// Classifies get-pages call sites: which iterator kinds reach them, where the
// pages go, how they are released, and whether the caller really needs page
// references for BVEC/XARRAY/PIPE iterators.
#pragma once

#include "pageref/ApiModel.h"
#include "pageref/AstUtil.h"
#include "pageref/Facts.h"
#include "pageref/TuIndex.h"

#include "clang/AST/ASTContext.h"

#include <memory>

namespace pageref {

struct ClassifierLimits {
  unsigned CallerDepth = 4;   // levels of callers followed for an iterator parameter
  unsigned HelperDepth = 3;   // levels of callees followed for the page array
  unsigned MaxCallers = 32;   // callers considered per function
};

class CallerClassifier {
public:
  CallerClassifier(clang::ASTContext &Ctx, const ApiModel &Model, ClassifierLimits Limits = {});
  ~CallerClassifier();

  /// Facts about one call of a get-pages function. \p Get is the model entry.
  CallerFacts classify(const clang::CallExpr *Call, const GetPagesFn &Get);

  /// \p F again, assuming that \p Callee (a function of another file the
  /// pages were passed to, one of F.ExternalCallees) releases them with
  /// \p Family; \p ReleaseName names the release in the result. The
  /// whole-tree driver keeps these variants and picks the one the callee's
  /// summary selects (docs/summaries.md).
  CallerFacts assumeExternalRelease(const CallerFacts &F, const GetPagesFn &Get, llvm::StringRef Callee,
                                    ReleaseFamily Family, llvm::StringRef ReleaseName);

  /// The function whose body contains \p S (main-file definitions only).
  const clang::FunctionDecl *enclosingFunction(const clang::Stmt *S) const;

  const TuIndex &index() const { return *Index; }

  struct Impl; // shared by the engine's own source files

private:
  std::unique_ptr<Impl> P;
  std::unique_ptr<TuIndex> Index;
};

} // namespace pageref
