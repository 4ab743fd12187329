#include "pageref/ApiModel.h"
#include "pageref/Config.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"
#include "llvm/ADT/StringExtras.h"

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace pageref {

llvm::StringRef iterKindName(IterKind K) {
  static const char *const Names[] = {"IOVEC", "UBUF", "BVEC", "KVEC", "XARRAY", "PIPE", "DISCARD", "FOLIOQ"};
  return Names[unsigned(K)];
}

std::optional<IterKind> parseIterKind(llvm::StringRef Name) {
  Name.consume_front("ITER_");
  for (unsigned I = 0; I < NumIterKinds; ++I)
    if (Name == iterKindName(IterKind(I)))
      return IterKind(I);
  return std::nullopt;
}

std::vector<std::string> IterKindSet::names() const {
  std::vector<std::string> R;
  for (unsigned I = 0; I < NumIterKinds; ++I)
    if (contains(IterKind(I)))
      R.push_back(iterKindName(IterKind(I)).str());
  return R;
}

std::string IterKindSet::str() const {
  if (empty())
    return "none";
  return llvm::join(names(), "|");
}

llvm::StringRef familyName(ReleaseFamily F) {
  switch (F) {
  case ReleaseFamily::Ref: return "ref";
  case ReleaseFamily::Pin: return "pin";
  case ReleaseFamily::PinIfWillPin: return "pin-if-will-pin";
  case ReleaseFamily::Bio: return "bio";
  case ReleaseFamily::Free: return "free";
  }
  return "?";
}

std::optional<ReleaseFamily> parseFamily(llvm::StringRef S) {
  if (S == "ref") return ReleaseFamily::Ref;
  if (S == "pin") return ReleaseFamily::Pin;
  if (S == "pin-if-will-pin") return ReleaseFamily::PinIfWillPin;
  if (S == "bio") return ReleaseFamily::Bio;
  if (S == "free") return ReleaseFamily::Free;
  return std::nullopt;
}

namespace {

// Reads one table of the model with errors that name the entry and the field.
struct Reader {
  std::string Origin;
  std::string Error;

  bool fail(const std::string &Where, const std::string &What) {
    if (Error.empty())
      Error = Origin + ": " + Where + ": " + What;
    return false;
  }
  bool str(const json &E, const char *Key, const std::string &Where, std::string &Out) {
    auto It = E.find(Key);
    if (It == E.end() || !It->is_string())
      return fail(Where, std::string("'") + Key + "' must be a string");
    Out = It->get<std::string>();
    return true;
  }
  bool uns(const json &E, const char *Key, const std::string &Where, unsigned &Out, bool Required) {
    auto It = E.find(Key);
    if (It == E.end()) {
      if (Required)
        return fail(Where, std::string("'") + Key + "' is missing");
      return true;
    }
    if (!It->is_number_unsigned())
      return fail(Where, std::string("'") + Key + "' must be a non-negative integer");
    Out = It->get<unsigned>();
    return true;
  }
  bool kinds(const json &E, const char *Key, const std::string &Where, IterKindSet &Out) {
    auto It = E.find(Key);
    if (It == E.end() || !It->is_array())
      return fail(Where, std::string("'") + Key + "' must be a list of iterator kinds");
    IterKindSet S;
    for (const json &K : *It) {
      std::optional<IterKind> Kind;
      if (K.is_string())
        Kind = parseIterKind(K.get<std::string>());
      if (!Kind)
        return fail(Where, "unknown iterator kind " + K.dump() +
                               " (IOVEC, UBUF, BVEC, KVEC, XARRAY, PIPE, DISCARD, FOLIOQ)");
      S = S | IterKindSet::of(*Kind);
    }
    Out = S;
    return true;
  }
  bool family(const json &E, const std::string &Where, ReleaseFamily &Out) {
    std::string F;
    if (!str(E, "family", Where, F))
      return false;
    auto P = parseFamily(F);
    if (!P)
      return fail(Where, "unknown family '" + F + "' (ref, pin, pin-if-will-pin, bio, free)");
    Out = *P;
    return true;
  }
  // Iterates the entries of a table; each must be an object with a "name".
  template <typename Fn> bool table(const json &Doc, const char *Key, Fn Each) {
    auto It = Doc.find(Key);
    if (It == Doc.end())
      return true;
    if (!It->is_array())
      return fail(Key, "must be a list");
    unsigned Index = 0;
    for (const json &E : *It) {
      std::string Where = std::string(Key) + "[" + std::to_string(Index++) + "]";
      if (!E.is_object())
        return fail(Where, "must be an object");
      std::string Name;
      if (!str(E, "name", Where, Name))
        return false;
      if (Name.empty())
        return fail(Where, "'name' is empty");
      if (!Each(E, Name, Where + " (" + Name + ")"))
        return false;
    }
    return true;
  }
};

} // namespace

ApiModel ApiModel::builtin() {
  ApiModel M;
  if (auto Err = M.mergeJson(builtinApiModelJson(), "built-in api-model.json")) {
    // The built-in table is tested; reaching this is a build defect.
    llvm::report_fatal_error(llvm::Twine("pageref: ") + *Err);
  }
  return M;
}

std::optional<std::string> ApiModel::mergeFile(llvm::StringRef Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/true);
  if (!Buf)
    return (Path + ": cannot read API model file: " + Buf.getError().message()).str();
  return mergeJson((*Buf)->getBuffer(), Path);
}

