return { whoami = "the app's own test.lua" }
