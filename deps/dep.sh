#!/usr/bin/env bash
# Helper for mk/deps.mk: brings the third-party sources from Debian, checks
# them against the pinned checksums, unpacks them with Debian's patches
# applied, and runs build steps quietly (output to build/logs/NAME.log).
#
#   dep.sh fetch NAME KIND PACKAGE TARBALL LABEL [STEPS]
#       Make $BUILD/src/NAME the patched tree of Debian's PACKAGE, whose
#       upstream TARBALL must match its sha256 in $DEPS_PINS. KIND is "src"
#       (a source package: apt-get source, then dpkg-source -x) or "deb" (a
#       binary package that ships TARBALL, like newlib-source). Prints one
#       progress line "  DEP   LABEL: ..." naming what it does, STEPS added
#       (the build steps the caller runs next). Starts a fresh log.
#   dep.sh run NAME DIR CMD...
#       Run CMD in DIR, output appended to the log; on failure print the
#       log's tail and its path.
#   dep.sh check-newlib LIBC LIBM
#   dep.sh check-nopic NAME LIB...
#       Checks of the built archives (see below).
#   dep.sh apt-setup
#       Only the private apt configuration, its lists updated if it has
#       none: for others who fetch Debian packages the same way (the
#       benchmarks' Linux microVM takes the machine's own release).
#
# Environment: BUILD (the build folder), DEPS_PINS (the checksum file; not
# for apt-setup), DEPS_APT_ETC (the machine's apt folder to read sources
# from; /etc/apt), DEPS_SUITE (the Debian release the sources come from:
# trixie, or "host" for the suites the machine's sources name),
# DEPS_APT_DIR (where the private configuration lives; $BUILD/apt).
#
# Nothing here writes outside $BUILD: apt runs with a private configuration
# under $DEPS_APT_DIR whose sources name the Debian archive the machine's
# own sources use, for the release $DEPS_SUITE.
set -euo pipefail

: "${BUILD:?BUILD must be set}"
: "${DEPS_PINS:=}"
ETC=${DEPS_APT_ETC:-/etc/apt}
SUITE=${DEPS_SUITE:-trixie}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
B=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)
APT=${DEPS_APT_DIR:-$B/apt}
APTCONF=$APT/apt.conf
LOG=/dev/null

say() { printf '  DEP   %s\n' "$*"; }

die() {
	printf '  DEP   error: %s\n' "$*" >&2
	if [ "$LOG" != /dev/null ] && [ -s "$LOG" ]; then
		printf '        last lines of %s:\n' "$(relpath "$LOG")" >&2
		tail -n 25 "$LOG" | sed 's/^/        | /' >&2
		printf '        full log: %s\n' "$(relpath "$LOG")" >&2
	fi
	exit 1
}

