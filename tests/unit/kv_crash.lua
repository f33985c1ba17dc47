check(true, "placeholder")
