"""Text metadata written into an image's bytes without decoding or re-encoding the image.

PNG gets text chunks right after IHDR, JPEG an APP1 XMP segment after SOI (and a JFIF APP0),
WebP an `XMP ` chunk (a simple VP8/VP8L file becomes the extended VP8X layout first). The
pixel data is copied byte for byte; only the container around it changes.
"""

from __future__ import annotations

import struct
import zlib
from xml.sax.saxutils import escape

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_NAMESPACE = "https://deerweb.invalid/ns/1.0/"
JPEG_SEGMENT_MAX = 0xFFFF - 2  # a segment's length field counts itself
WEBP_FLAG_XMP = 0x04
WEBP_FLAG_ALPHA = 0x10


class UnsupportedImage(ValueError):
    """The bytes are not a file of the kind this module can add metadata to."""


# --- PNG -----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_text_chunk(keyword: str, text: str) -> bytes:
    """A tEXt chunk when the text is Latin-1 (as AUTOMATIC1111 writes it), else an uncompressed iTXt."""
    key = keyword.encode("latin-1")
    try:
        return _png_chunk(b"tEXt", key + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, compression flag and method, empty language tag and translated keyword
        return _png_chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, the whole chunk's bytes) for every chunk of a PNG file."""
    if not data.startswith(PNG_SIGNATURE):
        raise UnsupportedImage("not a PNG file")
    chunks, at = [], len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        end = at + 12 + length
        if end > len(data):
            raise UnsupportedImage("truncated PNG chunk")
        chunks.append((data[at + 4 : at + 8], data[at:end]))
        at = end
    if not chunks or chunks[0][0] != b"IHDR":
        raise UnsupportedImage("PNG without IHDR")
    return chunks


def _png_text_keyword(kind: bytes, chunk: bytes) -> str | None:
    if kind not in (b"tEXt", b"iTXt", b"zTXt"):
        return None
    return chunk[8:].split(b"\x00", 1)[0].decode("latin-1")


def png_with_text(data: bytes, texts: dict[str, str]) -> bytes:
    """The PNG with `texts` as text chunks after IHDR; earlier chunks of the same keywords are dropped."""
    chunks = _png_chunks(data)
    kept = [chunk for kind, chunk in chunks[1:] if _png_text_keyword(kind, chunk) not in texts]
    added = [png_text_chunk(keyword, text) for keyword, text in texts.items()]
    return b"".join([PNG_SIGNATURE, chunks[0][1], *added, *kept])


# --- XMP -----------------------------------------------------------------------------------


def xmp_packet(properties: dict[str, str]) -> bytes:
    """An XMP packet with each property as a simple `deerweb:` element."""
    fields = "".join(f"<deerweb:{name}>{escape(value)}</deerweb:{name}>" for name, value in properties.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:deerweb="{XMP_NAMESPACE}">{fields}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


# --- JPEG ----------------------------------------------------------------------------------


def jpeg_with_xmp(data: bytes, xmp: bytes) -> bytes:
    """The JPEG with an APP1 XMP segment after SOI (and after a JFIF APP0, which must come first);
    an XMP segment it had is dropped. Only the leading APPn and COM segments are walked."""
    if not data.startswith(b"\xff\xd8"):
        raise UnsupportedImage("not a JPEG file")
    payload = XMP_JPEG_HEADER + xmp
    if len(payload) > JPEG_SEGMENT_MAX:
        raise UnsupportedImage("XMP too large for one JPEG segment")
    app0: list[bytes] = []
    rest: list[bytes] = []
    at = 2
    while len(data) >= at + 4 and data[at] == 0xFF and (0xE0 <= data[at + 1] <= 0xEF or data[at + 1] == 0xFE):
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        if data[at + 1] == 0xE0 and not rest:
            app0.append(segment)
        elif not (data[at + 1] == 0xE1 and segment[4:].startswith(XMP_JPEG_HEADER)):
            rest.append(segment)
        at += 2 + length
    ours = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return b"".join([data[:2], *app0, ours, *rest, data[at:]])


# --- WebP ----------------------------------------------------------------------------------


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(fourcc, the whole chunk's bytes with padding) for every chunk of a WebP file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnsupportedImage("not a WebP file")
    chunks, at = [], 12
    while at + 8 <= len(data):
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + length + (length & 1)
        if at + 8 + length > len(data):
            raise UnsupportedImage("truncated WebP chunk")
        chunks.append((data[at : at + 4], data[at:end]))
        at = end
    if not chunks:
        raise UnsupportedImage("empty WebP file")
    return chunks


def _webp_canvas(fourcc: bytes, chunk: bytes) -> tuple[int, int, bool]:
    """Width, height and whether there is alpha, read from a VP8 or VP8L bitstream's header."""
    body = chunk[8:]
    if fourcc == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    raise UnsupportedImage("unknown WebP bitstream")


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def webp_with_xmp(data: bytes, xmp: bytes) -> bytes:
    """The WebP with an `XMP ` chunk: a simple file becomes VP8X with the XMP flag set."""
    chunks = [(fourcc, chunk) for fourcc, chunk in _riff_chunks(data) if fourcc != b"XMP "]
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[8] |= WEBP_FLAG_XMP
        body = [bytes(header), *(chunk for _fourcc, chunk in chunks[1:])]
    else:
        width, height, alpha = _webp_canvas(*chunks[0])
        flags = WEBP_FLAG_XMP | (WEBP_FLAG_ALPHA if alpha else 0)
        extended = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = [_riff_chunk(b"VP8X", extended), *(chunk for _fourcc, chunk in chunks)]
    body.append(_riff_chunk(b"XMP ", xmp))
    content = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(content)) + content
