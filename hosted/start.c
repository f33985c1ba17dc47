/*
 * start.c -- the hosted executable's main(), in an object of its own
 * (start.o of each variant, outside lunik.o) so that a libFuzzer target,
 * whose main() is libFuzzer's, can start the runtime its own way
 * (tests/fuzz/stack.h).
 */
#include "hosted.h"

int main(int argc, char **argv)
{
	hosted_main(argc, argv);
}
