// Small AST helpers shared by the analyses: naming the object an expression
// denotes, parents within one function body, and source text for messages.
#pragma once

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/DenseMap.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pageref {

/// Where an lvalue lives, as "root declaration + field path": `&req->iter` is
/// {req, ".iter"}, `pages[i]` is {pages, ""}, `&ap->pages[n]` is {ap, ".pages"}.
/// Array subscripts, address-of and dereference are dropped: they select an
/// element or a view of the same object for the purposes of this tool.
struct ObjectPath {
  const clang::ValueDecl *Root = nullptr;
  std::string Suffix; // ".field" components, each keyed by the FieldDecl pointer
  std::string Spelling; // human-readable, e.g. "req->iter"
  const clang::FieldDecl *LastField = nullptr;

  bool operator==(const ObjectPath &O) const { return Root == O.Root && Suffix == O.Suffix; }
  bool operator!=(const ObjectPath &O) const { return !(*this == O); }
  std::string key() const;
};

/// The object \p E denotes, or nothing if it is not a plain lvalue path
/// (a call result, arithmetic on unrelated values...). Pointer arithmetic
/// `pages + i` counts as the same object.
std::optional<ObjectPath> objectPath(const clang::Expr *E);

/// Child-to-parent links for the statements of one function body; cheaper than
/// the TU-wide ParentMapContext, which would also index every header body.
class BodyParents {
public:
  explicit BodyParents(const clang::Stmt *Body);
  const clang::Stmt *parent(const clang::Stmt *S) const {
    auto It = Map.find(S);
    return It == Map.end() ? nullptr : It->second;
  }
  /// True if \p Inner is \p Outer or inside it.
  bool isWithin(const clang::Stmt *Inner, const clang::Stmt *Outer) const;

private:
  llvm::DenseMap<const clang::Stmt *, const clang::Stmt *> Map;
};

/// Per-function parent maps, built on first use.
class ParentCache {
public:
  const BodyParents &of(const clang::FunctionDecl *F);

private:
  llvm::DenseMap<const clang::FunctionDecl *, std::unique_ptr<BodyParents>> Cache;
};

/// The variable a call's result is stored in: `n = call(...)` or `T n = call(...)`.
const clang::VarDecl *resultVariable(const clang::CallExpr *Call, const BodyParents &Parents);

/// The body this TU has for the callee of \p C: a function of the main file,
/// or, with \p AllowHeaderInline, an inline function of a header.
const clang::FunctionDecl *calleeDefinition(const clang::CallExpr *C, const clang::SourceManager &SM,
                                            bool AllowHeaderInline = false);
/// Parameter \p Index of \p F as an object path.
ObjectPath paramPath(const clang::FunctionDecl *F, unsigned Index);

/// The directly called function, looking through parentheses and casts.
const clang::FunctionDecl *directCallee(const clang::CallExpr *C);
/// The callee's name, or empty for an indirect call.
llvm::StringRef calleeName(const clang::CallExpr *C);

/// Source text of \p E (macro-expanded locations map to the spelling the user
/// wrote), shortened to \p Max characters.
std::string exprText(const clang::Expr *E, const clang::ASTContext &Ctx, unsigned Max = 80);

/// The line of \p Loc in the file the user sees (expansion location).
unsigned lineOf(clang::SourceLocation Loc, const clang::SourceManager &SM);

/// True if \p S always leaves the enclosing statement list: return, goto,
/// break, continue, a call to a noreturn function, or a block ending in one.
bool alwaysExits(const clang::Stmt *S);

/// Every call in \p Body, in source order.
std::vector<const clang::CallExpr *> callsIn(const clang::Stmt *Body);
/// Every plain assignment `lhs = rhs` in \p Body.
std::vector<const clang::BinaryOperator *> assignmentsIn(const clang::Stmt *Body);
/// Every store into a local variable: initialisers and `v = rhs`.
std::vector<std::pair<const clang::VarDecl *, const clang::Expr *>> localStoresIn(const clang::Stmt *Body);

/// Strips parentheses, implicit and explicit casts, `&`, `*`, array
/// subscripts and `+ offset` to the object an argument refers to.
const clang::Expr *stripToObject(const clang::Expr *E);

} // namespace pageref
