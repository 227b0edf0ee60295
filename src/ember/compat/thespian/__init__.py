"""ember.compat.thespian: unmodified thespian actors on an ember node.

``ActorSystem(systemBase=EmberBase(...))`` runs thespian's own facade and actors
on an ember node started on a background thread; see docs/thespian.md for the
migration guide, the semantics chosen where thespian leaves them open, and
which messages cross nodes. Installed with ``pip install ember[thespian]``.

- :class:`EmberBase`: the system base.
- :class:`ThespianActor`: the ember actor that runs one thespian actor (spawn it
  with ember's API: ``node.spawn(ThespianActor, "module.Class", on="b")``).
- :func:`child_spec`: a ``ChildSpec`` for a thespian actor under an ember supervisor.
"""

from ember._exports import present

from ._base import EmberBase
from ._errors import LoopThreadCall, SystemShutDown, Unsupported
from ._shell import ThespianActor
from ._supervision import child_spec

__all__ = [
    "EmberBase",
    "LoopThreadCall",
    "SystemShutDown",
    "ThespianActor",
    "Unsupported",
    "child_spec",
]

present("ember.compat.thespian", globals(), __all__)
