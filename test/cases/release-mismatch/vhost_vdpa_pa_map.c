// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/vhost/vdpa.c (6.1): mapping a user range for a vDPA device pins it a page
// list at a time, maps contiguous pfn runs, and on failure unpins the not-yet-mapped run by pfn
// (pfn_to_page()); vhost_vdpa_unmap() unpins the mapped part.
#include <linux/mm.h>
#include <linux/gfp.h>

#define VHOST_ACCESS_WO 0x2
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
struct vhost_dev { struct mm_struct *mm; };
struct vhost_vdpa { struct vhost_dev vdev; };
struct vhost_iotlb;
unsigned long rlimit_memlock(void);
s64 atomic64_read(const atomic64_t *v);
int vhost_vdpa_map(struct vhost_vdpa *v, struct vhost_iotlb *iotlb, u64 iova, u64 size, u64 pa,
		   u32 perm, void *opaque);
void vhost_vdpa_unmap(struct vhost_vdpa *v, struct vhost_iotlb *iotlb, u64 iova, u64 size);

// CASE NEGATIVE release-mismatch: modelled on drivers/vhost/vdpa.c:vhost_vdpa_pa_map() in 6.1
// Every release of these pins is an unpin: unpin_user_pages() on the short batch and on the
// unmapped tail of the page list, unpin_user_page(pfn_to_page(pfn)) on the outstanding run at
// 'out'. Mapped runs belong to the iotlb (vhost_vdpa_unmap()). Correct code.
static int vhost_vdpa_pa_map(struct vhost_vdpa *v, struct vhost_iotlb *iotlb, u64 iova,
			     u64 size, u64 uaddr, u32 perm)
{
	struct vhost_dev *dev = &v->vdev;
	struct page **page_list;
	unsigned long list_size = PAGE_SIZE / sizeof(struct page *);
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long npages, cur_base, map_pfn, last_pfn = 0;
	unsigned long lock_limit, sz2pin, nchunks, i;
	unsigned long page_offset;
	u64 start = iova;
	long pinned;
	int ret = 0;

	page_list = (struct page **)__get_free_page(GFP_KERNEL);
	if (!page_list)
		return -ENOMEM;

	if (perm & VHOST_ACCESS_WO)
		gup_flags |= FOLL_WRITE;

	page_offset = iova & ~PAGE_MASK;
	if (size > ULONG_MAX - page_offset) {
		ret = -EINVAL;
		goto free;
	}

	npages = PFN_UP(size + page_offset);
	if (!npages) {
		ret = -EINVAL;
		goto free;
	}

	mmap_read_lock(dev->mm);

	lock_limit = PFN_DOWN(rlimit_memlock());
	if (npages + atomic64_read(&dev->mm->pinned_vm) > lock_limit) {
		ret = -ENOMEM;
		goto unlock;
	}

	cur_base = uaddr & PAGE_MASK;
	iova &= PAGE_MASK;
	nchunks = 0;

	while (npages) {
		sz2pin = min_t(unsigned long, npages, list_size);
		pinned = pin_user_pages(cur_base, sz2pin, gup_flags, page_list, NULL);
		if (sz2pin != pinned) {
			if (pinned < 0) {
				ret = pinned;
			} else {
				unpin_user_pages(page_list, pinned);
				ret = -ENOMEM;
			}
			goto out;
		}
		nchunks++;

		if (!last_pfn)
			map_pfn = page_to_pfn(page_list[0]);

		for (i = 0; i < pinned; i++) {
			unsigned long this_pfn = page_to_pfn(page_list[i]);
			u64 csize;

			if (last_pfn && (this_pfn != last_pfn + 1)) {
				csize = PFN_PHYS(last_pfn - map_pfn + 1);
				ret = vhost_vdpa_map(v, iotlb, iova, csize, PFN_PHYS(map_pfn), perm, NULL);
				if (ret) {
					unpin_user_pages(&page_list[i], pinned - i);
					goto out;
				}

				map_pfn = this_pfn;
				iova += csize;
				nchunks = 0;
			}

			last_pfn = this_pfn;
		}

		cur_base += PFN_PHYS(pinned);
		npages -= pinned;
	}

	ret = vhost_vdpa_map(v, iotlb, iova, PFN_PHYS(last_pfn - map_pfn + 1), PFN_PHYS(map_pfn),
			     perm, NULL);
out:
	if (ret) {
		if (nchunks) {
			unsigned long pfn;

			WARN_ON(!last_pfn);
			for (pfn = map_pfn; pfn <= last_pfn; pfn++)
				unpin_user_page(pfn_to_page(pfn));
		}
		vhost_vdpa_unmap(v, iotlb, start, size);
	}
unlock:
	mmap_read_unlock(dev->mm);
free:
	free_page((unsigned long)page_list);
	return ret;
}

