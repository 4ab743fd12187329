// What one translation unit says about its own functions: who calls whom, where
// a function's address is taken (file_operations tables and the like), and
// which fields are written where. Built once per TU from the main file only.
#pragma once

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace pageref {

struct CallSite {
  const clang::CallExpr *Call;
  const clang::FunctionDecl *Caller;
};

/// A use of a function other than calling it.
struct AddressUse {
  const clang::Expr *Ref;
  const clang::FunctionDecl *InFunction; // null at file scope
  std::string Field;                      // the struct field it initialises or is assigned to
  std::string Record;                     // that field's struct, e.g. "file_operations"
};

/// A write of a struct field: `x->f = rhs` or `.f = rhs` in an initialiser.
struct FieldWrite {
  const clang::Expr *Lhs; // null for initialisers
  const clang::Expr *Rhs;
  const clang::FunctionDecl *InFunction;
};

class TuIndex {
public:
  explicit TuIndex(clang::ASTContext &Ctx);

  const std::vector<CallSite> &callersOf(const clang::FunctionDecl *F) const;
  const std::vector<AddressUse> &addressUses(const clang::FunctionDecl *F) const;
  const std::vector<FieldWrite> &writesOf(const clang::FieldDecl *F) const;
  /// Calls in main-file bodies to \p Name (for iterator constructors and guards).
  const std::vector<CallSite> &callsTo(llvm::StringRef Name) const;
  /// Function definitions in the main file, in source order.
  const std::vector<const clang::FunctionDecl *> &definitions() const { return Definitions; }

private:
  friend struct TuIndexBuilder;
  llvm::DenseMap<const clang::FunctionDecl *, std::vector<CallSite>> Callers;
  llvm::DenseMap<const clang::FunctionDecl *, std::vector<AddressUse>> Addresses;
  llvm::DenseMap<const clang::FieldDecl *, std::vector<FieldWrite>> Writes;
  llvm::StringMap<std::vector<CallSite>> ByName;
  std::vector<const clang::FunctionDecl *> Definitions;
};

} // namespace pageref
