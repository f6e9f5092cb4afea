"""Raw articles in, normalized article records out: the doors, identity, the writer.

Kept free of imports so that each stage pulls in only the modules it uses.
"""
