// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/tee/tee_shm.c (6.1): registering shared memory with a TEE takes either pins
// (user buffers, TEE_SHM_USER_MAPPED) or get_page() references (kernel buffers) into
// shm->pages and records the count in shm->num_pages.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/refcount.h>

#define TEE_SHM_DYNAMIC (1 << 0)
#define TEE_SHM_USER_MAPPED (1 << 1)
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
bool is_vmalloc_addr(const void *x);
int get_kernel_pages(const struct kvec *iov, int nr_pages, int write, struct page **pages);
bool tee_device_get(struct tee_device *teedev);
void tee_device_put(struct tee_device *teedev);
void teedev_ctx_get(struct tee_context *ctx);
void teedev_ctx_put(struct tee_context *ctx);
unsigned long untagged_addr(unsigned long addr);
#define rounddown(x, y) ((x) - ((x) % (y)))
#define roundup(x, y) ((((x) + ((y) - 1)) / (y)) * (y))

// helper (not a case), as in tee_shm.c:shm_put_kernel_pages().
static void shm_put_kernel_pages(struct page **pages, size_t page_count)
{
	size_t n;

	for (n = 0; n < page_count; n++)
		put_page(pages[n]);
}

// CASE POSITIVE unbalanced-release: modelled on drivers/tee/tee_shm.c:shm_get_kernel_pages() in 6.1 (as it is)
// The vmalloc branch takes one get_page() reference per iteration into the caller's array and
// returns -ENOMEM when vmalloc_to_page() fails mid-way, without putting the references taken
// so far; register_shm_helper() only records shm->num_pages for a positive result, so nothing
// ever drops them. A real leak in 6.1 (6.12 rewrote the function to take refs on a kvec).
static int shm_get_kernel_pages(unsigned long start, size_t page_count, struct page **pages)
{
	size_t n;
	int rc;

	if (is_vmalloc_addr((void *)start)) {
		struct page *page;

		for (n = 0; n < page_count; n++) {
			page = vmalloc_to_page((void *)(start + PAGE_SIZE * n));
			if (!page)
				return -ENOMEM;
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

			get_page(page);
			pages[n] = page;
		}
		rc = page_count;
	} else {
		struct kvec *kiov;

		kiov = kcalloc(page_count, sizeof(*kiov), GFP_KERNEL);
		if (!kiov)
			return -ENOMEM;

		for (n = 0; n < page_count; n++) {
			kiov[n].iov_base = (void *)(start + n * PAGE_SIZE);
			kiov[n].iov_len = PAGE_SIZE;
		}

		rc = get_kernel_pages(kiov, page_count, 0, pages);
		kfree(kiov);
	}

	return rc;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/tee/tee_shm.c:register_shm_helper() in 6.1
// shm->num_pages records the partial count (rc > 0) before the short-result test, and
// err_put_shm_pages releases shm->num_pages pages with the family that took them (it switches
// on the same TEE_SHM_USER_MAPPED flag as the acquisition). On success shm owns the pages.
static struct tee_shm *register_shm_helper(struct tee_context *ctx, unsigned long addr,
					   size_t length, u32 flags, int id)
{
	struct tee_device *teedev = ctx->teedev;
	struct tee_shm *shm;
	unsigned long start;
	size_t num_pages;
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
	addr = untagged_addr(addr);
	start = rounddown(addr, PAGE_SIZE);
	shm->offset = addr - start;
	shm->size = length;
	num_pages = (roundup(addr + length, PAGE_SIZE) - start) / PAGE_SIZE;
	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages) {
		ret = ERR_PTR(-ENOMEM);
		goto err_free_shm;
	}

	if (flags & TEE_SHM_USER_MAPPED)
		rc = pin_user_pages_fast(start, num_pages, FOLL_WRITE, shm->pages);
	else
		rc = shm_get_kernel_pages(start, num_pages, shm->pages);
	if (rc > 0)
		shm->num_pages = rc;
	if (rc != num_pages) {
		if (rc >= 0)
			rc = -ENOMEM;
		ret = ERR_PTR(rc);
		goto err_put_shm_pages;
	}

	rc = teedev->desc->ops->shm_register(ctx, shm, shm->pages, shm->num_pages, start);
	if (rc) {
		ret = ERR_PTR(rc);
		goto err_put_shm_pages;
	}

	return shm;
err_put_shm_pages:
	if (flags & TEE_SHM_USER_MAPPED)
		unpin_user_pages(shm->pages, shm->num_pages);
	else
		shm_put_kernel_pages(shm->pages, shm->num_pages);
	kfree(shm->pages);
err_free_shm:
	kfree(shm);
err_ctx_put:
	teedev_ctx_put(ctx);
err_dev_put:
	tee_device_put(teedev);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/tee/tee_shm.c:register_shm_helper() in 6.1
// The driver's shm_register() failure frees shm and its array directly: shm->num_pages pins
// (or references) are neither released nor owned by anything any more.
static struct tee_shm *register_shm_helper_register_fail(struct tee_context *ctx,
							 unsigned long addr, size_t length,
							 u32 flags, int id)
{
	struct tee_device *teedev = ctx->teedev;
	struct tee_shm *shm;
	unsigned long start;
	size_t num_pages;
	int rc;

	shm = kzalloc(sizeof(*shm), GFP_KERNEL);
	if (!shm)
		return ERR_PTR(-ENOMEM);

	shm->flags = flags;
	shm->ctx = ctx;
	shm->id = id;
	start = rounddown(addr, PAGE_SIZE);
	shm->offset = addr - start;
	shm->size = length;
	num_pages = (roundup(addr + length, PAGE_SIZE) - start) / PAGE_SIZE;
	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages) {
		kfree(shm);
		return ERR_PTR(-ENOMEM);
	}

	rc = pin_user_pages_fast(start, num_pages, FOLL_WRITE, shm->pages);
	if (rc > 0)
		shm->num_pages = rc;
	if (rc != num_pages) {
		if (rc > 0)
			unpin_user_pages(shm->pages, shm->num_pages);
		kfree(shm->pages);
		kfree(shm);
		return ERR_PTR(rc >= 0 ? -ENOMEM : rc);
	}

	rc = teedev->desc->ops->shm_register(ctx, shm, shm->pages, shm->num_pages, start);
	if (rc) {
		kfree(shm->pages);
		kfree(shm);
		return ERR_PTR(rc);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	return shm;
}
