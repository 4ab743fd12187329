// Which iterator kinds can reach a call: follow the iterator back to where it
// is built (iov_iter_bvec() and friends), through local copies, struct fields
// and, for parameters, through the callers in this translation unit, applying
// the guards (user_backed_iter(), iov_iter_is_bvec(), ...) that dominate each
// use. Where the TU does not show the answer, say so and assume every kind.
#include "ClassifierImpl.h"

#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"

using namespace clang;

namespace pageref {

ObjectPath appendSuffix(ObjectPath Base, const ObjectPath &WithSuffix) {
  if (WithSuffix.Suffix.empty())
    return Base;
  Base.Suffix += WithSuffix.Suffix;
  // The spelling of the suffix part: everything after the root's name.
  std::string RootName = WithSuffix.Root ? WithSuffix.Root->getNameAsString() : "";
  llvm::StringRef Sp(WithSuffix.Spelling);
  if (Sp.starts_with(RootName))
    Base.Spelling += Sp.drop_front(RootName.size()).str();
  Base.LastField = WithSuffix.LastField;
  return Base;
}

/// \p E names \p Name: an enumerator or variable of that name, or a macro
/// of that name it was expanded from (`#define MSG_SPLICE_PAGES 0x8000000`).
static bool spelledAs(const Expr *E, llvm::StringRef Name, const SourceManager &SM, const LangOptions &LO) {
  if (auto *D = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()))
    return D->getDecl()->getName() == Name;
  for (SourceLocation L = E->getBeginLoc(); L.isMacroID(); L = SM.getImmediateMacroCallerLoc(L))
    if (Lexer::getImmediateMacroName(L, SM, LO) == Name)
      return true;
  return false;
}

CallerClassifier::Impl::Impl(ASTContext &Ctx, const ApiModel &M, ClassifierLimits L, const TuIndex &I)
    : Ctx(Ctx), SM(Ctx.getSourceManager()), Model(M), Limits(L), Index(I) {
  IterKindSet Found;
  for (const Decl *D : Ctx.getTranslationUnitDecl()->decls())
    if (auto *E = dyn_cast<EnumDecl>(D); E && E->getName() == "iter_type" && E->isCompleteDefinition())
      for (const EnumConstantDecl *C : E->enumerators())
        if (auto K = parseIterKind(C->getName()))
          Found = Found | IterKindSet::of(*K);
  if (!Found.empty())
    Universe = Found;
}

