"""A small reader for the parquet files `rho1 score export` writes, for machines without pyarrow (Debian 12 ships
none). It reads what that writer produces -- data page v2, PLAIN values, RLE/bit-packed levels, list<primitive>
and flat primitive columns, UNCOMPRESSED / ZSTD (python3-zstandard) / GZIP / SNAPPY (python-snappy) -- and says so
when it meets anything else. With pyarrow installed, `read_columns` uses pyarrow instead.

  read_columns(path, ["input_ids", "ref_loss", "valid"], rows=8) -> {"input_ids": [[...], ...], ...}
"""
import gzip
import struct


def _varint(buf, pos):
    out = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return out, pos


def _zigzag(n):
    return (n >> 1) ^ -(n & 1)


def _value(buf, pos, kind):
    """One Thrift compact-protocol value of type `kind` at pos -> (value, next pos). Structs become {field id: value}."""
    if kind in (1, 2):  # bool inside a struct: the type carries the value
        return kind == 1, pos
    if kind == 3:
        return buf[pos], pos + 1
    if kind in (4, 5, 6):
        n, pos = _varint(buf, pos)
        return _zigzag(n), pos
    if kind == 7:
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    if kind == 8:
        n, pos = _varint(buf, pos)
        return bytes(buf[pos : pos + n]), pos + n
    if kind in (9, 10):
        head = buf[pos]
        pos += 1
        size, elem = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(buf, pos)
        items = []
        for _ in range(size):
            if elem in (1, 2):  # bools in a list: one byte each
                items.append(buf[pos] == 1)
                pos += 1
            else:
                item, pos = _value(buf, pos, elem)
                items.append(item)
        return items, pos
    if kind == 11:
        size, pos = _varint(buf, pos)
        if size == 0:
            return {}, pos
        types = buf[pos]
        pos += 1
        out = {}
        for _ in range(size):
            k, pos = _value(buf, pos, types >> 4)
            out[k], pos = _value(buf, pos, types & 0x0F)
        return out, pos
    if kind == 12:
        out, field = {}, 0
        while True:
            head = buf[pos]
            pos += 1
            if head == 0:
                return out, pos
            delta, ftype = head >> 4, head & 0x0F
            if delta:
                field += delta
            else:
                n, pos = _varint(buf, pos)
                field = _zigzag(n)
            out[field], pos = _value(buf, pos, ftype)
    raise ValueError(f"thrift compact type {kind} not supported")


def _rle_hybrid(buf, bit_width, count):
    """Parquet's RLE / bit-packed hybrid, `count` values."""
    out, pos, mask = [], 0, (1 << bit_width) - 1
    width = (bit_width + 7) // 8
    while len(out) < count:
        head, pos = _varint(buf, pos)
        if head & 1:  # bit-packed groups of 8
            groups = head >> 1
            bits = int.from_bytes(buf[pos : pos + groups * bit_width], "little")
            pos += groups * bit_width
            out.extend((bits >> (i * bit_width)) & mask for i in range(groups * 8))
        else:
            value = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
            out.extend([value] * (head >> 1))
    return out[:count]


def _decompress(codec, data, size):
    if codec == 0:
        return data
    if codec == 6:
        import zstandard  # Debian: python3-zstandard

        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    if codec == 2:
        return gzip.decompress(data)
    if codec == 1:
        import snappy  # python-snappy

        return snappy.uncompress(data)
    raise ValueError(f"compression codec {codec} not supported")


PLAIN = {1: ("<i", 4), 2: ("<q", 8), 4: ("<f", 4), 5: ("<d", 8)}  # parquet physical type -> struct format


def _plain(data, ptype, count):
    if ptype == 0:  # BOOLEAN: bit-packed, least significant bit first
        return [bool((data[i >> 3] >> (i & 7)) & 1) for i in range(count)]
    if ptype == 6:  # BYTE_ARRAY: 4-byte length + bytes
        out, pos = [], 0
        for _ in range(count):
            n = struct.unpack_from("<I", data, pos)[0]
            out.append(data[pos + 4 : pos + 4 + n].decode())
            pos += 4 + n
        return out
    fmt, size = PLAIN[ptype]
    return list(struct.unpack_from(f"<{count}{fmt[1]}", data, 0))


def read_columns(path, names, rows=None):
    """The named columns (first `rows` rows, or all) as Python lists; list columns as lists of lists."""
    try:
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=names).slice(0, rows).to_pydict()
    except ImportError:
        pass
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"PAR1" or buf[-4:] != b"PAR1":
        raise ValueError(f"{path}: not a parquet file")
    footer = struct.unpack_from("<I", buf, len(buf) - 8)[0]
    meta, _ = _value(buf, len(buf) - 8 - footer, 12)
    out = {name: [] for name in names}
    for group in meta[4]:
        for chunk in group[1]:
            cm = chunk[3]
            name = cm[3][0].decode()
            if name not in out or (rows is not None and len(out[name]) >= rows):
                continue
            is_list = len(cm[3]) > 1
            pos, left = cm[9], cm[5]
            while left > 0:
                header, pos = _value(buf, pos, 12)
                if header[1] != 3:
                    raise ValueError(f"{path}: column {name}: page type {header[1]}, this reader takes data page v2")
                v2 = header[8]
                if v2[4] != 0:
                    raise ValueError(f"{path}: column {name}: encoding {v2[4]}, this reader takes PLAIN")
                rep_len, def_len = v2[6], v2[5]
                body = buf[pos : pos + header[3]]
                pos += header[3]
                reps = _rle_hybrid(body[:rep_len], 1, v2[1]) if is_list else [0] * v2[1]
                values = body[rep_len + def_len :]
                if v2.get(7, True):
                    values = _decompress(cm[4], values, header[2] - rep_len - def_len)
                decoded = _plain(values, cm[1], v2[1] - v2[2])
                for rep, value in zip(reps, decoded):
                    if not is_list:
                        out[name].append(value)
                    elif rep == 0:
                        out[name].append([value])
                    else:
                        out[name][-1].append(value)
                left -= v2[1]
    return {name: values[:rows] if rows is not None else values for name, values in out.items()}
