# Turns IN (a text file) into OUT, a C file defining NAME[] and NAME_len.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
file(WRITE ${OUT} "/* generated from ${IN} */\n#include <stddef.h>\n"
  "const char ${NAME}[] = {${arr} 0};\n"
  "const size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")
