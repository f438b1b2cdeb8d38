/*
 * test_form4.c - Form 4 ownershipDocuments and the EDGAR SGML that wraps
 * them: every shared fixture checked field by field against its XML, the
 * project's own fixtures for every trap of SOURCES.md 5, and hostile XML
 * (external entities, billion laughs, DTDs, deep nesting, bad UTF-8,
 * absurd numbers, oversized documents).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../scraper/parse.h"
#include "sha256.h"
#include "support/testutil.h"
#include "support/tradecheck.h"
#include "timeutil.h"

#define D ROLE_DIRECTOR
#define O ROLE_OFFICER
#define T ROLE_TEN_PERCENT_OWNER
#define X ROLE_OTHER

/* ---- helpers ---- */

struct parsed {
	struct trade_list l;
	struct parse_result res;
	char err[512];
	int rc;
};

static char *s_read(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = test_read_file(path, len);
	if (buf == NULL)
		print_error("cannot read %s\n", path);
	assert_non_null(buf);
	return buf;
}

static void s_parse_buf(const char *buf, size_t len, const struct parse_ctx *ctx, bool sgml,
                        struct parsed *p)
{
	trade_list_init(&p->l);
	p->err[0] = '\0';
	if (sgml)
		p->rc = sgml_parse(buf, len, ctx, &p->l, &p->res, p->err, sizeof(p->err));
	else
		p->rc = form4_parse(buf, len, ctx, &p->l, &p->res, p->err, sizeof(p->err));
	if (p->rc == 0)
		check_trades_sane(p->l.items, p->l.n, "parsed");
	else
		assert_int_equal(p->l.n, 0); /* a failed document leaves nothing behind */
}

/* Parse a file; the accession comes from its name when it starts with one. */
static void s_parse_file(const char *dir, const char *name, bool sgml, struct parsed *p)
{
	struct parse_ctx ctx;
	char acc[ACCESSION_LEN];
	size_t len;
	char *buf = s_read(dir, name, &len);

	parse_ctx_init(&ctx);
	if (accession_from_filename(name, acc) == 0)
		ctx.accession = acc;
	s_parse_buf(buf, len, &ctx, sgml, p);
	free(buf);
}

static void s_done(struct parsed *p)
{
	trade_list_free(&p->l);
}

/* How many skipped (or dropped) rows had this reason. */
static size_t s_note(const struct parse_result *res, bool skipped, const char *reason)
{
	for (size_t i = 0; i < res->n_notes; i++)
		if (res->notes[i].skipped == skipped && strcmp(res->notes[i].reason, reason) == 0)
			return res->notes[i].count;
	return 0;
}

/* ---- the shared fixtures, read by hand into this table ---- */

struct want_file {
	const char *name;
	size_t trades, dropped;
	struct want_trade t[4];
};

#define HEAR_ACC "0000929638-23-001482"
#define TLS_ACC  "0000320121-23-000040"
#define FLWS_ACC "0000921895-25-001190"
#define ARW_ACC  "0001127602-25-004598"
#define TSVT_ACC "0001562180-25-000280"
#define TXG_ACC  "0001610717-23-000035"

#define HEAR(k, ...)                                                                               \
	{                                                                                          \
		"edgar:" HEAR_ACC ":" k, HEAR_ACC, NULL, NULL, __VA_ARGS__                         \
	}
#define TLS(k, ...)                                                                                \
	{                                                                                          \
		"edgar:" TLS_ACC ":" k, TLS_ACC, NULL, NULL, __VA_ARGS__                           \
	}
#define FLWS(k, ...)                                                                               \
	{                                                                                          \
		"edgar:" FLWS_ACC ":" k, FLWS_ACC, NULL, NULL, __VA_ARGS__                         \
	}
#define ARW(k, ...)                                                                                \
	{                                                                                          \
		"edgar:" ARW_ACC ":" k, ARW_ACC, NULL, NULL, __VA_ARGS__                           \
	}
#define TSVT(k, ...)                                                                               \
	{                                                                                          \
		"edgar:" TSVT_ACC ":" k, TSVT_ACC, NULL, NULL, __VA_ARGS__                         \
	}
#define TXG(k, ...)                                                                                \
	{                                                                                          \
		"edgar:" TXG_ACC ":" k, TXG_ACC, NULL, NULL, __VA_ARGS__                           \
	}

