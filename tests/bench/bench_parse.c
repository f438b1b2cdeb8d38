/*
 * bench_parse - the floors of the parsing benchmark.  "html" and "xml" read
 * each file and build libxml2's DOM of it (htmlReadMemory for pages,
 * xmlCtxtReadMemory for Form 4 XML, with the scraper's options), then free
 * it: the floor the target names.  "html-sax" runs libxml2's HTML
 * parser over each page set up as scraper/htmlsax.c sets it up (forced
 * UTF-8, the same options) with no callback at all: the tokenizer alone,
 * the floor of the scraper's page parsers since they build no tree.
 * Nothing is extracted, so the time is libxml2's own.
 *
 *   bench_parse html|html-sax|xml FILE...
 *
 * Prints "docs N bytes N seconds S" (the parse loop, timed with
 * CLOCK_MONOTONIC) on stdout; exit 1 when a document did not parse.
 */
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTML_OPTIONS                                                                               \
	(HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET)

/* libxml2's HTML tokenizer over buf with no SAX callback; 0 when it ran. */
static int s_html_sax(const char *buf, size_t len)
{
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	xmlCharEncodingHandlerPtr enc;

	if (ctxt == NULL)
		return -1;
	if (ctxt->sax != NULL)
		memset(ctxt->sax, 0, sizeof(xmlSAXHandlerV1));
	htmlCtxtUseOptions(ctxt, HTML_OPTIONS);
	ctxt->html = 1;
	if ((enc = xmlFindCharEncodingHandler("UTF-8")) != NULL)
		xmlSwitchToEncoding(ctxt, enc);
	htmlParseDocument(ctxt);
	if (ctxt->myDoc != NULL)
		xmlFreeDoc(ctxt->myDoc);
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	return 0;
}

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read a whole file; NULL when it cannot be read. */
static char *s_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	size_t bytes = 0, len = 0;
	int bad = 0, html, sax;
	double t0, t1;

	if (argc < 3 || (strcmp(argv[1], "html") != 0 && strcmp(argv[1], "html-sax") != 0 &&
	                 strcmp(argv[1], "xml") != 0)) {
		fprintf(stderr, "usage: bench_parse html|html-sax|xml FILE...\n");
		return 2;
	}
	html = strcmp(argv[1], "html") == 0;
	sax = strcmp(argv[1], "html-sax") == 0;
	xmlInitParser();
	t0 = s_now();
	for (int i = 2; i < argc; i++) {
		char *buf = s_slurp(argv[i], &len);
		xmlDocPtr doc;

		if (buf == NULL) {
			fprintf(stderr, "bench_parse: %s: cannot read\n", argv[i]);
			return 1;
		}
		if (sax) {
			bad += s_html_sax(buf, len) != 0;
			bytes += len;
			free(buf);
			continue;
		}
		if (html) {
			doc = htmlReadMemory(buf, (int)len, NULL, "UTF-8", HTML_OPTIONS);
		} else {
			xmlParserCtxtPtr ctxt = xmlNewParserCtxt();

			doc = ctxt ? xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
			                               XML_PARSE_NONET | XML_PARSE_NOCDATA |
			                                   XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			                                   XML_PARSE_COMPACT)
			           : NULL;
			xmlFreeParserCtxt(ctxt);
		}
		if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
			bad++;
		xmlFreeDoc(doc);
		bytes += len;
		free(buf);
	}
	t1 = s_now();
	printf("docs %d bytes %zu seconds %.6f\n", argc - 2, bytes, t1 - t0);
	xmlCleanupParser();
	return bad ? 1 : 0;
}
