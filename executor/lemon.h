/*
 * lemon.h - the lemon.markets Trading API v1 broker: the parsers of its
 * answers, exposed for the unit tests (the broker itself is
 * lemon_broker_new() in broker.h).
 *
 * Shapes (APIS.md section 2): every answer is an envelope
 * {time, mode, status: "ok"|"error", results, ...}; errors carry
 * error_code (error_type in 2021) and error_message; money is an integer in
 * 1/10,000 of the currency; quantity is a plain integer.
 */
#ifndef COATTAIL_LEMON_H
#define COATTAIL_LEMON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "broker.h"

/* Money units per currency unit: 10000 = 1 EUR. */
#define LEMON_MONEY_SCALE 10000.0

/* executed -> ORDER_FILLED; rejected, canceled, expired -> ORDER_REJECTED;
 * others (inactive, activated, open, in_progress, canceling) ->
 * ORDER_SUBMITTED. */
enum order_status lemon_order_status(const char *status);

/* A money amount (integer 1/10,000) as currency units; NAN when absent. */
double lemon_money(const json_t *v);

/*
 * Open an envelope.  On status "ok" returns 0 with *results borrowed from
 * *root (caller json_decref(*root)); results may be NULL for answers
 * without one (activate).  On status "error" or any unreadable body
 * returns -1 with err filled ("lemon: pin_invalid: ...") and *root NULL.
 */
int lemon_open_envelope(const char *body, size_t len, json_t **root, json_t **results, char *err,
                        size_t errlen);

/* An order object (already inside results). */
int lemon_parse_order(const json_t *order, struct broker_order *o, char *err, size_t errlen);

/* Does this order carry our idempotency key (its "idempotency" equals key,
 * or its "notes" is exactly "coattail <key>")? */
bool lemon_order_matches(const json_t *order, const char *key);

/*
 * Search one page of GET /orders for the order carrying key.  *found tells
 * whether it is on this page (o filled); *more whether a later page exists.
 */
int lemon_find_in_page(const char *body, size_t len, const char *key, struct broker_order *o,
                       bool *found, bool *more, char *err, size_t errlen);

int lemon_parse_account(const char *body, size_t len, struct broker_account *a, char *err,
                        size_t errlen);
/* Shares of isin held (sum over the results). */
int lemon_parse_positions(const char *body, size_t len, const char *isin, double *qty, char *err,
                          size_t errlen);
/* The venue mic's is_open. */
int lemon_parse_venue(const char *body, size_t len, const char *mic, bool *is_open, char *err,
                      size_t errlen);
/*
 * An instruments answer: the first result whose symbol or isin equals
 * `want` (case-insensitive) gives its ISIN, and whether it is tradable on
 * venue mic.  *isin is "" when no result matches.
 */
int lemon_parse_instrument(const char *body, size_t len, const char *want, const char *mic,
                           char *isin, size_t isinlen, bool *tradable, char *err, size_t errlen);

#endif