/* Owner/issuer columns repeated per filing. */
#define HEAR_WHO "HEAR", "Turtle Beach Corp", "0001493761", "SZE JULIA", "0001777906", "Director", D
#define TLS_WHO  "TLS", "TELOS CORP", "0000320121", "Schaufeld Fredrick", "0001831624", "Director", D
#define FLWS_WHO                                                                                   \
	"FLWS", "1 800 FLOWERS COM INC", "0001084869", "Fund 1 Investments, LLC", "0001959730",    \
	    "10% Owner", T
#define ARW_WHO                                                                                    \
	"ARW", "ARROW ELECTRONICS, INC.", "0000007536", "Jean-Claude Carine Lamercie",             \
	    "0001870985", "SVP, CLO & Secretary", O
#define TSVT_WHO                                                                                   \
	"TSVT", "2seventy bio, Inc.", "0001860782", "Snow Jessica", "0002009134",                  \
	    "Senior Vice President of Quality and Enabling Functions", O
#define TXG_WHO                                                                                    \
	"TXG", "10x Genomics, Inc.", "0001770787", "Mammen Mathai", "0001421050", "Director", D
#define SCWO_WHO                                                                                   \
	"SCWO", "374Water Inc.", "0000933972", "Melkote Rajesh Ramaswamy", "0002064133",           \
	    "Chief Technology Officer", O

static const struct want_file s_files[] = {
	{ "0000929638-23-001482_HEAR_single_P.xml",
	  1,
	  0,
	  { HEAR("1", "2023-05-11", HEAR_WHO, "P", 5000, 11.03, 55150, 18453, 1, false, false) } },
	{ "0000320121-23-000040_TLS_3xP_purchases.xml",
	  3,
	  4, /* four nonDerivativeHolding rows */
	  { TLS("1", "2023-05-12", TLS_WHO, "P", 84603, 2.36, 199663.08, 84603, 0, false, false),
	    TLS("2", "2023-05-12", TLS_WHO, "P", 84602, 2.36, 199660.72, 84602, 0, false, false),
	    TLS("3", "2023-05-12", TLS_WHO, "P", 84602, 2.36, 199660.72, 84602, 0, false,
	        false) } },
	{ "0000921895-25-001190_FLWS_3_owners_4xP.xml",
	  4,
	  0,
	  { FLWS("1", "2025-04-24", FLWS_WHO, "P", 16000, 5.3569, 85710.4, 8536067, 0, false,
	         false),
	    FLWS("2", "2025-04-24", FLWS_WHO, "P", 16847, 5.4231, 91362.9657, 8552914, 0, false,
	         false),
	    FLWS("3", "2025-04-25", FLWS_WHO, "P", 100000, 5.4598, 545980, 8652914, 0, false,
	         false),
	    FLWS("4", "2025-04-28", FLWS_WHO, "P", 35000, 5.4173, 189605.5, 8687914, 0, false,
	         false) } },
	{ "0001062993-23-011116_VCNX_derivative_only_A.xml", 0, 4, { { 0 } } },
	{ "0001127602-25-004598_ARW_from_sgml.xml",
	  2,
	  0,
	  { ARW("1", "2025-02-12", ARW_WHO, "A", 2193, 106.82, 234256.26, 21878, 1, false, false),
	    ARW("2", "2025-02-12", ARW_WHO, "F", 1009, 106.82, 107781.38, 20869, 1, false,
	        false) } },
	{ "0001562180-25-000280_TSVT_from_sgml.xml",
	  1,
	  1,
	  { TSVT("1", "2025-01-06", TSVT_WHO, "A", 106150, 0, 0, 253329, 1, false, false) } },
	{ "0001610717-23-000035_TXG_M_S_with_derivative.xml",
	  2,
	  1,
	  { TXG("1", "2023-05-11", TXG_WHO, "M", 200000, 1.16, 232000, 202745, 1, false, false),
	    TXG("2", "2023-05-11", TXG_WHO, "S", 33000, 52.8208, 1743086.4, 169745, 1, false,
	        false) } },
	{ "SCWO_374Water_form4_2025-04-30_X0508.xml",
	  1,
	  1,
	  { { NULL, NULL, NULL, NULL, "2025-04-30", SCWO_WHO, "A", 757756, 0, 0, 757756, 1, false,
	      false } } },
	{ "VRTX_Vertex_derivative_only_fractional_X0306.xml", 0, 1, { { 0 } } },
};

