#!/usr/bin/lua -- both
return "bom and shebang, line " .. debug.getinfo(1, "l").currentline