std::optional<IterKindSet> CallerClassifier::Impl::condKinds(const Expr *C, bool Truth, const ObjectPath &It) {
  if (!C)
    return std::nullopt;
  C = C->IgnoreParenCasts();
  if (auto *U = dyn_cast<UnaryOperator>(C)) {
    if (U->getOpcode() == UO_LNot)
      return condKinds(U->getSubExpr(), !Truth, It);
    return std::nullopt;
  }
  if (auto *B = dyn_cast<BinaryOperator>(C)) {
    auto Op = B->getOpcode();
    if (Op == BO_LAnd || Op == BO_LOr) {
      auto L = condKinds(B->getLHS(), Truth, It), R = condKinds(B->getRHS(), Truth, It);
      // a && b true, or a || b false: both hold. Otherwise either may.
      bool Both = (Op == BO_LAnd) == Truth;
      if (Both) {
        if (!L) return R;
        if (!R) return L;
        return *L & *R;
      }
      if (!L || !R)
        return std::nullopt;
      return *L | *R;
    }
    // `msg->msg_flags & MSG_SPLICE_PAGES`: a flag of the struct that holds
    // the iterator (iter_flag_masks). Only its being set says anything.
    if (Op == BO_And) {
      for (int Side = 0; Side < 2; ++Side) {
        auto *Flags = dyn_cast<MemberExpr>((Side ? B->getRHS() : B->getLHS())->IgnoreParenImpCasts());
        const Expr *Mask = (Side ? B->getLHS() : B->getRHS())->IgnoreParenCasts();
        if (!Flags || !It.LastField)
          continue;
        for (const IterFlagMask *FM : Model.iterFlagMasks(Flags->getMemberDecl()->getName())) {
          if (It.LastField->getName() != FM->IterField || !spelledAs(Mask, FM->Name, SM, Ctx.getLangOpts()))
            continue;
          auto Holder = objectPath(Flags->getBase());
          if (!Holder || Holder->Root != It.Root ||
              Holder->Suffix + "." + std::to_string(reinterpret_cast<uintptr_t>(It.LastField->getCanonicalDecl())) !=
                  It.Suffix)
            continue;
          if (Truth)
            return FM->Kinds;
        }
      }
      return std::nullopt;
    }
    if (Op == BO_EQ || Op == BO_NE) {
      // iov_iter_type(i) == ITER_BVEC, i->iter_type != ITER_UBUF
      for (int Side = 0; Side < 2; ++Side) {
        const Expr *Getter = (Side ? B->getRHS() : B->getLHS())->IgnoreParenCasts();
        const Expr *Const = (Side ? B->getLHS() : B->getRHS())->IgnoreParenCasts();
        auto *DR = dyn_cast<DeclRefExpr>(Const);
        auto *EC = DR ? dyn_cast<EnumConstantDecl>(DR->getDecl()) : nullptr;
        if (!EC)
          continue;
        auto Kind = parseIterKind(EC->getName());
        if (!Kind)
          continue;
        const Expr *Subject = nullptr;
        if (auto *Call = dyn_cast<CallExpr>(Getter)) {
          if (Model.isIterTypeGetter(calleeName(Call)) && Call->getNumArgs() == 1)
            Subject = Call->getArg(0);
        } else if (auto *M = dyn_cast<MemberExpr>(Getter)) {
          if (M->getMemberDecl()->getName() == "iter_type")
            Subject = M->getBase();
        }
        auto P = Subject ? objectPath(Subject) : std::nullopt;
        if (!P || *P != It)
          continue;
        bool Equal = (Op == BO_EQ) == Truth;
        return Equal ? IterKindSet::of(*Kind) : ~IterKindSet::of(*Kind);
      }
    }
    return std::nullopt;
  }
  if (auto *Call = dyn_cast<CallExpr>(C)) {
    if (Call->getBuiltinCallee() == Builtin::BI__builtin_expect && Call->getNumArgs() >= 1)
      return condKinds(Call->getArg(0), Truth, It);
    if (const IterGuardFn *G = Model.iterGuard(calleeName(Call))) {
      if (Call->getNumArgs() >= 1) {
        auto P = objectPath(Call->getArg(0));
        if (P && *P == It)
          return Truth ? G->Kinds : ~G->Kinds;
      }
    }
    return std::nullopt;
  }
  if (auto *M = dyn_cast<MemberExpr>(C)) {
    if (auto Kinds = Model.iterFlagField(M->getMemberDecl()->getName())) {
      auto P = objectPath(M->getBase());
      if (P && *P == It)
        return Truth ? *Kinds : ~*Kinds;
    }
    return std::nullopt;
  }
  if (auto *SE = dyn_cast<StmtExpr>(C)) {
    // WARN_ON(cond) is ({ int __ret_warn_on = !!(cond); ...; unlikely(__ret_warn_on); })
    const CompoundStmt *CS = SE->getSubStmt();
    if (!CS->body_empty())
      if (auto *DS = dyn_cast<DeclStmt>(CS->body_front()))
        if (DS->isSingleDecl())
          if (auto *V = dyn_cast<VarDecl>(DS->getSingleDecl()))
            if (V->hasInit() && V->getName().starts_with("__ret"))
              return condKinds(V->getInit(), Truth, It);
  }
  return std::nullopt;
}

