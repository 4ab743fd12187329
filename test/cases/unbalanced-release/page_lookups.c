// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: single-page references on pages found elsewhere (6.1): follow_page(FOLL_GET) in
// mm/huge_memory.c:split_huge_pages_pid(), and get_page() on a page looked up in a driver's
// receive ring in drivers/net/ethernet/sun/niu.c:niu_process_rx_pkt().
#include <linux/mm.h>
#include <linux/err.h>
#include <linux/errno.h>

struct vm_area_struct;
struct mm_struct;
struct page *follow_page(struct vm_area_struct *vma, unsigned long address, unsigned int foll_flags);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);
bool is_transparent_hugepage(struct page *page);
bool trylock_page(struct page *page);
void unlock_page(struct page *page);
int split_huge_page(struct page *page);

// CASE NEGATIVE unbalanced-release: modelled on mm/huge_memory.c:split_huge_pages_pid() in 6.1
// follow_page() with FOLL_GET returns the page referenced, or NULL / an ERR_PTR() that holds
// nothing: the IS_ERR_OR_NULL() test skips those, every other path puts the page at `next`.
static int split_pages_in_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long addr;
	int split = 0;

	for (addr = start; addr < end; addr += 4096) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct page *page;

		if (!vma)
			break;
		page = follow_page(vma, addr, FOLL_GET | FOLL_DUMP);
		if (IS_ERR_OR_NULL(page))
			continue;
		if (!is_transparent_hugepage(page))
			goto next;
		if (!trylock_page(page))
			goto next;
		if (!split_huge_page(page))
			split++;
		unlock_page(page);
next:
		put_page(page);
		cond_resched();
	}
	return split;
}

// CASE POSITIVE unbalanced-release: mutation of mm/huge_memory.c:split_huge_pages_pid() in 6.1
// The lock failure leaves the loop and the function with the follow_page() reference held.
static int split_pages_in_range_lock_fail(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long addr;
	int split = 0;

	for (addr = start; addr < end; addr += 4096) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct page *page;

		if (!vma)
			break;
		page = follow_page(vma, addr, FOLL_GET | FOLL_DUMP);
		if (IS_ERR_OR_NULL(page))
			continue;
		if (!trylock_page(page))
			return -EBUSY;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
		if (!split_huge_page(page))
			split++;
		unlock_page(page);
		put_page(page);
	}
	return split;
}

struct rx_ring {
	struct page **rxhash;
	unsigned int refill_pending;
	unsigned int block_size;
};
struct rx_skb {
	unsigned int len;
};
void rx_skb_append(struct rx_skb *skb, struct page *page, unsigned int off, unsigned int len);
void unmap_rx_page(struct rx_ring *rp, struct page *page);

// helper (not a case), as in niu.c:niu_find_rxpage(): a page of the ring's hash table.
static struct page *find_rxpage(struct rx_ring *rp, unsigned long addr, struct page ***link)
{
	struct page **pp = &rp->rxhash[addr & 15];

	*link = pp;
	return *pp;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/net/ethernet/sun/niu.c:niu_process_rx_pkt() in 6.1
// The page found in the ring goes to the skb with the ring's reference; unless the ring lets
// go of it (the last fragment of the block), get_page() takes a new reference for the ring,
// which still points at the page. Correct code.
static int process_rx_fragment(struct rx_ring *rp, struct rx_skb *skb, unsigned long addr,
			       unsigned int off, unsigned int len)
{
	struct page **link;
	struct page *page = find_rxpage(rp, addr, &link);

	rx_skb_append(skb, page, off, len);
	if (off + len == rp->block_size) {
		*link = NULL;
		unmap_rx_page(rp, page);
		rp->refill_pending++;
	} else {
		get_page(page);
	}
	return 1;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/net/ethernet/sun/niu.c:niu_process_rx_pkt() in 6.1
// A reference taken on a page of the ring and then an error return: neither the ring nor the
// skb got it, and nothing drops it.
static int process_rx_fragment_bad_len(struct rx_ring *rp, struct rx_skb *skb, unsigned long addr,
				       unsigned int off, unsigned int len)
{
	struct page **link;
	struct page *page = find_rxpage(rp, addr, &link);

	get_page(page);
	if (len > rp->block_size)
		return -EINVAL;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	rx_skb_append(skb, page, off, len);
	return 1;
}

// CASE NEGATIVE unbalanced-release: modelled on mm/ksm.c:get_mergeable_page() in 6.1
// An anonymous page is returned with its follow_page() reference (the caller puts it); any
// other page is put before the pointer is cleared; a ZONE_DEVICE page has its own exit that
// puts it. Correct code.
static struct page *mergeable_page(struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page;

	page = follow_page(vma, addr, FOLL_GET);
	if (IS_ERR_OR_NULL(page))
		goto out;
	if (is_zone_device_page(page))
		goto out_putpage;
	if (PageAnon(page)) {
		flush_dcache_page(page);
	} else {
out_putpage:
		put_page(page);
out:
		page = NULL;
	}
	return page;
}

// CASE POSITIVE unbalanced-release: modelled on mm/ksm.c:get_mergeable_page() before f7091ed64ec8
// The ZONE_DEVICE test joined the no-page exit: `page = NULL` overwrites the only pointer
// to a referenced page, and NULL is returned; the reference is never put.
static struct page *mergeable_page_zone_device(struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page;

	page = follow_page(vma, addr, FOLL_GET);
	if (IS_ERR_OR_NULL(page) || is_zone_device_page(page))
		goto out;
	if (PageAnon(page)) {
		flush_dcache_page(page);
	} else {
		put_page(page);
out:
		page = NULL;
	}
	return page;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}
