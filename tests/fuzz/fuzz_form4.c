/* Fuzz target: a downloaded document -> form4_parse(). */
#include "fuzz_parser.h"

FUZZ_TRADE_PARSER(form4_parse)
