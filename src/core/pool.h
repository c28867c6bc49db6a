/* Fixed-size object pool with an intrusive free list. Objects are carved from chunks that
 * live until the pool is destroyed, so the steady state of a run allocates nothing; a pool
 * grows by whole chunks only when its high-water mark rises. */
#ifndef IFB_POOL_H
#define IFB_POOL_H
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

typedef struct ifb_pool {
    size_t obj_size;
    size_t per_chunk;
    void *free_list;
    void **chunks;
    size_t nchunks, chunks_cap;
    uint64_t live; /* objects handed out and not returned */
    uint64_t high_water;
    size_t zero_size; /* bytes ifb_pool_get zeroes (obj_size unless set lower) */
} ifb_pool;

void ifb_pool_init(ifb_pool *p, size_t obj_size, size_t per_chunk);
void ifb_pool_destroy(ifb_pool *p);
/* Returns memory whose first zero_size bytes are zeroed (all of it by default; a pool whose
 * objects end in a variable part the user fills before reading sets it lower, since zeroing
 * is a large share of an allocation's cost); aborts only if the machine is out of memory. */
void *ifb_pool_get(ifb_pool *p);
void ifb_pool_put(ifb_pool *p, void *obj);
size_t ifb_pool_bytes(const ifb_pool *p);

/* ifb_xgrow (core/alloc.h) reporting "a growing array": room for element `n` of a doubling
 * array of `elem`-byte elements (capacity *cap, `first` on the first call). Growth happens when a
 * high-water mark rises, never per packet in steady state. New code names what it grows with
 * ifb_xgrow. */
void *ifb_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first);

#endif
