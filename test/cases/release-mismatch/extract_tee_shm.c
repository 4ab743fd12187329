// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/tee/tee_shm.c (6.12): shared-memory registration extracts the buffer's pages
// with iov_iter_extract_pages() from an ITER_UBUF (tee_shm_register_user_buf(): pinned) or an
// ITER_KVEC (tee_shm_register_kernel_buf(): only listed, so shm_get_kernel_pages() takes
// references); the error path and release_registered_pages() release by the same split.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/refcount.h>

#define TEE_SHM_DYNAMIC (1 << 0)
#define TEE_SHM_USER_MAPPED (1 << 1)
#define rounddown(x, y) ((x) - ((x) % (y)))
struct tee_context;
struct tee_shm;
struct tee_driver_ops {
	int (*shm_register)(struct tee_context *ctx, struct tee_shm *shm, struct page **pages,
			    size_t num_pages, unsigned long start);
	int (*shm_unregister)(struct tee_context *ctx, struct tee_shm *shm);
};
struct tee_desc { const struct tee_driver_ops *ops; };
struct tee_device { const struct tee_desc *desc; };
struct tee_context { struct tee_device *teedev; };
struct tee_shm {
	struct tee_context *ctx;
	refcount_t refcount;
	size_t offset;
	size_t size;
	struct page **pages;
	size_t num_pages;
	u32 flags;
	int id;
};
unsigned long untagged_addr(unsigned long addr);
void *iter_iov_addr_of(struct iov_iter *iter);
bool tee_device_get(struct tee_device *teedev);
void tee_device_put(struct tee_device *teedev);
void teedev_ctx_get(struct tee_context *ctx);
void teedev_ctx_put(struct tee_context *ctx);

// helper (not a case), as in tee_shm.c:shm_put_kernel_pages().
static void shm_put_kernel_pages(struct page **pages, size_t page_count)
{
	size_t n;

	for (n = 0; n < page_count; n++)
		put_page(pages[n]);
}

// helper (not a case), as in tee_shm.c:shm_get_kernel_pages() (6.12).
static void shm_get_kernel_pages(struct page **pages, size_t page_count)
{
	size_t n;

	for (n = 0; n < page_count; n++)
		get_page(pages[n]);
}

// CASE NEGATIVE release-mismatch: modelled on drivers/tee/tee_shm.c:register_shm_helper() in 6.12
// Only an ITER_UBUF or an ITER_KVEC reaches it (its two callers below). The release tests
// iov_iter_is_kvec() on the same iterator: not a kvec means user-backed means pinned
// (unpin_user_pages()), a kvec means the references shm_get_kernel_pages() took (put_page()).
// The family always matches (a single kvec segment is listed whole, so the short branch is
// only taken for user buffers). This copy counts a short extraction with
// DIV_ROUND_UP(len + off, PAGE_SIZE); 6.12 writes len / PAGE_SIZE, which leaks, see
// register_shm_helper_short() in this file.
static struct tee_shm *register_shm_helper(struct tee_context *ctx, struct iov_iter *iter,
					   u32 flags, int id)
{
	struct tee_device *teedev = ctx->teedev;
	struct tee_shm *shm;
	unsigned long start, addr;
	size_t num_pages, off;
	ssize_t len;
	void *ret;
	int rc;

	if (!tee_device_get(teedev))
		return ERR_PTR(-EINVAL);

	if (!teedev->desc->ops->shm_register || !teedev->desc->ops->shm_unregister) {
		ret = ERR_PTR(-ENOTSUPP);
		goto err_dev_put;
	}

	teedev_ctx_get(ctx);

	shm = kzalloc(sizeof(*shm), GFP_KERNEL);
	if (!shm) {
		ret = ERR_PTR(-ENOMEM);
		goto err_ctx_put;
	}

	refcount_set(&shm->refcount, 1);
	shm->flags = flags;
	shm->ctx = ctx;
	shm->id = id;
	addr = untagged_addr((unsigned long)iter_iov_addr_of(iter));
	start = rounddown(addr, PAGE_SIZE);
	num_pages = iov_iter_npages(iter, INT_MAX);
	if (!num_pages) {
		ret = ERR_PTR(-ENOMEM);
		goto err_free_shm;
	}

	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages) {
		ret = ERR_PTR(-ENOMEM);
		goto err_free_shm;
	}

	len = iov_iter_extract_pages(iter, &shm->pages, LONG_MAX, num_pages, 0, &off);
	if (unlikely(len <= 0)) {
		ret = len ? ERR_PTR(len) : ERR_PTR(-ENOMEM);
		goto err_free_shm_pages;
	} else if (DIV_ROUND_UP(len + off, PAGE_SIZE) != num_pages) {
		shm->num_pages = DIV_ROUND_UP(len + off, PAGE_SIZE);
		ret = ERR_PTR(-ENOMEM);
		goto err_put_shm_pages;
	}

	if (iov_iter_is_kvec(iter))
		shm_get_kernel_pages(shm->pages, num_pages);

	shm->offset = off;
	shm->size = len;
	shm->num_pages = num_pages;

	rc = teedev->desc->ops->shm_register(ctx, shm, shm->pages, shm->num_pages, start);
	if (rc) {
		ret = ERR_PTR(rc);
		goto err_put_shm_pages;
	}

	return shm;
