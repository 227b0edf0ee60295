"""ember.compat: other actor libraries' APIs on ember nodes.

``ember.compat.thespian`` runs unmodified thespian actors on an ember node
(``pip install ember[thespian]``; docs/thespian.md). The compatibility layers sit
on ember's public API only.
"""