static void test_every_shared_form4_fixture_matches_its_xml_field_by_field(void **state)
{
	const char *shared = test_shared_fixtures();
	char dir[512], where[256];

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/form4", shared);
	for (size_t f = 0; f < sizeof(s_files) / sizeof(s_files[0]); f++) {
		const struct want_file *w = &s_files[f];
		struct parsed p;

		s_parse_file(dir, w->name, false, &p);
		if (p.rc != 0)
			print_error("%s: %s\n", w->name, p.err);
		assert_int_equal(p.rc, 0);
		assert_int_equal(p.res.status, PARSE_OK);
		assert_int_equal(p.l.n, w->trades);
		assert_int_equal(p.res.trades, w->trades);
		assert_int_equal(p.res.skipped, 0);
		assert_int_equal(p.res.dropped, w->dropped);
		for (size_t i = 0; i < w->trades; i++) {
			snprintf(where, sizeof(where), "%s trade %zu", w->name, i + 1);
			check_trade(&p.l.items[i], "edgar", &w->t[i], where);
		}
		s_done(&p);
	}
}

/* Without an accession the key names the document by its SHA-256. */
static void test_key_without_accession_is_the_documents_hash_and_stable(void **state)
{
	const char *shared = test_shared_fixtures();
	char dir[512], want[80], hex[21];
	uint8_t digest[SHA256_DIGEST_LEN];
	struct parsed a, b;
	size_t len;
	char *buf;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/form4", shared);
	buf = s_read(dir, "SCWO_374Water_form4_2025-04-30_X0508.xml", &len);
	sha256(buf, len, digest);
	snprintf(want, sizeof(want), "edgar:sha256-%s:1", sha256_hex(digest, 20, hex));
	s_parse_buf(buf, len, NULL, false, &a);
	s_parse_buf(buf, len, NULL, false, &b);
	assert_int_equal(a.l.n, 1);
	assert_string_equal(a.l.items[0].u.trade.key, want);
	assert_string_equal(b.l.items[0].u.trade.key, want);
	assert_null(a.l.items[0].u.trade.accession);
	s_done(&a);
	s_done(&b);
	free(buf);
}

/* The .txt/.nc submissions hold the same XML as the form4/ copies. */
static void test_shared_sgml_submissions_give_the_xml_trades_and_acceptance_time(void **state)
{
	static const struct {
		const char *sgml;
		size_t file; /* index into s_files */
		const char *filed_at;
	} cases[] = {
		{ "0000921895-25-001190.txt", 2, "2025-04-28T20:37:35Z" }, /* 16:37:35 EDT */
		{ "0001127602-25-004598.nc", 4, NULL }, /* .nc: no acceptance time */
		{ "0001610717-23-000035.txt", 6, "2023-05-15T20:37:41Z" },
	};
	const char *shared = test_shared_fixtures();
	char dir[512], where[256];

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/edgar_sgml", shared);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct want_file *w = &s_files[cases[c].file];
		struct parsed p;
		size_t len;
		char *buf = s_read(dir, cases[c].sgml, &len);

		/* No ctx at all: the accession comes from the SGML header. */
		assert_int_equal(doc_sniff(buf, len), DOC_EDGAR_SGML);
		s_parse_buf(buf, len, NULL, true, &p);
		if (p.rc != 0)
			print_error("%s: %s\n", cases[c].sgml, p.err);
		assert_int_equal(p.rc, 0);
		assert_int_equal(p.l.n, w->trades);
		for (size_t i = 0; i < w->trades; i++) {
			struct want_trade t = w->t[i];
			t.filed_at = cases[c].filed_at;
			snprintf(where, sizeof(where), "%s trade %zu", cases[c].sgml, i + 1);
			check_trade(&p.l.items[i], "edgar", &t, where);
		}
		s_done(&p);
		free(buf);
	}
}

/* ---- the project's own fixtures: one per trap ---- */

