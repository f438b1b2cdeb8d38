/* Fuzz target: a config file -> conf_load (every error reported, no crash),
 * then the CURVE keys and key lists it names (curve_from_conf). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "curve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static char errs[16384];
	conf_t *c;
	FILE *f;

	if (path[0] == '\0') {
		char dir[] = "/tmp/coattail-fuzz-conf-XXXXXX";
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
	}
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	chmod(path, 0600);
	c = conf_load(path, errs, sizeof(errs));
	if (c != NULL) {
		curve_t *cv = NULL;
		(void)curve_from_conf(c, &cv, errs, sizeof(errs));
		curve_free(&cv);
	}
	conf_free(&c);
	return 0;
}