std::optional<std::string> ApiModel::mergeJson(llvm::StringRef Text, llvm::StringRef Origin) {
  json Doc = json::parse(Text.begin(), Text.end(), nullptr, /*allow_exceptions=*/false);
  if (Doc.is_discarded())
    return (Origin + ": not valid JSON").str();
  if (!Doc.is_object())
    return (Origin + ": the top level must be a JSON object").str();
  if (auto S = Doc.find("schema"); S != Doc.end() && *S != "pageref-api-model")
    return (Origin + ": 'schema' is " + S->dump() + ", expected \"pageref-api-model\"").str();
  if (auto V = Doc.find("version"); V != Doc.end() && *V != 1)
    return (Origin + ": API model version " + V->dump() + " is not supported (this pageref reads version 1)").str();

  static const char *const Known[] = {
      "schema", "version", "comment", "get_pages", "iter_constructors", "iter_guards", "iter_type_getters",
      "iter_flag_fields", "iter_flag_masks", "iter_param_contracts", "iterator_ops", "acquire", "release", "sinks", "container_getters", "container_fields",
      "page_views", "page_users", "owner_records", "owner_notes", "conditional_release_markers",
      "completion_fields", "wait_functions", "allocators", "free_functions", "page_handles",
      "sync_kiocb_inits", "sync_kiocb_tests", "refcount_puts",
      "ref_dropping_owners"};
  for (auto &Item : Doc.items())
    if (llvm::none_of(Known, [&](const char *K) { return Item.key() == K; }))
      return (Origin + ": unknown key '" + Item.key() + "' (known: get_pages, iter_constructors, iter_guards, "
              "acquire, release, sinks, container_getters, container_fields, page_views, page_users, "
              "owner_records, owner_notes, ref_dropping_owners, ...; see docs/api-model.md)").str();

  ApiModel New = *this; // merge into a copy: a bad file changes nothing
  Reader R{Origin.str(), {}};
  bool Ok =
      R.table(Doc, "get_pages", [&](const json &E, const std::string &Name, const std::string &W) {
        GetPagesFn F;
        F.Name = Name;
        std::string Pages = "array";
        if (E.contains("pages") && !R.str(E, "pages", W, Pages))
          return false;
        if (Pages == "array") F.Pages = PagesOut::Array;
        else if (Pages == "allocated") F.Pages = PagesOut::Allocated;
        else if (Pages == "array-or-allocated") F.Pages = PagesOut::ArrayOrAllocated;
        else return R.fail(W, "'pages' must be array, allocated or array-or-allocated");
        if (!R.uns(E, "iter_arg", W, F.IterArg, true) || !R.uns(E, "pages_arg", W, F.PagesArg, true) ||
            !R.family(E, W, F.Family))
          return false;
        New.GetPages[Name] = F;
        return true;
      }) &&
      R.table(Doc, "iter_constructors", [&](const json &E, const std::string &Name, const std::string &W) {
        IterConstructorFn F;
        F.Name = Name;
        if (!R.uns(E, "iter_arg", W, F.IterArg, true) || !R.kinds(E, "kinds", W, F.Kinds))
          return false;
        New.Constructors[Name] = F;
        return true;
      }) &&
      R.table(Doc, "iter_guards", [&](const json &E, const std::string &Name, const std::string &W) {
        IterGuardFn F;
        F.Name = Name;
        if (!R.kinds(E, "kinds", W, F.Kinds))
          return false;
        F.WillPin = E.value("will_pin", false);
        New.Guards[Name] = F;
        return true;
      }) &&
      R.table(Doc, "release", [&](const json &E, const std::string &Name, const std::string &W) {
        ReleaseFn F;
        F.Name = Name;
        std::string Shape = "page";
        if (E.contains("shape") && !R.str(E, "shape", W, Shape))
          return false;
        if (Shape == "page") F.Shape = ReleaseShape::Page;
        else if (Shape == "folio") F.Shape = ReleaseShape::Folio;
        else if (Shape == "array") F.Shape = ReleaseShape::Array;
        else if (Shape == "list") F.Shape = ReleaseShape::List;
        else if (Shape == "bio") F.Shape = ReleaseShape::Bio;
        else return R.fail(W, "'shape' must be page, folio, array, list or bio");
        unsigned Count = ~0u;
        if (!R.family(E, W, F.Family) || !R.uns(E, "arg", W, F.Arg, false) ||
            !R.uns(E, "count_arg", W, Count, false))
          return false;
        if (Count != ~0u)
          F.CountArg = Count;
        New.Releases[Name] = F;
        return true;
      }) &&
      R.table(Doc, "acquire", [&](const json &E, const std::string &Name, const std::string &W) {
        AcquireFn F;
        F.Name = Name;
        unsigned PagesArg = ~0u, Arg = ~0u, NrArg = ~0u;
        if (!R.family(E, W, F.Family) || !R.uns(E, "pages_arg", W, PagesArg, false) ||
            !R.uns(E, "arg", W, Arg, false) || !R.uns(E, "nr_arg", W, NrArg, false))
          return false;
        if (NrArg != ~0u) F.NrArg = NrArg;
        if (PagesArg != ~0u) F.PagesArg = PagesArg;
        if (Arg != ~0u) F.Arg = Arg;
        std::string Count;
        if (E.contains("count")) {
          if (!R.str(E, "count", W, Count))
            return false;
          if (Count == "return-pages")
            F.ReturnsCount = true;
          else if (Count == "returned-page")
            F.ReturnsPage = true;
          else
            return R.fail(W, "'count' must be \"return-pages\" or \"returned-page\"");
        }
        if (E.contains("when_flag")) {
          const json &Fl = E["when_flag"];
          if (!Fl.is_object() || !R.str(Fl, "name", W + " when_flag", F.WhenFlagName) ||
              !R.uns(Fl, "arg", W + " when_flag", F.WhenFlagArg, true))
            return R.fail(W, "'when_flag' must be {\"arg\": N, \"name\": \"FLAG\"}");
        }
        New.Acquires[Name] = F;
        return true;
      }) &&
      R.table(Doc, "sinks", [&](const json &E, const std::string &Name, const std::string &W) {
        SinkFn F;
        F.Name = Name;
        unsigned Container = ~0u;
        if (!R.uns(E, "arg", W, F.Arg, true) || !R.str(E, "owner", W, F.Owner) ||
            !R.uns(E, "container_arg", W, Container, false))
          return false;
        if (Container != ~0u)
          F.ContainerArg = Container;
        if (E.contains("success")) {
          std::string S;
          if (!R.str(E, "success", W, S))
            return false;
          if (S == "always") F.Success = SinkFn::Always;
          else if (S == "nonzero") F.Success = SinkFn::WhenNonZero;
          else if (S == "zero") F.Success = SinkFn::WhenZero;
          else return R.fail(W, "'success' must be always, nonzero or zero");
        }
        if (E.contains("takes_own_ref")) {
          if (!E["takes_own_ref"].is_boolean())
            return R.fail(W, "'takes_own_ref' must be true or false");
          F.TakesOwnRef = E["takes_own_ref"].get<bool>();
        }
        unsigned Flag = ~0u;
        if (!R.uns(E, "not_kept_flag_arg", W, Flag, false))
          return false;
        if (Flag != ~0u)
          F.NotKeptFlagArg = Flag;
        if (E.contains("when_flag")) {
          const json &Fl = E["when_flag"];
          if (!Fl.is_object() || !R.str(Fl, "name", W + " when_flag", F.WhenFlagName) ||
              !R.uns(Fl, "arg", W + " when_flag", F.WhenFlagArg, true))
            return R.fail(W, "'when_flag' must be {\"arg\": N, \"name\": \"FLAG\"}");
        }
        New.Sinks[Name] = F;
        return true;
      }) &&
      R.table(Doc, "allocators", [&](const json &E, const std::string &Name, const std::string &W) {
        AllocatorFn F;
        F.Name = Name;
        if (E.contains("zeroed")) {
          if (!E["zeroed"].is_boolean())
            return R.fail(W, "'zeroed' must be true or false");
          F.Zeroed = E["zeroed"].get<bool>();
        }
        New.Allocators[Name] = F;
        return true;
      }) &&
      R.table(Doc, "iter_flag_masks", [&](const json &E, const std::string &Name, const std::string &W) {
        IterFlagMask F;
        F.Name = Name;
        if (!R.str(E, "flags_field", W, F.FlagsField) || !R.str(E, "iter_field", W, F.IterField) ||
            !R.kinds(E, "kinds", W, F.Kinds))
          return false;
        New.FlagMasks[Name] = F;
        return true;
      }) &&
      R.table(Doc, "iter_param_contracts", [&](const json &E, const std::string &Name, const std::string &W) {
        IterParamContract F;
        F.Name = Name;
        if (!R.uns(E, "arg", W, F.Arg, true) || !R.kinds(E, "kinds", W, F.Kinds) || !R.str(E, "why", W, F.Why))
          return false;
        New.ParamContracts[Name + "#" + std::to_string(F.Arg)] = F;
        return true;
      }) &&
      R.table(Doc, "container_getters", [&](const json &E, const std::string &Name, const std::string &W) {
        ContainerGetterFn F;
        F.Name = Name;
        if (!R.uns(E, "arg", W, F.Arg, true))
          return false;
        New.Getters[Name] = F;
        return true;
      });
  if (!Ok)
    return R.Error;

  auto StringList = [&](const char *Key, llvm::StringMap<bool> &Into) -> bool {
    auto It = Doc.find(Key);
    if (It == Doc.end())
      return true;
    if (!It->is_array())
      return R.fail(Key, "must be a list of strings");
    for (const json &S : *It) {
      if (!S.is_string())
        return R.fail(Key, "must be a list of strings");
      Into[S.get<std::string>()] = true;
    }
    return true;
  };
  if (!StringList("iter_type_getters", New.TypeGetters) || !StringList("iterator_ops", New.IteratorOps) ||
      !StringList("ref_dropping_owners", New.RefDroppingOwners) ||
      !StringList("page_views", New.PageViews) || !StringList("page_users", New.PageUsers) ||
      !StringList("container_fields", New.ContainerFields) ||
      !StringList("completion_fields", New.CompletionFields) || !StringList("wait_functions", New.WaitFunctions) ||
      !StringList("free_functions", New.FreeFunctions) || !StringList("page_handles", New.PageHandles) ||
      !StringList("sync_kiocb_inits", New.SyncKiocbInits) || !StringList("sync_kiocb_tests", New.SyncKiocbTests) ||
      !StringList("refcount_puts", New.RefcountPuts))
    return R.Error;
  if (auto It = Doc.find("conditional_release_markers"); It != Doc.end()) {
    llvm::StringMap<bool> Markers;
    if (!StringList("conditional_release_markers", Markers))
      return R.Error;
    for (auto &M : Markers)
      if (!llvm::is_contained(New.ReleaseMarkers, M.first()))
        New.ReleaseMarkers.push_back(M.first().str());
    llvm::sort(New.ReleaseMarkers);
  }
  if (auto It = Doc.find("iter_flag_fields"); It != Doc.end()) {
    if (!It->is_object())
      return (Origin + ": iter_flag_fields: must be an object").str();
    for (auto &[Field, Kinds] : It->items()) {
      json Wrap = {{"kinds", Kinds}};
      IterKindSet S;
      if (!R.kinds(Wrap, "kinds", "iter_flag_fields." + Field, S))
        return R.Error;
      New.FlagFields[Field] = S;
    }
  }
  for (auto [Key, Into] : {std::pair<const char *, llvm::StringMap<std::string> *>{"owner_records", &New.OwnerRecords},
                            {"owner_notes", &New.OwnerNotes}}) {
    auto It = Doc.find(Key);
    if (It == Doc.end())
      continue;
    if (!It->is_object())
      return (Origin + ": " + Key + ": must be an object").str();
    for (auto &[Name, Value] : It->items()) {
      if (!Value.is_string())
        return (Origin + ": " + Key + "." + Name + ": must be a string").str();
      (*Into)[Name] = Value.get<std::string>();
    }
  }
  New.Sources += Origin.str() + "\n" + Text.str() + "\n";
  *this = std::move(New);
  return std::nullopt;
}

