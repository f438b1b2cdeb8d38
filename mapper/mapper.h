#ifndef COATTAIL_MAPPER_H
#define COATTAIL_MAPPER_H

#include "stage.h"

/* Run the mapper until a signal or the end of its input; returns the exit status. */
int mapper_run(conf_t *c, const struct stage_args *a, wire_t *w);

#endif
