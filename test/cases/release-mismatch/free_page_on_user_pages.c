// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: one-page user accesses (6.1) in drivers/vhost/vhost.c:set_bit_to_user() (pin) and
// drivers/misc/sgi-gru/grufault.c:non_atomic_pte_lookup() (get): user pages must go back
// through unpin_user_page*() / put_page(), never to the page allocator directly.
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/gfp.h>

void set_bit(long nr, volatile void *addr);

// CASE NEGATIVE release-mismatch: modelled on drivers/vhost/vhost.c:set_bit_to_user() in 6.1
// One pinned page, unpinned with unpin_user_pages_dirty_lock(&page, 1, true). Correct code.
static int set_bit_to_user(int nr, void __user *addr)
{
	unsigned long log = (unsigned long)addr;
	struct page *page;
	void *base;
	int bit = nr + (log % PAGE_SIZE) * 8;
	int r;

	r = pin_user_pages_fast(log, 1, FOLL_WRITE, &page);
	if (r < 0)
		return r;
	BUG_ON(r != 1);
	base = kmap_atomic(page);
	set_bit(bit, base);
	kunmap_atomic(base);
	unpin_user_pages_dirty_lock(&page, 1, true);
	return 0;
}

// CASE POSITIVE release-mismatch: mutation of drivers/vhost/vhost.c:set_bit_to_user() in 6.1
// The pinned user page is handed to the page allocator with __free_page(): the pin bias is not
// removed the way unpin_user_page() does, and a page that is still mapped in the process can
// be freed under it.
static int set_bit_to_user_free(int nr, void __user *addr)
{
	unsigned long log = (unsigned long)addr;
	struct page *page;
	void *base;
	int bit = nr + (log % PAGE_SIZE) * 8;
	int r;

	r = pin_user_pages_fast(log, 1, FOLL_WRITE, &page);
	if (r < 0)
		return r;
	BUG_ON(r != 1);
	base = kmap_atomic(page);
	set_bit(bit, base);
	kunmap_atomic(base);
	set_page_dirty_lock(page);
	__free_page(page);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	return 0;
}

// CASE POSITIVE release-mismatch: mutation of drivers/misc/sgi-gru/grufault.c:non_atomic_pte_lookup() in 6.1
// The FOLL_GET reference on a user (LRU, possibly file-backed) page is dropped with
// __free_page(): that frees the page through the buddy allocator instead of put_page()'s
// folio release, which would take it off the LRU and uncharge it.
static int non_atomic_pte_lookup_free(struct vm_area_struct *vma, unsigned long vaddr,
				      int write, unsigned long *paddr, int *pageshift)
{
	struct page *page;

	*pageshift = PAGE_SHIFT;
	if (get_user_pages(vaddr, 1, write ? FOLL_WRITE : 0, &page, NULL) <= 0)
		return -EFAULT;
	*paddr = page_to_phys(page);
	__free_page(page);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	return 0;
}

// CASE NEGATIVE release-mismatch: modelled on kernel/events/uprobes.c:uprobe_write_opcode() in 6.1 (simplified)
// The user page (get_user_pages_remote()) is put with put_page(); the page the function
// allocated itself with alloc_page() is returned in *newp or goes back with __free_page().
// Each page with its own family. Correct code.
static int copy_user_page_to_new(struct mm_struct *mm, unsigned long vaddr, bool keep,
				 struct page **newp)
{
	struct page *old_page, *new_page;
	struct vm_area_struct *vma;
	int ret;

	ret = get_user_pages_remote(mm, vaddr, 1, FOLL_FORCE, &old_page, &vma, NULL);
	if (ret <= 0)
		return ret;

	ret = -ENOMEM;
	new_page = alloc_page(GFP_HIGHUSER);
	if (!new_page)
		goto put_old;

	copy_highpage(new_page, old_page);
	ret = 0;
	if (keep)
		*newp = new_page;
	else
		__free_page(new_page);

put_old:
	put_page(old_page);
	return ret;
}
