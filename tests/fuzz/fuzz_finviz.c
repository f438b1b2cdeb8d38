/* Fuzz target: a downloaded document -> finviz_parse(). */
#include "fuzz_parser.h"

FUZZ_TRADE_PARSER(finviz_parse)
