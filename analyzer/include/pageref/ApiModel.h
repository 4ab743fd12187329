// The API model: which kernel functions make iterators, narrow their kind, take
// page references, release them or take them over. It is data (JSON), loaded
// from the built-in table plus user files, so a driver's own wrappers can be
// taught without recompiling.
#pragma once

#include "pageref/IterKind.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace pageref {

/// Which kind of page reference a function takes or drops.
enum class ReleaseFamily {
  Ref,          // FOLL_GET: get_page(), get_user_pages*(), iov_iter_get_pages2()
  Pin,          // FOLL_PIN: pin_user_pages*(), unpin_user_page*()
  PinIfWillPin, // iov_iter_extract_pages(): pins iff iov_iter_extract_will_pin()
  Bio,          // bio_release_pages(): drops or unpins by the bio's own flags
  Free,         // __free_page(), free_pages(): the page allocator's, never for GUP pages
};
llvm::StringRef familyName(ReleaseFamily F);
std::optional<ReleaseFamily> parseFamily(llvm::StringRef S);

/// How a get-pages call hands its pages back.
enum class PagesOut { Array, Allocated, ArrayOrAllocated };

struct GetPagesFn {
  std::string Name;
  unsigned IterArg = 0;
  unsigned PagesArg = 1;
  PagesOut Pages = PagesOut::Array;
  ReleaseFamily Family = ReleaseFamily::Ref;
};

struct IterConstructorFn {
  std::string Name;
  unsigned IterArg = 0;
  IterKindSet Kinds;
};

struct IterGuardFn {
  std::string Name;
  IterKindSet Kinds;
  bool WillPin = false; // iov_iter_extract_will_pin(): also says "pages are pinned"
};

/// A flag that, set in a struct, says which kinds its iterator can be:
/// `msg->msg_flags & MSG_SPLICE_PAGES` means `msg->msg_iter` holds kernel pages.
struct IterFlagMask {
  std::string Name;       // the flag's macro or enumerator (MSG_SPLICE_PAGES)
  std::string FlagsField; // the field tested (msg_flags)
  std::string IterField;  // the iterator field of the same struct (msg_iter)
  IterKindSet Kinds;      // the kinds the iterator can be when the flag is set
};

/// What every caller of a function of another file passes as one iterator
/// parameter (skb_splice_from_iter(): MSG_SPLICE_PAGES iterators only).
struct IterParamContract {
  std::string Name; // the function
  unsigned Arg = 0;
  IterKindSet Kinds;
  std::string Why;
};

enum class ReleaseShape { Page, Folio, Array, List, Bio };
struct ReleaseFn {
  std::string Name;
  ReleaseFamily Family = ReleaseFamily::Ref;
  ReleaseShape Shape = ReleaseShape::Page;
  unsigned Arg = 0;
  std::optional<unsigned> CountArg;
};

struct AcquireFn {
  std::string Name;
  ReleaseFamily Family = ReleaseFamily::Ref;
  std::optional<unsigned> PagesArg; // out array; when absent, the `struct page **` argument
  std::optional<unsigned> Arg;      // the page, for get_page()-style single references
  bool ReturnsCount = false;        // returns the number of pages obtained (or -errno)
  bool ReturnsPage = false;         // returns the page, referenced (NULL or ERR_PTR() when it fails)
  std::string WhenFlagName;         // ... only when argument WhenFlagArg names this flag (follow_page(FOLL_GET))
  unsigned WhenFlagArg = 0;
  std::optional<unsigned> NrArg;    // how many pages were asked for
};

