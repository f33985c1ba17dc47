# Compiles Lua's library: every C file of Lua's src/ except the two
# programs (lua.c, luac.c), into one archive. mk/deps.mk runs it as
#   make -f deps/lua/lua.mk SRC=... OBJ=... OUT=... CC=... AR=... CFLAGS=...
# with all the flags given; nothing of Debian's or Lua's own Makefile is used.

LUA_C := $(filter-out $(SRC)/lua.c $(SRC)/luac.c,$(wildcard $(SRC)/*.c))
LUA_O := $(LUA_C:$(SRC)/%.c=$(OBJ)/%.o)

$(OUT): $(LUA_O)
	rm -f $@
	$(AR) rcsD $@ $(sort $^)

$(OBJ)/%.o: $(SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
