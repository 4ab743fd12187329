#ifndef _CASES_LINUX_MM_TYPES_H
#define _CASES_LINUX_MM_TYPES_H
#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/list.h>

struct address_space;

struct page {
	unsigned long flags;
	struct list_head lru;
	struct address_space *mapping;
	pgoff_t index;
	unsigned long private;
	atomic_t _mapcount;
	atomic_t _refcount;
};

struct folio {
	struct page page;
};

struct mm_struct {
	unsigned long total_vm;
	unsigned long locked_vm;
	atomic64_t pinned_vm;
	atomic_t mm_users;
	atomic_t mm_count;
	unsigned long def_flags;
};

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	struct mm_struct *vm_mm;
	unsigned long vm_pgoff;
	struct file *vm_file;
	vm_flags_t vm_flags;
	void *vm_private_data;
};
#endif
