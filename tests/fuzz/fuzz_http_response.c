/*
 * fuzz_http_response.c -- libFuzzer target for httpp_response, as the
 * answer to GET and to HEAD, with the invariants of fuzz_http.h.
 *
 * sources: bindings/httpp.c bindings/httpp_chunked.c
 */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parse get, head;

	fuzz_head(data, size, 1);
	fuzz_parse(data, size, 1, &get);
	fuzz_parse(data, size, 2, &head);
	/* HEAD changes the framing only, and may spare framing errors. */
	EXPECT(get.r <= 0 ? head.r == get.r || (get.r < 0 && head.r > 0) : head.r == get.r);
	if (get.r > 0)
		EXPECT(head.m.body == HTTPP_BODY_NONE && head.m.status == get.m.status &&
		       head.m.nfields == get.m.nfields);
	return 0;
}
