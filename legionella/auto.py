"""``import legionella.auto`` installs the import hook, once, and does nothing else.

Modules imported afterwards that hold ``# legionella:`` markers are rewritten; ``legionella.auto.hook``
is the handle (``legionella.auto.hook.uninstall()`` takes the hook out). A module with markers that was
imported before this one gets a :class:`~legionella.importer.MarkersNotRewrittenWarning`.
"""
from .importer import install, warn_about_early_imports

hook = install()
warn_about_early_imports()
