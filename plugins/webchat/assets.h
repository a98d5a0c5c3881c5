/* The widget's script and the demo page, embedded at build time from
 * assets/ (CMake generates the C files with core/embed.cmake). */
#ifndef WEBCHAT_ASSETS_H
#define WEBCHAT_ASSETS_H
#include <stddef.h>
extern const char wc_widget_js[];
extern const size_t wc_widget_js_len;
extern const char wc_demo_html[];
extern const size_t wc_demo_html_len;
#endif
