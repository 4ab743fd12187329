// Iterator kinds (enum iter_type in include/linux/uio.h) as a small set.
#pragma once

#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>
#include <vector>

namespace pageref {

enum class IterKind : unsigned {
  Iovec = 0,
  Ubuf,
  Bvec,
  Kvec,
  Xarray,
  Pipe,
  Discard,
  Folioq, // 6.12
};
constexpr unsigned NumIterKinds = 8;

llvm::StringRef iterKindName(IterKind K); // "IOVEC", "BVEC", ...
std::optional<IterKind> parseIterKind(llvm::StringRef Name); // accepts "ITER_BVEC" too

class IterKindSet {
public:
  IterKindSet() = default;
  static IterKindSet all() { return IterKindSet((1u << NumIterKinds) - 1); }
  static IterKindSet of(IterKind K) { return IterKindSet(1u << unsigned(K)); }
  static IterKindSet userBacked() { return of(IterKind::Iovec) | of(IterKind::Ubuf); }

  bool contains(IterKind K) const { return Bits & (1u << unsigned(K)); }
  bool empty() const { return Bits == 0; }
  bool isAll() const { return Bits == all().Bits; }
  bool subsetOf(IterKindSet O) const { return (Bits & ~O.Bits) == 0; }
  IterKindSet operator|(IterKindSet O) const { return IterKindSet(Bits | O.Bits); }
  IterKindSet operator&(IterKindSet O) const { return IterKindSet(Bits & O.Bits); }
  IterKindSet operator~() const { return IterKindSet(~Bits & all().Bits); }
  bool operator==(IterKindSet O) const { return Bits == O.Bits; }
  bool operator!=(IterKindSet O) const { return Bits != O.Bits; }
  /// Kinds for which iov_iter_get_pages2() would take references
  /// (KVEC and DISCARD fail with -EFAULT).
  IterKindSet referenceable() const { return *this & ~(of(IterKind::Kvec) | of(IterKind::Discard)); }

  unsigned bits() const { return Bits; }
  static IterKindSet fromBits(unsigned B) { return IterKindSet(B & all().Bits); }

  std::vector<std::string> names() const;
  std::string str() const; // "IOVEC|UBUF" or "none"

private:
  explicit IterKindSet(unsigned B) : Bits(B) {}
  unsigned Bits = 0;
};

} // namespace pageref
