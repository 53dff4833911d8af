/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gdb remote protocol's packet layer (see rsp.h). */
#define _GNU_SOURCE
#include "rsp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ST_IDLE, ST_DATA, ST_SUM1, ST_SUM2 };

int rsp_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int rsp_parse_hex(const char **s, uint64_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0;
	while (rsp_hexval((unsigned char)*p) >= 0) {
		if (n == 16)
			return -1;
		v = v << 4 | (uint64_t)rsp_hexval((unsigned char)*p);
		p++;
		n++;
	}
	if (n == 0)
		return -1;
	*s = p;
	*ret = v;
	return 0;
}

int rsp_unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = rsp_hexval((unsigned char)s[2 * i]);
		int lo = hi < 0 ? -1 : rsp_hexval((unsigned char)s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void rsp_tohex(const uint8_t *in, size_t n, char *out)
{
	static char pairs[512];
	static const char digits[] = "0123456789abcdef";
	if (!pairs[0])
		for (int i = 0; i < 256; i++) {
			pairs[2 * i] = digits[i >> 4];
			pairs[2 * i + 1] = digits[i & 15];
		}
	for (size_t i = 0; i < n; i++)
		memcpy(out + 2 * i, pairs + 2 * in[i], 2);
}

void rsp_parser_reset(struct rsp_parser *p)
{
	p->state = ST_IDLE;
	p->esc = p->overflow = false;
	p->sum = p->got_sum = 0;
	p->len = 0;
}

enum rsp_event rsp_parser_feed(struct rsp_parser *p, uint8_t b)
{
	int v;

	switch (p->state) {
	case ST_IDLE:
		switch (b) {
		case '$':
			rsp_parser_reset(p);
			p->state = ST_DATA;
			return RSP_EV_NONE;
		case '+':
			return RSP_EV_ACK;
		case '-':
			return RSP_EV_NAK;
		case 0x03:
			return RSP_EV_INTERRUPT;
		default:
			return RSP_EV_NONE; /* line noise */
		}
	case ST_DATA:
		/* An escaped byte is never a raw # or $: these always frame. */
		if (b == '#') {
			p->state = ST_SUM1;
			return RSP_EV_NONE;
		}
		if (b == '$') {
			/* A new start: the peer gave up on the last packet. */
			rsp_parser_reset(p);
			p->state = ST_DATA;
			return RSP_EV_NONE;
		}
		p->sum = (uint8_t)(p->sum + b);
		if (p->esc) {
			b ^= 0x20;
			p->esc = false;
		} else if (b == '}') {
			p->esc = true;
			return RSP_EV_NONE;
		}
		if (p->len >= RSP_MAX_PACKET)
			p->overflow = true;
		else
			p->data[p->len++] = (char)b;
		return RSP_EV_NONE;
	case ST_SUM1:
		v = rsp_hexval(b);
		p->got_sum = (uint8_t)((v < 0 ? 0 : v) << 4);
		p->state = v < 0 ? ST_IDLE : ST_SUM2;
		return v < 0 ? RSP_EV_BADSUM : RSP_EV_NONE;
	case ST_SUM2:
		p->state = ST_IDLE;
		v = rsp_hexval(b);
		if (v < 0)
			return RSP_EV_BADSUM;
		p->got_sum |= (uint8_t)v;
		if (p->overflow)
			return RSP_EV_TOOLONG;
		p->data[p->len] = 0;
		return p->got_sum == p->sum ? RSP_EV_PACKET : RSP_EV_BADSUM;
	}
	rsp_parser_reset(p);
	return RSP_EV_NONE;
}

void rsp_conn_init(struct rsp_conn *c, int in_fd, int out_fd)
{
	memset(c, 0, offsetof(struct rsp_conn, p));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	rsp_parser_reset(&c->p);
	c->rpos = c->rlen = 0;
	c->obuf = NULL;
	c->ocap = 0;
}

void rsp_conn_fini(struct rsp_conn *c)
{
	free(c->obuf);
	c->obuf = NULL;
}

bool rsp_conn_buffered(const struct rsp_conn *c)
{
	return c->rpos < c->rlen;
}

int64_t rsp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refill the input buffer; 1 got bytes, 0 timeout, -1 EOF/error. */
static int fill(struct rsp_conn *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->in_fd, .events = POLLIN };
	int r;

	if (c->eof)
		return -1;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	ssize_t n;
	do
		n = read(c->in_fd, c->rbuf, sizeof(c->rbuf));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		c->eof = true;
		return -1;
	}
	c->rpos = 0;
	c->rlen = (size_t)n;
	return 1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void trace(struct rsp_conn *c, const char *dir, const char *d, size_t len)
{
	if (!c->trace)
		return;
	fprintf(stderr, "%s %.*s\n", dir, (int)(len > 400 ? 400 : len), d);
}

