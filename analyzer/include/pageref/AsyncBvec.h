// Viro's second rule: an ITER_BVEC iterator over pages whose references (or
// whose bio_vec array) this function owns, handed to an async
// ->read_iter()/->write_iter(), must not be dropped right after the call on a
// path where the call may have returned -EIOCBQUEUED: the I/O is still running.
#pragma once

#include "pageref/ApiModel.h"
#include "pageref/Facts.h"
#include "pageref/TuIndex.h"

#include "clang/AST/ASTContext.h"

#include <vector>

namespace pageref {

struct AsyncBvecFinding {
  clang::SourceLocation Loc; // the drop
  std::string Message;
  std::vector<Evidence> Notes;
};

/// An async ITER_BVEC submission and how it keeps its pages alive, for the
/// reviewer's list (not a warning).
struct AsyncBvecSubmission {
  clang::SourceLocation Loc; // the submission
  std::string Message;
};

class AsyncBvecAnalyzer {
public:
  AsyncBvecAnalyzer(clang::ASTContext &Ctx, const ApiModel &Model, const TuIndex &Index);
  std::vector<AsyncBvecFinding> analyze(const clang::FunctionDecl *F);
  /// Every async submission of an ITER_BVEC iterator seen by analyze().
  const std::vector<AsyncBvecSubmission> &submissions() const { return Submissions; }

private:
  clang::ASTContext &Ctx;
  const ApiModel &Model;
  const TuIndex &Index;
  std::vector<AsyncBvecSubmission> Submissions;
};

} // namespace pageref
