/* The delivered-goodput series (see goodput.h). */
#include "net/nic/goodput.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/nic/nic.h"

/* The series stops growing here (32 MiB): a long serving run with 10 us bins would not fit. */
#define GOODPUT_MAX_BINS (1u << 22)

void ifb_goodput_add(ifb_fabric *f, int host, uint64_t bytes)
{
    if (f->gp_hosts && !f->gp_hosts[host])
        return;
    size_t b = (size_t)(f->sim->now / f->cfg.goodput_bin);
    if (b >= f->ngp) {
        if (b >= GOODPUT_MAX_BINS)
            return;
        f->gp = ifb_xgrow(f->gp, &f->gp_cap, b, sizeof *f->gp, 1024, "the goodput series");
        memset(f->gp + f->ngp, 0, (b + 1 - f->ngp) * sizeof *f->gp);
        f->ngp = b + 1;
    }
    f->gp[b] += bytes;
}

void ifb_fabric_goodput_hosts(ifb_fabric *f, const uint8_t *mask)
{
    f->gp_hosts = mask;
}

const uint64_t *ifb_fabric_goodput(const ifb_fabric *f, size_t *nbins, ifb_time *bin)
{
    *nbins = f->ngp;
    *bin = f->cfg.goodput_bin;
    return f->ngp ? f->gp : NULL;
}

void ifb_goodput_free(ifb_fabric *f)
{
    free(f->gp);
    f->gp = NULL;
    f->ngp = f->gp_cap = 0;
}
