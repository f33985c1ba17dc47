-- Prints math.random's first numbers without seeding it: they must differ
-- between boots (the seed comes from the entropy source), while a given
-- seed always gives the same ones.
print("unseeded: " .. math.random(1, 1 << 40) .. " " .. math.random(1, 1 << 40))
math.randomseed(42)
print("seed 42: " .. math.random(1, 1000000) .. " " .. math.random(1, 1000000))
