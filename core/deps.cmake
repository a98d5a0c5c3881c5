# System libraries, all from Debian 12's -dev packages (see README "Libraries").
find_package(PkgConfig REQUIRED)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(MSGPACK REQUIRED IMPORTED_TARGET msgpack)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

# No .pc files in Debian for these.
find_library(EV_LIB ev REQUIRED)
find_path(EV_INC ev.h REQUIRED)
find_library(HTTP_PARSER_LIB http_parser REQUIRED)
find_library(WSLAY_LIB wslay REQUIRED)
find_library(MBEDTLS_LIB mbedtls REQUIRED)
find_library(MBEDX509_LIB mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
find_package(Threads REQUIRED)
