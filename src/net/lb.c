/* Path selection inside an ECMP group. Per-flow ECMP hashes the 5-tuple with a per-switch seed
 * (RoCEv2's only per-connection entropy is the UDP source port: the destination port is always
 * 4791), so every packet of a QP takes the same path, and seeds differ per switch so tiers do
 * not polarize. */
#include "net/fabric_int.h"
#include "net/wire.h"

uint32_t ifb_flow_hash(const ifb_switch *sw, const ifb_pkt *pk)
{
    uint64_t x = sw->seed ^ ((uint64_t)pk->src << 32 | pk->dst);
    x ^= ((uint64_t)pk->sport << 16 | IFB_ROCE_UDP_PORT) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

int ifb_lb_select(ifb_switch *sw, const ifb_topo_group *g, const ifb_pkt *pk)
{
    return (int)(((uint64_t)ifb_flow_hash(sw, pk) * (uint64_t)g->count) >> 32);
}