// CASE POSITIVE release-mismatch: mutation of drivers/vhost/vdpa.c:vhost_vdpa_pa_map() in 6.1
// The outstanding run is released with put_page(pfn_to_page(pfn)) (the pre-FOLL_PIN code
// used put_page() here): the pages were pinned by pin_user_pages(), so the pins stay.
static int vhost_vdpa_pa_map_put(struct vhost_vdpa *v, struct vhost_iotlb *iotlb, u64 iova,
				 u64 size, u64 uaddr, u32 perm)
{
	struct vhost_dev *dev = &v->vdev;
	struct page **page_list;
	unsigned long list_size = PAGE_SIZE / sizeof(struct page *);
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long npages, cur_base, map_pfn, last_pfn = 0;
	unsigned long sz2pin, nchunks, i;
	u64 start = iova;
	long pinned;
	int ret = 0;

	page_list = (struct page **)__get_free_page(GFP_KERNEL);
	if (!page_list)
		return -ENOMEM;

	if (perm & VHOST_ACCESS_WO)
		gup_flags |= FOLL_WRITE;

	npages = PFN_UP(size + (iova & ~PAGE_MASK));
	if (!npages) {
		ret = -EINVAL;
		goto free;
	}

	mmap_read_lock(dev->mm);

	cur_base = uaddr & PAGE_MASK;
	iova &= PAGE_MASK;
	nchunks = 0;

	while (npages) {
		sz2pin = min_t(unsigned long, npages, list_size);
		pinned = pin_user_pages(cur_base, sz2pin, gup_flags, page_list, NULL);
		if (sz2pin != pinned) {
			if (pinned < 0) {
				ret = pinned;
			} else {
				unpin_user_pages(page_list, pinned);
				ret = -ENOMEM;
			}
			goto out;
		}
		nchunks++;

		if (!last_pfn)
			map_pfn = page_to_pfn(page_list[0]);

		for (i = 0; i < pinned; i++) {
			unsigned long this_pfn = page_to_pfn(page_list[i]);
			u64 csize;

			if (last_pfn && (this_pfn != last_pfn + 1)) {
				csize = PFN_PHYS(last_pfn - map_pfn + 1);
				ret = vhost_vdpa_map(v, iotlb, iova, csize, PFN_PHYS(map_pfn), perm, NULL);
				if (ret) {
					unpin_user_pages(&page_list[i], pinned - i);
					goto out;
				}
				map_pfn = this_pfn;
				iova += csize;
				nchunks = 0;
			}
			last_pfn = this_pfn;
		}

		cur_base += PFN_PHYS(pinned);
		npages -= pinned;
	}

	ret = vhost_vdpa_map(v, iotlb, iova, PFN_PHYS(last_pfn - map_pfn + 1), PFN_PHYS(map_pfn),
			     perm, NULL);
out:
	if (ret) {
		if (nchunks) {
			unsigned long pfn;

			for (pfn = map_pfn; pfn <= last_pfn; pfn++)
				put_page(pfn_to_page(pfn));
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		}
		vhost_vdpa_unmap(v, iotlb, start, size);
	}
	mmap_read_unlock(dev->mm);
free:
	free_page((unsigned long)page_list);
	return ret;
}
