// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/fpga/dfl-afu-dma-region.c (6.1): an AFU DMA region pins the user buffer into
// region->pages; afu_dma_unpin_pages() releases them when the region is unmapped.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/device.h>

struct platform_device { struct device dev; };
struct dfl_feature_platform_data { struct platform_device *dev; };
struct dfl_afu_dma_region {
	u64 user_addr;
	u64 length;
	u64 iova;
	struct page **pages;
	bool in_use;
};

// CASE NEGATIVE unbalanced-release: modelled on drivers/fpga/dfl-afu-dma-region.c:afu_dma_pin_pages() in 6.1
// The pages belong to the region on success (afu_dma_unpin_pages() releases them). A negative
// result pinned nothing; a short pin goes to unpin_pages, which unpins exactly 'pinned'.
static int afu_dma_pin_pages(struct dfl_feature_platform_data *pdata,
			     struct dfl_afu_dma_region *region)
{
	int npages = region->length >> PAGE_SHIFT;
	struct device *dev = &pdata->dev->dev;
	int ret, pinned;

	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		return ret;

	region->pages = kcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!region->pages) {
		ret = -ENOMEM;
		goto unlock_vm;
	}

	pinned = pin_user_pages_fast(region->user_addr, npages, FOLL_WRITE, region->pages);
	if (pinned < 0) {
		ret = pinned;
		goto free_pages;
	} else if (pinned != npages) {
		ret = -EFAULT;
		goto unpin_pages;
	}

	dev_dbg(dev, "%d pages pinned\n", pinned);

	return 0;

unpin_pages:
	unpin_user_pages(region->pages, pinned);
free_pages:
	kfree(region->pages);
unlock_vm:
	account_locked_vm(current->mm, npages, false);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/fpga/dfl-afu-dma-region.c:afu_dma_pin_pages() in 6.1
// The short-pin branch jumps to free_pages instead of unpin_pages: the 'pinned' pages are left
// pinned and their array is freed, so nothing can ever unpin them.
static int afu_dma_pin_pages_short_pin(struct dfl_feature_platform_data *pdata,
				       struct dfl_afu_dma_region *region)
{
	int npages = region->length >> PAGE_SHIFT;
	struct device *dev = &pdata->dev->dev;
	int ret, pinned;

	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		return ret;

	region->pages = kcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!region->pages) {
		ret = -ENOMEM;
		goto unlock_vm;
	}

	pinned = pin_user_pages_fast(region->user_addr, npages, FOLL_WRITE, region->pages);
	if (pinned < 0) {
		ret = pinned;
		goto free_pages;
	} else if (pinned != npages) {
		ret = -EFAULT;
		goto free_pages;
	}

	dev_dbg(dev, "%d pages pinned\n", pinned);

	return 0;

free_pages:
	kfree(region->pages);
unlock_vm:
	account_locked_vm(current->mm, npages, false);
	return ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// helper (not a case), as in dfl-afu-dma-region.c:afu_dma_unpin_pages(): the region's release.
static void afu_dma_unpin_pages(struct dfl_feature_platform_data *pdata,
				struct dfl_afu_dma_region *region)
{
	long npages = region->length >> PAGE_SHIFT;

	unpin_user_pages(region->pages, npages);
	kfree(region->pages);
	account_locked_vm(current->mm, npages, false);
}