IterKindSet CallerClassifier::Impl::narrowAt(const Stmt *Use, const FunctionDecl *F, const ObjectPath &It,
                                             std::vector<Evidence> &Why) {
  IterKindSet R = IterKindSet::all();
  if (!F || !F->getBody())
    return R;
  const BodyParents &BP = Parents.of(F);
  auto Apply = [&](const Expr *Cond, bool Truth) {
    auto K = condKinds(Cond, Truth, It);
    if (!K || (*K & Universe) == Universe)
      return;
    R = R & *K;
    Why.push_back({Cond->getBeginLoc(), "'" + It.Spelling + "' narrowed to " + (*K & Universe).str() + " where '" +
                                            text(Cond) + "' is " + (Truth ? "true" : "false")});
  };
  const Stmt *Cur = Use;
  for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
    if (auto *I = dyn_cast<IfStmt>(P)) {
      if (Cur == I->getThen())
        Apply(I->getCond(), true);
      else if (Cur == I->getElse())
        Apply(I->getCond(), false);
    } else if (auto *CO = dyn_cast<ConditionalOperator>(P)) {
      if (Cur == CO->getTrueExpr())
        Apply(CO->getCond(), true);
      else if (Cur == CO->getFalseExpr())
        Apply(CO->getCond(), false);
    } else if (auto *B = dyn_cast<BinaryOperator>(P)) {
      if (Cur == B->getRHS() && B->getOpcode() == BO_LAnd)
        Apply(B->getLHS(), true);
      else if (Cur == B->getRHS() && B->getOpcode() == BO_LOr)
        Apply(B->getLHS(), false);
    } else if (auto *W = dyn_cast<WhileStmt>(P)) {
      if (Cur == W->getBody())
        Apply(W->getCond(), true);
    } else if (auto *Fo = dyn_cast<ForStmt>(P)) {
      if (Cur == Fo->getBody() && Fo->getCond())
        Apply(Fo->getCond(), true);
    } else if (auto *Case = dyn_cast<CaseStmt>(P)) {
      // switch (iov_iter_type(i)) { case ITER_UBUF: case ITER_IOVEC: use; }
      // Nested labels share one statement; collect them all.
      if (Cur != Case->getSubStmt())
        continue;
      const Stmt *Top = Case;
      while (auto *Outer = dyn_cast_or_null<CaseStmt>(BP.parent(Top)))
        if (Outer->getSubStmt() == Top)
          Top = Outer;
        else
          break;
      const SwitchStmt *Switch = nullptr;
      for (const Stmt *Up = BP.parent(Top); Up && !Switch; Up = BP.parent(Up))
        Switch = dyn_cast<SwitchStmt>(Up);
      if (!Switch)
        continue;
      const Expr *SwitchCond = Switch->getCond()->IgnoreParenCasts();
      auto *Getter = dyn_cast<CallExpr>(SwitchCond);
      if (!Getter || !Model.isIterTypeGetter(calleeName(Getter)) || Getter->getNumArgs() != 1)
        continue;
      auto Subject = objectPath(Getter->getArg(0));
      if (!Subject || *Subject != It)
        continue;
      IterKindSet Labels;
      for (const Stmt *L = Top; auto *C = dyn_cast_or_null<CaseStmt>(L); L = C->getSubStmt())
        if (auto *DR = dyn_cast<DeclRefExpr>(C->getLHS()->IgnoreParenCasts()))
          if (auto Kind = parseIterKind(DR->getDecl()->getName()))
            Labels = Labels | IterKindSet::of(*Kind);
      if (Labels.empty())
        continue;
      R = R & Labels;
      Why.push_back({Top->getBeginLoc(), "'" + It.Spelling + "' narrowed to " + (Labels & Universe).str() + " by the case of '" +
                                             text(Switch->getCond()) + "'"});
    } else if (auto *CS = dyn_cast<CompoundStmt>(P)) {
      // `if (!user_backed_iter(i)) return -EINVAL;` before the use.
      for (const Stmt *S : CS->body()) {
        if (S == Cur)
          break;
        auto *I = dyn_cast<IfStmt>(S);
        if (!I)
          continue;
        bool ThenExits = alwaysExits(I->getThen());
        bool ElseExits = I->getElse() && alwaysExits(I->getElse());
        if (ThenExits && !ElseExits)
          Apply(I->getCond(), false);
        else if (ElseExits && !ThenExits)
          Apply(I->getCond(), true);
      }
    }
  }
  return R;
}

