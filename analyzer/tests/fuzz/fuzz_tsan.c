// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ThreadSanitizer parser (and the stream's
 * location folding behind it): any bytes must give
 * either a stream or an error message, never a crash, a leak or undefined
 * behaviour (built with ASan and UBSan). Run: make -C analyzer fuzz-run.
 */
#include <stdint.h>
#include <string.h>

#include "../../hka_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hka_stream *s = hka_stream_new();
	struct hka_error err = { "" };
	struct hka_config cfg;
	int rc;

	if (!s)
		return 0;
	hka_config_init(&cfg);
	cfg.jobs = 1;
	rc = hka_tsan_parse_buf(s, "fuzz.log", (const char *)data, size, &cfg, &err);
	/* every failure must explain itself */
	if (rc && !err.msg[0])
		__builtin_trap();
	/* the stream's own folding runs on whatever the parser accepted */
	if (!rc && hka_stream_merge_locations(s, &err))
		__builtin_trap();
	hka_stream_free(s);
	return 0;
}
