print("shadowed: " .. require("test").whoami)