static void test_multi_owner_4A_with_every_value_trap(void **state)
{
	struct parsed p;
	struct parse_ctx ctx;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/traps_multi_owner_4A.xml", &len);
	/* Owner: Roe Jane Q., the first officer, not the fund listed first; her
	 * three roles; "See Remarks" resolved and cut at the sentence end. */
#define ROE                                                                                        \
	"ACMW", "Acme Widgets & Gadgets, Inc.", "0000001234", "Roe Jane Q.", "0000777002",         \
	    "Chief Executive Officer & President", D | O | T
	const struct want_trade want[] = {
		/* referenced footnote F1 says Rule 10b5-1 -> planned */
		{ "edgar:0009999999-24-000001:1", "0009999999-24-000001",
		  "https://www.sec.gov/Archives/edgar/data/1234/000999999924000001/x.xml",
		  "2024-03-08T21:00:00Z", "2024-03-04", ROE, "S", 1000, 12.345, 12345, 5000.5, 1,
		  true, true },
		/* footnote-only price -> null price and value; empty shares_after;
		 * F2 negates the plan */
		{ "edgar:0009999999-24-000001:2", "0009999999-24-000001",
		  "https://www.sec.gov/Archives/edgar/data/1234/000999999924000001/x.xml",
		  "2024-03-08T21:00:00Z", "2024-03-04", ROE, "F", 250, NAN, NAN, NAN, 0, false,
		  true },
		/* the holding between is not counted in n; fractional shares; a
		 * time-zone suffix on the date; no post-transaction amounts and no
		 * ownership nature -> null */
		{ "edgar:0009999999-24-000001:3", "0009999999-24-000001",
		  "https://www.sec.gov/Archives/edgar/data/1234/000999999924000001/x.xml",
		  "2024-03-08T21:00:00Z", "2024-03-05", ROE, "P", 196.356, 10.5, 2061.738, NAN,
		  REC_TRI_NULL, false, true },
	};
#undef ROE

	(void)state;
	parse_ctx_init(&ctx);
	ctx.accession = "0009999999-24-000001";
	ctx.url = "https://www.sec.gov/Archives/edgar/data/1234/000999999924000001/x.xml";
	assert_int_equal(time_parse_rfc3339("2024-03-08T21:00:00Z", &ctx.filed_at), 0);
	s_parse_buf(buf, len, &ctx, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 3);
	for (size_t i = 0; i < 3; i++)
		check_trade(&p.l.items[i], "edgar", &want[i], "traps_multi_owner_4A");
	/* Two bad rows cost themselves only, each with its reason. */
	assert_int_equal(p.res.rows, 5);
	assert_int_equal(p.res.skipped, 2);
	assert_int_equal(s_note(&p.res, true, "no transactionShares"), 1);
	assert_int_equal(s_note(&p.res, true, "bad transactionShares 'about 100'"), 1);
	assert_int_equal(s_note(&p.res, false, "holding"), 1);
	assert_int_equal(s_note(&p.res, false, "derivative transaction"), 1);
	s_done(&p);
	free(buf);
}

static void test_aff10b5one_true_makes_every_transaction_planned(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/aff10b5one_director.xml", &len);
#define ZETA "ZETA", "Zeta Bio Ltd", "0000888001", "M\xc3\xbcller Anna", "0000888002", "Director", D
	const struct want_trade want[] = {
		{ NULL, NULL, NULL, NULL, "2025-06-02", ZETA, "S", 2500, 40.10, 100250, 0, 1, true,
		  false },
		{ NULL, NULL, NULL, NULL, "2025-06-03", ZETA, "S", 100, 41, 4100, 7400, 0, true,
		  false },
	};
#undef ZETA

	(void)state;
	/* A leading comment and a character reference (&#252;) are fine. */
	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 2);
	check_trade(&p.l.items[0], "edgar", &want[0], "aff10b5one 1");
	check_trade(&p.l.items[1], "edgar", &want[1], "aff10b5one 2");
	s_done(&p);
	free(buf);
}

static void test_unreferenced_plan_footnote_unicode_dash_other_text_and_two_tickers(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/unreferenced_plan_footnote.xml", &len);
	const struct want_trade want = {
		NULL,
		NULL,
		NULL,
		NULL,
		"2022-11-15",
		"GOOG", /* "goog, googl": the first, upper case */
		"Omega Search Co",
		"0000999001",
		"Family Trust of R. Smith",
		"0000999002",
		"Trustee", /* otherText */
		X,
		"S",
		300,
		98.5,
		29550,
		12000,
		0,
		true, /* F9, referenced by nothing, says "10b5 – 1" */
		false,
	};

	(void)state;
	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 1);
	check_trade(&p.l.items[0], "edgar", &want, "unreferenced_plan_footnote");
	s_done(&p);
	free(buf);
}

