#include "pageref/TuIndex.h"
#include "pageref/AstUtil.h"

#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace pageref {

struct TuIndexBuilder : RecursiveASTVisitor<TuIndexBuilder> {
  TuIndex &Index;
  const SourceManager &SM;
  const FunctionDecl *Current = nullptr;
  llvm::DenseSet<const Expr *> Callees;

  TuIndexBuilder(TuIndex &I, const SourceManager &SM) : Index(I), SM(SM) {}

  bool TraverseDecl(Decl *D) {
    if (!D)
      return true;
    // Headers hold thousands of inline bodies that never reach this TU's own
    // page handling; the main file is what the user asked about.
    if (!isa<TranslationUnitDecl>(D) && !SM.isInMainFile(SM.getExpansionLoc(D->getLocation())))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool TraverseFunctionDecl(FunctionDecl *F) {
    const FunctionDecl *Saved = Current;
    if (F->doesThisDeclarationHaveABody()) {
      Current = F;
      Index.Definitions.push_back(F);
    }
    bool R = RecursiveASTVisitor::TraverseFunctionDecl(F);
    Current = Saved;
    return R;
  }

  bool VisitCallExpr(CallExpr *C) {
    Callees.insert(C->getCallee()->IgnoreParenImpCasts());
    if (const FunctionDecl *F = directCallee(C)) {
      CallSite S{C, Current};
      Index.Callers[F->getCanonicalDecl()].push_back(S);
      if (F->getIdentifier())
        Index.ByName[F->getName()].push_back(S);
    }
    return true;
  }

  void addAddressUse(const Expr *E, const FieldDecl *Field) {
    auto *D = dyn_cast_or_null<DeclRefExpr>(E ? E->IgnoreParenCasts() : nullptr);
    if (!D)
      return;
    auto *F = dyn_cast<FunctionDecl>(D->getDecl());
    if (!F)
      return;
    AddressUse U{D, Current, Field ? Field->getName().str() : "", ""};
    if (Field)
      U.Record = Field->getParent()->getName().str();
    Index.Addresses[F->getCanonicalDecl()].push_back(U);
    Callees.insert(D); // recorded with its field; VisitDeclRefExpr skips it
  }

  bool VisitInitListExpr(InitListExpr *L) {
    // The traversal shows the syntactic form; fields are matched on the semantic one.
    if (!L->isSemanticForm())
      L = L->getSemanticForm();
    if (!L)
      return true;
    const auto *RT = L->getType()->getAs<RecordType>();
    if (!RT)
      return true;
    unsigned I = 0;
    for (const FieldDecl *F : RT->getDecl()->fields()) {
      if (I >= L->getNumInits())
        break;
      const Expr *Init = L->getInit(I++);
      addAddressUse(Init, F);
      Index.Writes[F->getCanonicalDecl()].push_back(FieldWrite{nullptr, Init, Current});
    }
    return true;
  }

  bool VisitBinaryOperator(BinaryOperator *B) {
    if (B->getOpcode() != BO_Assign)
      return true;
    if (auto *M = dyn_cast<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()))
      if (auto *F = dyn_cast<FieldDecl>(M->getMemberDecl())) {
        addAddressUse(B->getRHS(), F);
        Index.Writes[F->getCanonicalDecl()].push_back(FieldWrite{B->getLHS(), B->getRHS(), Current});
      }
    return true;
  }

  bool VisitDeclRefExpr(DeclRefExpr *D) {
    auto *F = dyn_cast<FunctionDecl>(D->getDecl());
    if (!F || Callees.count(D))
      return true;
    Index.Addresses[F->getCanonicalDecl()].push_back(AddressUse{D, Current, "", ""});
    return true;
  }
};

TuIndex::TuIndex(ASTContext &Ctx) {
  TuIndexBuilder B(*this, Ctx.getSourceManager());
  B.TraverseDecl(Ctx.getTranslationUnitDecl());
}

template <typename K, typename V>
static const std::vector<V> &find(const llvm::DenseMap<K, std::vector<V>> &M, K Key) {
  static const std::vector<V> Empty;
  auto It = M.find(Key);
  return It == M.end() ? Empty : It->second;
}

const std::vector<CallSite> &TuIndex::callersOf(const FunctionDecl *F) const {
  return find(Callers, F->getCanonicalDecl());
}
const std::vector<AddressUse> &TuIndex::addressUses(const FunctionDecl *F) const {
  return find(Addresses, F->getCanonicalDecl());
}
const std::vector<FieldWrite> &TuIndex::writesOf(const FieldDecl *F) const {
  return find(Writes, F->getCanonicalDecl());
}
const std::vector<CallSite> &TuIndex::callsTo(llvm::StringRef Name) const {
  static const std::vector<CallSite> Empty;
  auto It = ByName.find(Name);
  return It == ByName.end() ? Empty : It->second;
}

} // namespace pageref
