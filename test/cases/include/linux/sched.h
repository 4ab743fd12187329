#ifndef _CASES_LINUX_SCHED_H
#define _CASES_LINUX_SCHED_H
#include <linux/mm_types.h>
struct task_struct {
	struct mm_struct *mm;
	pid_t pid;
	int flags;
};
struct task_struct *get_current(void);
#define current get_current()
int signal_pending(struct task_struct *p);
int fatal_signal_pending(struct task_struct *p);
#endif
