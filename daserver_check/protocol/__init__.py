"""Sans-IO protocol code: bytes in, typed values out. No sockets, no files."""
