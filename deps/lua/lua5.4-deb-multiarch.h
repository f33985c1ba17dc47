/* Debian's luaconf.h (patch 0002-lua-modules-paths) includes this header,
 * which Debian's build generates; it only feeds the default C module path
 * (package.cpath), which lunik never uses: there is no dlopen. */
#ifndef _LUA_DEB_MULTIARCH_
#define _LUA_DEB_MULTIARCH_
#define DEB_HOST_MULTIARCH "x86_64-lunik"
#endif
