/* The page-reference API of include/linux/mm.h (6.1; 6.12 with CASES_6_12): the get/pin
 * families, their releases, folios and pfns. Declarations only, as pageref sees them in a real
 * tree (get_page()/put_page() are static inlines there; bodies do not matter to the corpus). */
#ifndef _CASES_LINUX_MM_H
#define _CASES_LINUX_MM_H
#include <linux/kernel.h>
#include <linux/mm_types.h>
#include <linux/gfp.h>
#include <linux/sched.h>
#include <linux/mmap_lock.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)
#define PAGE_ALIGNED(addr) IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_PHYS(x) ((phys_addr_t)(x) << PAGE_SHIFT)
#define PHYS_PFN(x) ((unsigned long)((x) >> PAGE_SHIFT))

#define VM_READ 0x00000001
#define VM_WRITE 0x00000002
#define VM_SHARED 0x00000008
#define VM_IO 0x00004000
#define VM_PFNMAP 0x00000400
#define VM_MAYWRITE 0x00000020

#ifndef CASES_6_12
#define FOLL_WRITE 0x01
#define FOLL_TOUCH 0x02
#define FOLL_GET 0x04
#define FOLL_DUMP 0x08
#define FOLL_FORCE 0x10
#define FOLL_NOWAIT 0x20
#define FOLL_NOFAULT 0x80
#define FOLL_HWPOISON 0x100
#define FOLL_MIGRATION 0x400
#define FOLL_TRIED 0x800
#define FOLL_REMOTE 0x2000
#define FOLL_ANON 0x8000
#define FOLL_LONGTERM 0x10000
#define FOLL_SPLIT_PMD 0x20000
#define FOLL_PIN 0x40000
#define FOLL_FAST_ONLY 0x80000
#else
enum {
	FOLL_WRITE = 1 << 0,
	FOLL_GET = 1 << 1,
	FOLL_DUMP = 1 << 2,
	FOLL_FORCE = 1 << 3,
	FOLL_NOWAIT = 1 << 4,
	FOLL_NOFAULT = 1 << 5,
	FOLL_HWPOISON = 1 << 6,
	FOLL_ANON = 1 << 7,
	FOLL_LONGTERM = 1 << 8,
	FOLL_SPLIT_PMD = 1 << 9,
	FOLL_PCI_P2PDMA = 1 << 10,
	FOLL_INTERRUPTIBLE = 1 << 11,
	FOLL_HONOR_NUMA_FAULT = 1 << 12,
};
#endif

struct page *pfn_to_page(unsigned long pfn);
unsigned long page_to_pfn(const struct page *page);
phys_addr_t page_to_phys(struct page *page);
void *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
struct page *vmalloc_to_page(const void *addr);
struct folio *page_folio(struct page *page);
struct page *folio_page(struct folio *folio, unsigned long n);
#define nth_page(page, n) ((page) + (n))
struct page *compound_head(struct page *page);
unsigned long page_size(struct page *page);
bool PageCompound(struct page *page);
bool PageReserved(struct page *page);
bool PageHuge(struct page *page);
bool PageAnon(struct page *page);
bool PageLRU(struct page *page);
bool is_zone_device_page(const struct page *page);
bool pfn_valid(unsigned long pfn);
int page_count(struct page *page);
bool folio_test_large(struct folio *folio);
long folio_nr_pages(struct folio *folio);
size_t folio_size(struct folio *folio);

void get_page(struct page *page);
void put_page(struct page *page);
bool __must_check try_get_page(struct page *page);
bool __must_check try_grab_page(struct page *page, unsigned int flags);
void folio_get(struct folio *folio);
void folio_put(struct folio *folio);
void folio_put_refs(struct folio *folio, int refs);
void release_pages(struct page **pages, int nr);
void put_pages_list(struct list_head *pages);

void unpin_user_page(struct page *page);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty);
void unpin_user_page_range_dirty_lock(struct page *page, unsigned long npages, bool make_dirty);
void unpin_user_pages(struct page **pages, unsigned long npages);
#ifdef CASES_6_12
void unpin_folio(struct folio *folio);
void unpin_user_folio(struct folio *folio, unsigned long npages);
void unpin_folios(struct folio **folios, unsigned long nfolios);
#endif

#ifndef CASES_6_12
long get_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages,
			   struct vm_area_struct **vmas, int *locked);
long pin_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages,
			   struct vm_area_struct **vmas, int *locked);
long get_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
		    struct page **pages, struct vm_area_struct **vmas);
long pin_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
		    struct page **pages, struct vm_area_struct **vmas);
#else
long get_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages, int *locked);
long pin_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages, int *locked);
long get_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
		    struct page **pages);
long pin_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
		    struct page **pages);
#endif
long get_user_pages_unlocked(unsigned long start, unsigned long nr_pages, struct page **pages,
			     unsigned int gup_flags);
long pin_user_pages_unlocked(unsigned long start, unsigned long nr_pages, struct page **pages,
			     unsigned int gup_flags);
int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			struct page **pages);
int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			struct page **pages);
int get_user_pages_fast_only(unsigned long start, int nr_pages, unsigned int gup_flags,
			     struct page **pages);
/* One page, true when it took a reference (include/linux/mm.h). */
static inline bool get_user_page_fast_only(unsigned long addr, unsigned int gup_flags, struct page **pagep)
{
	return get_user_pages_fast_only(addr, 1, gup_flags, pagep) == 1;
}

int account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc);
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);
bool set_page_dirty(struct page *page);
int set_page_dirty_lock(struct page *page);
void mark_page_accessed(struct page *page);
void flush_dcache_page(struct page *page);
void lock_page(struct page *page);
void unlock_page(struct page *page);
bool can_do_mlock(void);
int follow_pfn(struct vm_area_struct *vma, unsigned long address, unsigned long *pfn);

enum mf_flags {
	MF_COUNT_INCREASED = 1 << 0,
	MF_ACTION_REQUIRED = 1 << 1,
	MF_MUST_KILL = 1 << 2,
	MF_SOFT_OFFLINE = 1 << 3,
};
int memory_failure(unsigned long pfn, int flags);
int soft_offline_page(unsigned long pfn, int flags);
#endif
