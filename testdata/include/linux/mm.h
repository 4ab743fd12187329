#ifndef _PAGEREF_TEST_LINUX_MM_H
#define _PAGEREF_TEST_LINUX_MM_H
#include <linux/types.h>
struct page { unsigned long flags; };
struct folio { struct page page; };
struct mm_struct;
struct vm_area_struct;
void get_page(struct page *page);
void put_page(struct page *page);
int page_count(struct page *page);
void folio_get(struct folio *folio);
void folio_put(struct folio *folio);
void release_pages(struct page **pages, int nr);
void set_page_dirty_lock(struct page *page);
void *page_address(const struct page *page);
void *kmap_local_page(struct page *page);
void kunmap_local(const void *addr);
void flush_dcache_page(struct page *page);
long get_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
                    struct page **pages, struct vm_area_struct **vmas);
int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages);
long pin_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
                    struct page **pages, struct vm_area_struct **vmas);
int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages);
void unpin_user_page(struct page *page);
void unpin_user_pages(struct page **pages, unsigned long npages);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty);
#define FOLL_WRITE 0x01
#define FOLL_PIN 0x40000
#endif
