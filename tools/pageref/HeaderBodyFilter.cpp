#include "HeaderBodyFilter.h"

#include "clang/AST/Decl.h"
#include "llvm/ADT/StringSwitch.h"

namespace pageref {

namespace {

bool carriesWhatChecksFollow(clang::QualType T) {
  while (true) {
    if (const auto *P = T->getAs<clang::PointerType>())
      T = P->getPointeeType();
    else if (const auto *A = T->getAsArrayTypeUnsafe())
      T = A->getElementType();
    else
      break;
  }
  const auto *R = T->getAs<clang::RecordType>();
  if (!R || !R->getDecl()->getIdentifier())
    return false;
  return llvm::StringSwitch<bool>(R->getDecl()->getName())
      .Cases("page", "folio", "iov_iter", "bio_vec", "bio", "kiocb", "scatterlist", true)
      .Default(false);
}

} // namespace

bool HeaderBodyFilter::skip(const clang::Decl *D) {
  clang::SourceLocation Loc = D->getLocation();
  const auto *FD = llvm::dyn_cast<clang::FunctionDecl>(D);
  if (!FD || Loc.isInvalid() || SM.isInMainFile(SM.getExpansionLoc(Loc)))
    return false;
  if (carriesWhatChecksFollow(FD->getReturnType()) ||
      llvm::any_of(FD->parameters(), [](const clang::ParmVarDecl *P) { return carriesWhatChecksFollow(P->getType()); }))
    return false;
  ++Skipped;
  return true;
}

} // namespace pageref