/* A minimal Form 4 whose one transaction references a footnote saying `fn`. */
static bool s_planned_with_footnote(const char *fn, bool referenced)
{
	char doc[4096];
	struct parsed p;
	bool planned;

	snprintf(doc, sizeof(doc),
	         "<ownershipDocument><documentType>4</documentType>"
	         "<issuer><issuerCik>1</issuerCik><issuerName>I</issuerName>"
	         "<issuerTradingSymbol>ABC</issuerTradingSymbol></issuer>"
	         "<reportingOwner><reportingOwnerId><rptOwnerCik>2</rptOwnerCik>"
	         "<rptOwnerName>O</rptOwnerName></reportingOwnerId></reportingOwner>"
	         "<aff10b5One>0</aff10b5One>"
	         "<nonDerivativeTable><nonDerivativeTransaction>"
	         "<transactionDate><value>2024-01-02</value></transactionDate>"
	         "<transactionCoding><transactionCode>S</transactionCode>%s</transactionCoding>"
	         "<transactionAmounts><transactionShares><value>5</value></transactionShares>"
	         "</transactionAmounts></nonDerivativeTransaction></nonDerivativeTable>"
	         "<derivativeTable><derivativeTransaction><footnoteId id=\"F2\"/>"
	         "</derivativeTransaction></derivativeTable>"
	         "<footnotes><footnote id=\"F1\">%s</footnote>"
	         "<footnote id=\"F2\">%s</footnote></footnotes></ownershipDocument>",
	         referenced ? "<footnoteId id=\"F1\"/>" : "", referenced ? fn : "Nothing.",
	         referenced ? "Nothing." : fn);
	s_parse_buf(doc, strlen(doc), NULL, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 1);
	planned = p.l.items[0].u.trade.planned;
	s_done(&p);
	return planned;
}

static void test_10b5_1_spellings_and_negations(void **state)
{
	(void)state;
	assert_true(s_planned_with_footnote("Effected under a 10b5-1 plan.", true));
	assert_true(s_planned_with_footnote("Sold under a RULE 10B5-1(c) plan.", true));
	assert_true(s_planned_with_footnote("Pursuant to a Rule 10b5 - 1 trading plan.", true));
	assert_true(s_planned_with_footnote("Under a 10b-5-1 plan adopted in May.", true));
	assert_true(s_planned_with_footnote(
	    "Weighted average price. The sales were made under a 10b5-1 plan adopted 2023.", true));
	/* negated, or a different rule */
	assert_false(s_planned_with_footnote("This sale was not made under a 10b5-1 plan.", true));
	assert_false(
	    s_planned_with_footnote("The reporting person's 10b5-1 plan was terminated.", true));
	assert_false(s_planned_with_footnote("Exempt under Rule 16b-3.", true));
	/* every negating word and stem, in either case, is still found now
	 * that only words starting with their letters are compared */
	assert_false(s_planned_with_footnote("No 10b5-1 plan applied.", true));
	assert_false(s_planned_with_footnote("None under 10b5-1.", true));
	assert_false(s_planned_with_footnote("Neither a 10b5-1 plan nor a 16b-3 grant.", true));
	assert_false(s_planned_with_footnote("Sold WITHOUT a 10b5-1 plan.", true));
	assert_false(s_planned_with_footnote("The sale wasn't under a 10b5-1 plan.", true));
	assert_false(s_planned_with_footnote("The 10b5-1 plan was Cancelled in May.", true));
	assert_false(s_planned_with_footnote("He chose to REVOKE the 10b5-1 plan.", true));
	assert_false(s_planned_with_footnote("A 10b5-1 plan; Termination followed.", false));
	/* upper case, at the sentence's last bytes, and look-alikes that
	 * differ from a negation in their second letter */
	assert_false(s_planned_with_footnote("A 10b5-1 plan, NOR a grant.", true));
	assert_false(s_planned_with_footnote("Sale DIDN'T use a 10b5-1 plan.", true));
	assert_false(s_planned_with_footnote("A 10b5-1 plan, or not", true));
	assert_false(s_planned_with_footnote("A 10b5-1 plan: nO.", true));
	assert_true(s_planned_with_footnote("Net of fees, under a 10b5-1 plan; na.", true));
	assert_true(s_planned_with_footnote("A 10b5-1 plan, tarminated? canal revolve.", true));
	/* words that merely contain them do not negate */
	assert_true(s_planned_with_footnote("Notably, a 10b5-1 plan; nothing else.", true));
	assert_true(s_planned_with_footnote("Nominee sold under a 10b5-1 plan.", true));
	assert_false(s_planned_with_footnote("Rule 10b5-10 applies here.", true));
	/* footnotes that mention no plan, referenced or not (the document is
	 * then not walked for references) */
	assert_false(s_planned_with_footnote("Weighted average price.", true));
	assert_false(s_planned_with_footnote("Weighted average price.", false));
	/* A plan footnote another transaction (the derivative one) references
	 * does not make this transaction planned. */
	assert_false(s_planned_with_footnote("Effected under a 10b5-1 plan.", false));
}

