# Turns IN (a text file) into OUT, a C file defining sb_default_config[].
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
file(WRITE ${OUT} "/* generated from conf/switchboard.yaml */\n#include <stddef.h>\n"
  "const char sb_default_config[] = {${arr} 0};\n"
  "const size_t sb_default_config_len = sizeof(sb_default_config) - 1;\n")
