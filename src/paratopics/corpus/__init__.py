"""The corpus folder: layout, safe paths, atomic writes, hashing, JSON I/O and the lock.

Kept free of imports so that each stage pulls in only the modules it uses.
"""
