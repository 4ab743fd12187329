// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: net/xdp/xdp_umem.c (6.1): an AF_XDP umem pins the user area into umem->pgs with the
// count in umem->npgs; xdp_umem_unpin_pages() unpins umem->npgs pages, both on the pin's own
// error path and from xdp_umem_release() when the last user goes.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/refcount.h>
#include <linux/list.h>

struct xdp_umem {
	void *addrs;
	u64 size;
	u32 headroom;
	u32 chunk_size;
	u32 chunks;
	u32 npgs;
	struct user_struct *user;
	refcount_t users;
	u8 flags;
	bool zc;
	struct page **pgs;
	int id;
	struct list_head xsk_dma_list;
};

// helper (not a case), as in xdp_umem.c:xdp_umem_unpin_pages(): releases umem->npgs pages.
static void xdp_umem_unpin_pages(struct xdp_umem *umem)
{
	unpin_user_pages_dirty_lock(umem->pgs, umem->npgs, true);

	kvfree(umem->pgs);
	umem->pgs = NULL;
}

// CASE NEGATIVE unbalanced-release: modelled on net/xdp/xdp_umem.c:xdp_umem_pin_pages() in 6.1
// On a short pin the count is rewritten to the partial total (umem->npgs = npgs) and the
// same-file helper xdp_umem_unpin_pages() releases exactly that many; success leaves the pins
// to the umem. A negative result pinned nothing. Correct code.
static int xdp_umem_pin_pages(struct xdp_umem *umem, unsigned long address)
{
	unsigned int gup_flags = FOLL_WRITE;
	long npgs;
	int err;

	umem->pgs = kvcalloc(umem->npgs, sizeof(*umem->pgs), GFP_KERNEL | __GFP_NOWARN);
	if (!umem->pgs)
		return -ENOMEM;

	mmap_read_lock(current->mm);
	npgs = pin_user_pages(address, umem->npgs, gup_flags | FOLL_LONGTERM, &umem->pgs[0], NULL);
	mmap_read_unlock(current->mm);

	if (npgs != umem->npgs) {
		if (npgs >= 0) {
			umem->npgs = npgs;
			err = -ENOMEM;
			goto out_pin;
		}
		err = npgs;
		goto out_pgs;
	}
	return 0;

out_pin:
	xdp_umem_unpin_pages(umem);
out_pgs:
	kvfree(umem->pgs);
	umem->pgs = NULL;
	return err;
}

// CASE POSITIVE unbalanced-release: mutation of net/xdp/xdp_umem.c:xdp_umem_pin_pages() in 6.1
// Both failure kinds share out_pgs: a short pin (npgs >= 0) frees the array without
// xdp_umem_unpin_pages(), so the npgs pages pinned stay pinned with nothing left that names them.
static int xdp_umem_pin_pages_short(struct xdp_umem *umem, unsigned long address)
{
	long npgs;
	int err;

	umem->pgs = kvcalloc(umem->npgs, sizeof(*umem->pgs), GFP_KERNEL | __GFP_NOWARN);
	if (!umem->pgs)
		return -ENOMEM;

	mmap_read_lock(current->mm);
	npgs = pin_user_pages(address, umem->npgs, FOLL_WRITE | FOLL_LONGTERM, &umem->pgs[0], NULL);
	mmap_read_unlock(current->mm);

	if (npgs != umem->npgs) {
		err = npgs < 0 ? npgs : -ENOMEM;
		goto out_pgs;
	}
	return 0;

out_pgs:
	kvfree(umem->pgs);
	umem->pgs = NULL;
	return err;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

int xdp_umem_account_pages(struct xdp_umem *umem);
void xdp_umem_unaccount_pages(struct xdp_umem *umem);
int xdp_umem_addr_map(struct xdp_umem *umem, struct page **pages, u32 nr_pages);

// CASE NEGATIVE unbalanced-release: modelled on net/xdp/xdp_umem.c:xdp_umem_reg() in 6.1
// The pins are taken by the same-file helper xdp_umem_pin_pages(), which cleans up after
// itself on failure; a later failure (xdp_umem_addr_map()) goes to out_unpin; success leaves
// them to the umem (xdp_umem_release() unpins). Correct code.
static int xdp_umem_reg(struct xdp_umem *umem, u64 addr, u64 size, u32 chunk_size)
{
	u64 npgs;
	int err;

	if (chunk_size > PAGE_SIZE)
		return -EINVAL;
	if (!PAGE_ALIGNED(addr))
		return -EINVAL;
	if ((addr + size) < addr)
		return -EINVAL;

	npgs = DIV_ROUND_UP(size, PAGE_SIZE);
	if (npgs > U32_MAX)
		return -EINVAL;

	umem->size = size;
	umem->chunk_size = chunk_size;
	umem->npgs = npgs;
	umem->pgs = NULL;
	umem->user = NULL;

	INIT_LIST_HEAD(&umem->xsk_dma_list);
	refcount_set(&umem->users, 1);

	err = xdp_umem_account_pages(umem);
	if (err)
		return err;

	err = xdp_umem_pin_pages(umem, (unsigned long)addr);
	if (err)
		goto out_account;

	err = xdp_umem_addr_map(umem, umem->pgs, umem->npgs);
	if (err)
		goto out_unpin;

	return 0;

out_unpin:
	xdp_umem_unpin_pages(umem);
out_account:
	xdp_umem_unaccount_pages(umem);
	return err;
}
