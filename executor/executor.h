#ifndef COATTAIL_EXECUTOR_H
#define COATTAIL_EXECUTOR_H

#include "stage.h"

/* Run the executor until a signal or the end of its input; returns the exit status. */
int executor_run(conf_t *c, const struct stage_args *a, wire_t *w);

#endif
