// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: folio_get()/folio_put() pairs taken locally (6.1): fs/aio.c migrating a ring folio
// and fs/jbd2/commit.c freeing a truncated buffer page.
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>

#define MIGRATEPAGE_SUCCESS 0
enum migrate_mode { MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT, MIGRATE_SYNC, MIGRATE_SYNC_NO_COPY };
struct kioctx {
	struct mutex ring_lock;
	spinlock_t completion_lock;
	struct page **ring_pages;
	unsigned nr_pages;
};
struct aio_mapping { spinlock_t private_lock; struct kioctx *private_data; };
bool folio_test_writeback(struct folio *folio);
int folio_migrate_mapping(struct aio_mapping *mapping, struct folio *newfolio,
			  struct folio *folio, int extra_count);
void folio_migrate_copy(struct folio *newfolio, struct folio *folio);
bool mutex_trylock(struct mutex *lock);

// CASE NEGATIVE unbalanced-release: modelled on fs/aio.c:aio_migrate_folio() in 6.1
// The reference taken on the new folio is dropped when folio_migrate_mapping() fails, and on
// success it becomes the ring's (ctx->ring_pages[idx] = &dst->page); the old folio's ring
// reference is put instead. Correct code.
static int aio_migrate_folio(struct aio_mapping *mapping, struct folio *dst, struct folio *src,
			     enum migrate_mode mode)
{
	struct kioctx *ctx;
	unsigned long flags;
	pgoff_t idx;
	int rc;

	if (mode == MIGRATE_SYNC_NO_COPY)
		return -EINVAL;

	rc = 0;

	spin_lock(&mapping->private_lock);
	ctx = mapping->private_data;
	if (!ctx) {
		rc = -EINVAL;
		goto out;
	}

	if (!mutex_trylock(&ctx->ring_lock)) {
		rc = -EAGAIN;
		goto out;
	}

	idx = src->page.index;
	if (idx < (pgoff_t)ctx->nr_pages) {
		if (ctx->ring_pages[idx] != &src->page)
			rc = -EAGAIN;
	} else
		rc = -EINVAL;

	if (rc != 0)
		goto out_unlock;

	BUG_ON(folio_test_writeback(src));
	folio_get(dst);

	rc = folio_migrate_mapping(mapping, dst, src, 1);
	if (rc != MIGRATEPAGE_SUCCESS) {
		folio_put(dst);
		goto out_unlock;
	}

	spin_lock_irqsave(&ctx->completion_lock, flags);
	folio_migrate_copy(dst, src);
	BUG_ON(ctx->ring_pages[idx] != &src->page);
	ctx->ring_pages[idx] = &dst->page;
	spin_unlock_irqrestore(&ctx->completion_lock, flags);

	folio_put(src);

out_unlock:
	mutex_unlock(&ctx->ring_lock);
out:
	spin_unlock(&mapping->private_lock);
	return rc;
}

// CASE POSITIVE unbalanced-release: mutation of fs/aio.c:aio_migrate_folio() in 6.1
// A cleanup for the failed migration added at the common label ('if (rc) folio_put(dst)')
// while the branch still puts it: on a folio_migrate_mapping() failure the reference taken by
// folio_get(dst) is dropped twice.
static int aio_migrate_folio_double_put(struct aio_mapping *mapping, struct folio *dst,
					struct folio *src, enum migrate_mode mode)
{
	struct kioctx *ctx;
	unsigned long flags;
	pgoff_t idx;
	int rc = 0;
	bool got = false;

	spin_lock(&mapping->private_lock);
	ctx = mapping->private_data;
	if (!ctx) {
		rc = -EINVAL;
		goto out;
	}

	mutex_lock(&ctx->ring_lock);
	idx = src->page.index;
	if (idx >= (pgoff_t)ctx->nr_pages || ctx->ring_pages[idx] != &src->page) {
		rc = -EAGAIN;
		goto out_unlock;
	}

	folio_get(dst);
	got = true;

	rc = folio_migrate_mapping(mapping, dst, src, 1);
	if (rc != MIGRATEPAGE_SUCCESS) {
		folio_put(dst);
		goto out_unlock;
	}

	spin_lock_irqsave(&ctx->completion_lock, flags);
	folio_migrate_copy(dst, src);
	ctx->ring_pages[idx] = &dst->page;
	spin_unlock_irqrestore(&ctx->completion_lock, flags);

	folio_put(src);

out_unlock:
	if (rc && got)
		folio_put(dst);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	mutex_unlock(&ctx->ring_lock);
out:
	spin_unlock(&mapping->private_lock);
	return rc;
}

struct buffer_head { unsigned long b_state; atomic_t b_count; struct page *b_page; };
bool buffer_dirty(struct buffer_head *bh);
void __brelse(struct buffer_head *bh);
bool folio_trylock(struct folio *folio);
void folio_unlock(struct folio *folio);
bool try_to_free_buffers(struct folio *folio);
struct address_space *folio_mapping_of(struct folio *folio);

// CASE NEGATIVE unbalanced-release: modelled on fs/jbd2/commit.c:release_buffer_page() in 6.1
// folio_get() keeps the folio alive across __brelse() and try_to_free_buffers(); it is put once
// on the only path that took it. Correct code.
static void release_buffer_page(struct buffer_head *bh)
{
	struct folio *folio;
	struct page *page;

	if (buffer_dirty(bh))
		goto nope;
	if (atomic_read(&bh->b_count) != 1)
		goto nope;
	page = bh->b_page;
	if (!page)
		goto nope;
	folio = page_folio(page);
	if (folio_mapping_of(folio))
		goto nope;

	if (!folio_trylock(folio))
		goto nope;

	folio_get(folio);
	__brelse(bh);
	try_to_free_buffers(folio);
	folio_unlock(folio);
	folio_put(folio);
	return;

nope:
	__brelse(bh);
}

// CASE POSITIVE unbalanced-release: mutation of fs/jbd2/commit.c:release_buffer_page() in 6.1
// An early exit added when the buffers cannot be freed unlocks the folio but forgets the
// reference folio_get() took: the truncated page is never freed.
static void release_buffer_page_busy(struct buffer_head *bh)
{
	struct folio *folio;
	struct page *page;

	if (buffer_dirty(bh) || atomic_read(&bh->b_count) != 1)
		goto nope;
	page = bh->b_page;
	if (!page)
		goto nope;
	folio = page_folio(page);
	if (folio_mapping_of(folio) || !folio_trylock(folio))
		goto nope;

	folio_get(folio);
	__brelse(bh);
	if (!try_to_free_buffers(folio)) {
		folio_unlock(folio);
		return;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}
	folio_unlock(folio);
	folio_put(folio);
	return;

nope:
	__brelse(bh);
}
