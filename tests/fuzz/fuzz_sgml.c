/* Fuzz target: a downloaded document -> sgml_parse(). */
#include "fuzz_parser.h"

FUZZ_TRADE_PARSER(sgml_parse)
