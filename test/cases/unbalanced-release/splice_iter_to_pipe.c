// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/splice.c (6.1): vmsplice() to a pipe takes page references with
// iov_iter_get_pages2() and gives each page to the pipe with add_to_pipe(), which on failure
// releases the buffer it was given (pipe_buf_release()).
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/pipe_fs_i.h>

extern const struct pipe_buf_operations user_page_pipe_buf_ops;

// CASE NEGATIVE unbalanced-release: modelled on fs/splice.c:iter_to_pipe() in 6.1
// Pages given to the pipe are the pipe's; when add_to_pipe() fails it has already dropped
// pages[i] ("this one got dropped by add_to_pipe()"), and the loop puts pages[i+1..n). Correct.
static int iter_to_pipe(struct iov_iter *from, struct pipe_inode_info *pipe, unsigned flags)
{
	struct pipe_buffer buf = {
		.ops = &user_page_pipe_buf_ops,
		.flags = flags
	};
	size_t total = 0;
	int ret = 0;

	while (iov_iter_count(from)) {
		struct page *pages[16];
		ssize_t left;
		size_t start;
		int i, n;

		left = iov_iter_get_pages2(from, pages, ~0UL, 16, &start);
		if (left <= 0) {
			ret = left;
			break;
		}

		n = DIV_ROUND_UP(left + start, PAGE_SIZE);
		for (i = 0; i < n; i++) {
			int size = min_t(int, left, PAGE_SIZE - start);

			buf.page = pages[i];
			buf.offset = start;
			buf.len = size;
			ret = add_to_pipe(pipe, &buf);
			if (unlikely(ret < 0)) {
				iov_iter_revert(from, left);
				while (++i < n)
					put_page(pages[i]);
				goto out;
			}
			total += ret;
			left -= size;
			start = 0;
		}
	}
out:
	return total ? total : ret;
}

// CASE POSITIVE unbalanced-release: mutation of fs/splice.c:iter_to_pipe() in 6.1
// When the pipe fills up the loop just stops: pages[i+1..n) were referenced by
// iov_iter_get_pages2() and are neither in the pipe nor put.
static int iter_to_pipe_full(struct iov_iter *from, struct pipe_inode_info *pipe, unsigned flags)
{
	struct pipe_buffer buf = {
		.ops = &user_page_pipe_buf_ops,
		.flags = flags
	};
	size_t total = 0;
	int ret = 0;

	while (iov_iter_count(from)) {
		struct page *pages[16];
		ssize_t left;
		size_t start;
		int i, n;

		left = iov_iter_get_pages2(from, pages, ~0UL, 16, &start);
		if (left <= 0) {
			ret = left;
			break;
		}

		n = DIV_ROUND_UP(left + start, PAGE_SIZE);
		for (i = 0; i < n; i++) {
			int size = min_t(int, left, PAGE_SIZE - start);

			buf.page = pages[i];
			buf.offset = start;
			buf.len = size;
			ret = add_to_pipe(pipe, &buf);
			if (unlikely(ret < 0)) {
				iov_iter_revert(from, left);
				goto out;
			}
			total += ret;
			left -= size;
			start = 0;
		}
	}
out:
	return total ? total : ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE POSITIVE unbalanced-release: mutation of fs/splice.c:iter_to_pipe() in 6.1
// The cleanup loop starts at pages[i] itself ('while (i < n) put_page(pages[i++])'), but
// add_to_pipe() already released pages[i] when it failed: that page's reference is dropped
// twice (a double release across the sink and its caller).
static int iter_to_pipe_double_put(struct iov_iter *from, struct pipe_inode_info *pipe,
				   unsigned flags)
{
	struct pipe_buffer buf = {
		.ops = &user_page_pipe_buf_ops,
		.flags = flags
	};
	size_t total = 0;
	int ret = 0;

	while (iov_iter_count(from)) {
		struct page *pages[16];
		ssize_t left;
		size_t start;
		int i, n;

		left = iov_iter_get_pages2(from, pages, ~0UL, 16, &start);
		if (left <= 0) {
			ret = left;
			break;
		}

		n = DIV_ROUND_UP(left + start, PAGE_SIZE);
		for (i = 0; i < n; i++) {
			int size = min_t(int, left, PAGE_SIZE - start);

			buf.page = pages[i];
			buf.offset = start;
			buf.len = size;
			ret = add_to_pipe(pipe, &buf);
			if (unlikely(ret < 0)) {
				iov_iter_revert(from, left);
				while (i < n)
					put_page(pages[i++]);
					// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
				goto out;
			}
			total += ret;
			left -= size;
			start = 0;
		}
	}
out:
	return total ? total : ret;
}
