/*
 * util.h - small pure helpers: little-endian load/store, Padmé, hex,
 * Crockford base32, ISO 8601 times.  No I/O, no secrets kept.
 */
#ifndef EV_UTIL_H
#define EV_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline void
ev_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t
ev_load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void
ev_store64(uint8_t *p, uint64_t v)
{
    ev_store32(p, (uint32_t)v);
    ev_store32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t
ev_load64(const uint8_t *p)
{
    return (uint64_t)ev_load32(p) | (uint64_t)ev_load32(p + 4) << 32;
}

/* Padmé: the padded length of a length-L object (leaks O(log log L) bits). */
uint64_t ev_padme(uint64_t len);

/* Crockford base32 of in (no padding); out needs in_len*8/5+2 bytes. */
void ev_base32_encode(char *out, const uint8_t *in, size_t in_len);
/* Decodes, skipping '-' and spaces, folding case, I/L to 1 and O to 0.
 * Returns the number of bytes written, or -1 on a bad character or when
 * more than out_len bytes would result. */
long ev_base32_decode(uint8_t *out, size_t out_len, const char *in);

/* The status an errno from a failed write stands for: EV_ENOSPC for a
 * full disk or quota, else EV_EIO. */
int ev_errno_status(int e);

#endif
