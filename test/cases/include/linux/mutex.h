#ifndef _CASES_LINUX_MUTEX_H
#define _CASES_LINUX_MUTEX_H
#include <linux/types.h>
struct mutex { int owner; };
void mutex_init(struct mutex *lock);
void mutex_lock(struct mutex *lock);
int mutex_lock_interruptible(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
#endif
