// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/misc/genwqe/card_utils.c (6.1): genwqe_user_vmap() pins a user buffer into
// m->page_list and DMA-maps it; genwqe_user_vunmap() undoes both.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/device.h>

struct pci_dev { struct device dev; };
struct genwqe_dev { struct pci_dev *pci_dev; };
struct dma_mapping {
	void *u_vaddr;
	void *k_vaddr;
	dma_addr_t dma_addr;
	struct page **page_list;
	dma_addr_t *dma_list;
	unsigned int nr_pages;
	unsigned long size;
	bool write;
};
int genwqe_map_pages(struct genwqe_dev *cd, struct page **page_list, int num_pages,
		     dma_addr_t *dma_list);

// CASE NEGATIVE unbalanced-release: modelled on drivers/misc/genwqe/card_utils.c:genwqe_user_vmap() in 6.1
// A short pin is unpinned in place (rc pages) before jumping to the label that only frees the
// list; a mapping failure unpins all nr_pages at fail_free_user_pages. Correct code.
int genwqe_user_vmap(struct genwqe_dev *cd, struct dma_mapping *m, void *uaddr,
		     unsigned long size)
{
	int rc = -EINVAL;
	unsigned long data, offs;
	struct pci_dev *pci_dev = cd->pci_dev;

	if ((uaddr == NULL) || (size == 0)) {
		m->size = 0;
		return -EINVAL;
	}
	m->u_vaddr = uaddr;
	m->size = size;

	data = (unsigned long)uaddr;
	offs = offset_in_page(data);
	if (size > ULONG_MAX - PAGE_SIZE - offs) {
		m->size = 0;
		return -EINVAL;
	}
	m->nr_pages = DIV_ROUND_UP(offs + size, PAGE_SIZE);

	m->page_list = kcalloc(m->nr_pages, sizeof(struct page *) + sizeof(dma_addr_t),
			       GFP_KERNEL);
	if (!m->page_list) {
		dev_err(&pci_dev->dev, "err: alloc page_list failed\n");
		m->nr_pages = 0;
		m->u_vaddr = NULL;
		m->size = 0;
		return -ENOMEM;
	}
	m->dma_list = (dma_addr_t *)(m->page_list + m->nr_pages);

	rc = pin_user_pages_fast(data & PAGE_MASK, m->nr_pages, m->write ? FOLL_WRITE : 0,
				 m->page_list);
	if (rc < 0)
		goto fail_pin_user_pages;

	if (rc < m->nr_pages) {
		unpin_user_pages_dirty_lock(m->page_list, rc, m->write);
		rc = -EFAULT;
		goto fail_pin_user_pages;
	}

	rc = genwqe_map_pages(cd, m->page_list, m->nr_pages, m->dma_list);
	if (rc != 0)
		goto fail_free_user_pages;

	return 0;

fail_free_user_pages:
	unpin_user_pages_dirty_lock(m->page_list, m->nr_pages, m->write);

fail_pin_user_pages:
	kfree(m->page_list);
	m->page_list = NULL;
	m->dma_list = NULL;
	m->nr_pages = 0;
	m->u_vaddr = NULL;
	m->size = 0;
	return rc;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/misc/genwqe/card_utils.c:genwqe_user_vmap() in 6.1
// The DMA-mapping failure (work done after the pin) jumps to fail_pin_user_pages, past the
// unpin: all nr_pages stay pinned and the list that names them is freed.
int genwqe_user_vmap_map_fail(struct genwqe_dev *cd, struct dma_mapping *m, void *uaddr,
			      unsigned long size)
{
	int rc = -EINVAL;
	unsigned long data, offs;

	if ((uaddr == NULL) || (size == 0)) {
		m->size = 0;
		return -EINVAL;
	}
	m->u_vaddr = uaddr;
	m->size = size;

	data = (unsigned long)uaddr;
	offs = offset_in_page(data);
	m->nr_pages = DIV_ROUND_UP(offs + size, PAGE_SIZE);

	m->page_list = kcalloc(m->nr_pages, sizeof(struct page *) + sizeof(dma_addr_t),
			       GFP_KERNEL);
	if (!m->page_list) {
		m->nr_pages = 0;
		m->size = 0;
		return -ENOMEM;
	}
	m->dma_list = (dma_addr_t *)(m->page_list + m->nr_pages);

	rc = pin_user_pages_fast(data & PAGE_MASK, m->nr_pages, m->write ? FOLL_WRITE : 0,
				 m->page_list);
	if (rc < 0)
		goto fail_pin_user_pages;

	if (rc < m->nr_pages) {
		unpin_user_pages_dirty_lock(m->page_list, rc, m->write);
		rc = -EFAULT;
		goto fail_pin_user_pages;
	}

	rc = genwqe_map_pages(cd, m->page_list, m->nr_pages, m->dma_list);
	if (rc != 0)
		goto fail_pin_user_pages;

	return 0;

fail_pin_user_pages:
	kfree(m->page_list);
	m->page_list = NULL;
	m->dma_list = NULL;
	m->nr_pages = 0;
	m->u_vaddr = NULL;
	m->size = 0;
	return rc;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE POSITIVE unbalanced-release: mutation of drivers/misc/genwqe/card_utils.c:genwqe_user_vmap() in 6.1
// Double release split between a branch and the common label: the short-pin branch unpins its
// rc pages and then jumps to fail_free_user_pages, which unpins them (and more) again.
int genwqe_user_vmap_double_unpin(struct genwqe_dev *cd, struct dma_mapping *m, void *uaddr,
				  unsigned long size)
{
	int rc = -EINVAL;
	unsigned long data = (unsigned long)uaddr;

	m->u_vaddr = uaddr;
	m->size = size;
	m->nr_pages = DIV_ROUND_UP(offset_in_page(data) + size, PAGE_SIZE);

	m->page_list = kcalloc(m->nr_pages, sizeof(struct page *) + sizeof(dma_addr_t),
			       GFP_KERNEL);
	if (!m->page_list) {
		m->nr_pages = 0;
		return -ENOMEM;
	}
	m->dma_list = (dma_addr_t *)(m->page_list + m->nr_pages);

	rc = pin_user_pages_fast(data & PAGE_MASK, m->nr_pages, m->write ? FOLL_WRITE : 0,
				 m->page_list);
	if (rc < 0)
		goto fail_pin_user_pages;

	if (rc < m->nr_pages) {
		unpin_user_pages_dirty_lock(m->page_list, rc, m->write);
		rc = -EFAULT;
		goto fail_free_user_pages;
	}

	rc = genwqe_map_pages(cd, m->page_list, m->nr_pages, m->dma_list);
	if (rc != 0)
		goto fail_free_user_pages;

	return 0;

fail_free_user_pages:
	unpin_user_pages_dirty_lock(m->page_list, m->nr_pages, m->write);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

fail_pin_user_pages:
	kfree(m->page_list);
	m->page_list = NULL;
	m->dma_list = NULL;
	m->nr_pages = 0;
	return rc;
}