err_put_shm_pages:
	if (!iov_iter_is_kvec(iter))
		unpin_user_pages(shm->pages, shm->num_pages);
	else
		shm_put_kernel_pages(shm->pages, shm->num_pages);
err_free_shm_pages:
	kfree(shm->pages);
err_free_shm:
	kfree(shm);
err_ctx_put:
	teedev_ctx_put(ctx);
err_dev_put:
	tee_device_put(teedev);
	return ret;
}

// CASE NEGATIVE release-mismatch: modelled on drivers/tee/tee_shm.c:tee_shm_register_user_buf() in 6.12
// Caller of register_shm_helper() with an ITER_UBUF iterator. No pages handled here.
struct tee_shm *tee_shm_register_user_buf(struct tee_context *ctx, unsigned long addr,
					  size_t length)
{
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, length);
	return register_shm_helper(ctx, &iter, TEE_SHM_USER_MAPPED | TEE_SHM_DYNAMIC, 1);
}

// CASE NEGATIVE release-mismatch: modelled on drivers/tee/tee_shm.c:tee_shm_register_kernel_buf() in 6.12
// Caller of register_shm_helper() with an ITER_KVEC iterator. No pages handled here.
struct tee_shm *tee_shm_register_kernel_buf(struct tee_context *ctx, void *addr, size_t length)
{
	struct kvec kvec;
	struct iov_iter iter;

	kvec.iov_base = addr;
	kvec.iov_len = length;
	iov_iter_kvec(&iter, ITER_DEST, &kvec, 1, length);

	return register_shm_helper(ctx, &iter, TEE_SHM_DYNAMIC, -1);
}

// CASE POSITIVE release-mismatch: mutation of drivers/tee/tee_shm.c:register_shm_helper() in 6.12
// The error path unpins unconditionally, without the iov_iter_is_kvec() split (or an
// iov_iter_extract_will_pin() test): for tee_shm_register_kernel_buf()'s ITER_KVEC the pages
// hold get_page() references from shm_get_kernel_pages(), and unpinning them is wrong.
static struct tee_shm *register_shm_helper_unpin(struct tee_context *ctx, struct iov_iter *iter)
{
	struct tee_device *teedev = ctx->teedev;
	struct tee_shm *shm;
	size_t num_pages, off;
	ssize_t len;
	void *ret;
	int rc;

	shm = kzalloc(sizeof(*shm), GFP_KERNEL);
	if (!shm)
		return ERR_PTR(-ENOMEM);

