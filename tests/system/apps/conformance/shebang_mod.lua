#!/usr/bin/env lua
return { line = debug.getinfo(1, "l").currentline, name = "shebang" }
