// What a function of this TU does with pages it is given, found by running
// the same walk with the parameter's pages held on entry: it releases them
// (on every path, with one family, or with a family chosen by another
// parameter's value), keeps them, keeps them only when it returns non-NULL,
// or only uses them. A parameter's field (`umem->pgs` for
// xdp_umem_unpin_pages(umem)) is summarised the same way on demand.
// JSON form: docs/summaries.md.
#include "Engine.h"

#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/ADT/StringExtras.h"

#include <nlohmann/json.hpp>

using namespace clang;

namespace pageref {

using namespace refflow;

bool RefFlow::Impl::returnsNullThere(const Expr *Ret, const FunctionDecl *F) {
  if (!Ret)
    return false;
  if (Ret->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
    return true;
  auto *D = dyn_cast<DeclRefExpr>(Ret->IgnoreParenCasts());
  auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
  if (!V || !V->isLocalVarDecl())
    return false;
  // `if (v != NULL) { keep }` ... `return v;`
  struct Tests : RecursiveASTVisitor<Tests> {
    const VarDecl *V;
    bool Found = false;
    bool VisitIfStmt(IfStmt *S) {
      const Expr *C = S->getCond()->IgnoreParenCasts();
      if (auto *U = dyn_cast<UnaryOperator>(C); U && U->getOpcode() == UO_LNot)
        C = U->getSubExpr()->IgnoreParenCasts();
      if (auto *B = dyn_cast<BinaryOperator>(C); B && B->isEqualityOp())
        C = B->getLHS()->IgnoreParenCasts();
      if (auto *R = dyn_cast<DeclRefExpr>(C))
        Found |= R->getDecl() == V;
      return true;
    }
  } T;
  T.V = V;
  T.TraverseStmt(F->getBody());
  return T.Found;
}

/// What happens to the pages per value of one integer parameter, when the
/// exits say it decides: every exit where it has a known value agrees on one
/// outcome per value, the exits where it has none (a switch's default) on one.
std::optional<ParamEffect> RefFlow::Impl::casesFromExits(const FunctionDecl *F, const RunResult &R, ParamEffect E) {
  using Outcome = std::pair<bool, ReleaseFamily>; // released?, how
  for (unsigned P = 0; P < F->getNumParams(); ++P) {
    if (!F->getParamDecl(P)->getType()->isIntegerType())
      continue;
    std::map<int64_t, std::set<Outcome>> ByValue;
    std::set<Outcome> Other;
    bool Usable = true;
    for (const RunResult::Exit &X : R.Exits) {
      if (X.Ref == Own::HandedOff || X.Ref == Own::Pending || X.Kept) {
        Usable = false;
        break;
      }
      Outcome O{X.Ref == Own::Released, X.Ref == Own::Released ? X.RelFam : ReleaseFamily::Ref};
      auto It = X.ParamConsts.find(P);
      if (It != X.ParamConsts.end())
        ByValue[It->second].insert(O);
      else
        Other.insert(O);
    }
    if (!Usable || ByValue.empty() || Other.size() > 1 ||
        llvm::any_of(ByValue, [](const auto &KV) { return KV.second.size() != 1; }))
      continue;
    E.Effect = ParamEffect::Releases;
    E.Cases.clear();
    for (auto &[V, Os] : ByValue)
      E.Cases.push_back({P, V, Os.begin()->second, Os.begin()->first});
    if (!Other.empty())
      E.Otherwise = ConditionalRelease{P, 0, Other.begin()->second, Other.begin()->first};
    std::optional<ReleaseFamily> Any;
    for (const ConditionalRelease &C : E.Cases)
      if (C.Releases && !Any)
        Any = C.Family;
    if (!Any && E.Otherwise && E.Otherwise->Releases)
      Any = E.Otherwise->Family;
    if (!Any)
      continue;
    E.Family = *Any;
    for (auto &[Call, Fm] : R.ReleasesSeen)
      if (Fm == E.Family) {
        E.Via = calleeName(Call).str() + "() at line " + std::to_string(line(Call->getBeginLoc()));
        break;
      }
    return E;
  }
  return std::nullopt;
}

ParamEffect RefFlow::Impl::effectFromRun(const FunctionDecl *F, const RunResult &R) {
  ParamEffect E;
  if (R.BoundHit) {
    E.Effect = ParamEffect::TakesOver;
    return E;
  }
  bool AllReleased = !R.Exits.empty(), AnyReleased = false, AnyKept = false;
  std::set<ReleaseFamily> Families;
  for (const RunResult::Exit &X : R.Exits) {
    bool Released = X.Ref == Own::Released;
    AnyReleased |= Released;
    if (Released)
      Families.insert(X.RelFam);
    // Nothing to release (a NULL array) counts as released.
    if (!Released && X.Ref != Own::NotAcquired)
      AllReleased = false;
    AnyKept |= X.Ref == Own::HandedOff || X.Ref == Own::Pending || X.Kept;
  }
  if (AllReleased && AnyReleased && !R.ReleasesSeen.empty()) {
    E.Effect = ParamEffect::Releases;
    auto Via = [&](ReleaseFamily Fam) {
      for (auto &[Call, Fm] : R.ReleasesSeen)
        if (Fm == Fam)
          return calleeName(Call).str() + "() at line " + std::to_string(line(Call->getBeginLoc()));
      return std::string("a release");
    };
    if (Families.size() == 1) {
      E.Family = *Families.begin();
      E.Via = Via(E.Family);
      E.CountParam = R.CountParam;
      return E;
    }
    if (auto C = casesFromExits(F, R, E))
      return *C;
    // Released with families this analysis cannot tell apart: keep quiet.
    E.Effect = ParamEffect::TakesOver;
    return E;
  }
  // Released on some paths only: which ones may be decided by a parameter
  // (put_back_pages() for a command it does not know releases nothing).
  if (AnyReleased && !AnyKept)
    if (auto C = casesFromExits(F, R, E))
      return *C;
  if (R.HandedOff && R.HeldAtExit && F->getReturnType()->isPointerType() &&
      llvm::all_of(R.HeldExitReturns, [&](const Expr *Ret) { return returnsNullThere(Ret, F); })) {
    E.Effect = ParamEffect::TakesOverIfNonNull;
    return E;
  }
  if (R.HandedOff || AnyKept || !R.ReleasesSeen.empty())
    E.Effect = ParamEffect::TakesOver;
  return E;
}

const FunctionSummary &RefFlow::Impl::summaryOf(const FunctionDecl *F) {
  F = F->getDefinition() ? F->getDefinition() : F;
  if (auto It = Summaries.find(F); It != Summaries.end())
    return It->second;
  static const FunctionSummary Empty;
  if (SummaryInProgress.count(F) || SummaryInProgress.size() >= Limits.SummaryDepth || !F->getBody())
    return Empty;
  SummaryInProgress.insert(F);
  FunctionSummary S;
  S.Name = F->getNameAsString();
  S.ExternallyVisible = F->isExternallyVisible();
  for (unsigned I = 0; I < F->getNumParams(); ++I) {
    const ParmVarDecl *P = F->getParamDecl(I);
    if (!isPageCarryingType(P->getType()))
      continue;
    Tracked T;
    T.F = F;
    T.Paths.push_back(paramPath(F, I));
    addAliases(T);
    Config Entry;
    Entry.Ref = Own::Held;
    RunResult R = run(T, Entry);
    ParamEffect E = effectFromRun(F, R);
    // `for (i = 0; i < num_pages; i++) put_page(pages[i]);`: num_pages counts them.
    if (E.Effect == ParamEffect::Releases && !E.CountParam)
      for (auto &[Loop, How] : disposingLoops(T)) {
        const Expr *Cond = nullptr;
        if (auto *Fo = dyn_cast<ForStmt>(Loop))
          Cond = Fo->getCond();
        else if (auto *W = dyn_cast<WhileStmt>(Loop))
          Cond = W->getCond();
        auto *B = Cond ? dyn_cast<BinaryOperator>(Cond->IgnoreParenImpCasts()) : nullptr;
        if (How != Own::Released || !B || !B->isRelationalOp())
          continue;
        for (const Expr *Side : {B->getLHS(), B->getRHS()})
          if (auto *D = dyn_cast<DeclRefExpr>(Side->IgnoreParenImpCasts()))
            if (auto *P = dyn_cast<ParmVarDecl>(D->getDecl()); P && P->getType()->isIntegerType())
              E.CountParam = P->getFunctionScopeIndex();
      }
    S.Params[I] = E;
  }
  SummaryInProgress.erase(F);
  return Summaries[F] = std::move(S);
}

const ParamEffect *RefFlow::Impl::fieldSummary(const FunctionDecl *F, unsigned Param, const std::string &Suffix,
                                               const ObjectPath &Rest) {
  F = F->getDefinition() ? F->getDefinition() : F;
  bool Global = Param == ~0u; // Rest is a global the function reads itself
  if (!F->getBody() || (!Global && Param >= F->getNumParams()))
    return nullptr;
  auto Key = std::make_tuple(F, Param, Global ? Rest.key() : Suffix);
  if (auto It = FieldSummaries.find(Key); It != FieldSummaries.end())
    return &It->second;
  if (SummaryInProgress.count(F) || SummaryInProgress.size() >= Limits.SummaryDepth)
    return nullptr;
  SummaryInProgress.insert(F);
  Tracked T;
  T.F = F;
  if (Global) {
    T.Paths.push_back(Rest);
  } else {
    ObjectPath P = paramPath(F, Param);
    P.Suffix = Suffix;
    P.LastField = Rest.LastField;
    P.Spelling += "->" + (Rest.LastField ? Rest.LastField->getNameAsString() : std::string("..."));
    T.Paths.push_back(P);
  }
  addAliases(T);
  Config Entry;
  Entry.Ref = Own::Held;
  RunResult R = run(T, Entry);
  SummaryInProgress.erase(F);
  ParamEffect E = effectFromRun(F, R);
  // Touching the owner without releasing or keeping the field: it uses it
  // (a lock, a counter), the pages stay the caller's.
  return &(FieldSummaries[Key] = E);
}

std::optional<ParamEffect> callEffect(const FunctionSummary &S) {
  if (S.Params.empty())
    return std::nullopt;
  std::string Via = "a release";
  for (const auto &P : S.Params)
    if (!P.second.Via.empty())
      Via = P.second.Via;
  bool KeepsIfNonNull = false, Keeps = false;
  for (const auto &P : S.Params) {
    const ParamEffect &E = P.second;
    if (E.Effect == ParamEffect::Releases && E.Cases.empty() && !E.Otherwise &&
        (E.Family == ReleaseFamily::Ref || E.Family == ReleaseFamily::Pin)) {
      ParamEffect R = E;
      R.Via = Via;
      return R;
    }
    KeepsIfNonNull |= E.Effect == ParamEffect::TakesOverIfNonNull;
    // A release of another family (a bio's), or one chosen by another
    // argument: not one the variants model.
    Keeps |= E.Effect == ParamEffect::TakesOver || E.Effect == ParamEffect::Releases;
  }
  ParamEffect R;
  R.Effect = KeepsIfNonNull ? ParamEffect::TakesOverIfNonNull : Keeps ? ParamEffect::TakesOver : ParamEffect::Uses;
  return R;
}

const char *assumptionName(const ParamEffect &E) {
  switch (E.Effect) {
  case ParamEffect::Uses: return "uses";
  case ParamEffect::TakesOver: return "takes-over";
  case ParamEffect::TakesOverIfNonNull: return "takes-over-if-non-null";
  case ParamEffect::Releases:
    return E.Family == ReleaseFamily::Pin ? "releases-pin" : E.Family == ReleaseFamily::Ref ? "releases-ref" : "releases";
  }
  return "uses";
}

nlohmann::json toJson(const FunctionSummary &S) {
  nlohmann::json Params = nlohmann::json::object();
  for (auto &[Index, E] : S.Params) {
    const char *Effect = E.Effect == ParamEffect::Releases             ? "releases"
                         : E.Effect == ParamEffect::TakesOver          ? "takes-over"
                         : E.Effect == ParamEffect::TakesOverIfNonNull ? "takes-over-if-non-null"
                                                                       : "uses";
    nlohmann::json J = {{"effect", Effect}};
    if (E.Effect == ParamEffect::Releases) {
      J["family"] = familyName(E.Family);
      J["via"] = E.Via;
      auto CaseJson = [](const ConditionalRelease &C) {
        nlohmann::json K = {{"param", C.Param}};
        if (C.Releases)
          K["family"] = familyName(C.Family);
        else
          K["releases"] = false;
        return K;
      };
      if (!E.Cases.empty()) {
        nlohmann::json Cases = nlohmann::json::array();
        for (const ConditionalRelease &C : E.Cases) {
          nlohmann::json K = CaseJson(C);
          K["equals"] = C.Equals;
          Cases.push_back(K);
        }
        J["cases"] = Cases;
      }
      if (E.Otherwise)
        J["otherwise"] = CaseJson(*E.Otherwise);
    }
    Params[std::to_string(Index)] = J;
  }
  return {{"function", S.Name}, {"external", S.ExternallyVisible}, {"params", Params}};
}

static std::optional<ConditionalRelease> caseFromJson(const nlohmann::json &C, bool NeedsValue) {
  if (!C.is_object() || !C.contains("param") || !C["param"].is_number_unsigned())
    return std::nullopt;
  ConditionalRelease K{C["param"].get<unsigned>(), 0, ReleaseFamily::Ref, true};
  if (NeedsValue) {
    if (!C.contains("equals") || !C["equals"].is_number_integer())
      return std::nullopt;
    K.Equals = C["equals"].get<int64_t>();
  }
  if (C.contains("releases") && C["releases"] == false) {
    K.Releases = false;
    return K;
  }
  auto F = parseFamily(C.value("family", ""));
  if (!F)
    return std::nullopt;
  K.Family = *F;
  return K;
}

std::optional<FunctionSummary> summaryFromJson(const nlohmann::json &J, std::string &Error) {
  if (!J.is_object() || !J.contains("function") || !J["function"].is_string() || !J.contains("params") ||
      !J["params"].is_object()) {
    Error = "a summary needs 'function' (string) and 'params' (object)";
    return std::nullopt;
  }
  FunctionSummary S;
  S.Name = J["function"].get<std::string>();
  S.ExternallyVisible = J.value("external", false);
  for (auto &[Key, P] : J["params"].items()) {
    unsigned Index;
    if (!llvm::to_integer(Key, Index) || !P.is_object() || !P.contains("effect") || !P["effect"].is_string()) {
      Error = S.Name + ": parameter '" + Key + "' needs a numeric key and an 'effect'";
      return std::nullopt;
    }
    ParamEffect E;
    std::string Effect = P["effect"].get<std::string>();
    if (Effect == "releases") E.Effect = ParamEffect::Releases;
    else if (Effect == "takes-over") E.Effect = ParamEffect::TakesOver;
    else if (Effect == "takes-over-if-non-null") E.Effect = ParamEffect::TakesOverIfNonNull;
    else if (Effect == "uses") E.Effect = ParamEffect::Uses;
    else {
      Error = S.Name + ": unknown effect '" + Effect + "'";
      return std::nullopt;
    }
    if (E.Effect == ParamEffect::Releases) {
      auto F = parseFamily(P.value("family", ""));
      if (!F) {
        Error = S.Name + ": parameter " + Key + " releases with an unknown family";
        return std::nullopt;
      }
      E.Family = *F;
      E.Via = P.value("via", "");
      if (P.contains("cases")) {
        if (!P["cases"].is_array()) {
          Error = S.Name + ": parameter " + Key + ": 'cases' must be a list";
          return std::nullopt;
        }
        for (const nlohmann::json &C : P["cases"]) {
          auto K = caseFromJson(C, true);
          if (!K) {
            Error = S.Name + ": parameter " + Key + ": a case needs 'param', 'equals' and a known 'family' (or \"releases\": false)";
            return std::nullopt;
          }
          E.Cases.push_back(*K);
        }
      }
      if (P.contains("otherwise")) {
        auto K = caseFromJson(P["otherwise"], false);
        if (!K) {
          Error = S.Name + ": parameter " + Key + ": 'otherwise' needs 'param' and a known 'family' (or \"releases\": false)";
          return std::nullopt;
        }
        E.Otherwise = *K;
      }
    }
    S.Params[Index] = E;
  }
  return S;
}

} // namespace pageref