	num_pages = iov_iter_npages(iter, INT_MAX);
	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages) {
		ret = ERR_PTR(-ENOMEM);
		goto err_free_shm;
	}

	len = iov_iter_extract_pages(iter, &shm->pages, LONG_MAX, num_pages, 0, &off);
	if (unlikely(len <= 0)) {
		ret = len ? ERR_PTR(len) : ERR_PTR(-ENOMEM);
		goto err_free_shm_pages;
	} else if (DIV_ROUND_UP(len + off, PAGE_SIZE) != num_pages) {
		shm->num_pages = DIV_ROUND_UP(len + off, PAGE_SIZE);
		ret = ERR_PTR(-ENOMEM);
		goto err_put_shm_pages;
	}

	if (iov_iter_is_kvec(iter))
		shm_get_kernel_pages(shm->pages, num_pages);

	shm->offset = off;
	shm->size = len;
	shm->num_pages = num_pages;

	rc = teedev->desc->ops->shm_register(ctx, shm, shm->pages, shm->num_pages, 0);
	if (rc) {
		ret = ERR_PTR(rc);
		goto err_put_shm_pages;
	}

	return shm;
err_put_shm_pages:
	unpin_user_pages(shm->pages, shm->num_pages);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
err_free_shm_pages:
	kfree(shm->pages);
err_free_shm:
	kfree(shm);
	return ret;
}

// caller (not a case) that gives register_shm_helper_unpin() a kernel (KVEC) buffer.
struct tee_shm *tee_shm_register_kernel_buf_unpin(struct tee_context *ctx, void *addr,
						  size_t length)
{
	struct kvec kvec = { .iov_base = addr, .iov_len = length };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &kvec, 1, length);
	return register_shm_helper_unpin(ctx, &iter);
}

// CASE POSITIVE unbalanced-release: modelled on drivers/tee/tee_shm.c:register_shm_helper() in 6.12 (as it is, short-extraction branch)
// On a short extraction from a user buffer, len = npinned * PAGE_SIZE - off, and the code sets
// shm->num_pages = len / PAGE_SIZE before unpinning shm->num_pages pages: when the buffer does
// not start on a page boundary (off > 0) that is npinned - 1, so the last pinned page is never
// unpinned. (The case above counts with DIV_ROUND_UP(len + off, PAGE_SIZE) instead.)
static struct tee_shm *register_shm_helper_short(struct tee_context *ctx, struct iov_iter *iter)
{
	struct tee_shm *shm;
	size_t num_pages, off;
	ssize_t len;
	void *ret;

	shm = kzalloc(sizeof(*shm), GFP_KERNEL);
	if (!shm)
		return ERR_PTR(-ENOMEM);

	num_pages = iov_iter_npages(iter, INT_MAX);
	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages) {
		ret = ERR_PTR(-ENOMEM);
		goto err_free_shm;
	}

	len = iov_iter_extract_pages(iter, &shm->pages, LONG_MAX, num_pages, 0, &off);
	if (unlikely(len <= 0)) {
		ret = len ? ERR_PTR(len) : ERR_PTR(-ENOMEM);
		goto err_free_shm_pages;
	} else if (DIV_ROUND_UP(len + off, PAGE_SIZE) != num_pages) {
		shm->num_pages = len / PAGE_SIZE;
		ret = ERR_PTR(-ENOMEM);
		goto err_put_shm_pages;
	}

	if (iov_iter_is_kvec(iter))
		shm_get_kernel_pages(shm->pages, num_pages);
	shm->offset = off;
	shm->size = len;
	shm->num_pages = num_pages;
	return shm;

err_put_shm_pages:
	if (!iov_iter_is_kvec(iter))
		unpin_user_pages(shm->pages, shm->num_pages);
	else
		shm_put_kernel_pages(shm->pages, shm->num_pages);
err_free_shm_pages:
	kfree(shm->pages);
err_free_shm:
	kfree(shm);
	return ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}