/* A footnote of a million bytes of negated mentions costs little time. */
static void test_hostile_plan_footnote_is_cheap(void **state)
{
	const char *head =
	    "<ownershipDocument><documentType>4</documentType><issuer>"
	    "<issuerName>I</issuerName><issuerTradingSymbol>ABC</issuerTradingSymbol>"
	    "</issuer><reportingOwner><reportingOwnerId><rptOwnerName>O"
	    "</rptOwnerName></reportingOwnerId></reportingOwner><nonDerivativeTable>"
	    "<nonDerivativeTransaction><transactionDate><value>2024-01-02</value>"
	    "</transactionDate><transactionCoding><transactionCode>S</transactionCode>"
	    "<footnoteId id=\"F1\"/></transactionCoding><transactionAmounts>"
	    "<transactionShares><value>5</value></transactionShares>"
	    "</transactionAmounts></nonDerivativeTransaction></nonDerivativeTable>"
	    "<footnotes><footnote id=\"F1\">";
	const char *unit = "no 10b5-1 plan and ";
	const char *tail = "</footnote></footnotes></ownershipDocument>";
	size_t n = 60000, len = 0;
	char *doc = malloc(strlen(head) + n * strlen(unit) + strlen(tail) + 1);
	struct timespec t0, t1;
	struct parsed p;

	(void)state;
	assert_non_null(doc);
	len += (size_t)sprintf(doc, "%s", head);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(doc + len, "%s", unit);
	len += (size_t)sprintf(doc + len, "%s", tail);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s_parse_buf(doc, len, NULL, false, &p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(p.rc, 0);
	assert_false(p.l.items[0].u.trade.planned);
	assert_true((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 1.0);
	s_done(&p);
	free(doc);
}

static void test_missing_ticker_costs_every_row_and_says_why(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/no_ticker.xml", &len);

	(void)state;
	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_ROWS_BAD);
	assert_int_equal(p.res.rows, 2);
	assert_int_equal(s_note(&p.res, true, "no issuerTradingSymbol"), 2);
	assert_non_null(strstr(p.err, "form4:"));
	assert_non_null(strstr(p.err, "no issuerTradingSymbol"));
	s_done(&p);
	free(buf);
}

static void test_absurd_numbers_cost_their_rows_only(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/absurd_numbers.xml", &len);

	(void)state;
	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res.rows, 9);
	assert_int_equal(p.res.skipped, 8);
	assert_int_equal(s_note(&p.res, true, "bad transactionShares '1e308'"), 1);
	assert_int_equal(s_note(&p.res, true, "bad transactionShares 'NaN'"), 1);
	assert_int_equal(s_note(&p.res, true, "bad transactionShares '0x10'"), 1);
	assert_int_equal(s_note(&p.res, true, "negative transactionPricePerShare"), 1);
	assert_int_equal(s_note(&p.res, true, "shares must be > 0"), 1);
	assert_int_equal(s_note(&p.res, true, "bad transactionDate '2024-02-30'"), 1);
	assert_int_equal(s_note(&p.res, true, "bad transactionCode 'SS'"), 1);
	assert_int_equal(p.l.n, 1);
	assert_true(num_eq(p.l.items[0].u.trade.shares, 999999999999999.0));
	assert_true(p.l.items[0].u.trade.key[strlen(p.l.items[0].u.trade.key) - 1] == '9');
	s_done(&p);
	free(buf);
}

/* ---- hostile XML ---- */

static double s_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long s_maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void s_expect_refused(const char *name, const char *why)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), name, &len);
	double t0 = s_seconds();
	long rss0 = s_maxrss_kb();

	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
	assert_non_null(strstr(p.err, why));
	/* Nothing of /etc/passwd, no expansion: quick, and no memory spent. */
	assert_null(strstr(p.err, "root:"));
	assert_true(s_seconds() - t0 < 1.0);
	assert_true(s_maxrss_kb() - rss0 < 16 * 1024);
	s_done(&p);
	free(buf);
}

static void test_xxe_external_entity_is_refused_unread(void **state)
{
	(void)state;
	s_expect_refused("form4/xxe_external_entity.xml", "declares a DTD");
}

static void test_billion_laughs_is_refused_quickly_in_bounded_memory(void **state)
{
	(void)state;
	s_expect_refused("form4/billion_laughs.xml", "declares a DTD");
}

static void test_external_dtd_is_refused_without_network(void **state)
{
	(void)state;
	s_expect_refused("form4/external_dtd.xml", "declares a DTD");
}

static void test_invalid_utf8_xml_is_a_bad_document(void **state)
{
	(void)state;
	s_expect_refused("form4/invalid_utf8.xml", "not well formed");
}