template <typename T> static const T *lookup(const llvm::StringMap<T> &M, llvm::StringRef N) {
  auto It = M.find(N);
  return It == M.end() ? nullptr : &It->second;
}

const GetPagesFn *ApiModel::getPages(llvm::StringRef N) const { return lookup(GetPages, N); }
const IterConstructorFn *ApiModel::iterConstructor(llvm::StringRef N) const { return lookup(Constructors, N); }
const IterGuardFn *ApiModel::iterGuard(llvm::StringRef N) const { return lookup(Guards, N); }
const ReleaseFn *ApiModel::release(llvm::StringRef N) const { return lookup(Releases, N); }
const AcquireFn *ApiModel::acquire(llvm::StringRef N) const { return lookup(Acquires, N); }
const SinkFn *ApiModel::sink(llvm::StringRef N) const { return lookup(Sinks, N); }
const ContainerGetterFn *ApiModel::containerGetter(llvm::StringRef N) const { return lookup(Getters, N); }
const AllocatorFn *ApiModel::allocator(llvm::StringRef N) const { return lookup(Allocators, N); }
bool ApiModel::isIterTypeGetter(llvm::StringRef N) const { return TypeGetters.count(N); }
bool ApiModel::isIteratorOp(llvm::StringRef N) const { return IteratorOps.count(N); }
bool ApiModel::ownerDropsRefs(llvm::StringRef O) const { return RefDroppingOwners.count(O); }
std::optional<IterKindSet> ApiModel::iterFlagField(llvm::StringRef F) const {
  auto It = FlagFields.find(F);
  if (It == FlagFields.end())
    return std::nullopt;
  return It->second;
}
std::vector<const IterFlagMask *> ApiModel::iterFlagMasks(llvm::StringRef FlagsField) const {
  std::vector<const IterFlagMask *> R;
  for (auto &E : FlagMasks)
    if (E.second.FlagsField == FlagsField)
      R.push_back(&E.second);
  return R;
}
const IterParamContract *ApiModel::iterParamContract(llvm::StringRef Function, unsigned Arg) const {
  auto It = ParamContracts.find((Function + "#" + llvm::Twine(Arg)).str());
  return It == ParamContracts.end() ? nullptr : &It->second;
}
llvm::StringRef ApiModel::ownerNote(llvm::StringRef O) const {
  auto It = OwnerNotes.find(O);
  return It == OwnerNotes.end() ? llvm::StringRef() : llvm::StringRef(It->second);
}

