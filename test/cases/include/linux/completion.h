#ifndef _CASES_LINUX_COMPLETION_H
#define _CASES_LINUX_COMPLETION_H
#include <linux/types.h>
struct completion { unsigned int done; };
void init_completion(struct completion *x);
void complete(struct completion *x);
void wait_for_completion(struct completion *x);
#endif
