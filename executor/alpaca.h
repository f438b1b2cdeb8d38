/*
 * alpaca.h - the Alpaca Trading API v2 broker: the parsers of its answers,
 * exposed for the unit tests (the broker itself is alpaca_broker_new() in
 * broker.h).
 *
 * Shapes (APIS.md section 3): decimals arrive as JSON strings (some SDK
 * samples send numbers: both are read), ids are UUIDs, errors are
 * {"code": int, "message": string}.  Each parser takes an untrusted body
 * and returns 0, or -1 with err filled.
 */
#ifndef COATTAIL_ALPACA_H
#define COATTAIL_ALPACA_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"

/* Order statuses: filled -> ORDER_FILLED; rejected, canceled, expired,
 * stopped, suspended, done_for_day with nothing filled... -> ORDER_REJECTED
 * (see alpaca.c); every other (new, accepted, pending_new, partially_filled,
 * ...) -> ORDER_SUBMITTED. */
enum order_status alpaca_order_status(const char *status);

/* An Order object. */
int alpaca_parse_order(const char *body, size_t len, struct broker_order *o, char *err,
                       size_t errlen);
/* An error body's message ("client_order_id must be unique"), cleaned, or
 * the raw start of a non-JSON body. */
void alpaca_error_message(const char *body, size_t len, char *msg, size_t msglen);
/* Is this 422 body the "client_order_id must be unique" refusal? */
bool alpaca_is_duplicate_error(const char *body, size_t len);
int alpaca_parse_account(const char *body, size_t len, struct broker_account *a, char *err,
                         size_t errlen);
int alpaca_parse_clock(const char *body, size_t len, struct broker_clock *c, char *err,
                       size_t errlen);
/* An Asset: tradable = tradable && status "active". */
int alpaca_parse_asset(const char *body, size_t len, bool *tradable, char *why, size_t whylen,
                       char *err, size_t errlen);
/* The positions array: the signed quantity held in symbol (0 when absent;
 * side "short" makes it negative). */
int alpaca_parse_positions(const char *body, size_t len, const char *symbol, double *qty, char *err,
                           size_t errlen);

#endif
