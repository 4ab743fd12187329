// Decides which function bodies of headers the parse may skip
// (ASTConsumer::shouldSkipFunctionBody with SkipFunctionBodies on). A kernel
// TU spends most of its parse in header inline functions; the checks look
// only at bodies that call something the API model knows, directly or
// through another header function that does. A body is kept when its tokens
// name such a function; a header whose braces cannot be matched reliably
// keeps every body.
#pragma once

#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <string>
#include <vector>

namespace clang {
class Decl;
}

namespace pageref {

class HeaderBodyFilter {
public:
  HeaderBodyFilter(const clang::SourceManager &SM, const std::vector<std::string> &TrackedNames);
  /// True if \p D's body may be skipped.
  bool skip(const clang::Decl *D);
  unsigned skipped() const { return Skipped; }

private:
  struct Block {
    unsigned Open, Close; // offsets of '{' and '}' of a top-level block
    bool Tracked;
  };
  struct FileBlocks {
    bool Reliable = true;
    bool AnyTracked = false;
    std::vector<Block> Blocks;
  };
  const FileBlocks &blocksOf(clang::FileID FID);
  bool countSkip() {
    ++Skipped;
    return true;
  }

  const clang::SourceManager &SM;
  llvm::StringSet<> Tracked; // grows with header functions that call tracked ones
  llvm::DenseMap<clang::FileID, FileBlocks> Files;
  unsigned Skipped = 0;
};

} // namespace pageref
