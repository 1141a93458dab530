"""Importers for the files CMS and NCHS publish, one small module per format.

Parsing is pure (text or bytes in, dataclasses out); loading validates everything and writes in
the caller's transaction. `registry.run_import` is the one way in.
"""
