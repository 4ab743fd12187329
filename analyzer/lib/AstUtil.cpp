#include "pageref/AstUtil.h"

#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"

using namespace clang;

namespace pageref {

std::string ObjectPath::key() const {
  return std::to_string(reinterpret_cast<uintptr_t>(Root)) + Suffix;
}

const Expr *stripToObject(const Expr *E) {
  while (E) {
    E = E->IgnoreParenCasts();
    if (auto *U = dyn_cast<UnaryOperator>(E)) {
      // `sg++` walks the same array.
      if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref || U->isIncrementDecrementOp()) {
        E = U->getSubExpr();
        continue;
      }
    }
    if (auto *A = dyn_cast<ArraySubscriptExpr>(E)) {
      E = A->getBase();
      continue;
    }
    // 6.12's release_pages(release_pages_arg, int): a transparent union is
    // passed as a compound literal around the real argument.
    if (auto *CL = dyn_cast<CompoundLiteralExpr>(E))
      if (auto *IL = dyn_cast_or_null<InitListExpr>(CL->getInitializer()); IL && IL->getNumInits() == 1)
        if (const auto *U = CL->getType()->getAsUnionType();
            U && U->getDecl()->hasAttr<TransparentUnionAttr>()) {
          E = IL->getInit(0);
          continue;
        }
    if (auto *B = dyn_cast<BinaryOperator>(E)) {
      if (B->isAdditiveOp() && B->getLHS()->getType()->isPointerType()) {
        E = B->getLHS();
        continue;
      }
    }
    return E;
  }
  return nullptr;
}

std::optional<ObjectPath> objectPath(const Expr *E) {
  E = stripToObject(E);
  if (!E)
    return std::nullopt;
  if (auto *D = dyn_cast<DeclRefExpr>(E)) {
    auto *V = dyn_cast<VarDecl>(D->getDecl());
    if (!V)
      return std::nullopt;
    ObjectPath P;
    P.Root = V->getCanonicalDecl();
    P.Spelling = V->getName().str();
    return P;
  }
  if (auto *M = dyn_cast<MemberExpr>(E)) {
    auto *F = dyn_cast<FieldDecl>(M->getMemberDecl());
    if (!F)
      return std::nullopt;
    auto Base = objectPath(M->getBase());
    if (!Base)
      return std::nullopt;
    Base->Suffix += "." + std::to_string(reinterpret_cast<uintptr_t>(F->getCanonicalDecl()));
    // Members of an anonymous union or struct have no name: `req->f.bvec`
    // goes through one; spell the access to it only.
    bool AfterArrow = llvm::StringRef(Base->Spelling).ends_with("->");
    if (!F->getName().empty())
      Base->Spelling += (AfterArrow ? "" : M->isArrow() ? "->" : ".") + F->getName().str();
    else if (M->isArrow())
      Base->Spelling += "->";
    Base->LastField = F;
    return Base;
  }
  return std::nullopt;
}

namespace {
struct ParentBuilder : RecursiveASTVisitor<ParentBuilder> {
  llvm::DenseMap<const Stmt *, const Stmt *> &Map;
  llvm::SmallVector<const Stmt *, 32> Stack;
  explicit ParentBuilder(llvm::DenseMap<const Stmt *, const Stmt *> &M) : Map(M) {}
  bool shouldVisitImplicitCode() const { return true; }
  bool TraverseStmt(Stmt *S) {
    if (!S)
      return true;
    if (!Stack.empty())
      Map.try_emplace(S, Stack.back());
    Stack.push_back(S);
    bool R = RecursiveASTVisitor::TraverseStmt(S);
    Stack.pop_back();
    return R;
  }
  // Declarations inside the body (DeclStmt initialisers) keep the DeclStmt as
  // the parent of their initialiser through the traversal above.
};
} // namespace

BodyParents::BodyParents(const Stmt *Body) {
  ParentBuilder B(Map);
  B.TraverseStmt(const_cast<Stmt *>(Body));
}

bool BodyParents::isWithin(const Stmt *Inner, const Stmt *Outer) const {
  for (const Stmt *S = Inner; S; S = parent(S))
    if (S == Outer)
      return true;
  return false;
}

const BodyParents &ParentCache::of(const FunctionDecl *F) {
  auto &Slot = Cache[F];
  if (!Slot)
    Slot = std::make_unique<BodyParents>(F->getBody());
  return *Slot;
}

namespace {
struct BodyScan : RecursiveASTVisitor<BodyScan> {
  std::vector<const CallExpr *> Calls;
  std::vector<const BinaryOperator *> Assigns;
  std::vector<std::pair<const VarDecl *, const Expr *>> LocalStores;
  bool VisitCallExpr(CallExpr *C) {
    Calls.push_back(C);
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (V->hasInit() && V->isLocalVarDecl())
      LocalStores.push_back({V, V->getInit()});
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *B) {
    if (B->getOpcode() != BO_Assign)
      return true;
    Assigns.push_back(B);
    if (auto *D = dyn_cast<DeclRefExpr>(B->getLHS()->IgnoreParenImpCasts()))
      if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && V->isLocalVarDecl())
        LocalStores.push_back({V, B->getRHS()});
    return true;
  }
};
BodyScan scan(const Stmt *Body) {
  BodyScan S;
  S.TraverseStmt(const_cast<Stmt *>(Body));
  return S;
}
} // namespace

