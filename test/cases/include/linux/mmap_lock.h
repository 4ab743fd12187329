#ifndef _CASES_LINUX_MMAP_LOCK_H
#define _CASES_LINUX_MMAP_LOCK_H
#include <linux/mm_types.h>
void mmap_read_lock(struct mm_struct *mm);
void mmap_read_unlock(struct mm_struct *mm);
int mmap_read_lock_killable(struct mm_struct *mm);
void mmap_write_lock(struct mm_struct *mm);
void mmap_write_unlock(struct mm_struct *mm);
#endif
