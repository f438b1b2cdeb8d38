/*
 * coattail-mapper: resolves each trade's ticker through OpenFIGI and attaches an instrument.
 * Arguments and setup only; the stage's work is in mapper.c.
 */
#include "stage.h"
#include "mapper.h"

static const struct stage_def s_def = {
	.name = "mapper",
	.flags = STAGE_ARG_IN,
	.summary = "resolves each trade's ticker through OpenFIGI and attaches an instrument",
	.help_extra = NULL,
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, mapper_run);
}