std::vector<const CallExpr *> callsIn(const Stmt *Body) { return scan(Body).Calls; }
std::vector<const BinaryOperator *> assignmentsIn(const Stmt *Body) { return scan(Body).Assigns; }
std::vector<std::pair<const VarDecl *, const Expr *>> localStoresIn(const Stmt *Body) {
  return scan(Body).LocalStores;
}

const VarDecl *resultVariable(const CallExpr *Call, const BodyParents &BP) {
  const Stmt *P = BP.parent(Call);
  while (P && (isa<ImplicitCastExpr>(P) || isa<ParenExpr>(P) || isa<CStyleCastExpr>(P)))
    P = BP.parent(P);
  if (auto *B = dyn_cast_or_null<BinaryOperator>(P))
    if (B->getOpcode() == BO_Assign)
      if (auto *D = dyn_cast<DeclRefExpr>(B->getLHS()->IgnoreParenImpCasts()))
        return dyn_cast<VarDecl>(D->getDecl());
  if (auto *DS = dyn_cast_or_null<DeclStmt>(P))
    for (const Decl *D : DS->decls())
      if (auto *V = dyn_cast<VarDecl>(D); V && V->getInit() && V->getInit()->IgnoreParenCasts() == Call)
        return V;
  return nullptr;
}

const FunctionDecl *directCallee(const CallExpr *C) {
  if (const FunctionDecl *F = C->getDirectCallee())
    return F;
  const Expr *E = C->getCallee()->IgnoreParenCasts();
  if (auto *D = dyn_cast<DeclRefExpr>(E))
    return dyn_cast<FunctionDecl>(D->getDecl());
  return nullptr;
}

const FunctionDecl *calleeDefinition(const CallExpr *C, const SourceManager &SM, bool AllowHeaderInline) {
  const FunctionDecl *F = directCallee(C);
  const FunctionDecl *Def = nullptr;
  if (F && F->hasBody(Def) && Def &&
      (SM.isInMainFile(SM.getExpansionLoc(Def->getLocation())) || (AllowHeaderInline && Def->isInlined())))
    return Def;
  return nullptr;
}

ObjectPath paramPath(const FunctionDecl *F, unsigned Index) {
  ObjectPath P;
  P.Root = F->getParamDecl(Index)->getCanonicalDecl();
  P.Spelling = F->getParamDecl(Index)->getNameAsString();
  return P;
}

llvm::StringRef calleeName(const CallExpr *C) {
  const FunctionDecl *F = directCallee(C);
  if (!F || !F->getIdentifier())
    return {};
  return F->getName();
}

std::string exprText(const Expr *E, const ASTContext &Ctx, unsigned Max) {
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange R = CharSourceRange::getTokenRange(E->getSourceRange());
  R = Lexer::makeFileCharRange(R, SM, Ctx.getLangOpts());
  std::string Text;
  if (R.isValid())
    Text = Lexer::getSourceText(R, SM, Ctx.getLangOpts()).str();
  if (Text.empty()) {
    // Inside a macro whose expansion cannot be mapped to one file range:
    // print the expression itself.
    llvm::raw_string_ostream OS(Text);
    E->printPretty(OS, nullptr, PrintingPolicy(Ctx.getLangOpts()));
  }
  // Collapse whitespace so multi-line conditions read on one line.
  std::string Out;
  bool Space = false;
  for (char Ch : Text) {
    if (Ch == '\n' || Ch == '\t' || Ch == ' ') {
      Space = !Out.empty();
      continue;
    }
    if (Space)
      Out += ' ';
    Space = false;
    Out += Ch;
  }
  if (Out.size() > Max)
    Out = Out.substr(0, Max - 3) + "...";
  return Out;
}

unsigned lineOf(SourceLocation Loc, const SourceManager &SM) {
  return SM.getExpansionLineNumber(Loc);
}

bool alwaysExits(const Stmt *S) {
  if (!S)
    return false;
  if (isa<ReturnStmt>(S) || isa<GotoStmt>(S) || isa<BreakStmt>(S) || isa<ContinueStmt>(S))
    return true;
  if (auto *C = dyn_cast<CompoundStmt>(S))
    return !C->body_empty() && alwaysExits(C->body_back());
  if (auto *E = dyn_cast<Expr>(S)) {
    if (auto *Call = dyn_cast<CallExpr>(E->IgnoreParenCasts()))
      if (const FunctionDecl *F = directCallee(Call))
        return F->isNoReturn();
  }
  if (auto *I = dyn_cast<IfStmt>(S))
    return I->getElse() && alwaysExits(I->getThen()) && alwaysExits(I->getElse());
  // BUG() and friends expand to a do { ... } while (0) around a noreturn call.
  if (auto *D = dyn_cast<DoStmt>(S))
    return alwaysExits(D->getBody());
  return false;
}

} // namespace pageref
