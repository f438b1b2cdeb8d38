/*
 * coattail-executor: turns intents into broker orders exactly once, under risk limits.
 * Arguments and setup only; the stage's work is in executor.c.
 */
#include "stage.h"
#include "executor.h"

static const struct stage_def s_def = {
	.name = "executor",
	.flags = STAGE_ARG_IN | STAGE_ARG_NOW,
	.summary = "turns intents into broker orders exactly once, under risk limits",
	.help_extra = NULL,
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, executor_run);
}
