// SPDX-License-Identifier: GPL-2.0+
/*
 * Vhost kernel TCM fabric driver for virtio SCSI initiators
 * (excerpt for pageref's report tests)
 */

#include <linux/vhost.h>

static void vhost_scsi_release_cmd_res(struct se_cmd *se_cmd)
{
	struct vhost_scsi_cmd *tv_cmd = container_of(se_cmd,
				struct vhost_scsi_cmd, tvc_se_cmd);
	int i;

	for (i = 0; i < tv_cmd->tvc_sgl_count; i++) {
		struct page *page = sg_page(&tv_cmd->tvc_sgl[i]);
		if (page)
			put_page(page);
	}
}

static int vhost_scsi_map_to_sgl(struct vhost_scsi_cmd *cmd,
		      struct iov_iter *iter,
		      struct scatterlist *sgl,
		      bool is_prot)
{
	struct page **pages = cmd->tvc_upages;
	struct scatterlist *sg = sgl;
	ssize_t bytes;
	size_t offset;
	unsigned int npages = 0;

	bytes = iov_iter_get_pages2(iter, pages, LONG_MAX,
				VHOST_SCSI_PREALLOC_UPAGES, &offset);
	/* No pages were pinned */
	if (bytes <= 0)
		return bytes < 0 ? bytes : -EFAULT;

	while (bytes) {
		unsigned n = min_t(unsigned, PAGE_SIZE - offset, bytes);
		sg_set_page(sg++, pages[npages++], n, offset);
		bytes -= n;
		offset = 0;
	}
	return npages;
}

static int vhost_scsi_pin_prot(struct vhost_scsi_cmd *cmd, unsigned long uaddr)
{
	struct page *page;
	int ret;

	ret = pin_user_pages_fast(uaddr, 1, FOLL_WRITE, &page);
	if (ret != 1)
		return -EFAULT;
	memcpy(cmd->tvc_prot, page_address(page), 8);
	put_page(page);
	return 0;
}
