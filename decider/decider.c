/*
 * decider.c - the decider stage: trades in, intents out, a drop with its
 * reason for every trade that makes no intent.
 *
 * The rules engine (rules.h) judges trades in batches: the loop hands it
 * each trade and flushes it whenever the input queue is empty, at EOF, on
 * a quiet minute (pruning) and before exit.  An intent that cannot be sent
 * makes the flush roll back: the trades stay unjudged and are judged again
 * when the scraper's next cycle sends them (DESIGN.md "Delivery").
 */
#include "decider.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rules.h"
#include "timeutil.h"

#define QUIET_FLUSH_MS 60000

struct decider_stage {
	wire_t *w;
	decider_t *engine;
	struct decision_sink sink;
	int64_t next_quiet_flush_ms;
	unsigned long intents;
};

/* An intent, sent as the engine encoded it (not encoded twice). */
static int s_on_intent(void *ctx, const intent_t *in, const void *mp, size_t len)
{
	struct decider_stage *st = ctx;
	record_t r;

	memset(&r, 0, sizeof(r));
	r.type = REC_INTENT;
	r.u.intent = *in; /* borrowed: names the record in log lines */
	if (wire_emit_encoded(st->w, &r, mp, len) != 0)
		return -1;
	st->intents++;
	log_info("intent %s: %s", in->id, in->reason);
	return 0;
}

/* An intent sent again (rules.h: resend): the executor answers a copy it
 * already journalled with a "duplicate" event. */
static int s_on_resend(void *ctx, const intent_t *in)
{
	struct decider_stage *st = ctx;
	record_t r;

	memset(&r, 0, sizeof(r));
	r.type = REC_INTENT;
	r.u.intent = *in;
	if (wire_emit(st->w, &r) != 0)
		return -1;
	log_debug("intent %s sent again: its evidence came again", in->id);
	return 0;
}

static int s_on_drop(void *ctx, const char *key, const char *reason)
{
	struct decider_stage *st = ctx;

	wire_decline(st->w, key, "%s", reason);
	return 0;
}

static void s_flush(struct decider_stage *st)
{
	if (decider_flush(st->engine, time_now(), &st->sink) != 0)
		wire_count_error(st->w);
}

static int s_on_record(void *ctx, record_t *r)
{
	struct decider_stage *st = ctx;

	if (r->type != REC_TRADE) {
		wire_drop(st->w, record_key(r), "a %s record, not a trade",
		          record_type_name(r->type));
		return 0;
	}
	/* The wire's decoders validated it. */
	return decider_handle_valid_trade(st->engine, &r->u.trade, time_now(), &st->sink);
}

/* Input ran dry: judge what waits; with nothing waiting, the flush only
 * lets go of the rows repeats read from the window (and prunes when due). */
static void s_on_idle(void *ctx)
{
	s_flush(ctx);
}

static int64_t s_on_tick(void *ctx)
{
	struct decider_stage *st = ctx;
	int64_t now = time_mono_ms();

	/* A quiet stage still prunes its window now and then. */
	if (now >= st->next_quiet_flush_ms) {
		s_flush(st);
		st->next_quiet_flush_ms = now + QUIET_FLUSH_MS;
	}
	return st->next_quiet_flush_ms - now;
}

/* Read decider.* into the engine's options. */
static int s_opts(const conf_t *c, struct decider_opts *o, char *err, size_t errlen)
{
	decider_opts_defaults(o);
	o->state_dir = conf_str(c, "state_dir");
	o->exec_enabled = conf_bool(c, "decider.executive_trade.enabled");
	o->exec_min_fraction = conf_double(c, "decider.executive_trade.min_fraction");
	o->fraction_of = strcmp(conf_str(c, "decider.executive_trade.fraction_of"), "after") == 0
	                     ? FRACTION_OF_AFTER
	                     : FRACTION_OF_BEFORE;
	o->exec_titles = conf_str(c, "decider.executive_trade.titles");
	o->cluster_enabled = conf_bool(c, "decider.cluster_buy.enabled");
	o->cluster_min_executives = (int)conf_int(c, "decider.cluster_buy.min_executives");
	o->cluster_window_days = (int)conf_int(c, "decider.cluster_buy.window_days");
	o->recency_enabled = conf_bool(c, "decider.recency.enabled");
	o->recency_days = (int)conf_int(c, "decider.recency.days");
	o->mcap_enabled = conf_bool(c, "decider.market_cap.enabled");
	o->mcap_max = conf_double(c, "decider.market_cap.max");
	o->mcap_allow_unknown = conf_bool(c, "decider.market_cap.allow_unknown");
	o->planned_exclude = conf_bool(c, "decider.planned.exclude");
	o->min_value = conf_double(c, "decider.min_value.usd");
	if (sizing_mode_parse(conf_str(c, "decider.sizing.mode"), &o->sizing.mode) != 0) {
		snprintf(err, errlen, "decider.sizing.mode: unknown mode");
		return -1;
	}
	o->sizing.shares = conf_double(c, "decider.sizing.shares");
	o->sizing.notional = conf_double(c, "decider.sizing.notional");
	o->sizing.fraction = conf_double(c, "decider.sizing.fraction");
	o->sizing.equity = conf_double(c, "decider.sizing.equity");
	o->validity_hours = (int)conf_int(c, "decider.intent.validity_hours");
	o->retention_days = (int)conf_int(c, "decider.window.retention_days");
	o->batch_max = (int)conf_int(c, "decider.window.batch_max");
	o->max_trades = (long)conf_int(c, "decider.window.max_trades");
	return decider_opts_check(o, err, errlen);
}

int decider_run(conf_t *c, const struct stage_args *a, wire_t *w)
{
	const struct stage_ops ops = {
		.on_record = s_on_record,
		.on_idle = s_on_idle,
		.on_eof = s_on_idle,
		.on_tick = s_on_tick,
	};
	struct decider_stage st;
	struct decider_opts o;
	char err[512];
	int rc;

	(void)a; /* --now was applied by stage_parse_args (time_now) */
	memset(&st, 0, sizeof(st));
	st.w = w;
	st.sink = (struct decision_sink){
		.ctx = &st,
		.intent = s_on_intent,
		.drop = s_on_drop,
		.resend = s_on_resend,
	};
	st.next_quiet_flush_ms = time_mono_ms() + QUIET_FLUSH_MS;
	if (s_opts(c, &o, err, sizeof(err)) != 0) {
		log_warnx("configuration: %s", err);
		return 2;
	}
	st.engine = decider_new(&o, err, sizeof(err));
	if (st.engine == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	log_info("rules: executive_trade %s (more than %g of holdings %s), cluster_buy %s "
	         "(%d executives in %d days), recency %s (%d days), market cap %s (max %g), "
	         "10b5-1 %s, min value %g USD, sizing %s; %ld intents remembered",
	         o.exec_enabled ? "on" : "off", o.exec_min_fraction,
	         o.fraction_of == FRACTION_OF_AFTER ? "after" : "before",
	         o.cluster_enabled ? "on" : "off", o.cluster_min_executives, o.cluster_window_days,
	         o.recency_enabled ? "on" : "off", o.recency_days, o.mcap_enabled ? "on" : "off",
	         o.mcap_max, o.planned_exclude ? "excluded" : "allowed", o.min_value,
	         sizing_mode_name(o.sizing.mode), decider_intent_count(st.engine));
	rc = wire_run(w, &ops, &st);
	s_flush(&st);
	log_info("%lu intents emitted", st.intents);
	decider_free(&st.engine);
	return rc;
}
