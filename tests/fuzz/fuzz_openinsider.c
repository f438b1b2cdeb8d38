/* Fuzz target: a downloaded document -> openinsider_parse(). */
#include "fuzz_parser.h"

FUZZ_TRADE_PARSER(openinsider_parse)