/// A function that takes over pages passed to it (bio_add_page, sg_set_page...).
struct SinkFn {
  std::string Name;
  unsigned Arg = 0;
  std::string Owner; // "bio", "skb-frags", "scatterlist", "pipe-buffers", ...
  std::optional<unsigned> ContainerArg; // the object that now holds the page (the bio, the sg entry)
  // When it keeps the page: always, or as its result says (bio_add_page()
  // returns the length it added or 0; sg_alloc_table_from_pages() 0 on success).
  enum SuccessRule { Always, WhenNonZero, WhenZero } Success = Always;
  // It takes its own reference (get_page()): the caller's stays the caller's.
  bool TakesOwnRef = false;
  // It takes the reference over only when argument WhenFlagArg names the
  // flag WhenFlagName (memory_failure(pfn, MF_COUNT_INCREASED)).
  std::string WhenFlagName;
  unsigned WhenFlagArg = 0;
  // A `bool *` argument the sink sets when it merged the page into one it
  // already holds (bio_add_hw_page(..., &same_page)): the caller's
  // reference is then still the caller's to drop.
  std::optional<unsigned> NotKeptFlagArg;
};

/// A function that returns memory this function then owns.
struct AllocatorFn {
  std::string Name;
  bool Zeroed = false; // kzalloc(): every field starts 0
};

/// A function that reads a page back out of a container: sg_page(sg).
struct ContainerGetterFn {
  std::string Name;
  unsigned Arg = 0;
};

class ApiModel {
public:
  /// The built-in table only.
  static ApiModel builtin();

  /// Merge a JSON document (same layout as the built-in table). Entries with a
  /// name already present replace the old one. On error returns a message that
  /// names \p Origin and what is wrong, and leaves the model unchanged.
  std::optional<std::string> mergeJson(llvm::StringRef Text, llvm::StringRef Origin);
  /// Read and merge a file; the error names the file.
  std::optional<std::string> mergeFile(llvm::StringRef Path);

  const GetPagesFn *getPages(llvm::StringRef Name) const;
  const IterConstructorFn *iterConstructor(llvm::StringRef Name) const;
  const IterGuardFn *iterGuard(llvm::StringRef Name) const;
  const ReleaseFn *release(llvm::StringRef Name) const;
  const AcquireFn *acquire(llvm::StringRef Name) const;
  const SinkFn *sink(llvm::StringRef Name) const;
  const ContainerGetterFn *containerGetter(llvm::StringRef Name) const;
  const AllocatorFn *allocator(llvm::StringRef Name) const;
  /// kfree(), kvfree(), vfree(): free memory (a page array, a struct).
  bool isFreeFunction(llvm::StringRef Name) const { return FreeFunctions.count(Name); }
  /// A number or address that stands for the page (page_to_pfn()): storing
  /// it keeps the page as much as storing the pointer.
  bool isPageHandle(llvm::StringRef Name) const { return PageHandles.count(Name); }
  /// Functions that return (a view of) the same page: compound_head(), page_folio().
  bool isPageView(llvm::StringRef Name) const { return PageViews.count(Name); }
  /// Fields that hold a completion callback (ki_complete, bi_end_io, ...).
  bool isCompletionField(llvm::StringRef Name) const { return CompletionFields.count(Name); }
  /// Functions that wait for outstanding I/O (wait_for_completion*, ...).
  bool isWaitFunction(llvm::StringRef Name) const { return WaitFunctions.count(Name); }
  /// init_sync_kiocb(): the kiocb's completion is NULL afterwards.
  bool isSyncKiocbInit(llvm::StringRef Name) const { return SyncKiocbInits.count(Name); }
  /// refcount_dec_and_test(), kref_put(): a drop under one is the last of
  /// shared owners (the submitter and the completion), not a drop after submitting.
  bool isRefcountPut(llvm::StringRef Name) const { return RefcountPuts.count(Name); }
  /// is_sync_kiocb(): true when the kiocb has no completion.
  bool isSyncKiocbTest(llvm::StringRef Name) const { return SyncKiocbTests.count(Name); }
  /// Fields that hold a page inside a container (bio_vec::bv_page).
  bool isContainerField(llvm::StringRef Name) const { return ContainerFields.count(Name); }
  /// Functions that use a page (or free the array holding it) without keeping it.
  bool isPageUser(llvm::StringRef Name) const { return PageUsers.count(Name); }
  bool isIterTypeGetter(llvm::StringRef Name) const;
  /// Kinds implied by a true test of a flag field of struct iov_iter (user_backed).
  std::optional<IterKindSet> iterFlagField(llvm::StringRef Field) const;
  /// The flag masks that test \p FlagsField (msg_flags).
  std::vector<const IterFlagMask *> iterFlagMasks(llvm::StringRef FlagsField) const;
  /// The iterator kinds \p Function's parameter \p Arg receives by contract.
  const IterParamContract *iterParamContract(llvm::StringRef Function, unsigned Arg) const;
  bool isIteratorOp(llvm::StringRef FieldName) const;
  /// The owner a record type stands for when pages are stored into it
  /// (pipe_buffer -> pipe-buffers); empty if none.
  llvm::StringRef ownerOfRecord(llvm::StringRef RecordName) const;
  /// Owners that drop page references themselves, independently of whoever
  /// owns the iterator (pipe buffers, skb frags, sk_msg).
  bool ownerDropsRefs(llvm::StringRef Owner) const;
  /// Why an owner keeps or drops references, for messages.
  llvm::StringRef ownerNote(llvm::StringRef Owner) const;

