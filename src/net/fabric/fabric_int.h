/* Internal header of the fabric assembly (net/fabric): what its files share. It includes every
 * component below (the NIC transport, and through it the switches, links and base), so tests
 * that drive the model's internals include this one header. Not part of the public API. */
#ifndef IFB_NET_FABRIC_INT_H
#define IFB_NET_FABRIC_INT_H
#include "net/fabric/fabric.h"
#include "net/nic/nic.h"

/* A (source GPU, destination GPU, class) connection: its QPs, used round robin. */
struct ifb_conn {
    uint64_t key;
    ifb_qp **qps;
    uint32_t nqp, next;
};

/* cfg.c: consistency of the ECN, PFC and DCQCN settings */
int ifb_fabric_check_cfg(const ifb_fabric_cfg *c, ifb_err *e);
/* msg.c: the message API's send (ifb_net.send), the completion of a message the transport
 * delivered or failed (f->msg_done), and the completion event of an NVLink message */
uint64_t ifb_fabric_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass, ifb_msg_cb cb,
                         void *ctx);
void ifb_fabric_msg_done(ifb_fabric *f, ifb_msg *m, int failed);
void ifb_fabric_nvlink_done(ifb_sim *sim, void *obj, uint64_t arg);
/* outputs.c: the utilization and DCQCN rate samplers (daemon events) */
void ifb_fabric_sampler(ifb_sim *sim, void *obj, uint64_t arg);
void ifb_fabric_rate_sampler(ifb_sim *sim, void *obj, uint64_t arg);
/* check.c: the --check invariants of this fabric, and the watchdog's diagnosis */
int ifb_fabric_add_checkers(ifb_fabric *f, ifb_err *e);
void ifb_fabric_watchdog_diag(ifb_sim *sim, void *ctx, char *msg, size_t cap);

#endif
