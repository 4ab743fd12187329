// The abstract state of one path through a function, as the reference-flow
// engine follows one acquisition: who owns the pages, and what the path knows
// about the variables, fields and conditions that decide where it goes next
// (the acquisition's result, status codes, flags, NULL-ness, iterator kinds).
//
// This is property simulation in the manner of ESP (Das, Lerner, Seigle,
// PLDI 2002): the property (ownership of the pages) is tracked exactly, the
// program values only as far as the function's own tests read them, and
// paths are kept apart while they differ in either. A block's state is a set
// of such configurations; joins are set union, bounded by a cap beyond which
// configurations with the same ownership are merged.
#pragma once

#include "pageref/ApiModel.h"
#include "pageref/IterKind.h"

#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace pageref::refflow {

using AtomId = uint32_t;

/// Classes of an integer (or of a pointer: Zero is NULL, Neg an ERR_PTR()).
enum SignBits : uint8_t { Neg = 1, Zero = 2, Pos = 4, AnySign = 7 };

/// What one path knows about one atom.
struct Value {
  enum Kind : uint8_t {
    Signs,    // one of the sign classes in S
    Const,    // exactly C
    Alias,    // the value of symbol Sym (the acquisition's result, a call's result)
    Kinds,    // an iterator whose kind is one of KindBits
    KindTest, // a truth value: "the iterator of symbol Sym is one of KindBits"
  };
  Kind K = Signs;
  uint8_t S = AnySign;
  uint16_t KindBits = 0;
  int64_t C = 0;
  AtomId Sym = 0;

  static Value signs(uint8_t S) { Value V; V.S = S; return V; }
  static Value constant(int64_t C) { Value V; V.K = Const; V.C = C; return V; }
  static Value alias(AtomId Sym) { Value V; V.K = Alias; V.Sym = Sym; return V; }
  static Value kinds(uint16_t Bits) { Value V; V.K = Kinds; V.KindBits = Bits; return V; }
  static Value kindTest(AtomId Iter, uint16_t Bits) { Value V; V.K = KindTest; V.Sym = Iter; V.KindBits = Bits; return V; }

  bool operator==(const Value &O) const {
    return K == O.K && S == O.S && KindBits == O.KindBits && C == O.C && Sym == O.Sym;
  }
  bool operator!=(const Value &O) const { return !(*this == O); }
  /// The sign classes of a Const or Signs value.
  uint8_t signClasses() const {
    if (K == Const)
      return uint8_t(C < 0 ? Neg : C == 0 ? Zero : Pos);
    return K == Signs ? S : uint8_t(AnySign);
  }
};

/// Who owns the tracked pages on one path.
enum class Own : uint8_t {
  NotAcquired, // nothing taken yet, or the acquisition failed
  Held,        // this function holds them
  Released,    // dropped (RelFam says how)
  HandedOff,   // given to an owner that outlives the function
  Pending,     // given to a call that keeps them only if it succeeds (Container: its result symbol)
  Lost,        // held, but the only pointer to them was overwritten
  StoredIn,    // stored into an object this function allocated (Container: that object's atom)
  NotPinned,   // iov_iter_extract_pages() from an iterator that is not user-backed: pages, no pins
};

/// One configuration: an abstract path.
struct Config {
  Own Ref = Own::NotAcquired;
  bool Prior = false;    // held from an earlier execution of the acquisition (loop iterations)
  bool Recorded = false; // the path told the pages' owner about them (an out-count, a state field)
  bool OwnerGone = false; // the struct whose storage holds them was freed
  bool Parked = false;    // the page was given to an owner before the reference for it was taken
  bool OwnRef = false;    // summaries: the function took a reference of its own on the page
  bool HandedBefore = false; // an earlier execution of the acquisition handed its pages off (loop iterations)
  bool Failed = false;    // NotAcquired because the acquisition's result said it took nothing
  bool Kept = false;      // held, but something may keep them too (an unknown callee, a stored pfn):
                          // not a leak at the exit, still checked at every release
  ReleaseFamily RelFam = ReleaseFamily::Ref;
  AtomId Container = 0;
  AtomId KeepFlag = 0; // a sink's `*same_page`: when true the sink did not keep the caller's reference
  bool Undisposed = false; // an element a loop did not dispose of (a merged same_page) is still held
  llvm::SmallVector<std::pair<AtomId, Value>, 6> Facts; // sorted by atom
  // Names of the pages (local pointers) that on this path were pointed at
  // something else since (`page = find_lock_page(...)` in a loop).
  llvm::SmallVector<const void *, 2> DeadNames;
  uint32_t Witness = 0; // path notes (WitnessTable); not part of the identity

