/* Test fixture: a plugin built for a future ABI major. The host must skip it
 * with a line naming both versions. */
#include <switchboard/plugin.h>

static sb_status init(const sb_host *h, sb_ctx *c, void **st)
{
    (void)h; (void)c; (void)st;
    return SB_OK;
}

static const sb_plugin desc = {
    .abi_major = SB_ABI_MAJOR + 1, .abi_minor = 0, .struct_size = sizeof(sb_plugin),
    .name = "bad_abi", .version = "9.9", .kind = SB_KIND_SERVICE, .init = init,
};

SB_EXPORT const sb_plugin *sb_plugin_entry(uint32_t maj, uint32_t min)
{
    (void)maj; (void)min;
    return &desc;
}
