#ifndef COATTAIL_DECIDER_H
#define COATTAIL_DECIDER_H

#include "stage.h"

/* Run the decider until a signal or the end of its input; returns the exit status. */
int decider_run(conf_t *c, const struct stage_args *a, wire_t *w);

#endif