std::vector<std::pair<const Expr *, const Expr *>> CallerClassifier::Impl::assignmentsTo(const ObjectPath &P,
                                                                                        const FunctionDecl *F) {
  std::vector<std::pair<const Expr *, const Expr *>> R;
  if (!F || !F->getBody())
    return R;
  if (P.Suffix.empty())
    if (auto *V = dyn_cast<VarDecl>(P.Root))
      if (!isa<ParmVarDecl>(V) && V->hasInit() && !isa<InitListExpr>(V->getInit()->IgnoreParenImpCasts()))
        R.push_back({nullptr, V->getInit()});
  for (const BinaryOperator *B : assignmentsIn(F->getBody())) {
    auto LP = objectPath(B->getLHS());
    if (LP && *LP == P)
      R.push_back({B->getLHS(), B->getRHS()});
  }
  return R;
}

bool CallerClassifier::Impl::isExportSymbol(SourceLocation Loc) {
  while (Loc.isMacroID()) {
    llvm::StringRef Name = Lexer::getImmediateMacroName(Loc, SM, Ctx.getLangOpts());
    if (Name.contains("EXPORT_SYMBOL"))
      return true;
    Loc = SM.getImmediateMacroCallerLoc(Loc);
  }
  return false;
}

IterKindsResult CallerClassifier::Impl::kindsOfExpr(const Expr *E, const FunctionDecl *F, unsigned Depth,
                                                    std::set<std::string> &Visiting) {
  auto P = objectPath(E);
  if (!P) {
    IterKindsResult R;
    R.Kinds = IterKindSet::all();
    R.Stops.push_back({E->getExprLoc(), "iterator '" + text(E) + "' is not a variable or field: not followed"});
    return R;
  }
  return kindsOfPath(*P, F, E->getExprLoc(), Depth, Visiting);
}

static void merge(IterKindsResult &Into, IterKindsResult &&From) {
  Into.Kinds = Into.Kinds | From.Kinds;
  for (auto &E : From.Why)
    Into.Why.push_back(std::move(E));
  for (auto &E : From.Stops)
    Into.Stops.push_back(std::move(E));
}

IterKindsResult CallerClassifier::Impl::kindsOfPath(const ObjectPath &It, const FunctionDecl *F, SourceLocation Loc,
                                                    unsigned Depth, std::set<std::string> &Visiting) {
  std::string Key = std::to_string(reinterpret_cast<uintptr_t>(F)) + "/" + It.key();
  if (auto Done = KindsDone.find(Key); Done != KindsDone.end()) {
    IterKindsResult Known; // reached again along another route: same kinds, evidence already given
    Known.Kinds = Done->second;
    return Known;
  }
  if (!Visiting.insert(Key).second)
    return IterKindsResult(); // a recursive call: contributes nothing new
  IterKindsResult R = kindsOfPathUncached(It, F, Loc, Depth, Visiting);
  Visiting.erase(Key);
  KindsDone[Key] = R.Kinds;
  return R;
}

