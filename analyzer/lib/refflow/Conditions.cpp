// Atoms, the values assignments give them, and what a branch says about
// them: `n <= 0`, `ret == -EFAULT`, `if (!rdata)`, `switch (cmd)`,
// `iov_iter_extract_will_pin(iter)`, `flags & FOO`. A branch that contradicts
// what the path knows is not taken; one that narrows it is remembered.
#include "Engine.h"

#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"

#include <functional>

using namespace clang;

namespace pageref {

using namespace refflow;

namespace {

constexpr int64_t EIOCBQUEUED = -529; // include/linux/errno.h

std::string ptrKey(const void *P) { return std::to_string(reinterpret_cast<uintptr_t>(P)); }

const Expr *strip(const Expr *E) {
  while (E) {
    E = E->IgnoreParenImpCasts();
    if (auto *CE = dyn_cast<CStyleCastExpr>(E)) {
      if (CE->getType()->isScalarType()) {
        E = CE->getSubExpr();
        continue;
      }
    }
    if (auto *C = dyn_cast<CallExpr>(E);
        C && C->getBuiltinCallee() == Builtin::BI__builtin_expect && C->getNumArgs() >= 1) {
      E = C->getArg(0);
      continue;
    }
    return E;
  }
  return E;
}

/// `p->a.b` without subscripts: the root variable and a key of the fields.
const ValueDecl *fieldPath(const Expr *E, std::string &Key) {
  E = E->IgnoreParenImpCasts();
  if (auto *D = dyn_cast<DeclRefExpr>(E)) {
    auto *V = dyn_cast<VarDecl>(D->getDecl());
    if (!V)
      return nullptr;
    Key = ptrKey(V->getCanonicalDecl());
    return cast<ValueDecl>(V->getCanonicalDecl());
  }
  if (auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_Deref) {
    const ValueDecl *R = fieldPath(U->getSubExpr(), Key);
    Key += "*";
    return R;
  }
  if (auto *M = dyn_cast<MemberExpr>(E)) {
    auto *F = dyn_cast<FieldDecl>(M->getMemberDecl());
    if (!F)
      return nullptr;
    const ValueDecl *R = fieldPath(M->getBase(), Key);
    if (!R)
      return nullptr;
    Key += "." + ptrKey(F->getCanonicalDecl());
    return R;
  }
  return nullptr;
}

void collectDecls(const Stmt *S, std::vector<const ValueDecl *> &Out) {
  if (!S)
    return;
  if (auto *D = dyn_cast<DeclRefExpr>(S))
    if (auto *V = dyn_cast<VarDecl>(D->getDecl()))
      if (!llvm::is_contained(Out, V->getCanonicalDecl()))
        Out.push_back(cast<ValueDecl>(V->getCanonicalDecl()));
  for (const Stmt *C : S->children())
    collectDecls(C, Out);
}

std::string declKey(const ValueDecl *D) {
  return "DeclRefExpr#" + std::to_string(reinterpret_cast<uintptr_t>(D->getCanonicalDecl())) + "()";
}

/// The expression with every variable named by its declaration: a key that
/// two different variables of one name never share.
std::string canonicalKey(const Stmt *S) {
  std::string K;
  llvm::raw_string_ostream OS(K);
  std::function<void(const Stmt *)> Walk = [&](const Stmt *X) {
    if (!X) {
      OS << "_";
      return;
    }
    if (auto *E = dyn_cast<Expr>(X)) {
      const Expr *I = E->IgnoreParenImpCasts();
      if (I != E)
        return Walk(I);
    }
    if (auto *D = dyn_cast<DeclRefExpr>(X)) {
      OS << declKey(D->getDecl());
      return;
    }
    OS << X->getStmtClassName();
    if (auto *M = dyn_cast<MemberExpr>(X))
      OS << "." << reinterpret_cast<uintptr_t>(M->getMemberDecl());
    else if (auto *B = dyn_cast<BinaryOperator>(X))
      OS << B->getOpcodeStr();
    else if (auto *U = dyn_cast<UnaryOperator>(X))
      OS << UnaryOperator::getOpcodeStr(U->getOpcode());
    else if (auto *L = dyn_cast<IntegerLiteral>(X))
      OS << L->getValue();
    OS << "(";
    for (const Stmt *C : X->children())
      Walk(C);
    OS << ")";
  };
  Walk(S);
  return OS.str();
}

/// Arguments a predicate call may take and still name the same value when
/// written twice: variables, fields, constants, their addresses.
bool simpleArgument(const Expr *E) {
  E = E->IgnoreParenCasts();
  if (isa<DeclRefExpr>(E) || isa<IntegerLiteral>(E) || isa<CharacterLiteral>(E))
    return true;
  if (auto *U = dyn_cast<UnaryOperator>(E))
    return (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref) && simpleArgument(U->getSubExpr());
  if (auto *M = dyn_cast<MemberExpr>(E))
    return simpleArgument(M->getBase());
  if (auto *A = dyn_cast<ArraySubscriptExpr>(E))
    return simpleArgument(A->getBase()) && simpleArgument(A->getIdx());
  if (auto *B = dyn_cast<BinaryOperator>(E))
    return simpleArgument(B->getLHS()) && simpleArgument(B->getRHS());
  return false;
}

// Interval of a sign class: Neg = (-inf, -1], Zero = [0, 0], Pos = [1, inf)
// ([1, 1] for a result that is one page or none).
bool satisfiable(int64_t Lo, int64_t Hi, BinaryOperatorKind Op, int64_t K) {
  switch (Op) {
  case BO_LT: return Lo < K;
  case BO_LE: return Lo <= K;
  case BO_GT: return Hi > K;
  case BO_GE: return Hi >= K;
  case BO_EQ: return Lo <= K && K <= Hi;
  case BO_NE: return !(Lo == Hi && Lo == K);
  default: return true;
  }
}

BinaryOperatorKind negate(BinaryOperatorKind Op) {
  switch (Op) {
  case BO_LT: return BO_GE;
  case BO_LE: return BO_GT;
  case BO_GT: return BO_LE;
  case BO_GE: return BO_LT;
  case BO_EQ: return BO_NE;
  case BO_NE: return BO_EQ;
  default: return Op;
  }
}

bool compare(int64_t A, BinaryOperatorKind Op, int64_t K) {
  switch (Op) {
  case BO_LT: return A < K;
  case BO_LE: return A <= K;
  case BO_GT: return A > K;
  case BO_GE: return A >= K;
  case BO_EQ: return A == K;
  case BO_NE: return A != K;
  default: return true;
  }
}

} // namespace

std::optional<int64_t> RefFlow::Impl::constant(const Expr *E) {
  if (!E || E->isValueDependent())
    return std::nullopt;
  Expr::EvalResult R;
  if (E->EvaluateAsInt(R, Ctx) && R.Val.getInt().getSignificantBits() <= 64)
    return R.Val.getInt().getSExtValue();
  if (E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
    return 0;
  return std::nullopt;
}

AtomId RefFlow::Impl::resultAtom(FunctionCtx &FC, const CallExpr *Call) {
  AtomInfo I;
  I.K = AtomInfo::Result;
  I.Text = "result of " + calleeName(Call).str() + "()@" + std::to_string(lineOf(Call->getBeginLoc(), SM));
  I.Pointer = Call->getType()->isPointerType();
  llvm::StringRef N = calleeName(Call);
  if (const SinkFn *S = Model.sink(N)) {
    I.AllOrNothing = S->Success == SinkFn::WhenNonZero;
    I.ZeroMeansSuccess = S->Success == SinkFn::WhenZero;
  }
  return FC.Atoms.intern("r:" + ptrKey(Call), I);
}

std::optional<AtomId> RefFlow::Impl::iterAtom(FunctionCtx &FC, const Expr *Iter) {
  auto P = objectPath(Iter);
  if (!P)
    return std::nullopt;
  AtomInfo I;
  I.K = AtomInfo::IterKinds;
  I.Root = P->Root;
  return FC.Atoms.intern("k:" + P->key(), I);
}

/// Calls whose result decides where the pages are: the acquisitions, the
/// sinks that may refuse them, the constructors that may fail.
static bool hasResultSymbol(const ApiModel &Model, const CallExpr *C) {
  llvm::StringRef N = calleeName(C);
  if (Model.getPages(N))
    return true;
  if (const AcquireFn *A = Model.acquire(N))
    return A->ReturnsCount || !C->getType()->isVoidType();
  if (const SinkFn *S = Model.sink(N))
    return S->Success != SinkFn::Always;
  return false;
}

std::optional<AtomId> RefFlow::Impl::atomOf(FunctionCtx &FC, const Tracked &T, const Expr *E) {
  if (!E)
    return std::nullopt;
  E = strip(E);
  if (isa<DeclRefExpr>(E) || isa<MemberExpr>(E) ||
      (isa<UnaryOperator>(E) && cast<UnaryOperator>(E)->getOpcode() == UO_Deref)) {
    std::string Key;
    const ValueDecl *Root = fieldPath(E, Key);
    if (!Root || !isa<VarDecl>(Root))
      return std::nullopt;
    AtomInfo I;
    I.Root = Root;
    I.Pointer = E->getType()->isPointerType();
    I.K = isa<DeclRefExpr>(E) ? AtomInfo::Var : isa<MemberExpr>(E) ? AtomInfo::Path : AtomInfo::Deref;
    I.Text = isa<DeclRefExpr>(E) ? Root->getNameAsString() : exprText(E, Ctx, 40);
    return FC.Atoms.intern((I.K == AtomInfo::Var ? "v:" : "p:") + Key, I);
  }
  if (auto *C = dyn_cast<CallExpr>(E)) {
    if (C == T.Call || hasResultSymbol(Model, C) || FC.Atoms.find("r:" + ptrKey(C)))
      return resultAtom(FC, C);
    if (!directCallee(C) || !llvm::all_of(C->arguments(), simpleArgument))
      return std::nullopt;
    AtomInfo I;
    I.K = AtomInfo::CallOpaque;
    collectDecls(C, I.Deps);
    I.Root = I.Deps.empty() ? nullptr : I.Deps.front();
    I.Text = exprText(C, Ctx, 40);
    return FC.Atoms.intern("x:" + canonicalKey(C), I);
  }
  if (auto *B = dyn_cast<BinaryOperator>(E); B && (B->getOpcode() == BO_And || B->getOpcode() == BO_Shr) &&
                                            simpleArgument(B)) {
    AtomInfo I;
    I.K = AtomInfo::Opaque;
    collectDecls(B, I.Deps);
    I.Root = I.Deps.empty() ? nullptr : I.Deps.front();
    I.Text = exprText(B, Ctx, 40);
    return FC.Atoms.intern("x:" + canonicalKey(B), I);
  }
  return std::nullopt;
}

/// `a == b`, `a < b` between two values the path cannot name exactly: the
/// relation itself is the atom (`y_pages == y_dma.page_count` asked twice).
std::optional<std::pair<AtomId, bool>> RefFlow::Impl::relationAtom(FunctionCtx &FC, const Expr *L,
                                                                     BinaryOperatorKind Op, const Expr *R) {
  L = strip(L);
  R = strip(R);
  if (!simpleArgument(L) || !simpleArgument(R))
    return std::nullopt;
  // Keyed by the declarations, not the spelling: two loops' `i < n` with
  // two different `i` are two relations.
  std::string TL = canonicalKey(L), TR = canonicalKey(R);
  std::string Key;
  bool Positive = true;
  switch (Op) {
  case BO_EQ: case BO_NE:
    Key = "eq:" + std::min(TL, TR) + "\x1f" + std::max(TL, TR);
    Positive = Op == BO_EQ;
    break;
  case BO_LT: Key = "lt:" + TL + "\x1f" + TR; break;
  case BO_GE: Key = "lt:" + TL + "\x1f" + TR; Positive = false; break;
  case BO_GT: Key = "lt:" + TR + "\x1f" + TL; break;
  case BO_LE: Key = "lt:" + TR + "\x1f" + TL; Positive = false; break;
  default: return std::nullopt;
  }
  AtomInfo I;
  I.K = AtomInfo::Opaque;
  I.Text = exprText(L, Ctx, 20) + " ? " + exprText(R, Ctx, 20);
  collectDecls(L, I.Deps);
  collectDecls(R, I.Deps);
  if (I.Deps.empty())
    return std::nullopt;
  I.Root = I.Deps.front();
  return std::make_pair(FC.Atoms.intern(Key, I), Positive);
}

std::optional<bool> RefFlow::Impl::knownEqual(FunctionCtx &FC, const Config &C, const ValueDecl *A, const Expr *B) {
  std::string TA = declKey(A), TB = canonicalKey(strip(B));
  if (TA == TB)
    return true;
  // What refineBranch() left on the relation atoms: `a == b` true (any sign
  // but zero) or false (zero); `a < b` or `b < a` true means they differ.
  auto Known = [&](const std::string &Key) -> uint8_t {
    if (auto Id = FC.Atoms.find(Key))
      if (const Value *V = C.get(*Id))
        return V->signClasses();
    return AnySign;
  };
  uint8_t Eq = Known("eq:" + std::min(TA, TB) + "\x1f" + std::max(TA, TB));
  if (Eq == Zero)
    return false;
  if (!(Eq & Zero))
    return true;
  for (const std::string &Key : {"lt:" + TA + "\x1f" + TB, "lt:" + TB + "\x1f" + TA})
    if (!(Known(Key) & Zero))
      return false;
  return std::nullopt;
}

namespace {
/// The atoms a condition reads, found the way refineBranch() reads it.
struct ConditionAtoms {
  RefFlow::Impl &I;
  FunctionCtx &FC;
  const Tracked &T;
  void add(const Expr *E) {
    if (auto *CO = dyn_cast_or_null<AbstractConditionalOperator>(E ? strip(E) : nullptr)) {
      add(CO->getTrueExpr());
      add(CO->getFalseExpr());
      return;
    }
    if (auto A = I.atomOf(FC, T, E))
      FC.Interesting.insert(*A);
  }
  void walk(const Expr *E) {
    if (!E)
      return;
    E = strip(E);
    if (auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_LNot)
      return walk(U->getSubExpr());
    if (auto *B = dyn_cast<BinaryOperator>(E)) {
      if (B->isLogicalOp() || B->isComparisonOp()) {
        walk(B->getLHS());
        walk(B->getRHS());
        if (B->isComparisonOp() && !I.constant(B->getLHS()) && !I.constant(B->getRHS()))
          if (auto Rel = I.relationAtom(FC, B->getLHS(), B->getOpcode(), B->getRHS()))
            FC.Interesting.insert(Rel->first);
        return;
      }
    }
    if (auto *C = dyn_cast<CallExpr>(E)) {
      llvm::StringRef N = calleeName(C);
      if ((N == "IS_ERR" || N == "IS_ERR_OR_NULL" || N == "PTR_ERR_OR_ZERO") && C->getNumArgs() == 1)
        return add(C->getArg(0));
      if ((I.Model.iterGuard(N) || I.Model.isIterTypeGetter(N)) && C->getNumArgs() >= 1)
        return; // the iterator's kind symbol, always kept
    }
    add(E);
  }
};
} // namespace

void RefFlow::Impl::collectInteresting(FunctionCtx &FC) {
  if (!FC.F->getBody())
    return;
  Tracked None;
  ConditionAtoms CA{*this, FC, None};
  struct Visitor : RecursiveASTVisitor<Visitor> {
    ConditionAtoms &CA;
    std::vector<std::pair<const Expr *, const Expr *>> Copies; // lhs, rhs
    explicit Visitor(ConditionAtoms &C) : CA(C) {}
    bool VisitIfStmt(IfStmt *S) { CA.walk(S->getCond()); return true; }
    bool VisitWhileStmt(WhileStmt *S) { CA.walk(S->getCond()); return true; }
    bool VisitDoStmt(DoStmt *S) { CA.walk(S->getCond()); return true; }
    bool VisitForStmt(ForStmt *S) { CA.walk(S->getCond()); return true; }
    bool VisitSwitchStmt(SwitchStmt *S) { CA.walk(S->getCond()); return true; }
    bool VisitConditionalOperator(ConditionalOperator *S) { CA.walk(S->getCond()); return true; }
    bool VisitBinaryOperator(BinaryOperator *B) {
      if (B->isLogicalOp()) {
        CA.walk(B->getLHS());
        CA.walk(B->getRHS());
      }
      if (B->isAssignmentOp())
        Copies.push_back({B->getLHS(), B->getRHS()});
      return true;
    }
    bool VisitReturnStmt(ReturnStmt *R) {
      if (R->getRetValue())
        CA.add(R->getRetValue());
      return true;
    }
    bool VisitVarDecl(VarDecl *V) {
      if (V->getInit() && V->isLocalVarDecl()) {
        // A reference to the declared variable, for the closure below.
        Inits.push_back({V, V->getInit()});
      }
      return true;
    }
    std::vector<std::pair<const VarDecl *, const Expr *>> Inits;
  } V(CA);
  V.TraverseStmt(FC.F->getBody());
  // What flows into an interesting atom is interesting too (`ret = n; ...
  // return ret;`, `pinned = iov_iter_extract_will_pin(i); ... if (pinned)`).
  auto RhsAtoms = [&](const Expr *R) {
    R = strip(R);
    if (auto *CO = dyn_cast<ConditionalOperator>(R)) {
      CA.add(CO->getTrueExpr());
      CA.add(CO->getFalseExpr());
      return;
    }
    CA.add(R);
  };
  for (unsigned Round = 0; Round < 3; ++Round) {
    size_t Before = FC.Interesting.size();
    for (auto &[L, R] : V.Copies)
      if (auto A = atomOf(FC, None, L); A && FC.Interesting.count(*A))
        RhsAtoms(R);
    for (auto &[D, R] : V.Inits) {
      AtomInfo I;
      I.K = AtomInfo::Var;
      I.Root = cast<ValueDecl>(D->getCanonicalDecl());
      auto A = FC.Atoms.find("v:" + ptrKey(D->getCanonicalDecl()));
      if (A && FC.Interesting.count(*A))
        RhsAtoms(R);
    }
    if (FC.Interesting.size() == Before)
      break;
  }
}

Value RefFlow::Impl::resolve(const Config &C, FunctionCtx &FC, AtomId A) {
  if (const Value *V = C.get(A)) {
    if (V->K == Value::Alias) {
      if (const Value *S = C.get(V->Sym))
        return *S;
      return Value::signs(AnySign);
    }
    return *V;
  }
  const AtomInfo &I = FC.Atoms.info(A);
  // A field of an object zero-allocated on this path and not written since.
  if (I.K == AtomInfo::Path && I.Root)
    if (auto Z = FC.Atoms.find("z:" + ptrKey(I.Root)); Z && C.get(*Z))
      return Value::constant(0);
  if (I.K == AtomInfo::IterKinds)
    return Value::kinds(uint16_t(IterKindSet::all().names().size() ? 0xFFFF : 0));
  return Value::signs(AnySign);
}

Value RefFlow::Impl::valueOf(FunctionCtx &FC, const Tracked &T, const Config &C, const Expr *E) {
  E = strip(E);
  if (auto K = constant(E))
    return Value::constant(*K);
  if (auto *D = dyn_cast<DeclRefExpr>(E); D && isa<FunctionDecl>(D->getDecl()))
    return Value::signs(Pos); // a function's address: a completion, a callback
  if (auto *CO = dyn_cast<AbstractConditionalOperator>(E)) {
    if (auto Tmp = FC.Atoms.find("t:" + ptrKey(CO)))
      if (const Value *V = C.get(*Tmp))
        return *V;
    return Value::signs(AnySign);
  }
  if (auto *U = dyn_cast<UnaryOperator>(E)) {
    if (U->getOpcode() == UO_Minus) {
      Value V = valueOf(FC, T, C, U->getSubExpr());
      if (V.K == Value::Const)
        return Value::constant(-V.C);
      if (V.K == Value::Signs)
        return Value::signs(uint8_t((V.S & Zero) | (V.S & Pos ? Neg : 0) | (V.S & Neg ? Pos : 0)));
      return Value::signs(AnySign);
    }
    if (U->getOpcode() == UO_LNot)
      return Value::signs(Zero | Pos);
  }
  if (auto *Call = dyn_cast<CallExpr>(E)) {
    llvm::StringRef N = calleeName(Call);
    if (N == "ERR_PTR" || N == "PTR_ERR" || N == "ERR_CAST")
      return Value::signs(Neg);
    if (const IterGuardFn *G = Model.iterGuard(N); G && Call->getNumArgs() >= 1)
      if (auto It = iterAtom(FC, Call->getArg(0)))
        return Value::kindTest(*It, uint16_t(G->Kinds.bits()));
    if (isAllocation(Call))
      return Value::signs(Zero | Pos);
  }
  if (auto A = atomOf(FC, T, E)) {
    const AtomInfo &I = FC.Atoms.info(*A);
    if (I.K == AtomInfo::Result || I.K == AtomInfo::IterKinds)
      return Value::alias(*A);
    if (const Value *V = C.get(*A))
      return *V;
    return resolve(C, FC, *A);
  }
  return Value::signs(AnySign);
}

void RefFlow::Impl::forget(FunctionCtx &FC, Config &C, const ValueDecl *Root, bool Deep, const std::string &Prefix) {
  if (!Root)
    return;
  auto Z = FC.Atoms.find("z:" + ptrKey(Root));
  bool Zeroed = Z && C.get(*Z);
  for (AtomId A : FC.Atoms.readersOf(Root)) {
    const AtomInfo &I = FC.Atoms.info(A);
    switch (I.K) {
    case AtomInfo::Var:
    case AtomInfo::IterKinds:
    case AtomInfo::Result:
      if (Deep && I.K == AtomInfo::Var)
        C.erase(A);
      break;
    case AtomInfo::Zeroed:
      if (Prefix.empty())
        C.erase(A);
      break;
    case AtomInfo::Path:
    case AtomInfo::Deref:
      if (!Prefix.empty() && !llvm::StringRef(I.Key).starts_with("p:" + Prefix))
        break;
      // Outside what the callee was given, a zero-allocated object still reads 0.
      if (Zeroed && !Prefix.empty())
        C.set(A, Value::signs(AnySign));
      else
        C.erase(A);
      break;
    default:
      C.erase(A);
    }
  }
}

std::optional<std::pair<const ValueDecl *, std::string>> RefFlow::Impl::fieldKey(const Expr *E) {
  std::string Key;
  const ValueDecl *Root = fieldPath(E, Key);
  if (!Root)
    return std::nullopt;
  return std::make_pair(Root, Key);
}

void RefFlow::Impl::assign(FunctionCtx &FC, Config &C, AtomId A, Value V) {
  const AtomInfo &I = FC.Atoms.info(A);
  // The sink's `same_page` overwritten before anyone looked at it: on the
  // path where it was true the caller's reference is still held.
  if (C.KeepFlag == A) {
    C.KeepFlag = 0;
    if (C.Ref == Own::HandedOff || C.Ref == Own::Pending) {
      C.Ref = Own::Held;
      C.Undisposed = true;
    }
  }
  // What was read through the old value is gone with it.
  if (I.K == AtomInfo::Var)
    for (AtomId R : FC.Atoms.readersOf(I.Root))
      if (R != A && FC.Atoms.info(R).K != AtomInfo::Result)
        C.erase(R);
  if (FC.Interesting.count(A) || I.K == AtomInfo::Temp || I.K == AtomInfo::Zeroed)
    C.set(A, V);
  else
    C.erase(A);
}

bool RefFlow::Impl::refineKinds(FunctionCtx &FC, Config &C, AtomId Iter, IterKindSet Kinds, bool Truth) {
  Value V = resolve(C, FC, Iter);
  uint16_t Old = V.K == Value::Kinds ? V.KindBits : uint16_t(IterKindSet::all().bits());
  uint16_t New = Truth ? (Old & Kinds.bits()) : (Old & ~Kinds.bits() & IterKindSet::all().bits());
  if (!New)
    return false;
  C.set(Iter, Value::kinds(New));
  return true;
}

bool RefFlow::Impl::refineCompare(FunctionCtx &FC, Config &C, AtomId A, BinaryOperatorKind Op, int64_t K,
                                  bool Truth) {
  const Value *Have = C.get(A);
  Value V = Have ? *Have : resolve(C, FC, A);
  if (V.K == Value::Alias)
    return refineCompare(FC, C, V.Sym, Op, K, Truth);
  if (V.K == Value::KindTest) {
    if (K != 0 || (Op != BO_EQ && Op != BO_NE))
      return true;
    bool IsTrue = (Op == BO_NE) == Truth;
    return refineKinds(FC, C, V.Sym, IterKindSet::fromBits(V.KindBits), IsTrue);
  }
  if (V.K == Value::Kinds)
    return true;
  if (V.K == Value::Const)
    return compare(V.C, Op, K) == Truth;
  BinaryOperatorKind Eff = Truth ? Op : negate(Op);
  // `ret != -EIOCBQUEUED`: the I/O is not queued on this path.
  if (FC.Atoms.info(A).MayQueue && K == EIOCBQUEUED && Eff == BO_NE) {
    AtomInfo I;
    I.K = AtomInfo::Temp;
    C.set(FC.Atoms.intern("nq:" + ptrKey(reinterpret_cast<void *>(uintptr_t(A))), I), Value::constant(1));
  }
  bool Unit = FC.Atoms.info(A).UnitPos;
  uint8_t Allowed = 0;
  const int64_t Min = INT64_MIN, Max = INT64_MAX;
  if (satisfiable(Min, -1, Eff, K))
    Allowed |= Neg;
  if (satisfiable(0, 0, Eff, K))
    Allowed |= Zero;
  if (satisfiable(1, Unit ? 1 : Max, Eff, K))
    Allowed |= Pos;
  uint8_t New = V.S & Allowed;
  if (!New)
    return false;
  if (Eff == BO_EQ)
    C.set(A, Value::constant(K));
  else
    C.set(A, Value::signs(New));
  return true;
}

bool RefFlow::Impl::refineBranch(FunctionCtx &FC, const Tracked &T, Config &C, const Expr *Cond, bool Truth) {
  if (!Cond)
    return true;
  Cond = strip(Cond);
  if (auto *U = dyn_cast<UnaryOperator>(Cond); U && U->getOpcode() == UO_LNot)
    return refineBranch(FC, T, C, U->getSubExpr(), !Truth);
  if (auto *B = dyn_cast<BinaryOperator>(Cond)) {
    BinaryOperatorKind Op = B->getOpcode();
    if (Op == BO_LAnd || Op == BO_LOr) {
      // Both sides are known only when && is true or || is false.
      if ((Op == BO_LAnd) == Truth)
        return refineBranch(FC, T, C, B->getLHS(), Truth) && refineBranch(FC, T, C, B->getRHS(), Truth);
      return true;
    }
    if (B->isComparisonOp()) {
      const Expr *L = strip(B->getLHS()), *R = strip(B->getRHS());
      std::optional<int64_t> KR = constant(R), KL = constant(L);
      if (KL && !KR) {
        std::swap(L, R);
        std::swap(KL, KR);
        Op = BinaryOperator::reverseComparisonOp(Op);
      }
      // iov_iter_type(i) == ITER_BVEC
      if (auto *Get = dyn_cast<CallExpr>(L); Get && KR && (Op == BO_EQ || Op == BO_NE) &&
                                             Model.isIterTypeGetter(calleeName(Get)) && Get->getNumArgs() >= 1) {
        if (auto *DR = dyn_cast<DeclRefExpr>(R))
          if (auto Kind = parseIterKind(DR->getDecl()->getName()))
            if (auto It = iterAtom(FC, Get->getArg(0)))
              return refineKinds(FC, C, *It, IterKindSet::of(*Kind), (Op == BO_EQ) == Truth);
        return true;
      }
      if (KR) {
        if (auto A = atomOf(FC, T, L))
          return refineCompare(FC, C, *A, Op, *KR, Truth);
        return true;
      }
      // Two values: exact when both are known; `bio_add_page(...) != len`
      // for a call that adds everything or nothing.
      auto AL = atomOf(FC, T, L), AR = atomOf(FC, T, R);
      if (AL && AR) {
        Value VL = resolve(C, FC, *AL), VR = resolve(C, FC, *AR);
        if (VL.K == Value::Const && VR.K == Value::Const)
          return compare(VL.C, Op, VR.C) == Truth;
      }
      // An array this path allocated is no local array (`if (pages != stack_pages)`).
      if (T.What == Tracked::Array && C.holds() && (Op == BO_EQ || Op == BO_NE) && !T.Paths.empty())
        for (auto [Mine, Other] : {std::pair{L, R}, std::pair{R, L}}) {
          auto *DM = dyn_cast<DeclRefExpr>(Mine), *DO = dyn_cast<DeclRefExpr>(Other);
          auto *VO = DO ? dyn_cast<VarDecl>(DO->getDecl()) : nullptr;
          if (DM && DM->getDecl()->getCanonicalDecl() == T.Paths.front().Root && VO && VO->isLocalVarDecl() &&
              VO->getType()->isArrayType())
            return (Op == BO_NE) == Truth;
        }
      if (auto Rel = relationAtom(FC, L, Op, R))
        if (!refineCompare(FC, C, Rel->first, BO_NE, 0, Rel->second == Truth))
          return false;
      for (auto [Side, Other] : {std::pair{AL, R}, std::pair{AR, L}}) {
        if (!Side)
          continue;
        AtomId S = *Side;
        if (const Value *V = C.get(S); V && V->K == Value::Alias)
          S = V->Sym;
        if (!FC.Atoms.info(S).AllOrNothing)
          continue;
        BinaryOperatorKind Eff = Truth ? Op : negate(Op);
        if (Side == AR)
          Eff = BinaryOperator::reverseComparisonOp(Eff);
        if (Eff == BO_EQ || Eff == BO_GE)
          return refineCompare(FC, C, S, BO_NE, 0, true);
        if (Eff == BO_NE || Eff == BO_LT)
          return refineCompare(FC, C, S, BO_EQ, 0, true);
      }
      return true;
    }
  }
  if (auto *Call = dyn_cast<CallExpr>(Cond)) {
    llvm::StringRef N = calleeName(Call);
    if (Call->getNumArgs() == 1 && (N == "IS_ERR" || N == "IS_ERR_OR_NULL")) {
      auto A = atomOf(FC, T, Call->getArg(0));
      if (!A)
        return true;
      bool OrNull = N == "IS_ERR_OR_NULL";
      // An error pointer is "negative", NULL zero.
      if (Truth)
        return refineCompare(FC, C, *A, OrNull ? BO_LE : BO_LT, 0, true);
      return refineCompare(FC, C, *A, OrNull ? BO_GT : BO_GE, 0, true);
    }
    if (const IterGuardFn *G = Model.iterGuard(N); G && Call->getNumArgs() >= 1) {
      if (auto It = iterAtom(FC, Call->getArg(0)))
        return refineKinds(FC, C, *It, G->Kinds, Truth);
      return true;
    }
    if (Model.isSyncKiocbTest(N) && Call->getNumArgs() == 1) {
      if (auto K = completionAtom(FC, Call->getArg(0)))
        return refineCompare(FC, C, *K, BO_EQ, 0, Truth);
      return true;
    }
  }
  // `i->user_backed`
  if (auto *M = dyn_cast<MemberExpr>(Cond))
    if (auto Kinds = Model.iterFlagField(M->getMemberDecl()->getName()))
      if (auto It = iterAtom(FC, M->getBase()))
        return refineKinds(FC, C, *It, *Kinds, Truth);
  if (auto A = atomOf(FC, T, Cond))
    return refineCompare(FC, C, *A, BO_NE, 0, Truth);
  return true;
}

bool RefFlow::Impl::refineSwitchCase(FunctionCtx &FC, const Tracked &T, Config &C, const SwitchStmt *Sw,
                                     const Stmt *Label) {
  auto A = atomOf(FC, T, Sw->getCond());
  if (!A)
    return true;
  if (auto *Case = dyn_cast_or_null<CaseStmt>(Label)) {
    if (Case->getRHS())
      return true; // a GNU case range
    if (auto K = constant(Case->getLHS()))
      return refineCompare(FC, C, *A, BO_EQ, *K, true);
    return true;
  }
  // default: not any of the cases
  Value V = resolve(C, FC, *A);
  if (V.K != Value::Const)
    return true;
  for (const SwitchCase *SC = Sw->getSwitchCaseList(); SC; SC = SC->getNextSwitchCase())
    if (auto *Case = dyn_cast<CaseStmt>(SC); Case && !Case->getRHS())
      if (constant(Case->getLHS()) == V.C)
        return false;
  return true;
}

bool RefFlow::Impl::acquisitionFailed(FunctionCtx &FC, const Tracked &T, const Config &C) {
  if (!T.Result)
    return false;
  Value R = resolve(C, FC, T.Result);
  // try_get_page() and friends return true on success.
  // A returned page (follow_page(FOLL_GET)) fails as NULL or ERR_PTR().
  if (T.SinglePage && R.K == Value::Signs && !(T.Call && T.Call->getType()->isPointerType()))
    return R.S == Zero;
  return R.K == Value::Const ? R.C <= 0 : R.K == Value::Signs && !(R.S & Pos);
}

void RefFlow::Impl::settle(FunctionCtx &FC, const Tracked &T, Config &C) {
  // `if (!pages)`, `if (!page)`: NULL holds nothing (unless the name was
  // overwritten: `page = NULL` over a held page loses it, frees nothing).
  if (C.holds() && C.Ref != Own::Lost && !T.Paths.empty() && T.Paths.front().Suffix.empty() &&
      T.Paths.front().Root->getType()->isPointerType())
    if (auto A = FC.Atoms.find("v:" + ptrKey(T.Paths.front().Root)); A && FC.Interesting.count(*A))
      if (resolve(C, FC, *A).signClasses() == Zero)
        C.Ref = Own::NotAcquired;
  if (T.Result) {
    if (acquisitionFailed(FC, T, C)) {
      if (T.What == Tracked::Array) {
        if (!T.AllocatedOnFailure && C.Ref == Own::Held)
          C.Ref = Own::NotAcquired; // iov_iter_get_pages_alloc2() frees it when it returns <= 0
      } else if (((C.Ref == Own::Held && !C.Prior) || C.Ref == Own::NotPinned) && !T.HeldOnError) {
        C.Ref = Own::NotAcquired;
        C.Failed = C.Ref == Own::NotAcquired && T.What == Tracked::Pages;
      }
    }
  }
  // `if (same_page) put_page(page);`: merged into a page the sink already had.
  if (C.KeepFlag && (C.Ref == Own::HandedOff || C.Ref == Own::Pending)) {
    uint8_t F = resolve(C, FC, C.KeepFlag).signClasses();
    if (!(F & Zero)) {
      C.Ref = Own::Held;
      C.KeepFlag = 0;
      C.Undisposed = true;
    } else if (F == Zero && C.Ref == Own::HandedOff) {
      C.KeepFlag = 0;
    }
  }
  if (C.Ref == Own::Pending && C.Container) {
    Value V = resolve(C, FC, C.Container);
    uint8_t S = V.signClasses();
    const AtomInfo &I = FC.Atoms.info(C.Container);
    if (I.MayQueue) {
      // Not -EIOCBQUEUED: the call returned with the I/O done; nor when the
      // kiocb turns out to be sync (`if (is_sync_kiocb(iocb))` after the call).
      auto NQ = FC.Atoms.find("nq:" + ptrKey(reinterpret_cast<void *>(uintptr_t(C.Container))));
      bool Sync = T.CompletionAtom && resolve(C, FC, T.CompletionAtom).signClasses() == Zero;
      if ((V.K == Value::Const && V.C != EIOCBQUEUED) || !(S & Neg) || (NQ && C.get(*NQ)) || Sync)
        C.Ref = Own::Held;
    } else if (I.KeepsOnlyOnSuccess) {
      if (!(S & ~I.FailureClasses))
        C.Ref = Own::Held; // it failed: the pages are still ours
      else if (!(S & I.FailureClasses)) {
        C.Ref = Own::Held; // it may keep them: no leak, releases still checked
        C.Kept = true;
      }
    } else if (I.ZeroMeansSuccess) {
      if (S == Zero)
        C.Ref = Own::HandedOff;
      else if (!(S & Zero))
        C.Ref = Own::Held;
    } else {
      if (S == Zero)
        C.Ref = Own::Held; // it failed and kept nothing
      else if (!(S & Zero))
        C.Ref = Own::HandedOff;
    }
  }
}

bool RefFlow::Impl::isErrorValue(FunctionCtx &FC, const Tracked &T, const Config &C, const Expr *E) {
  if (!E)
    return false;
  E = strip(E);
  if (auto K = constant(E))
    return *K < 0;
  if (auto *Call = dyn_cast<CallExpr>(E)) {
    llvm::StringRef N = calleeName(Call);
    if (N == "ERR_PTR" || N == "ERR_CAST")
      return true;
  }
  Value V = valueOf(FC, T, C, E);
  if (V.K == Value::Alias) {
    const Value *S = C.get(V.Sym);
    V = S ? *S : Value::signs(AnySign);
  }
  if ((V.K == Value::Const && V.C < 0) || (V.K == Value::Signs && V.S == Neg))
    return true;
  // `rc = f(...); if (rc) return rc;` in a function that returns 0 on
  // success: a nonzero status handed up is an error (not a count of pages).
  const Value *Own_ = nullptr;
  if (auto A = atomOf(FC, T, E))
    Own_ = C.get(*A);
  bool IsResult = Own_ && Own_->K == Value::Alias && Own_->Sym == T.Result;
  return !IsResult && V.K == Value::Signs && !(V.S & Zero) && T.F->getReturnType()->isIntegerType() &&
         returnsZeroSomewhere(T.F);
}

bool RefFlow::Impl::returnsZeroSomewhere(const FunctionDecl *F) {
  auto It = ReturnsZero.find(F);
  if (It != ReturnsZero.end())
    return It->second;
  struct Finder : RecursiveASTVisitor<Finder> {
    RefFlow::Impl &I;
    bool Found = false;
    explicit Finder(RefFlow::Impl &I) : I(I) {}
    bool VisitReturnStmt(ReturnStmt *R) {
      if (R->getRetValue())
        if (auto K = I.constant(R->getRetValue()); K && *K == 0)
          Found = true;
      return true;
    }
  } V(*this);
  V.TraverseStmt(F->getBody());
  return ReturnsZero[F] = V.Found;
}

bool RefFlow::Impl::isWarnCondition(const Expr *Cond) {
  for (SourceLocation L = Cond->getBeginLoc(); L.isMacroID(); L = SM.getImmediateMacroCallerLoc(L)) {
    llvm::StringRef Name = Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts());
    if (Name.starts_with("WARN") || Name == "BUG_ON")
      return true;
  }
  return false;
}

/// `iov_iter_extract_will_pin(i)` / `user_backed_iter(i)` as a condition.
bool RefFlow::Impl::testsWillPin(const Expr *Cond) {
  auto *C = dyn_cast<CallExpr>(strip(Cond));
  const IterGuardFn *G = C ? Model.iterGuard(calleeName(C)) : nullptr;
  return G && (G->WillPin || G->Kinds == IterKindSet::userBacked());
}

bool RefFlow::Impl::underWillPinTest(const Stmt *S, const FunctionDecl *F) {
  const BodyParents &BP = Parents.of(F);
  const Stmt *Cur = S;
  for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
    const Expr *Cond = nullptr;
    if (auto *I = dyn_cast<IfStmt>(P); I && Cur != I->getCond())
      Cond = I->getCond();
    else if (auto *CO = dyn_cast<ConditionalOperator>(P); CO && Cur != CO->getCond())
      Cond = CO->getCond();
    if (!Cond)
      continue;
    std::string T = exprText(Cond, Ctx, 200);
    for (const std::string &M : Model.conditionalReleaseMarkers())
      if (llvm::StringRef(T).contains(M))
        return true;
    // A field some function of this file sets from a will-pin answer.
    struct Fields : RecursiveASTVisitor<Fields> {
      const std::set<const FieldDecl *> &Will;
      bool Found = false;
      explicit Fields(const std::set<const FieldDecl *> &W) : Will(W) {}
      bool VisitMemberExpr(MemberExpr *M) {
        if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()))
          Found |= Will.count(FD->getCanonicalDecl()) > 0;
        return true;
      }
    };
    buildFieldFacts();
    Fields V(WillPinFields);
    V.TraverseStmt(const_cast<Expr *>(Cond));
    if (V.Found)
      return true;
  }
  return false;
}

bool RefFlow::Impl::extractUserOnly(const Tracked &T) {
  IterKindSet K = T.IterKinds.referenceable();
  return !K.empty() && K.subsetOf(IterKindSet::userBacked());
}

} // namespace pageref
