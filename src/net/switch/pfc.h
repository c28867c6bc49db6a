/* Priority flow control (IEEE 802.1Qbb) sizing. The rest lives in pfc.c: per (ingress
 * port, priority) accounting of the shared buffer in reserved, shared and headroom parts (the
 * HPCC ns-3 switch MMU scheme), XOFF when the priority group's shared use reaches the dynamic
 * threshold (alpha x free shared buffer) or headroom is in use, XON with a hysteresis offset,
 * pause frames as real packets ahead of data, pause refresh while XOFF holds, pause-storm
 * detection at the paused port and the switch PFC watchdog (cfg.pfcwd_detect); the misbehaving
 * NICs that storm (cfg.pfc_storms) are in net/nic/storm.c. */
#ifndef IFB_PFC_H
#define IFB_PFC_H
#include <stdint.h>

/* Headroom (the XOFF size) of one port and priority by the mlx5 driver's formula (Linux commit
 * 0696d60853d5): (301 + 2.16 x cable_m) x speed_Gbps + 2.72 x MTU bytes, rounded up.
 * 400 Gb/s, 5 m, 4096 B: 135,862 B. */
uint64_t ifb_pfc_headroom(uint64_t rate_bps, uint64_t cable_mm, uint32_t mtu);

/* Pause time of `quanta` (512 bit times each) at rate_bps, in picoseconds. */
uint64_t ifb_pfc_quanta_time(uint32_t quanta, uint64_t rate_bps);

#endif