IterKindsResult CallerClassifier::Impl::kindsOfPathUncached(const ObjectPath &It, const FunctionDecl *F,
                                                            SourceLocation Loc, unsigned Depth,
                                                            std::set<std::string> &Visiting) {
  IterKindsResult R;
  bool Found = false;

  // 1. Built here by a constructor: iov_iter_bvec(&iter, ...).
  for (auto &Entry : Model.iterConstructors()) {
    const IterConstructorFn &Ctor = Entry.second;
    for (const CallSite &CS : Index.callsTo(Ctor.Name)) {
      if (CS.Caller != F || Ctor.IterArg >= CS.Call->getNumArgs())
        continue;
      auto P = objectPath(CS.Call->getArg(Ctor.IterArg));
      if (!P || *P != It)
        continue;
      Found = true;
      R.Kinds = R.Kinds | Ctor.Kinds;
      R.Why.push_back({CS.Call->getBeginLoc(), "'" + It.Spelling + "' built by " + Ctor.Name + "() as " +
                                                   Ctor.Kinds.str() + " in " + fnName(F) + "()"});
    }
  }
  // 2. Assigned or initialised from another iterator in this function.
  for (auto &[Lhs, Rhs] : assignmentsTo(It, F)) {
    if (!objectPath(Rhs))
      continue; // `iter = NULL` and the like say nothing about the kind
    IterKindsResult Sub = kindsOfExpr(Rhs, F, Depth, Visiting);
    // `*from = saved_from` where saved_from was copied from *from: a round
    // trip says nothing; the parameter's callers still decide.
    if (Sub.Kinds.empty() && Sub.Stops.empty())
      continue;
    Found = true;
    R.Why.push_back({Rhs->getBeginLoc(), "'" + It.Spelling + "' comes from '" + text(Rhs) + "'"});
    merge(R, std::move(Sub));
  }
  // 2b. Built by a helper of this TU that gets the iterator's address:
  // iov_kunit_load_kvec(test, &iter, ...) calls iov_iter_kvec() on it.
  if (!Found && It.Suffix.empty() && !isa<ParmVarDecl>(It.Root) && F->getBody()) {
    for (const CallExpr *Call : callsIn(F->getBody())) {
      const FunctionDecl *Def = calleeDefinition(Call, SM);
      if (!Def || Model.iterConstructor(Def->getName()))
        continue;
      for (unsigned A = 0; A < Call->getNumArgs() && A < Def->getNumParams(); ++A) {
        auto P = objectPath(Call->getArg(A));
        if (!P || *P != It)
          continue;
        ObjectPath Param = paramPath(Def, A);
        for (auto &Entry : Model.iterConstructors())
          for (const CallSite &CS : Index.callsTo(Entry.second.Name)) {
            if (CS.Caller != Def || Entry.second.IterArg >= CS.Call->getNumArgs())
              continue;
            auto Built = objectPath(CS.Call->getArg(Entry.second.IterArg));
            if (!Built || *Built != Param)
              continue;
            Found = true;
            R.Kinds = R.Kinds | Entry.second.Kinds;
            R.Why.push_back({CS.Call->getBeginLoc(), "'" + It.Spelling + "' built by " + Entry.second.Name +
                                                         "() as " + Entry.second.Kinds.str() + " in " + fnName(Def) +
                                                         "(), called from " + fnName(F) + "()"});
          }
      }
    }
  }
  if (Found)
    return R;

  // 3. A parameter (or a field of one): what the callers in this TU pass.
  if (auto *Parm = dyn_cast<ParmVarDecl>(It.Root)) {
    const auto *Owner = dyn_cast<FunctionDecl>(Parm->getDeclContext());
    if (Owner)
      F = Owner;
    std::string Name = fnName(F);
    if (Depth >= Limits.CallerDepth) {
      R.Kinds = IterKindSet::all();
      R.Stops.push_back({Loc, "stopped following callers of " + Name + "() after " +
                                  std::to_string(Depth) + " levels"});
      return R;
    }
    unsigned Index_ = Parm->getFunctionScopeIndex();
    // A contract of the API model: what every caller passes, wherever it is.
    if (It.Suffix.empty())
      if (const IterParamContract *PC = Model.iterParamContract(Name, Index_)) {
        R.Kinds = PC->Kinds;
        R.Why.push_back({F->getLocation(), "'" + It.Spelling + "' of " + Name + "() is " + (PC->Kinds & Universe).str() +
                                               " by the API model: " + PC->Why});
        return R;
      }
    unsigned Seen = 0;
    for (const CallSite &CS : Index.callersOf(F)) {
      if (!CS.Caller || Index_ >= CS.Call->getNumArgs())
        continue;
      if (++Seen > Limits.MaxCallers) {
        R.Kinds = IterKindSet::all();
        R.Stops.push_back({Loc, "more than " + std::to_string(Limits.MaxCallers) + " callers of " + Name +
                                    "(): the rest were not followed"});
        break;
      }
      const Expr *Arg = CS.Call->getArg(Index_);
      if (Arg->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
        continue; // no iterator at all on that path
      auto ArgPath = objectPath(Arg);
      if (!ArgPath) {
        R.Kinds = IterKindSet::all();
        R.Stops.push_back({Arg->getBeginLoc(), "argument '" + text(Arg) + "' is not a variable or field"});
        continue;
      }
      ObjectPath Full = appendSuffix(*ArgPath, It);
      IterKindsResult Sub = kindsOfPath(Full, CS.Caller, Arg->getBeginLoc(), Depth + 1, Visiting);
      if (Sub.Kinds.empty() && Sub.Why.empty() && Sub.Stops.empty())
        continue; // a recursive call: already being followed
      std::vector<Evidence> Narrowing;
      IterKindSet Allowed = narrowAt(CS.Call, CS.Caller, Full, Narrowing);
      Sub.Kinds = Sub.Kinds & Allowed;
      R.Why.push_back({CS.Call->getBeginLoc(), Name + "() called from " + fnName(CS.Caller) + "() with '" +
                                                   Full.Spelling + "': " + Sub.Kinds.str()});
      for (auto &N : Narrowing)
        R.Why.push_back(std::move(N));
      merge(R, std::move(Sub));
    }
    for (const AddressUse &U : Index.addressUses(F)) {
      if (isExportSymbol(U.Ref->getBeginLoc()))
        continue; // EXPORT_SYMBOL(): said below, with "not static"
      R.Kinds = IterKindSet::all();
      if (Model.isIteratorOp(U.Field))
        R.Why.push_back({U.Ref->getBeginLoc(), Name + "() is the ->" + U.Field + "() of a 'struct " + U.Record +
                                                   "': any iterator kind can reach it"});
      else
        R.Stops.push_back({U.Ref->getBeginLoc(), "the address of " + Name +
                                                     "() is taken here: its callers are not visible"});
    }
    if (F->isExternallyVisible()) {
      R.Kinds = IterKindSet::all();
      R.Stops.push_back({F->getLocation(), Name + "() is not static: callers in other translation units may "
                                                  "pass any iterator kind"});
    } else if (Seen == 0 && Index.addressUses(F).empty()) {
      R.Why.push_back({F->getLocation(), "static " + Name + "() has no caller in this translation unit"});
    }
    return R;
  }

  // 4. A field of a local or global struct: whoever writes that field in
  // this TU. (A field of a parameter is followed through the callers above,
  // which is more precise than every writer of the field.)
  if (It.LastField) {
    bool FieldFound = false;
    for (auto &Entry : Model.iterConstructors()) {
      const IterConstructorFn &Ctor = Entry.second;
      for (const CallSite &CS : Index.callsTo(Ctor.Name)) {
        if (Ctor.IterArg >= CS.Call->getNumArgs())
          continue;
        auto P = objectPath(CS.Call->getArg(Ctor.IterArg));
        if (!P || !P->LastField || P->LastField->getCanonicalDecl() != It.LastField->getCanonicalDecl())
          continue;
        FieldFound = true;
        R.Kinds = R.Kinds | Ctor.Kinds;
        R.Why.push_back({CS.Call->getBeginLoc(), "field '" + It.LastField->getName().str() + "' built by " +
                                                     Ctor.Name + "() as " + Ctor.Kinds.str() + " in " +
                                                     fnName(CS.Caller) + "()"});
      }
    }
    for (const FieldWrite &W : Index.writesOf(It.LastField)) {
      if (!W.InFunction || !objectPath(W.Rhs))
        continue;
      FieldFound = true;
      if (Depth >= Limits.CallerDepth) {
        R.Kinds = IterKindSet::all();
        R.Stops.push_back({W.Rhs->getBeginLoc(), "stopped following field '" + It.LastField->getName().str() +
                                                     "' after " + std::to_string(Depth) + " steps"});
        continue;
      }
      IterKindsResult Sub = kindsOfExpr(W.Rhs, W.InFunction, Depth + 1, Visiting);
      R.Why.push_back({W.Rhs->getBeginLoc(), "field '" + It.LastField->getName().str() + "' set from '" +
                                                 text(W.Rhs) + "' in " + fnName(W.InFunction) + "(): " +
                                                 Sub.Kinds.str()});
      merge(R, std::move(Sub));
    }
    if (FieldFound)
      return R;
  }

  R.Kinds = IterKindSet::all();
  R.Stops.push_back({Loc, "no iterator constructor or assignment for '" + It.Spelling + "' found in " +
                              fnName(F) + "()"});
  return R;
}

} // namespace pageref
