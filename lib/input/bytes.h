/* bytes.h — unaligned, byte-order explicit loads shared by the trace readers and the decoder.
 * Callers check bounds first; these only assemble bytes. */
#ifndef VMDELAY_BYTES_H
#define VMDELAY_BYTES_H

#include <stdint.h>

static inline uint16_t vd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vd_be64(const uint8_t *p)
{
	return (uint64_t)vd_be32(p) << 32 | vd_be32(p + 4);
}

static inline uint16_t vd_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t vd_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t vd_le64(const uint8_t *p)
{
	return (uint64_t)vd_le32(p + 4) << 32 | vd_le32(p);
}

/* Loads in a byte order chosen at run time (pcapng sections, pcap headers). */
static inline uint16_t vd_ld16(const uint8_t *p, int big)
{
	return big ? vd_be16(p) : vd_le16(p);
}

static inline uint32_t vd_ld32(const uint8_t *p, int big)
{
	return big ? vd_be32(p) : vd_le32(p);
}

static inline uint64_t vd_ld64(const uint8_t *p, int big)
{
	return big ? vd_be64(p) : vd_le64(p);
}

#endif
