// Atoms: the things a path can know a value of. Variables, `*p`, field paths
// (`vsg->state`), opaque conditions as written (`flags & FOO`, a predicate
// call), and symbols: the result of a particular call (the acquisition's
// count, a constructor's pointer), the kind of an iterator.
#pragma once

#include "PathState.h"

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace pageref::refflow {

struct AtomInfo {
  enum Kind : uint8_t {
    Var,       // a variable
    Deref,     // *p
    Path,      // a field path: p->a.b
    Opaque,    // a condition as written: `flags & FOO`, `pred(x)`
    CallOpaque, // an opaque condition that calls a function: forgotten at the next call
    Result,    // the value a call returned (a symbol)
    IterKinds, // the kind of an iterator (a symbol)
    Temp,      // the value of a conditional operator's arm, until its use
    Zeroed,    // "the object p points to was zero-allocated and not written since"
  };
  Kind K = Var;
  std::string Key;
  std::string Text; // as written, for PAGEREF_DEBUG
  const clang::ValueDecl *Root = nullptr; // the variable it reads (invalidation)
  std::vector<const clang::ValueDecl *> Deps; // every variable an opaque condition reads
  bool UnitPos = false;      // a result that is 1 when positive: one page asked for
  bool AllOrNothing = false; // a call that returns all it was asked for, or 0
  bool ZeroMeansSuccess = false; // a call that returns 0 when it took the pages
  // A function whose body this TU does not have: by the kernel's convention
  // a call that fails has kept nothing; FailureClasses say what failing is.
  bool KeepsOnlyOnSuccess = false;
  bool MayQueue = false; // an async submission's result: -EIOCBQUEUED while the I/O runs
  uint8_t FailureClasses = 0;
  bool Pointer = false;      // a pointer value: Zero is NULL, Neg an ERR_PTR()
};

class AtomTable {
public:
  AtomTable() { Infos.push_back({}); } // 0 is no atom
  AtomId intern(const std::string &Key, const AtomInfo &Info) {
    auto [It, New] = Ids.try_emplace(Key, AtomId(Infos.size()));
    if (New) {
      Infos.push_back(Info);
      Infos.back().Key = Key;
      if (Info.Root)
        ByRoot[Info.Root].push_back(It->second);
      for (const clang::ValueDecl *D : Info.Deps)
        if (D != Info.Root)
          ByRoot[D].push_back(It->second);
    }
    return It->second;
  }
  std::optional<AtomId> find(const std::string &Key) const {
    auto It = Ids.find(Key);
    if (It == Ids.end())
      return std::nullopt;
    return It->second;
  }
  const AtomInfo &info(AtomId A) const { return Infos[A]; }
  AtomInfo &info(AtomId A) { return Infos[A]; }
  /// Atoms whose value depends on \p D (its fields, `*D`, conditions reading it).
  const std::vector<AtomId> &readersOf(const clang::ValueDecl *D) const {
    static const std::vector<AtomId> None;
    auto It = ByRoot.find(D);
    return It == ByRoot.end() ? None : It->second;
  }
  size_t size() const { return Infos.size(); }

private:
  llvm::StringMap<AtomId> Ids;
  std::vector<AtomInfo> Infos;
  llvm::DenseMap<const clang::ValueDecl *, std::vector<AtomId>> ByRoot;
};

} // namespace pageref::refflow
