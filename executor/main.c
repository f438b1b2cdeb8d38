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
	.help_extra =
	    "Brokers (executor.broker): paper (a local ledger in state_dir/paper.sqlite,\n"
	    "filling at the intent's ref_price during NYSE hours), alpaca, lemon.\n"
	    "Every intent is journalled in state_dir/executor.sqlite before the broker\n"
	    "hears of it, and ends with an order event (submitted, filled, rejected,\n"
	    "duplicate, blocked, dry_run or error) on --out and the tap.\n"
	    "Kill switch: while executor.halt_file exists (default run_dir/HALT), no new\n"
	    "order is sent.  COATTAIL_DRY_RUN=1 journals and reports without sending.\n"
	    "--now fixes the clock (market hours, expiry, daily limits) for replays.\n",
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, executor_run);
}