relpath() { case $1 in "$PWD"/*) printf '%s' "${1#"$PWD"/}" ;; *) printf '%s' "$1" ;; esac; }

setlog() {
	mkdir -p "$B/logs"
	LOG=$B/logs/$1.log
}

# Runs "$@" with its output in the log; fails with the log's tail.
logged() {
	printf '\n### %s\n' "$*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 || die "'$1' failed (exit $?)"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------------------
# The private apt configuration.
#
# The machine runs Debian 12, but the third-party sources come from Debian
# 13 (trixie: mbedTLS 3.6, Lua 5.4.7, lwIP 2.2, newlib 4.5), from the same
# archive the machine already uses: its host name is never written here,
# it is read from the machine's sources. Archive URIs come from every
# entry of the machine's /etc/apt/sources.list,
# sources.list.d/*.list (one-line format) and sources.list.d/*.sources
# (deb822) that is
#   - enabled (not commented out, not "Enabled: no"; files with any other
#     suffix, like *.disabled, are not read by apt either),
#   - a Debian archive: its URI path ends in /debian or /debian-security
#     (Debian's own archive and security hosts and every official mirror are
#     laid out so; a snapshot URI .../debian/20250520T000000Z also counts),
#   - signed by the Debian archive keyring, or by nothing named (the
#     one-line format of a fresh Debian 12, trusted through
#     /etc/apt/trusted.gpg.d): this keeps out third-party repositories that
#     mimic Debian's layout (e.g. .../linux/debian) since those name their
#     own keyring,
#   - carrying the component "main" (the only one taken: every package we
#     fetch is in main, and the index downloads stay small),
# with backports and proposed-updates suites left out. Each such archive
# gives a "deb" line (for newlib-source, a binary package) and a "deb-src"
# line for $SUITE (or $SUITE-security, from a .../debian-security archive),
# component main, signed by the Debian archive keyring (Debian 12's
# debian-archive-keyring holds the trixie keys): nothing of Debian 12 is
# fetched for the build. With DEPS_SUITE=host the lines keep the machine's
# own suites and signatures instead.
# ---------------------------------------------------------------------------

# One-line format -> records "URI<TAB>SUITE<TAB>COMPONENTS<TAB>SIGNED-BY".
parse_oneline() {
	awk '
	{ sub(/^[ \t]+/, "") }
	/^#/ || NF == 0 { next }
	$1 == "deb" || $1 == "deb-src" {
		line = $0; sub(/#.*/, "", line)
		signed = ""; opts = ""
		if (match(line, /\[[^]]*\]/)) {
			opts = substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
		}
		n = split(opts, o, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (o[i] ~ /^signed-by=/) { signed = o[i]; sub(/^signed-by=/, "", signed) }
		n = split(line, w, /[ \t]+/)
		k = 0
		for (i = 1; i <= n; i++) if (w[i] != "") f[++k] = w[i]
		if (k < 4) next
		comps = f[4]
		for (i = 5; i <= k; i++) comps = comps " " f[i]
		printf "%s\t%s\t%s\t%s\n", f[2], f[3], comps, signed
	}'
}

# deb822 format -> the same records.
parse_deb822() {
	awk '
	function flush(   nu, ns, i, j, u, s) {
		if (enabled != "no" && types ~ /(^| )deb(-src)?( |$)/) {
			nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
			for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
				if (u[i] != "" && s[j] != "")
					printf "%s\t%s\t%s\t%s\n", u[i], s[j], comps, signed
		}
		types = uris = suites = comps = signed = enabled = key = ""
	}
	/^[ \t]*#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ {
		# continuation line: an inline key in Signed-By, or a long list
		if (key == "signed-by") signed = "(inline key)"
		else if (key == "uris") uris = uris " " $0
		else if (key == "suites") suites = suites " " $0
		else if (key == "components") comps = comps " " $0
		next
	}
	{
		key = tolower($0); sub(/:.*/, "", key)
		val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
		if (key == "types") types = val
		else if (key == "uris") uris = val
		else if (key == "suites") suites = val
		else if (key == "components") comps = val
		else if (key == "signed-by") signed = val
		else if (key == "enabled") enabled = tolower(val)
	}
	END { flush() }'
}

# Records -> deb and deb-src lines of the private sources.list.
select_debian() {
	awk -F'\t' -v want="$SUITE" -v keyring="$KEYRING" '
	{
		uri = $1; suite = $2; signed = $4
		sub(/\/+$/, "", uri)
		path = uri; sub(/^[a-z+]+:\/\/[^\/]*/, "", path)
		if (path !~ /\/debian(-security)?$/ && path !~ /\/debian(-security)?\/[0-9]+T[0-9]+Z$/) next
		if (signed != "" && signed !~ /^\/usr\/share\/keyrings\/debian-archive-[a-z0-9-]*\.(gpg|pgp|asc)$/) next
		if ((" " $3 " ") !~ /[ \t]main[ \t]/) next
		if (suite ~ /-backports(-sloppy)?$|-proposed-updates$/) next
		if (want == "host") {
			opt = (signed != "") ? "[signed-by=" signed "] " : ""
			print "deb " opt uri " " suite " main"
			print "deb-src " opt uri " " suite " main"
			next
		}
		s = (path ~ /-security(\/[0-9]+T[0-9]+Z)?$/) ? want "-security" : want
		print "deb [signed-by=" keyring "] " uri " " s " main"
		print "deb-src [signed-by=" keyring "] " uri " " s " main"
	}' | awk '!seen[$0]++'
}

