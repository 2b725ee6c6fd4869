"""Value types every layer shares: the config base model and its one-line errors, field types, container resources.

A leaf: nothing here imports the rest of the project, so any module may import it.
"""