  const Value *get(AtomId A) const {
    auto It = std::lower_bound(Facts.begin(), Facts.end(), A,
                               [](const std::pair<AtomId, Value> &P, AtomId X) { return P.first < X; });
    return It != Facts.end() && It->first == A ? &It->second : nullptr;
  }
  void set(AtomId A, Value V) {
    auto It = std::lower_bound(Facts.begin(), Facts.end(), A,
                               [](const std::pair<AtomId, Value> &P, AtomId X) { return P.first < X; });
    if (It != Facts.end() && It->first == A)
      It->second = V;
    else
      Facts.insert(It, {A, V});
  }
  void erase(AtomId A) {
    auto It = std::lower_bound(Facts.begin(), Facts.end(), A,
                               [](const std::pair<AtomId, Value> &P, AtomId X) { return P.first < X; });
    if (It != Facts.end() && It->first == A)
      Facts.erase(It);
  }
  bool sameAs(const Config &O) const {
    return sameOwnership(O) && Facts == O.Facts;
  }
  bool sameOwnership(const Config &O) const {
    return Ref == O.Ref && Prior == O.Prior && Recorded == O.Recorded && RelFam == O.RelFam &&
           Container == O.Container && OwnerGone == O.OwnerGone && Parked == O.Parked && Kept == O.Kept && Failed == O.Failed && HandedBefore == O.HandedBefore &&
           OwnRef == O.OwnRef && KeepFlag == O.KeepFlag && Undisposed == O.Undisposed &&
           DeadNames == O.DeadNames;
  }
  /// Every path this configuration stands for is one \p O stands for too:
  /// same ownership, and what \p O knows this one knows at least as precisely.
  bool within(const Config &O) const {
    if (!sameOwnership(O))
      return false;
    for (auto &[A, V] : O.Facts) {
      const Value *Mine = get(A);
      if (!Mine)
        return false;
      if (*Mine == V)
        continue;
      bool Numeric = (V.K == Value::Signs) && (Mine->K == Value::Signs || Mine->K == Value::Const);
      if (!Numeric || (Mine->signClasses() & ~V.S))
        return false;
    }
    return true;
  }
  bool holds() const { return Ref == Own::Held || Ref == Own::Lost || Ref == Own::StoredIn; }
};

/// The configurations reaching one point.
struct ConfigSet {
  std::vector<Config> All;
  /// Adds \p C unless a configuration that covers it is there; true if added.
  bool add(const Config &C) {
    for (const Config &O : All)
      if (C.within(O))
        return false;
    All.push_back(C);
    return true;
  }
  bool empty() const { return All.empty(); }
  bool any(Own R) const {
    return std::any_of(All.begin(), All.end(), [&](const Config &C) { return C.Ref == R; });
  }
  bool anyHeld() const {
    return std::any_of(All.begin(), All.end(), [](const Config &C) { return C.holds(); });
  }
  /// Over \p Cap configurations, those with the same ownership are merged:
  /// facts they disagree on are forgotten. Loses correlation, never a path.
  /// Paths that hold nothing and can hold nothing more until the next
  /// acquisition (not acquired, handed off) are always merged.
  void widen(size_t Cap);
};

/// Branches taken on a path, shared between configurations as a tree.
struct WitnessTable {
  struct Node {
    uint32_t Parent;
    const void *Cond; // clang::Expr
    bool Truth;
  };
  std::vector<Node> Nodes{{0, nullptr, false}}; // 0: the root, no branch
  uint32_t push(uint32_t Parent, const void *Cond, bool Truth) {
    Nodes.push_back({Parent, Cond, Truth});
    return uint32_t(Nodes.size() - 1);
  }
  /// The last \p Max branches from the root to \p Leaf, in path order.
  std::vector<std::pair<const void *, bool>> last(uint32_t Leaf, size_t Max) const {
    std::vector<std::pair<const void *, bool>> Out;
    for (uint32_t N = Leaf; N && Out.size() < Max; N = Nodes[N].Parent)
      Out.push_back({Nodes[N].Cond, Nodes[N].Truth});
    std::reverse(Out.begin(), Out.end());
    return Out;
  }
};

} // namespace pageref::refflow
