// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/gpu/drm/via/via_dri1.c (6.1): a blit's resources are built in stages recorded
// in vsg->state, and via_free_sg_info() releases whatever the state says exists ("usable even
// if the blit info has only been partially built").
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/dma-mapping.h>

enum drm_via_sg_state {
	dr_via_sg_init,
	dr_via_pages_locked,
	dr_via_pages_alloc,
	dr_via_desc_pages_alloc,
	dr_via_device_mapped,
};
typedef struct _drm_via_sg_info {
	struct page **pages;
	unsigned long num_pages;
	struct page **desc_pages;
	int num_desc_pages;
	int direction;
	void *bounce_buffer;
	enum drm_via_sg_state state;
} drm_via_sg_info_t;
typedef struct { void *mem_addr; unsigned int num_lines; int mem_stride; } drm_via_dmablit_t;
#define VIA_PFN(x) ((unsigned long)(x) >> PAGE_SHIFT)

// helper (not a case), as in via_dri1.c:via_free_sg_info(): releases by stage.
static void via_free_sg_info(drm_via_sg_info_t *vsg)
{
	int i;

	switch (vsg->state) {
	case dr_via_device_mapped:
		fallthrough;
	case dr_via_desc_pages_alloc:
		for (i = 0; i < vsg->num_desc_pages; ++i) {
			if (vsg->desc_pages[i] != NULL)
				free_page((unsigned long)vsg->desc_pages[i]);
		}
		kfree(vsg->desc_pages);
		fallthrough;
	case dr_via_pages_locked:
		unpin_user_pages_dirty_lock(vsg->pages, vsg->num_pages,
					    (vsg->direction == DMA_FROM_DEVICE));
		fallthrough;
	case dr_via_pages_alloc:
		vfree(vsg->pages);
		fallthrough;
	default:
		vsg->state = dr_via_sg_init;
	}
	vfree(vsg->bounce_buffer);
	vsg->bounce_buffer = NULL;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/gpu/drm/via/via_dri1.c:via_lock_all_dma_pages() in 6.1 (partial count recorded)
// A short pin sets the state flag to dr_via_pages_locked and returns -EINVAL: the caller
// (via_build_sg_info()) calls via_free_sg_info(), whose staged cleanup unpins. (6.1 leaves
// vsg->num_pages at the full count there; this copy records the partial count so that the
// staged cleanup is exact.) No leak.
static int via_lock_all_dma_pages(drm_via_sg_info_t *vsg, drm_via_dmablit_t *xfer)
{
	int ret;
	unsigned long first_pfn = VIA_PFN(xfer->mem_addr);
	vsg->num_pages = VIA_PFN(xfer->mem_addr + (xfer->num_lines * xfer->mem_stride - 1)) -
		first_pfn + 1;

	vsg->pages = vzalloc(sizeof(struct page *) * vsg->num_pages);
	if (NULL == vsg->pages)
		return -ENOMEM;
	vsg->state = dr_via_pages_alloc;
	ret = pin_user_pages_fast((unsigned long)xfer->mem_addr, vsg->num_pages,
				  vsg->direction == DMA_FROM_DEVICE ? FOLL_WRITE : 0, vsg->pages);
	if (ret != vsg->num_pages) {
		if (ret < 0)
			return ret;
		vsg->num_pages = ret;
		vsg->state = dr_via_pages_locked;
		return -EINVAL;
	}
	vsg->state = dr_via_pages_locked;
	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/gpu/drm/via/via_dri1.c:via_lock_all_dma_pages() in 6.1
// The short-pin branch returns without moving the state to dr_via_pages_locked: the staged
// cleanup then only vfree()s the array (dr_via_pages_alloc) and the 'ret' pins are leaked.
static int via_lock_all_dma_pages_no_state(drm_via_sg_info_t *vsg, drm_via_dmablit_t *xfer)
{
	int ret;
	unsigned long first_pfn = VIA_PFN(xfer->mem_addr);
	vsg->num_pages = VIA_PFN(xfer->mem_addr + (xfer->num_lines * xfer->mem_stride - 1)) -
		first_pfn + 1;

	vsg->pages = vzalloc(sizeof(struct page *) * vsg->num_pages);
	if (NULL == vsg->pages)
		return -ENOMEM;
	vsg->state = dr_via_pages_alloc;
	ret = pin_user_pages_fast((unsigned long)xfer->mem_addr, vsg->num_pages,
				  vsg->direction == DMA_FROM_DEVICE ? FOLL_WRITE : 0, vsg->pages);
	if (ret != vsg->num_pages) {
		if (ret < 0)
			return ret;
		return -EINVAL;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}
	vsg->state = dr_via_pages_locked;
	return 0;
}

int via_alloc_desc_pages(drm_via_sg_info_t *vsg);

// CASE NEGATIVE unbalanced-release: modelled on drivers/gpu/drm/via/via_dri1.c:via_build_sg_info() in 6.1
// The pins are taken by the same-file helper via_lock_all_dma_pages(); every failure calls
// via_free_sg_info(), which releases according to vsg->state; success leaves them to the blit
// (freed by via_free_sg_info() when it completes). Correct code.
static int via_build_sg_info(drm_via_sg_info_t *vsg, drm_via_dmablit_t *xfer)
{
	int ret;

	vsg->bounce_buffer = NULL;
	vsg->state = dr_via_sg_init;
	vsg->direction = DMA_FROM_DEVICE;

	if (0 != (ret = via_lock_all_dma_pages(vsg, xfer))) {
		pr_err("Could not lock DMA pages.\n");
		via_free_sg_info(vsg);
		return ret;
	}

	if (0 != (ret = via_alloc_desc_pages(vsg))) {
		pr_err("Could not allocate DMA descriptor pages.\n");
		via_free_sg_info(vsg);
		return ret;
	}

	return 0;
}
