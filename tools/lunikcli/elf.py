"""elf -- what the lunik command reads and writes of ELF64 images (the
System V gABI's layout, little-endian): a section's bytes, where the
loaded image ends, its code symbols, and the last step of a build, which
adds the symbol table panics print backtraces with (kernel/ksyms.h) to
the one link's output, so an image is linked once.
"""

import struct

from .errors import Error

EHDR = "<16sHHIQQQIHHHHHH"  # e_ident .. e_shstrndx
SHDR = "<IIQQQQIIQQ"        # sh_name, type, flags, addr, offset, size, ...
PHDR = "<IIQQQQQQ"          # p_type, flags, offset, vaddr, paddr, filesz, ...
PT_LOAD = 1
SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 2, 3, 8
SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4
STT_NOTYPE, STT_FUNC = 0, 2
PAGE = 4096


def _check(data):
    if data[:4] != b"\x7fELF" or len(data) < 64 or data[4] != 2:
        raise Error("not an ELF64 file")


def _sections(data):
    """[(name, [sh fields])] of an ELF64 file's section headers."""
    _check(data)
    e = struct.unpack_from(EHDR, data)
    shoff, shentsize, shnum, shstrndx = e[6], e[11], e[12], e[13]
    try:
        heads = [list(struct.unpack_from(SHDR, data, shoff + i * shentsize))
                 for i in range(shnum)]
        strtab = heads[shstrndx]
        out = []
        for h in heads:
            off = strtab[4] + h[0]
            out.append((data[off:data.index(b"\0", off)].decode(), h))
        return out
    except (struct.error, ValueError, IndexError, OverflowError,
            UnicodeDecodeError):
        raise Error("a damaged ELF file (its section table is cut short)")


def section(data, wanted):
    """The bytes of section (wanted) of an ELF64 file's bytes, or None;
    raises Error when data is not an ELF64 file."""
    for name, h in _sections(data):
        if name == wanted:
            return data[h[4]:h[4] + h[5]]
    return None


def load_end(path):
    """The address just past the highest PT_LOAD segment of the ELF64
    image at path (where its bss, stacks and symbol table end), or None if
    unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)
        _check(data)
        e = struct.unpack_from(EHDR, data)
        end = 0
        for i in range(e[10]):
            p = struct.unpack_from(PHDR, data, e[5] + i * e[9])
            if p[0] == PT_LOAD:
                end = max(end, p[4] + p[6])
        return end or None
    except (OSError, struct.error, Error):
        return None


def _symbols(data):
    """(value, size, type, section header or None, name) of each symbol
    in an ELF64 file's .symtab."""
    secs = _sections(data)
    for _, h in secs:
        if h[1] != SHT_SYMTAB:
            continue
        strs = secs[h[6]][1]
        for off in range(h[4], h[4] + h[5], 24):
            st_name, info, _, shndx, value, size = struct.unpack_from(
                "<IBBHQQ", data, off)
            p = strs[4] + st_name
            name = data[p:data.index(b"\0", p)].decode(errors="replace")
            sec = secs[shndx][1] if 0 < shndx < len(secs) else None
            yield value, size, info & 0xf, sec, name


def code_symbols(data):
    """[(addr, size, name)] of the functions and code labels defined in an
    ELF64 file's .symtab (what nm shows as t, T, w, W), by address."""
    return sorted((v, size, name) for v, size, t, sec, name in _symbols(data)
                  if t in (STT_NOTYPE, STT_FUNC) and v and name and sec
                  and sec[2] & SHF_EXECINSTR)


def symbol(data, wanted):
    """The value of the symbol named wanted in an ELF64 file's .symtab,
    or None."""
    for v, _, _, _, name in _symbols(data):
        if name == wanted:
            return v
    return None


def _align(n, a):
    return -(-n // a) * a if a > 1 else n


def finish_image(data, blob, addr, strip):
    """The bytes of a linked image (data) with blob loaded at addr, the
    address of kernel/link.ld's empty .ksyms: the unused PT_LOAD that
    link.ld keeps for it is pointed at the blob, appended page aligned,
    and a .ksyms section names it; strip drops the ELF symbol table
    (.symtab, .strtab) as ld --strip-all would. Nothing loaded moves."""
    secs = _sections(data)
    e = list(struct.unpack_from(EHDR, data))
    drop = set()
    if strip:
        drop = {i for i, (n, h) in enumerate(secs)
                if h[1] == SHT_SYMTAB or (n == ".strtab" and h[1] == SHT_STRTAB)}
    loaded_end = max([h[4] + h[5] for n, h in secs
                      if h[2] & SHF_ALLOC and h[1] != SHT_NOBITS] +
                     [e[5] + e[9] * e[10]])
    out = bytearray(data[:loaded_end])
    index, heads = {}, []
    for i, (name, h) in enumerate(secs):
        if i in drop:
            continue
        index[i] = len(heads)
        h = list(h)
        if i and not h[2] & SHF_ALLOC and h[1] != SHT_NOBITS:
            body = data[h[4]:h[4] + h[5]]
            if i == e[13]:
                body += b".ksyms\0"
                ksyms_name = h[5]
                h[5] = len(body)
            out += b"\0" * (_align(len(out), max(h[8], 1)) - len(out))
            h[4] = len(out)
            out += body
        heads.append(h)
    for h in heads:  # section links (symtab -> strtab) follow the renumbering
        if h[6] in index:
            h[6] = index[h[6]]
    out += b"\0" * (_align(len(out), PAGE) - len(out))
    blob_off = len(out)
    out += blob
    heads.append([ksyms_name, 1, SHF_ALLOC, addr, blob_off, len(blob), 0, 0,
                  PAGE, 0])
    out += b"\0" * (_align(len(out), 8) - len(out))
    e[6], e[12], e[13] = len(out), len(heads), index[e[13]]
    for h in heads:
        out += struct.pack(SHDR, *h)
    struct.pack_into(EHDR, out, 0, *e)
    for i in range(e[10]):  # the empty PT_LOAD: the last, placed at 0
        off = e[5] + i * e[9]
        p = struct.unpack_from(PHDR, out, off)
        if p[0] == PT_LOAD and p[3] == 0 and p[5] == 0 and p[6] == 0:
            struct.pack_into(PHDR, out, off, PT_LOAD, 4, blob_off, addr, addr,
                             len(blob), len(blob), PAGE)
            return bytes(out)
    raise Error("the image has no empty PT_LOAD for its symbol table "
                "(kernel/link.ld's ksyms)")
