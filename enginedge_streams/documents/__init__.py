"""The platform's document-parsing layer: encodings and text normalisation shared by workers.

Both the data processing worker and (next) the resume worker take their bytes
through here, so a declared encoding, a byte-order mark and PDF ligatures are
handled once.
"""

from enginedge_streams.documents.text import declared_encoding, decode_bytes, fold, sniff_encoding

__all__ = ["declared_encoding", "decode_bytes", "fold", "sniff_encoding"]
