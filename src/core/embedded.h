/* Files compiled into the binary (the YAML files of scenarios/, the model configs and
 * kernel tables of data/),
 * so `infabric run` works from any directory and without the source tree. */
#ifndef IFB_EMBEDDED_H
#define IFB_EMBEDDED_H
/* The text of an embedded file by its base name, or NULL. */
const char *ifb_embedded_file(const char *name);
/* The base name of the i-th embedded file (0, 1, ...), NULL past the last one. */
const char *ifb_embedded_name(int i);
#endif