  const llvm::StringMap<IterConstructorFn> &iterConstructors() const { return Constructors; }
  const llvm::StringMap<GetPagesFn> &getPagesFns() const { return GetPages; }
  const llvm::StringMap<AcquireFn> &acquireFns() const { return Acquires; }
  const llvm::StringMap<ReleaseFn> &releaseFns() const { return Releases; }
  /// Tokens that, in the condition guarding a release, mean the release
  /// already depends on the iterator kind or on the pin state.
  const std::vector<std::string> &conditionalReleaseMarkers() const { return ReleaseMarkers; }

  /// Every function name the model knows, for prefilters.
  std::vector<std::string> trackedNames() const;
  /// Every function name of every table (acquire, release, sinks, views,
  /// waits, ...): a body that names none of them means nothing to a check.
  std::vector<std::string> allFunctionNames() const;
  /// A stable digest of the model's content (cache keys, fact files).
  std::string digest() const;

private:
  llvm::StringMap<GetPagesFn> GetPages;
  llvm::StringMap<IterConstructorFn> Constructors;
  llvm::StringMap<IterGuardFn> Guards;
  llvm::StringMap<ReleaseFn> Releases;
  llvm::StringMap<AcquireFn> Acquires;
  llvm::StringMap<SinkFn> Sinks;
  llvm::StringMap<ContainerGetterFn> Getters;
  llvm::StringMap<AllocatorFn> Allocators;
  llvm::StringMap<bool> FreeFunctions;
  llvm::StringMap<bool> PageHandles;
  llvm::StringMap<bool> PageViews;
  llvm::StringMap<bool> PageUsers;
  llvm::StringMap<bool> ContainerFields;
  llvm::StringMap<bool> CompletionFields;
  llvm::StringMap<bool> WaitFunctions;
  llvm::StringMap<bool> SyncKiocbInits;
  llvm::StringMap<bool> SyncKiocbTests;
  llvm::StringMap<bool> RefcountPuts;
  llvm::StringMap<bool> TypeGetters;
  llvm::StringMap<IterKindSet> FlagFields;
  llvm::StringMap<IterFlagMask> FlagMasks;
  llvm::StringMap<IterParamContract> ParamContracts; // "function#arg"
  llvm::StringMap<bool> IteratorOps;
  llvm::StringMap<std::string> OwnerRecords;
  llvm::StringMap<std::string> OwnerNotes;
  llvm::StringMap<bool> RefDroppingOwners;
  std::vector<std::string> ReleaseMarkers;
  std::string Sources; // the merged texts, for digest()
};

} // namespace pageref
