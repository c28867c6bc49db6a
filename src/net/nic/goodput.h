/* The delivered-goodput series: application payload bytes newly placed at receivers per bin
 * of cfg.goodput_bin (in order or placed out of order, duplicates not counted), counted by the
 * receiving NIC as it places them. Failures turn it on (net/fail/failure.h: the recovery
 * figures are computed from it); it can be asked for on its own. Left out: goodput per flow or
 * per class (one series for the whole fabric, optionally restricted to some receivers). */
#ifndef IFB_NET_NIC_GOODPUT_H
#define IFB_NET_NIC_GOODPUT_H
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"
#include "net/base/cfg.h"

/* Counts only receivers with mask[host] set (NULL: all; the mask must outlive the run). */
void ifb_fabric_goodput_hosts(ifb_fabric *f, const uint8_t *mask);
/* The series: nbins bins of *bin; NULL when it is off or nothing was placed. */
const uint64_t *ifb_fabric_goodput(const ifb_fabric *f, size_t *nbins, ifb_time *bin);

#endif
