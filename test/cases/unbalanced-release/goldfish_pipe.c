// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/platform/goldfish/goldfish_pipe.c (6.1): a pipe transfer pins up to
// MAX_BUFFERS_PER_COMMAND user pages into pipe->pages, runs the command and unpins them.
#include <linux/mm.h>
#include <linux/mutex.h>

#define MAX_BUFFERS_PER_COMMAND 336
#define PIPE_CMD_WRITE 4
#define PIPE_CMD_READ 5
struct goldfish_pipe_command { struct { s32 consumed_size; } rw_params; };
struct goldfish_pipe {
	struct mutex lock;
	struct goldfish_pipe_command *command_buffer;
	struct page *pages[MAX_BUFFERS_PER_COMMAND];
};
void populate_rw_params(struct page **pages, int pages_count, unsigned long address,
			unsigned long address_end, unsigned long first_page,
			unsigned long last_page, unsigned int iter_last_page_size, int is_write,
			struct goldfish_pipe_command *command);
int goldfish_pipe_cmd_locked(struct goldfish_pipe *pipe, int cmd);

// CASE NEGATIVE unbalanced-release: modelled on drivers/platform/goldfish/goldfish_pipe.c:goldfish_pin_pages() in 6.1
// Pins into the caller's array and returns how many; the caller unpins that many. Nothing is
// pinned when it returns -EFAULT (ret <= 0). Correct code.
static int goldfish_pin_pages(unsigned long first_page, unsigned long last_page,
			      unsigned int last_page_size, int is_write,
			      struct page *pages[MAX_BUFFERS_PER_COMMAND],
			      unsigned int *iter_last_page_size)
{
	int ret;
	int requested_pages = ((last_page - first_page) >> PAGE_SHIFT) + 1;

	if (requested_pages > MAX_BUFFERS_PER_COMMAND) {
		requested_pages = MAX_BUFFERS_PER_COMMAND;
		*iter_last_page_size = PAGE_SIZE;
	} else {
		*iter_last_page_size = last_page_size;
	}

	ret = pin_user_pages_fast(first_page, requested_pages, !is_write ? FOLL_WRITE : 0, pages);
	if (ret <= 0)
		return -EFAULT;
	if (ret < requested_pages)
		*iter_last_page_size = PAGE_SIZE;

	return ret;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/platform/goldfish/goldfish_pipe.c:transfer_max_buffers() in 6.1
// The pins come from the same-file helper goldfish_pin_pages() with their count as its result;
// a negative result pinned nothing, otherwise exactly pages_count pages are unpinned. Correct.
static int transfer_max_buffers(struct goldfish_pipe *pipe, unsigned long address,
				unsigned long address_end, int is_write, unsigned long last_page,
				unsigned int last_page_size, s32 *consumed_size, int *status)
{
	unsigned long first_page = address & PAGE_MASK;
	unsigned int iter_last_page_size;
	int pages_count;

	if (mutex_lock_interruptible(&pipe->lock))
		return -ERESTARTSYS;

	pages_count = goldfish_pin_pages(first_page, last_page, last_page_size, is_write,
					 pipe->pages, &iter_last_page_size);
	if (pages_count < 0) {
		mutex_unlock(&pipe->lock);
		return pages_count;
	}

	populate_rw_params(pipe->pages, pages_count, address, address_end, first_page, last_page,
			   iter_last_page_size, is_write, pipe->command_buffer);

	*status = goldfish_pipe_cmd_locked(pipe, is_write ? PIPE_CMD_WRITE : PIPE_CMD_READ);

	*consumed_size = pipe->command_buffer->rw_params.consumed_size;

	unpin_user_pages_dirty_lock(pipe->pages, pages_count, !is_write && *consumed_size > 0);

	mutex_unlock(&pipe->lock);
	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/platform/goldfish/goldfish_pipe.c:transfer_max_buffers() in 6.1
// A failed command returns before the unpin: the pages_count pages pinned by
// goldfish_pin_pages() stay pinned (pipe->pages is only a scratch array, refilled next time).
static int transfer_max_buffers_cmd_fail(struct goldfish_pipe *pipe, unsigned long address,
					 unsigned long address_end, int is_write,
					 unsigned long last_page, unsigned int last_page_size,
					 s32 *consumed_size, int *status)
{
	unsigned long first_page = address & PAGE_MASK;
	unsigned int iter_last_page_size;
	int pages_count;

	if (mutex_lock_interruptible(&pipe->lock))
		return -ERESTARTSYS;

	pages_count = goldfish_pin_pages(first_page, last_page, last_page_size, is_write,
					 pipe->pages, &iter_last_page_size);
	if (pages_count < 0) {
		mutex_unlock(&pipe->lock);
		return pages_count;
	}

	populate_rw_params(pipe->pages, pages_count, address, address_end, first_page, last_page,
			   iter_last_page_size, is_write, pipe->command_buffer);

	*status = goldfish_pipe_cmd_locked(pipe, is_write ? PIPE_CMD_WRITE : PIPE_CMD_READ);
	if (*status < 0) {
		mutex_unlock(&pipe->lock);
		return -EIO;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	*consumed_size = pipe->command_buffer->rw_params.consumed_size;

	unpin_user_pages_dirty_lock(pipe->pages, pages_count, !is_write && *consumed_size > 0);

	mutex_unlock(&pipe->lock);
	return 0;
}
