return "bom loaded, line " .. debug.getinfo(1, "l").currentline
