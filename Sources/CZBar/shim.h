#include <zbar.h>

/* zbar_fourcc is a macro with arguments, which Swift cannot import: expose the one format we use. */
static inline unsigned long vhc_zbar_format_grey(void) { return zbar_fourcc('Y', '8', '0', '0'); }
