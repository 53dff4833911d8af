/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte an inferior stores at each address of its test regions: a
 * function of the address, never 0 (tests poison buffers with 0). */
#ifndef DBG_TEST_PATTERN_H
#define DBG_TEST_PATTERN_H
#include <stdint.h>

static inline uint8_t pattern_at(uint64_t addr)
{
	uint64_t x = addr * 0x9e3779b97f4a7c15ull;
	return (uint8_t)((x >> 56) | 0x80);
}

static inline void pattern_fill(void *buf, uint64_t addr, uint64_t len)
{
	uint8_t *b = buf;
	for (uint64_t i = 0; i < len; i++)
		b[i] = pattern_at(addr + i);
}
#endif
