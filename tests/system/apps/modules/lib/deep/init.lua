return { name = "lib/deep/init.lua" }
