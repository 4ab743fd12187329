// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: mm/process_vm_access.c (6.1): process_vm_readv/writev pin the remote pages a batch at a
// time into the caller's scratch array and unpin each batch after copying.
#include <linux/mm.h>
#include <linux/uio.h>

#define PVM_MAX_KMALLOC_PAGES (PAGE_SIZE * 2)

int process_vm_rw_pages(struct page **pages, unsigned offset, size_t len,
			struct iov_iter *iter, int vm_write);

// CASE NEGATIVE unbalanced-release: modelled on mm/process_vm_access.c:process_vm_rw_single_vec() in 6.1
// Each loop iteration pins at most max_pages_per_loop pages and unpins exactly pinned_pages of
// them before the next one; the early return happens only when this iteration pinned nothing
// (pinned_pages <= 0) and every earlier batch is already unpinned. Correct code.
static int process_vm_rw_single_vec(unsigned long addr, unsigned long len,
				    struct iov_iter *iter, struct page **process_pages,
				    struct mm_struct *mm, struct task_struct *task,
				    int vm_write)
{
	unsigned long pa = addr & PAGE_MASK;
	unsigned long start_offset = addr - pa;
	unsigned long nr_pages;
	ssize_t rc = 0;
	unsigned long max_pages_per_loop = PVM_MAX_KMALLOC_PAGES / sizeof(struct pages *);
	unsigned int flags = 0;

	if (len == 0)
		return 0;
	nr_pages = (addr + len - 1) / PAGE_SIZE - addr / PAGE_SIZE + 1;

	if (vm_write)
		flags |= FOLL_WRITE;

	while (!rc && nr_pages && iov_iter_count(iter)) {
		int pinned_pages = min(nr_pages, max_pages_per_loop);
		int locked = 1;
		size_t bytes;

		mmap_read_lock(mm);
		pinned_pages = pin_user_pages_remote(mm, pa, pinned_pages, flags,
						     process_pages, NULL, &locked);
		if (locked)
			mmap_read_unlock(mm);
		if (pinned_pages <= 0)
			return -EFAULT;

		bytes = pinned_pages * PAGE_SIZE - start_offset;
		if (bytes > len)
			bytes = len;

		rc = process_vm_rw_pages(process_pages, start_offset, bytes, iter, vm_write);
		len -= bytes;
		start_offset = 0;
		nr_pages -= pinned_pages;
		pa += pinned_pages * PAGE_SIZE;

		unpin_user_pages_dirty_lock(process_pages, pinned_pages, vm_write);
	}

	return rc;
}

// CASE POSITIVE unbalanced-release: mutation of mm/process_vm_access.c:process_vm_rw_single_vec() in 6.1
// A copy failure returns straight out of the loop, before the batch is unpinned: the pages
// pinned in this iteration stay pinned in the remote process (the scratch array is the
// caller's and is freed without unpinning).
static int process_vm_rw_single_vec_copy_fail(unsigned long addr, unsigned long len,
					      struct iov_iter *iter, struct page **process_pages,
					      struct mm_struct *mm, int vm_write)
{
	unsigned long pa = addr & PAGE_MASK;
	unsigned long start_offset = addr - pa;
	unsigned long nr_pages;
	ssize_t rc = 0;
	unsigned long max_pages_per_loop = PVM_MAX_KMALLOC_PAGES / sizeof(struct pages *);
	unsigned int flags = 0;

	if (len == 0)
		return 0;
	nr_pages = (addr + len - 1) / PAGE_SIZE - addr / PAGE_SIZE + 1;

	if (vm_write)
		flags |= FOLL_WRITE;

	while (nr_pages && iov_iter_count(iter)) {
		int pinned_pages = min(nr_pages, max_pages_per_loop);
		int locked = 1;
		size_t bytes;

		mmap_read_lock(mm);
		pinned_pages = pin_user_pages_remote(mm, pa, pinned_pages, flags,
						     process_pages, NULL, &locked);
		if (locked)
			mmap_read_unlock(mm);
		if (pinned_pages <= 0)
			return -EFAULT;

		bytes = pinned_pages * PAGE_SIZE - start_offset;
		if (bytes > len)
			bytes = len;

		rc = process_vm_rw_pages(process_pages, start_offset, bytes, iter, vm_write);
		if (rc)
			return rc;
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
		len -= bytes;
		start_offset = 0;
		nr_pages -= pinned_pages;
		pa += pinned_pages * PAGE_SIZE;

		unpin_user_pages_dirty_lock(process_pages, pinned_pages, vm_write);
	}

	return rc;
}
