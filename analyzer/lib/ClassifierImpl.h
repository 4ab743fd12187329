// Private state of CallerClassifier, shared by IterKinds.cpp (which kinds of
// iterator reach a call) and PageFlow.cpp (where the pages go).
#pragma once

#include "pageref/CallerClassifier.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <optional>
#include <map>
#include <set>

namespace pageref {

struct CallerClassifier::Impl {
  clang::ASTContext &Ctx;
  const clang::SourceManager &SM;
  const ApiModel &Model;
  ClassifierLimits Limits;
  const TuIndex &Index;
  ParentCache Parents;
  /// The kinds this kernel has: the enumerators of its `enum iter_type`
  /// (6.1 has ITER_PIPE, 6.12 ITER_FOLIOQ instead).
  IterKindSet Universe = IterKindSet::all();

  Impl(clang::ASTContext &Ctx, const ApiModel &M, ClassifierLimits L, const TuIndex &I);

  // --- iterator kinds (IterKinds.cpp) ---
  /// What a true (or false) \p Cond says about iterator \p It; nothing if the
  /// condition does not test it.
  std::optional<IterKindSet> condKinds(const clang::Expr *Cond, bool Truth, const ObjectPath &It);
  /// Kinds still possible for \p It at \p Use given the conditions that
  /// dominate it in \p F (enclosing ifs, earlier `if (...) return;`).
  IterKindSet narrowAt(const clang::Stmt *Use, const clang::FunctionDecl *F, const ObjectPath &It,
                       std::vector<Evidence> &Why);
  IterKindsResult kindsOfExpr(const clang::Expr *E, const clang::FunctionDecl *F, unsigned Depth,
                              std::set<std::string> &Visiting);
  IterKindsResult kindsOfPath(const ObjectPath &It, const clang::FunctionDecl *F, clang::SourceLocation Loc,
                              unsigned Depth, std::set<std::string> &Visiting);
  /// True if \p Loc comes from an EXPORT_SYMBOL*() expansion.
  bool isExportSymbol(clang::SourceLocation Loc);
  IterKindsResult kindsOfPathUncached(const ObjectPath &It, const clang::FunctionDecl *F, clang::SourceLocation Loc,
                                      unsigned Depth, std::set<std::string> &Visiting);
  /// Kinds already worked out per (function, iterator path), for this TU.
  std::map<std::string, IterKindSet> KindsDone;
  /// Assignments `lhs = rhs` and initialisers in \p F, for following locals.
  std::vector<std::pair<const clang::Expr *, const clang::Expr *>> assignmentsTo(const ObjectPath &P,
                                                                                const clang::FunctionDecl *F);

  // --- where the pages go (PageFlow.cpp) ---
  void followPages(const clang::CallExpr *Call, const GetPagesFn &Get, const clang::FunctionDecl *F,
                   CallerFacts &Out);
  const clang::VarDecl *resultVariable(const clang::CallExpr *Call, const clang::FunctionDecl *F);
  /// Who drops the references in the end: an async completion? And does the
  /// submitting path wait for it?
  void findAsyncOwner(const clang::FunctionDecl *F, CallerFacts &Out);
  void decideVerdict(const GetPagesFn &Get, CallerFacts &Out);

  std::string text(const clang::Expr *E, unsigned Max = 60) { return exprText(E, Ctx, Max); }
  std::string fnName(const clang::FunctionDecl *F) { return F ? F->getNameAsString() : std::string("<file scope>"); }
};

/// Appends the field path of \p Suffix (from another ObjectPath) to \p Base.
ObjectPath appendSuffix(ObjectPath Base, const ObjectPath &WithSuffix);

} // namespace pageref
