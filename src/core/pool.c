/* Chunked free-list pool (see pool.h). */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE under -std=c17 */
#include "core/pool.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Packets are touched in arrival order, scattered over a pool of tens of megabytes, so with
 * 4 KiB pages nearly every packet access is a TLB miss; chunks of at least a quarter of this
 * size are rounded up to it, aligned to it and offered to the kernel as transparent huge pages
 * where it supports them. */
#define HUGE_CHUNK ((size_t)2 << 20)

static void *chunk_alloc(size_t bytes)
{
    if (bytes < HUGE_CHUNK / 4)
        return ifb_xmalloc(bytes, "a pool chunk");
    size_t rounded;
    if (ifb_size_add(bytes, HUGE_CHUNK - 1, &rounded))
        ifb_oom(bytes, 1, "a pool chunk");
    rounded &= ~(HUGE_CHUNK - 1);
    void *mem = aligned_alloc(HUGE_CHUNK, rounded);
    if (!mem)
        ifb_oom(rounded, 1, "a pool chunk");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(mem, rounded, MADV_HUGEPAGE); /* advice only: 4 KiB pages still work */
#endif
    return mem;
}

void ifb_pool_init(ifb_pool *p, size_t obj_size, size_t per_chunk)
{
    memset(p, 0, sizeof *p);
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    p->obj_size = (obj_size + 15) & ~(size_t)15;
    p->zero_size = p->obj_size;
    p->per_chunk = per_chunk ? per_chunk : 1024;
    size_t bytes;
    if (ifb_size_mul(p->obj_size, p->per_chunk, &bytes) || bytes > SIZE_MAX - HUGE_CHUNK)
        ifb_oom(p->per_chunk, p->obj_size, "a pool chunk");
    if (bytes >= HUGE_CHUNK / 4) /* a big pool: whole huge pages, filled with objects */
        p->per_chunk = ((bytes + HUGE_CHUNK - 1) & ~(HUGE_CHUNK - 1)) / p->obj_size;
}

void ifb_pool_destroy(ifb_pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    memset(p, 0, sizeof *p);
}

static void grow(ifb_pool *p)
{
    p->chunks = ifb_xgrow(p->chunks, &p->chunks_cap, p->nchunks, sizeof *p->chunks, 8,
                          "a pool's chunk list");
    /* per_chunk * obj_size was checked when the pool was made */
    char *mem = chunk_alloc(p->obj_size * p->per_chunk);
    p->chunks[p->nchunks++] = mem;
    for (size_t i = p->per_chunk; i-- > 0;) {
        void *o = mem + i * p->obj_size;
        *(void **)o = p->free_list;
        p->free_list = o;
    }
}

void *ifb_pool_get(ifb_pool *p)
{
    if (!p->free_list)
        grow(p);
    void *o = p->free_list;
    p->free_list = *(void **)o;
    memset(o, 0, p->zero_size);
    if (++p->live > p->high_water)
        p->high_water = p->live;
    return o;
}

void ifb_pool_put(ifb_pool *p, void *obj)
{
    *(void **)obj = p->free_list;
    p->free_list = obj;
    p->live--;
}

size_t ifb_pool_bytes(const ifb_pool *p)
{
    return p->nchunks * p->per_chunk * p->obj_size;
}

void *ifb_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
    return ifb_xgrow(arr, cap, n, elem, first, "a growing array");
}