llvm::StringRef ApiModel::ownerOfRecord(llvm::StringRef R) const {
  auto It = OwnerRecords.find(R);
  return It == OwnerRecords.end() ? llvm::StringRef() : llvm::StringRef(It->second);
}

std::vector<std::string> ApiModel::trackedNames() const {
  std::vector<std::string> R;
  for (auto &E : GetPages) R.push_back(E.first().str());
  for (auto &E : Acquires) R.push_back(E.first().str());
  for (auto &E : Constructors)
    if (E.second.Kinds.contains(IterKind::Bvec))
      R.push_back(E.first().str());
  llvm::sort(R);
  return R;
}

std::vector<std::string> ApiModel::allFunctionNames() const {
  std::vector<std::string> R;
  auto Add = [&](const auto &Map) {
    for (auto &E : Map)
      R.push_back(E.first().str());
  };
  Add(GetPages), Add(Constructors), Add(Guards), Add(Releases), Add(Acquires), Add(Sinks), Add(Getters);
  Add(PageViews), Add(PageUsers), Add(WaitFunctions), Add(TypeGetters), Add(FreeFunctions), Add(PageHandles);
  llvm::sort(R);
  R.erase(std::unique(R.begin(), R.end()), R.end());
  return R;
}

std::string ApiModel::digest() const {
  auto Hash = llvm::SHA256::hash(llvm::arrayRefFromStringRef(Sources));
  return llvm::toHex(llvm::ArrayRef<uint8_t>(Hash).take_front(12), /*LowerCase=*/true);
}

} // namespace pageref
