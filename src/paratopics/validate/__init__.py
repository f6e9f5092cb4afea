"""Article records and annotation files checked against the schemas and the rules.

Kept free of imports so that each stage pulls in only the modules it uses.
"""