static void test_deeply_nested_xml_is_refused_quickly(void **state)
{
	size_t depth = 100000, len = 0;
	char *doc = malloc(depth * 7 + 64);
	struct parsed p;
	double t0 = s_seconds();

	(void)state;
	assert_non_null(doc);
	len += (size_t)sprintf(doc, "<ownershipDocument>");
	for (size_t i = 0; i < depth; i++)
		len += (size_t)sprintf(doc + len, "<a>");
	s_parse_buf(doc, len, NULL, false, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
	assert_true(s_seconds() - t0 < 2.0);
	s_done(&p);
	free(doc);
}

static void test_oversized_document_is_refused_before_parsing(void **state)
{
	size_t len = PARSE_MAX_DOC_BYTES + 1;
	char *doc = malloc(len);
	struct parsed p;

	(void)state;
	assert_non_null(doc);
	memset(doc, 'x', len);
	memcpy(doc, "<ownershipDocument>", 19);
	s_parse_buf(doc, len, NULL, false, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
	assert_non_null(strstr(p.err, "limit"));
	s_done(&p);
	free(doc);
}

static void test_html_page_where_form4_expected_is_an_error_naming_it(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/undeclared_tool_403.html", &len);

	(void)state;
	s_parse_buf(buf, len, NULL, false, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BLOCKED); /* SEC refused */
	assert_non_null(strstr(p.err, "HTML page"));
	assert_non_null(strstr(p.err, "Request Rate Threshold Exceeded"));
	s_done(&p);
	free(buf);
}

static void test_wrong_root_and_wrong_form_are_errors(void **state)
{
	struct parsed p;
	const char *rss = "<rss><channel/></rss>";
	const char *form5 = "<ownershipDocument><documentType>5</documentType></ownershipDocument>";
	const char *truncated = "<?xml version=\"1.0\"?><ownershipDocument><issuer>";

	(void)state;
	s_parse_buf(rss, strlen(rss), NULL, false, &p);
	assert_int_equal(p.res.status, PARSE_SHAPE);
	assert_non_null(strstr(p.err, "<rss>"));
	s_parse_buf(form5, strlen(form5), NULL, false, &p);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
	assert_non_null(strstr(p.err, "'5'"));
	s_parse_buf(truncated, strlen(truncated), NULL, false, &p);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
	s_parse_buf("", 0, NULL, false, &p);
	assert_int_equal(p.res.status, PARSE_BAD_DOC);
}

/* Leading blank lines before <?xml (as in the .txt) are allowed; a
 * derivative-only filing is 0 trades without an error, and says why. */
static void test_leading_whitespace_and_derivative_only(void **state)
{
	const char *doc = "\n\r\n   <?xml version=\"1.0\"?>\n<ownershipDocument>"
	                  "<documentType>4</documentType><derivativeTable><derivativeTransaction/>"
	                  "</derivativeTable></ownershipDocument>";
	struct parsed p;

	(void)state;
	s_parse_buf(doc, strlen(doc), NULL, false, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 0);
	assert_int_equal(p.res.dropped, 1);
}

/* ctx says 4/A for a document that does not. */
static void test_amendment_from_the_feed(void **state)
{
	struct parsed p;
	struct parse_ctx ctx;
	size_t len;
	char *buf = s_read(test_fixtures(), "form4/aff10b5one_director.xml", &len);

	(void)state;
	parse_ctx_init(&ctx);
	ctx.amendment = true;
	s_parse_buf(buf, len, &ctx, false, &p);
	assert_int_equal(p.rc, 0);
	assert_true(p.l.items[0].u.trade.amendment);
	s_done(&p);
	free(buf);
}

/* ---- SGML ---- */

static void test_sgml_crlf_4A_after_another_document(void **state)
{
	struct parsed p;
	struct sgml_info info;
	char err[256];
	size_t len;
	char *buf = s_read(test_fixtures(), "sgml/0001234567-24-000042.txt", &len);

	(void)state;
	assert_int_equal(sgml_extract(buf, len, &info, err, sizeof(err)), 0);
	assert_string_equal(info.accession, "0001234567-24-000042");
	assert_string_equal(info.form, "4/A");
	assert_true(info.xml_len > 0 && strncmp(info.xml, "<?xml", 5) == 0);
	s_parse_buf(buf, len, NULL, true, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const trade_t *t = &p.l.items[i].u.trade;
		char when[TIME_RFC3339_LEN];
		assert_true(t->amendment);
		assert_string_equal(t->accession, "0001234567-24-000042");
		/* 16:30 EST on 2024-01-05 */
		assert_string_equal(time_format_rfc3339(t->filed_at, when, sizeof(when)),
		                    "2024-01-05T21:30:00Z");
	}
	assert_string_equal(p.l.items[1].u.trade.key, "edgar:0001234567-24-000042:2");
	s_done(&p);
	free(buf);
}

static void test_sgml_bare_cr_nc(void **state)
{
	struct parsed p;
	size_t len;
	char *buf = s_read(test_fixtures(), "sgml/bare_cr.nc", &len);

	(void)state;
	assert_int_equal(doc_sniff(buf, len), DOC_EDGAR_SGML);
	s_parse_buf(buf, len, NULL, true, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 1);
	assert_string_equal(p.l.items[0].u.trade.key, "edgar:0000999002-22-000007:1");
	assert_int_equal(p.l.items[0].u.trade.filed_at, REC_NULL_TIME);
	assert_true(p.l.items[0].u.trade.planned);
	s_done(&p);
	free(buf);
}

static void test_sgml_without_form4_or_with_open_xml_is_an_error(void **state)
{
	static const char *const names[] = { "sgml/no_form4.txt", "sgml/unterminated_xml.txt",
		                             "form4/undeclared_tool_403.html" };
	static const char *const why[] = { "none of the 1 documents", "without </XML>",
		                           "HTML page" };
	static const enum parse_status status[] = { PARSE_BAD_DOC, PARSE_BAD_DOC, PARSE_BLOCKED };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct parsed p;
		size_t len;
		char *buf = s_read(test_fixtures(), names[i], &len);
		s_parse_buf(buf, len, NULL, true, &p);
		assert_int_equal(p.rc, -1);
		assert_int_equal(p.res.status, status[i]);
		assert_non_null(strstr(p.err, "edgar-sgml:"));
		assert_non_null(strstr(p.err, why[i]));
		s_done(&p);
		free(buf);
	}
}

/* parse_trades() picks the parser by content, for --file. */
static void test_parse_trades_dispatches_by_content(void **state)
{
	struct trade_list l;
	struct parse_result res;
	enum doc_kind kind;
	char err[256];
	size_t len;
	char *buf = s_read(test_fixtures(), "sgml/bare_cr.nc", &len);

	(void)state;
	trade_list_init(&l);
	assert_int_equal(parse_trades(buf, len, NULL, NULL, &l, &res, &kind, err, sizeof(err)), 0);
	assert_int_equal(kind, DOC_EDGAR_SGML);
	assert_int_equal(l.n, 1);
	/* appending to a list that already holds trades keeps them */
	assert_int_equal(parse_trades(buf, len, "edgar", NULL, &l, &res, &kind, err, sizeof(err)),
	                 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(parse_trades(buf, len, "nosuch", NULL, &l, &res, &kind, err, sizeof(err)),
	                 -1);
	assert_int_equal(l.n, 2);
	trade_list_free(&l);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shared_form4_fixture_matches_its_xml_field_by_field),
		cmocka_unit_test(test_key_without_accession_is_the_documents_hash_and_stable),
		cmocka_unit_test(
		    test_shared_sgml_submissions_give_the_xml_trades_and_acceptance_time),
		cmocka_unit_test(test_multi_owner_4A_with_every_value_trap),
		cmocka_unit_test(test_aff10b5one_true_makes_every_transaction_planned),
		cmocka_unit_test(
		    test_unreferenced_plan_footnote_unicode_dash_other_text_and_two_tickers),
		cmocka_unit_test(test_10b5_1_spellings_and_negations),
		cmocka_unit_test(test_hostile_plan_footnote_is_cheap),
		cmocka_unit_test(test_missing_ticker_costs_every_row_and_says_why),
		cmocka_unit_test(test_absurd_numbers_cost_their_rows_only),
		cmocka_unit_test(test_xxe_external_entity_is_refused_unread),
		cmocka_unit_test(test_billion_laughs_is_refused_quickly_in_bounded_memory),
		cmocka_unit_test(test_external_dtd_is_refused_without_network),
		cmocka_unit_test(test_invalid_utf8_xml_is_a_bad_document),
		cmocka_unit_test(test_deeply_nested_xml_is_refused_quickly),
		cmocka_unit_test(test_oversized_document_is_refused_before_parsing),
		cmocka_unit_test(test_html_page_where_form4_expected_is_an_error_naming_it),
		cmocka_unit_test(test_wrong_root_and_wrong_form_are_errors),
		cmocka_unit_test(test_leading_whitespace_and_derivative_only),
		cmocka_unit_test(test_amendment_from_the_feed),
		cmocka_unit_test(test_sgml_crlf_4A_after_another_document),
		cmocka_unit_test(test_sgml_bare_cr_nc),
		cmocka_unit_test(test_sgml_without_form4_or_with_open_xml_is_an_error),
		cmocka_unit_test(test_parse_trades_dispatches_by_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
