/*
 * sanitize.c -- the sanitizers' defaults for the hosted-asan variant
 * (mk/hosted.mk), read by their runtimes at start; inert in the plain one.
 *
 * A finding ends the process at once with its report on stderr and exit
 * status 86, which no lunik outcome uses (docs/hosted.md), so a suite
 * can tell it from a failing spec. Leaks are not reported: the runtime
 * leaves by _exit, as the guest powers off, with its heap in use.
 * ASAN_OPTIONS and UBSAN_OPTIONS still override these.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	return "exitcode=86:detect_leaks=0:halt_on_error=1:"
	       "allocator_may_return_null=1:print_summary=1";
}

const char *__ubsan_default_options(void)
{
	return "exitcode=86:halt_on_error=1:print_stacktrace=1";
}
