// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/virt/fsl_hypervisor.c (6.1): FSL_HV_IOCTL_MEMCPY takes references on the
// local buffer with get_user_pages_fast(), builds the hypervisor's S/G list from their physical
// addresses and puts them at 'exit'.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define U64_MAX ((u64)~0ULL)
#define PTR_ALIGN(p, a) ((typeof(p))ALIGN((unsigned long)(p), (a)))
struct fsl_hv_ioctl_memcpy {
	__u32 ret;
	__u32 source;
	__u32 target;
	__u32 reserved;
	__u64 local_vaddr;
	__u64 remote_paddr;
	__u64 count;
};
struct fh_sg_list { u64 source; u64 target; u64 size; u64 reserved; };
unsigned int fh_partition_memcpy(unsigned int source, unsigned int target,
				 phys_addr_t sg_list, unsigned int count);
phys_addr_t virt_to_phys(volatile void *address);

// CASE NEGATIVE release-mismatch: modelled on drivers/virt/fsl_hypervisor.c:ioctl_memcpy() in 6.1
// FOLL_GET references (get_user_pages_fast()) dropped with put_page(), num_pinned of them, on
// every path that got any. Correct code.
static long ioctl_memcpy(struct fsl_hv_ioctl_memcpy __user *p)
{
	struct fsl_hv_ioctl_memcpy param;
	struct page **pages = NULL;
	void *sg_list_unaligned = NULL;
	struct fh_sg_list *sg_list = NULL;
	unsigned int num_pages;
	unsigned long lb_offset;
	unsigned int i;
	long ret = 0;
	int num_pinned = 0;
	phys_addr_t remote_paddr;
	uint32_t count;

	if (copy_from_user(&param, p, sizeof(struct fsl_hv_ioctl_memcpy)))
		return -EFAULT;

	if ((param.source == -1) == (param.target == -1))
		return -EINVAL;

	lb_offset = param.local_vaddr & (PAGE_SIZE - 1);
	if (param.count == 0 || param.count > U64_MAX - lb_offset - PAGE_SIZE + 1)
		return -EINVAL;
	num_pages = (param.count + lb_offset + PAGE_SIZE - 1) >> PAGE_SHIFT;

	pages = kcalloc(num_pages, sizeof(struct page *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	sg_list_unaligned = kmalloc(num_pages * sizeof(struct fh_sg_list) +
				    sizeof(struct fh_sg_list) - 1, GFP_KERNEL);
	if (!sg_list_unaligned) {
		ret = -ENOMEM;
		goto free_pages;
	}
	sg_list = PTR_ALIGN(sg_list_unaligned, sizeof(struct fh_sg_list));

	num_pinned = get_user_pages_fast(param.local_vaddr - lb_offset, num_pages,
					 param.source != -1 ? FOLL_WRITE : 0, pages);

	if (num_pinned != num_pages) {
		ret = (num_pinned < 0) ? num_pinned : -EFAULT;
		goto exit;
	}

	if (param.source == -1) {
		sg_list[0].source = page_to_phys(pages[0]) + lb_offset;
		sg_list[0].target = param.remote_paddr;
	} else {
		sg_list[0].source = param.remote_paddr;
		sg_list[0].target = page_to_phys(pages[0]) + lb_offset;
	}
	sg_list[0].size = min_t(uint64_t, param.count, PAGE_SIZE - lb_offset);

	remote_paddr = param.remote_paddr + sg_list[0].size;
	count = param.count - sg_list[0].size;

	for (i = 1; i < num_pages; i++) {
		if (param.source == -1) {
			sg_list[i].source = page_to_phys(pages[i]);
			sg_list[i].target = remote_paddr;
		} else {
			sg_list[i].source = remote_paddr;
			sg_list[i].target = page_to_phys(pages[i]);
		}
		sg_list[i].size = min_t(uint64_t, count, PAGE_SIZE);
		remote_paddr += sg_list[i].size;
		count -= sg_list[i].size;
	}

	param.ret = fh_partition_memcpy(param.source, param.target, virt_to_phys(sg_list),
					num_pages);

exit:
	if (pages && (num_pinned > 0)) {
		for (i = 0; i < num_pinned; i++)
			put_page(pages[i]);
	}

	kfree(sg_list_unaligned);
free_pages:
	kfree(pages);

	if (!ret)
		if (copy_to_user(&p->ret, &param.ret, sizeof(__u32)))
			return -EFAULT;

	return ret;
}

// CASE POSITIVE release-mismatch: mutation of drivers/virt/fsl_hypervisor.c:ioctl_memcpy() in 6.1
// Half a FOLL_PIN conversion: the release became unpin_user_pages() but the acquisition is
// still get_user_pages_fast(): unpinning FOLL_GET references underflows the pin count.
static long ioctl_memcpy_unpin(struct fsl_hv_ioctl_memcpy __user *p)
{
	struct fsl_hv_ioctl_memcpy param;
	struct page **pages = NULL;
	struct fh_sg_list *sg_list = NULL;
	unsigned int num_pages;
	unsigned long lb_offset;
	unsigned int i;
	long ret = 0;
	int num_pinned = 0;

	if (copy_from_user(&param, p, sizeof(struct fsl_hv_ioctl_memcpy)))
		return -EFAULT;

	lb_offset = param.local_vaddr & (PAGE_SIZE - 1);
	if (param.count == 0 || param.count > U64_MAX - lb_offset - PAGE_SIZE + 1)
		return -EINVAL;
	num_pages = (param.count + lb_offset + PAGE_SIZE - 1) >> PAGE_SHIFT;

	pages = kcalloc(num_pages, sizeof(struct page *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	sg_list = kmalloc_array(num_pages, sizeof(struct fh_sg_list), GFP_KERNEL);
	if (!sg_list) {
		ret = -ENOMEM;
		goto free_pages;
	}

	num_pinned = get_user_pages_fast(param.local_vaddr - lb_offset, num_pages,
					 param.source != -1 ? FOLL_WRITE : 0, pages);
	if (num_pinned != num_pages) {
		ret = (num_pinned < 0) ? num_pinned : -EFAULT;
		goto exit;
	}

	for (i = 0; i < num_pages; i++) {
		sg_list[i].source = page_to_phys(pages[i]);
		sg_list[i].target = param.remote_paddr + i * PAGE_SIZE;
		sg_list[i].size = PAGE_SIZE;
	}

	param.ret = fh_partition_memcpy(param.source, param.target, virt_to_phys(sg_list),
					num_pages);

exit:
	if (pages && (num_pinned > 0))
		unpin_user_pages(pages, num_pinned);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]

	kfree(sg_list);
free_pages:
	kfree(pages);
	return ret;
}
