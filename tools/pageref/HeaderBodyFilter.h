// Decides which function bodies of headers the parse may skip
// (ASTConsumer::shouldSkipFunctionBody with SkipFunctionBodies on). A kernel
// TU spends most of its parse in header inline functions. The checks read a
// header function's body only when it is handed, or returns, what they
// follow: pages, folios, iterators and the containers and requests that
// carry them (the engine summarises a callee only through such a parameter;
// any other is a hand-off). Every other header body is skipped; the scan's
// tests require the same results as a full parse (`pageref scan --full-parse`).
#pragma once

#include "clang/Basic/SourceManager.h"

namespace clang {
class Decl;
}

namespace pageref {

class HeaderBodyFilter {
public:
  explicit HeaderBodyFilter(const clang::SourceManager &SM) : SM(SM) {}
  /// True if \p D's body may be skipped.
  bool skip(const clang::Decl *D);
  unsigned skipped() const { return Skipped; }

private:
  const clang::SourceManager &SM;
  unsigned Skipped = 0;
};

} // namespace pageref
