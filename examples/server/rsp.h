/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The packet layer of the gdb remote serial protocol, as dbg-server
 * speaks it: framing ($data#cs), checksums, acks (and no-ack mode),
 * escapes (} and byte ^ 0x20) in both directions, the interrupt byte.
 * Nothing here trusts the peer: a packet longer than the buffer is
 * consumed and reported as too long, a bad checksum is NAKed (or ignored
 * in no-ack mode), bytes outside a packet other than +, - and ^C are
 * dropped.
 */
#ifndef DBG_SERVER_RSP_H
#define DBG_SERVER_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest packet we accept; advertised as PacketSize. */
#define RSP_MAX_PACKET (256 * 1024)
/* What we tell gdb (PacketSize): gdb is quicker with packets of this
 * order than with ones of RSP_MAX_PACKET (measured: dump binary memory). */
#define RSP_ADVERTISED_PACKET 0x4000

enum rsp_event {
	RSP_EV_NONE = 0,   /* byte consumed, nothing complete yet */
	RSP_EV_PACKET,     /* a packet is in parser.data[0..len) */
	RSP_EV_BADSUM,     /* a packet with a wrong checksum */
	RSP_EV_TOOLONG,    /* a packet longer than RSP_MAX_PACKET */
	RSP_EV_INTERRUPT,  /* ^C outside a packet */
	RSP_EV_ACK,        /* + */
	RSP_EV_NAK,        /* - */
};

struct rsp_parser {
	int state;
	bool esc, overflow;
	uint8_t sum, got_sum;
	size_t len;
	char data[RSP_MAX_PACKET + 1]; /* NUL-terminated on RSP_EV_PACKET */
};

struct rsp_conn {
	int in_fd, out_fd;
	bool noack;          /* QStartNoAckMode accepted */
	bool interrupt;      /* a ^C came while we were waiting for an ack */
	bool eof;
	bool trace;          /* --debug: packets to stderr */
	struct rsp_parser p;
	uint8_t rbuf[65536];
	size_t rpos, rlen;
	char *obuf;          /* output frame being built */
	size_t ocap;
};

void rsp_parser_reset(struct rsp_parser *p);
/* Feed one byte; returns an enum rsp_event. */
enum rsp_event rsp_parser_feed(struct rsp_parser *p, uint8_t byte);

void rsp_conn_init(struct rsp_conn *c, int in_fd, int out_fd);
void rsp_conn_fini(struct rsp_conn *c);
/*
 * Wait up to timeout_ms (-1: forever) for the next packet or interrupt.
 * Returns RSP_EV_PACKET (data in c->p.data, length c->p.len),
 * RSP_EV_INTERRUPT, RSP_EV_NONE on timeout, or -1 at end of input.
 * Bad or too long packets are answered (NAK, or an error reply) here.
 */
int rsp_conn_next(struct rsp_conn *c, int timeout_ms);
/* Bytes are waiting in our buffer (poll on in_fd would not show them). */
bool rsp_conn_buffered(const struct rsp_conn *c);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t rsp_now_ms(void);
/* Send one packet of @len bytes; binary bytes are escaped. 0 or -1. */
int rsp_send(struct rsp_conn *c, const void *data, size_t len);
int rsp_send_str(struct rsp_conn *c, const char *s);
/* A notification (%name:data#cs), never acked. */
int rsp_send_notif(struct rsp_conn *c, const char *s);

/* Hex helpers: return -1 on a non-hex digit. */
int rsp_hexval(int ch);
/* Parse hex digits at *s into *ret (at most 16); advance *s. -1 if none or overflow. */
int rsp_parse_hex(const char **s, uint64_t *ret);
/* Decode 2*n hex digits into n bytes; -1 on bad hex. */
int rsp_unhex(const char *s, size_t n, uint8_t *out);
/* Encode n bytes as 2n lowercase hex digits (no NUL). */
void rsp_tohex(const uint8_t *in, size_t n, char *out);
/* Escape/unescape helpers for binary payloads already unescaped by the parser. */

#endif