int rsp_conn_next(struct rsp_conn *c, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : rsp_now_ms() + timeout_ms;

	if (c->interrupt) {
		c->interrupt = false;
		return RSP_EV_INTERRUPT;
	}
	for (;;) {
		while (c->rpos < c->rlen) {
			enum rsp_event ev = rsp_parser_feed(&c->p, c->rbuf[c->rpos++]);
			switch (ev) {
			case RSP_EV_PACKET:
				if (!c->noack && write_all(c->out_fd, "+", 1) < 0)
					return -1;
				trace(c, "<-", c->p.data, c->p.len);
				return RSP_EV_PACKET;
			case RSP_EV_BADSUM:
				if (c->noack) {
					/* No acks: the transport is reliable, take it. */
					c->p.data[c->p.len] = 0;
					return RSP_EV_PACKET;
				}
				if (write_all(c->out_fd, "-", 1) < 0)
					return -1;
				break;
			case RSP_EV_TOOLONG:
				if (!c->noack && write_all(c->out_fd, "+", 1) < 0)
					return -1;
				if (rsp_send_str(c, "E.packet too long") < 0)
					return -1;
				break;
			case RSP_EV_INTERRUPT:
				trace(c, "<-", "^C", 2);
				return RSP_EV_INTERRUPT;
			default:
				break;
			}
		}
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - rsp_now_ms();
			left = l < 0 ? 0 : (int)l;
		}
		int r = fill(c, left);
		if (r < 0)
			return -1;
		if (r == 0)
			return RSP_EV_NONE;
	}
}

/* Bytes that must be escaped in a packet body. */
static bool needs_escape(uint8_t b)
{
	return b == '$' || b == '#' || b == '}' || b == '*';
}

/*
 * Run-length encoding, as gdb and lldb decode it in every packet: "c*N"
 * is c followed by N - 29 more of it, N printable, not '#' or '$' (6 and 7
 * more; nor '*' or '}' here), at most '~' (97 more). Only a run of four
 * or more gains, and
 * only bytes sent as they are (never an escape pair) are encoded; every
 * chunk starts with its own literal byte. Zero-filled memory and the
 * zero registers of a `g` go out a fraction of their size, which is gdb's
 * time: it reads a packet character by character.
 */
static size_t rle_chunk(size_t run)
{
	size_t more = run - 1 > 97 ? 97 : run - 1;
	/* Nor a count that reads as framing, RLE or an escape to a decoder
	 * that unescapes first. */
	while (more + 29 == '#' || more + 29 == '$' || more + 29 == '*' || more + 29 == '}')
		more--;
	return more + 1;
}

static int frame(struct rsp_conn *c, char lead, const void *data, size_t len, size_t *ret_n)
{
	size_t need = 2 * len + 4;
	if (need > c->ocap) {
		char *n = realloc(c->obuf, need);
		if (!n)
			return -1;
		c->obuf = n;
		c->ocap = need;
	}
	const uint8_t *d = data;
	size_t o = 0;
	unsigned sum = 0;
	c->obuf[o++] = lead;
	for (size_t i = 0; i < len;) {
		uint8_t b = d[i];
		if (needs_escape(b)) {
			c->obuf[o++] = '}';
			c->obuf[o++] = (char)(b ^ 0x20);
			sum += '}' + (b ^ 0x20u);
			i++;
			continue;
		}
		size_t run = 1;
		while (i + run < len && d[i + run] == b)
			run++;
		i += run;
		while (run >= 4) {
			size_t k = rle_chunk(run);
			c->obuf[o++] = (char)b;
			c->obuf[o++] = '*';
			c->obuf[o++] = (char)(k - 1 + 29);
			sum += b + '*' + (unsigned)(k - 1 + 29);
			run -= k;
		}
		for (; run; run--) {
			c->obuf[o++] = (char)b;
			sum += b;
		}
	}
	sum &= 0xff;
	c->obuf[o++] = '#';
	uint8_t sb = (uint8_t)sum;
	rsp_tohex(&sb, 1, c->obuf + o);
	o += 2;
	*ret_n = o;
	return 0;
}

int rsp_send(struct rsp_conn *c, const void *data, size_t len)
{
	size_t n;
	if (frame(c, '$', data, len, &n) < 0)
		return -1;
	trace(c, "->", data, len);
	for (int tries = 0; tries < 8; tries++) {
		if (write_all(c->out_fd, c->obuf, n) < 0)
			return -1;
		if (c->noack)
			return 0;
		/* Wait for the ack; anything else is kept for later. */
		int64_t deadline = rsp_now_ms() + 30000;
		for (;;) {
			if (c->rpos >= c->rlen) {
				int64_t l = deadline - rsp_now_ms();
				int r = fill(c, l < 0 ? 0 : (int)l);
				if (r < 0)
					return -1;
				if (r == 0)
					return 0; /* no ack in 30 s: carry on */
			}
			uint8_t b = c->rbuf[c->rpos];
			if (b == '+') {
				c->rpos++;
				return 0;
			}
			if (b == '-') {
				c->rpos++;
				break; /* resend */
			}
			if (b == '$')
				return 0; /* a new packet: take it as the ack */
			c->rpos++;
			if (b == 0x03)
				c->interrupt = true;
		}
	}
	return 0;
}

int rsp_send_str(struct rsp_conn *c, const char *s)
{
	return rsp_send(c, s, strlen(s));
}

int rsp_send_notif(struct rsp_conn *c, const char *s)
{
	size_t n;
	if (frame(c, '%', s, strlen(s), &n) < 0)
		return -1;
	trace(c, "-> %", s, strlen(s));
	return write_all(c->out_fd, c->obuf, n);
}
