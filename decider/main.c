/*
 * coattail-decider: applies the trading rules and emits intents with a reason.
 * Arguments and setup only; the stage's work is in decider.c.
 */
#include "stage.h"
#include "decider.h"

static const struct stage_def s_def = {
	.name = "decider",
	.flags = STAGE_ARG_IN | STAGE_ARG_NOW,
	.summary = "applies the trading rules and emits intents with a reason",
	.help_extra = NULL,
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, decider_run);
}
