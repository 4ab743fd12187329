// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/virt/nitro_enclaves/ne_misc_dev.c (6.12): ne_set_user_memory_region_ioctl()
// takes a reference on each page of a user memory region into ne_mem_region->pages, links the
// region into the enclave's list, then asks the device to add it; the enclave's teardown puts
// the pages of every region on the list.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/errno.h>

struct mem_region {
	struct list_head entry;
	struct page **pages;
	unsigned long nr_pages;
};
struct enclave {
	struct list_head regions;
	unsigned long nr_regions;
};
int device_add_memory(struct enclave *ne, unsigned long npages);

// CASE NEGATIVE unbalanced-release: modelled on drivers/virt/nitro_enclaves/ne_misc_dev.c:ne_set_user_memory_region_ioctl() in 6.12
// Once list_add() has linked the region into the enclave, a failure of the device request
// returns without putting the pages, on purpose: the region is the enclave's.
static int set_memory_region(struct enclave *ne, unsigned long uaddr, unsigned long npages)
{
	struct mem_region *r;
	unsigned long i;
	long got;
	int rc;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->pages = kcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!r->pages) {
		rc = -ENOMEM;
		goto free_region;
	}
	for (i = 0; i < npages; i++) {
		got = get_user_pages_unlocked(uaddr + i * 4096, 1, r->pages + i, FOLL_GET);
		if (got < 0) {
			rc = got;
			goto put_pages;
		}
		r->nr_pages++;
	}
	list_add(&r->entry, &ne->regions);
	rc = device_add_memory(ne, r->nr_pages);
	if (rc < 0)
		return rc;
	ne->nr_regions++;
	return 0;

put_pages:
	for (i = 0; i < r->nr_pages; i++)
		put_page(r->pages[i]);
	kfree(r->pages);
free_region:
	kfree(r);
	return rc;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/virt/nitro_enclaves/ne_misc_dev.c:ne_set_user_memory_region_ioctl() in 6.12
// The device request now comes before the region is linked: its failure returns with the
// references held by a region nobody knows of.
static int set_memory_region_early_request(struct enclave *ne, unsigned long uaddr, unsigned long npages)
{
	struct mem_region *r;
	unsigned long i;
	long got;
	int rc;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->pages = kcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!r->pages) {
		rc = -ENOMEM;
		goto free_region;
	}
	for (i = 0; i < npages; i++) {
		got = get_user_pages_unlocked(uaddr + i * 4096, 1, r->pages + i, FOLL_GET);
		if (got < 0) {
			rc = got;
			goto put_pages;
		}
		r->nr_pages++;
	}
	rc = device_add_memory(ne, r->nr_pages);
	if (rc < 0)
		return rc;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	list_add(&r->entry, &ne->regions);
	ne->nr_regions++;
	return 0;

put_pages:
	for (i = 0; i < r->nr_pages; i++)
		put_page(r->pages[i]);
	kfree(r->pages);
free_region:
	kfree(r);
	return rc;
}
