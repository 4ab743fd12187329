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
    AnyKept |= X.Ref == Own::HandedOff || X.Ref == Own::Pending;
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
      return E;
    }
    // Several families: chosen by the value of an integer parameter?
    for (unsigned P = 0; P < F->getNumParams(); ++P) {
      std::map<int64_t, std::set<ReleaseFamily>> ByValue;
      bool Decides = true;
      for (const RunResult::Exit &X : R.Exits) {
        if (X.Ref != Own::Released)
          continue;
        auto It = X.ParamConsts.find(P);
        if (It == X.ParamConsts.end()) {
          Decides = false;
          break;
        }
        ByValue[It->second].insert(X.RelFam);
      }
      if (!Decides || ByValue.empty() ||
          llvm::any_of(ByValue, [](const auto &KV) { return KV.second.size() != 1; }))
        continue;
      for (auto &[V, Fams] : ByValue)
        E.Cases.push_back({P, V, *Fams.begin()});
      E.Family = E.Cases.front().Family;
      E.Via = Via(E.Family);
      return E;
    }
    // Released with families this analysis cannot tell apart: keep quiet.
    E.Effect = ParamEffect::TakesOver;
    return E;
  }
  // Cases that release with a family decided by a parameter, and release
  // nothing for the other values (put_back_pages() for an unknown command).
  if (AnyReleased && !AnyKept) {
    for (unsigned P = 0; P < F->getNumParams(); ++P) {
      std::map<int64_t, std::set<ReleaseFamily>> ByValue;
      bool Decides = true;
      for (const RunResult::Exit &X : R.Exits) {
        auto It = X.ParamConsts.find(P);
        if (X.Ref == Own::Released && It == X.ParamConsts.end()) {
          Decides = false;
          break;
        }
        if (X.Ref == Own::Released)
          ByValue[It->second].insert(X.RelFam);
      }
      if (!Decides || ByValue.empty() ||
          llvm::any_of(ByValue, [](const auto &KV) { return KV.second.size() != 1; }))
        continue;
      // Every other exit must be one where the parameter has a value no case names.
      bool Consistent = true;
      for (const RunResult::Exit &X : R.Exits)
        if (X.Ref != Own::Released) {
          auto It = X.ParamConsts.find(P);
          if (It != X.ParamConsts.end() && ByValue.count(It->second))
            Consistent = false;
        }
      if (!Consistent)
        continue;
      E.Effect = ParamEffect::Releases;
      for (auto &[V, Fams] : ByValue)
        E.Cases.push_back({P, V, *Fams.begin()});
      E.Family = E.Cases.front().Family;
      for (auto &[Call, Fm] : R.ReleasesSeen)
        if (Fm == E.Family) {
          E.Via = calleeName(Call).str() + "() at line " + std::to_string(line(Call->getBeginLoc()));
          break;
        }
      return E;
    }
  }
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
    S.Params[I] = effectFromRun(F, R);
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
    if (E.Effect == ParamEffect::Releases && E.Cases.empty() &&
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
      if (!E.Cases.empty()) {
        nlohmann::json Cases = nlohmann::json::array();
        for (const ConditionalRelease &C : E.Cases)
          Cases.push_back({{"param", C.Param}, {"equals", C.Equals}, {"family", familyName(C.Family)}});
        J["cases"] = Cases;
      }
    }
    Params[std::to_string(Index)] = J;
  }
  return {{"function", S.Name}, {"external", S.ExternallyVisible}, {"params", Params}};
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
          auto CF = C.is_object() ? parseFamily(C.value("family", "")) : std::nullopt;
          if (!CF || !C.contains("param") || !C["param"].is_number_unsigned() || !C.contains("equals") ||
              !C["equals"].is_number_integer()) {
            Error = S.Name + ": parameter " + Key + ": a case needs 'param', 'equals' and a known 'family'";
            return std::nullopt;
          }
          E.Cases.push_back({C["param"].get<unsigned>(), C["equals"].get<int64_t>(), *CF});
        }
      }
    }
    S.Params[Index] = E;
  }
  return S;
}

} // namespace pageref
