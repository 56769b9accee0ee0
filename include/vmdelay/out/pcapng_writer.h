/* pcapng_writer.h — writes a pcapng file (draft-ietf-opsawg-pcapng): one section, interfaces
 * with a name, a description and nanosecond timestamps, Enhanced Packet Blocks with a comment
 * (opt_comment) each. Host byte order, as every pcapng reader accepts. */
#ifndef VMDELAY_PCAPNG_WRITER_H
#define VMDELAY_PCAPNG_WRITER_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

struct vd_pcapng_writer;

/* Creates path (truncating it) and writes the section header, its shb_userappl app. -1 with a
 * message naming path. */
int vd_pcapng_writer_open(const char *path, const char *app, struct vd_pcapng_writer **out,
			  struct vd_err *err);

/* A new interface (LINKTYPE_* linktype, snaplen 0: no limit): *id is its number for packets.
 * name and description may be NULL. */
int vd_pcapng_writer_interface(struct vd_pcapng_writer *w, int linktype, uint32_t snaplen,
			       const char *name, const char *description, uint32_t *id,
			       struct vd_err *err);

/* A packet of interface iface at ts (ns since 1970) with caplen bytes of data (wirelen on the
 * wire) and an optional comment (NULL: none). */
int vd_pcapng_writer_packet(struct vd_pcapng_writer *w, uint32_t iface, vd_ns ts,
			    const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			    const char *comment, struct vd_err *err);

/* Flushes and closes; -1 when anything could not be written. Frees w in any case. */
int vd_pcapng_writer_close(struct vd_pcapng_writer *w, struct vd_err *err);

#endif