generate_sources() {
	{
		[ -f "$ETC/sources.list" ] && parse_oneline <"$ETC/sources.list"
		for f in "$ETC"/sources.list.d/*.list; do
			[ -f "$f" ] && parse_oneline <"$f"
		done
		for f in "$ETC"/sources.list.d/*.sources; do
			[ -f "$f" ] && parse_deb822 <"$f"
		done
		true
	} | select_debian
}

# Private apt: lists, caches and sources all under $BUILD/apt. The machine's
# apt.conf.d is still read (proxies, validity settings), but its update hooks
# are cleared so nothing of the machine's state is refreshed by our update.
apt_config() {
	mkdir -p "$APT"/lists/partial "$APT"/cache/archives/partial \
		"$APT"/state "$APT"/sources.list.d "$APT"/preferences.d
	cat >"$APTCONF.new" <<EOF
// Generated by deps/dep.sh: a private apt configuration for fetching the
// third-party sources; the machine's own apt state is left untouched.
Dir::State "$APT/state/";
Dir::State::Lists "$APT/lists/";
Dir::Cache "$APT/cache/";
Dir::Etc::SourceList "$APT/sources.list";
Dir::Etc::SourceParts "$APT/sources.list.d/";
Dir::Etc::Preferences "$APT/preferences";
Dir::Etc::PreferencesParts "$APT/preferences.d/";
Acquire::Languages "none";
#clear Acquire::IndexTargets::deb::Contents-deb;
#clear Acquire::IndexTargets::deb::Contents-udeb;
#clear Acquire::IndexTargets::deb::DEP-11;
#clear Acquire::IndexTargets::deb::DEP-11-icons;
#clear Acquire::IndexTargets::deb::DEP-11-icons-small;
#clear Acquire::IndexTargets::deb::DEP-11-icons-large;
#clear Acquire::IndexTargets::deb::DEP-11-icons-hidpi;
#clear Acquire::IndexTargets::deb::DEP-11-icons-large-hidpi;
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
	mv -f "$APTCONF.new" "$APTCONF"
	generate_sources >"$APT/sources.list.new"
	[ -s "$APT/sources.list.new" ] ||
		die "no enabled Debian entry in $ETC/sources.list or $ETC/sources.list.d/ (see deps/dep.sh)"
	if ! cmp -s "$APT/sources.list.new" "$APT/sources.list"; then
		# new or changed sources: the old lists do not match them
		mv -f "$APT/sources.list.new" "$APT/sources.list"
		find "$APT/lists" -maxdepth 1 -type f ! -name lock -delete
	else
		rm -f "$APT/sources.list.new"
	fi
}

aptget() { apt-get -c "$APTCONF" -q -y "$@"; }

have_lists() {
	local f
	for f in "$APT"/lists/*_Sources*; do [ -e "$f" ] && return 0; done
	return 1
}

# Serialises apt set-up and updates between parallel fetches (fd 9).
apt_lock() { exec 9>"$B/.apt.lock"; flock "$@" 9; }
apt_unlock() { flock -u 9; }

apt_update() { logged aptget update; }

# apt_download KIND PACKAGE DIR
apt_download() {
	local kind=$1 pkg=$2 dir=$3 try
	apt_lock -x
	apt_config
	have_lists || apt_update
	apt_unlock
	for try in 1 2; do
		apt_lock -s
		if (
			cd "$dir"
			printf '\n### apt-get %s %s\n' "$kind" "$pkg"
			if [ "$kind" = src ]; then
				aptget source --download-only "$pkg"
			else
				aptget download "$pkg"
			fi
		) >>"$LOG" 2>&1; then
			apt_unlock
			return 0
		fi
		apt_unlock
		[ "$try" = 1 ] || break
		# perhaps the lists are stale (a newer Debian revision replaced the
		# files they name): update once and retry
		apt_lock -x
		apt_update
		apt_unlock
	done
	die "could not download Debian package $pkg"
}

# ---------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------

# The .dsc in DIR, if all the files it lists are there.
complete_dsc() {
	local dir=$1 dsc f
	set -- "$dir"/*.dsc
	[ $# = 1 ] && [ -f "$1" ] || return 1
	dsc=$1
	for f in $(awk '/^Files:/ {on = 1; next} /^[^ ]/ {on = 0} on {print $3}' "$dsc"); do
		[ -f "$dir/$f" ] || return 1
	done
	printf '%s' "$dsc"
}

cmd_fetch() {
	local name=$1 kind=$2 pkg=$3 tarball=$4 label=$5 steps=${6:-}
	local pin src=$B/src/$1 stamp=$B/stamps/$1.src dl=$B/dl/$1
	local got dsc="" version deb member tmp

	[ -n "$DEPS_PINS" ] || die "DEPS_PINS must be set"
	setlog "$name"
	: >"$LOG"
	pin=$(awk -v f="$tarball" '$2 == f || $2 == "*" f {print $1}' "$DEPS_PINS")
	[ -n "$pin" ] || die "no sha256 pinned for $tarball in $DEPS_PINS"

	if [ -d "$src" ] && [ -f "$stamp" ] && [ "$(cut -d' ' -f1 "$stamp")" = "$pin" ]; then
		[ -z "$steps" ] || say "$label: $steps"
		return 0
	fi
	say "$label: fetch, verify, patch${steps:+, $steps}"

	# Download, unless the pinned tarball (and for a source package its
	# .dsc and Debian files) are already here and verified.
	mkdir -p "$dl"
	if ! { [ -f "$dl/$tarball" ] && [ "$(sha256 "$dl/$tarball")" = "$pin" ] &&
		{ [ "$kind" = deb ] || complete_dsc "$dl" >/dev/null; }; }; then
		rm -rf "$dl"
		mkdir -p "$dl"
		apt_download "$kind" "$pkg" "$dl"
		if [ "$kind" = deb ]; then
			set -- "$dl/${pkg}"_*.deb
			[ -f "$1" ] || die "apt-get download $pkg gave no .deb"
			deb=$1
			member=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep "/$tarball\$" | head -n1 || true)
			[ -n "$member" ] || die "$(basename "$deb") does not contain $tarball (a new upstream version? update $DEPS_PINS)"
			dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$member" >"$dl/$tarball"
		else
			[ -f "$dl/$tarball" ] || die "Debian's $pkg no longer uses the pinned $tarball: it has $(cd "$dl" && ls | tr '\n' ' ')(a new upstream version? update $DEPS_PINS)"
		fi
	fi
	got=$(sha256 "$dl/$tarball")
	[ "$got" = "$pin" ] || die "sha256 mismatch for $tarball: pinned $pin (in $(relpath "$DEPS_PINS")), got $got; refusing to use it (remove $(relpath "$dl") to fetch again)"

	# Unpack with Debian's patches applied, into a temporary folder first
	# so that an interrupted run never leaves a half tree behind.
	tmp=$B/src/.$name.tmp
	rm -rf "$tmp" "$src"
	mkdir -p "$B/src" "$B/stamps"
	if [ "$kind" = src ]; then
		dsc=$(complete_dsc "$dl") || die "incomplete source package in $(relpath "$dl")"
		version=$(awk '/^Version:/ {print $2; exit}' "$dsc")
		# dpkg-source checks every file against the .dsc, unpacks the
		# upstream tarball and applies debian/patches (3.0 (quilt)).
		(cd "$dl" && logged dpkg-source --no-copy -x "$(basename "$dsc")" "$tmp")
	else
		version=$(dpkg-deb -f "$dl/${pkg}"_*.deb Version 2>/dev/null || echo unknown)
		mkdir -p "$tmp"
		logged tar -xf "$dl/$tarball" -C "$tmp" --strip-components=1
		# newlib-source ships Debian's tree with its patches already
		# applied by quilt; record which.
		if [ -f "$tmp/.pc/applied-patches" ]; then
			printf 'patches already applied by Debian: %s\n' \
				"$(tr '\n' ' ' <"$tmp/.pc/applied-patches")" >>"$LOG"
		fi
	fi
	mv "$tmp" "$src"
	printf '%s %s %s %s\n' "$pin" "$tarball" "$pkg" "$version" >"$stamp"
}

# ---------------------------------------------------------------------------
# run and checks
# ---------------------------------------------------------------------------

cmd_run() {
	local name=$1 dir=$2
	shift 2
	setlog "$name"
	(cd "$dir" && logged "$@")
}

# No position-independent code: no relocation through a GOT.
cmd_check_nopic() {
	local name=$1 bad
	shift
	setlog "$name"
	bad=$(readelf -rW "$@" | grep -oE 'R_X86_64_(GOT[A-Z0-9_]*|REX_GOTPCRELX|PLTOFF64|TLS[A-Z0-9_]*|DTP[A-Z0-9_]*|TPOFF[A-Z0-9_]*)' | sort | uniq -c || true)
	[ -z "$bad" ] || die "$* contain PIC or TLS relocations: $bad"
}

cmd_check_newlib() {
	local libc=$1 libm=$2 sym defs missing="" undef
	setlog newlib
	cmd_check_nopic newlib "$libc" "$libm"
	defs=$(nm -A "$libc" 2>/dev/null | awk '$(NF-1) ~ /^[TW]$/ {print $NF " " $1}')
	for sym in printf snprintf strtod malloc free realloc strftime mktime setjmp longjmp; do
		grep -q "^$sym " <<<"$defs" || missing="$missing $sym"
	done
	[ -z "$missing" ] || die "$libc lacks:$missing"
	grep -q '^setjmp .*setjmp\.o:' <<<"$defs" || die "setjmp does not come from the x86_64 machine directory"
	[ "$(nm "$libm" 2>/dev/null | grep -cE ' T (sin|pow|frexp)$')" = 3 ] || die "$libm lacks the math functions"
	# No Linux system calls: no syscall instruction anywhere, and none of
	# the Linux-only symbols; what is left undefined must be ours (the
	# runtime's _write, _sbrk, ...).
	if [ "$(objdump -d "$libc" "$libm" | grep -cE '[[:space:]](syscall|sysenter|int +\$0x80)([[:space:]]|$)')" != 0 ]; then
		die "newlib contains system call instructions"
	fi
	undef=$(nm -u "$libc" "$libm" 2>/dev/null | awk 'NF == 2 {print $2}' | sort -u)
	if grep -qE '^(syscall|__syscall.*|__libc_.*|__errno_location|_dl_.*)$' <<<"$undef"; then
		die "newlib references Linux libc symbols"
	fi
	printf '\n### symbols newlib expects from elsewhere:\n%s\n' "$(comm -23 <(echo "$undef") <(nm "$libc" "$libm" 2>/dev/null | awk 'NF == 3 && $2 != "U" {print $3}' | sort -u) | tr '\n' ' ')" >>"$LOG"
}

cmd_apt_setup() {
	setlog apt-setup
	: >"$LOG"
	apt_lock -x
	apt_config
	have_lists || apt_update
	apt_unlock
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch) cmd_fetch "$@" ;;
apt-setup) cmd_apt_setup ;;
run) cmd_run "$@" ;;
check-newlib) cmd_check_newlib "$@" ;;
check-nopic) cmd_check_nopic "$@" ;;
*) echo "usage: dep.sh fetch|run|check-newlib|check-nopic|apt-setup ..." >&2; exit 2 ;;
esac
