/*
 * fuzz_http_request.c -- libFuzzer target for httpp_request: any bytes,
 * checked against the invariants of fuzz_http.h (spans inside the head,
 * names are tokens, values clean, a prefix never decides otherwise than
 * the whole).
 *
 * sources: bindings/httpp.c bindings/httpp_chunked.c
 */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_head(data, size, 0);
	return 0;
}
