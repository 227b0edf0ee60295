"""What a chaos run strikes: one node in this process, or a ``LocalCluster`` of processes.

A target applies each kind of fault its own way and, when the run ends,
:meth:`calm` undoes what is still in force (heals every link, resumes and
restarts every node it stopped) so that a test can check that the system
came back. Every method returns a short text of what it did, for the run's
record; a fault that finds nothing to strike (no actor, a node that is down)
says so and is not an error: chaos meets chaos.

- :class:`NodeTarget` (a ``LocalNode``): actor faults only.
- :class:`ClusterTarget` (a ``LocalCluster`` started with ``allow_chaos=True``):
  node faults as signals to the processes the test owns, actor and link
  faults through each node's chaos service (``_chaos_service``).
- :class:`RemoteCluster` (any running cluster whose nodes allow chaos, through a
  client node): everything through the chaos services (``ember chaos``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING, Any, Protocol

from ember.actors import ActorExited, ActorRef, CallTimeout, EmberError, LocalNode

from ._chaos_actors import ActorSelector, strike
from ._chaos_schedule import ACTOR_FAULTS, Fault
from ._chaos_service import CHAOS_SERVICE
from ._faults import FaultPlan

if TYPE_CHECKING:
    from ._local_cluster import LocalCluster

__all__ = ["ChaosTarget", "ClusterTarget", "NodeTarget", "RemoteCluster"]

REQUEST_TIMEOUT = 5.0  # seconds for a chaos service to answer
EXIT_WITHIN = 5.0  # seconds a node declared down takes to find out and exit


class ChaosTarget(Protocol):
    """What a chaos run needs from what it strikes."""

    def node_names(self) -> list[str]:
        """The nodes node and link faults may strike (empty: actor faults only)."""
        ...

    async def apply(self, fault: Fault, label: str) -> str:
        """Strike ``fault``; returns what happened."""
        ...

    async def calm(self) -> None:
        """Undo what is still in force: heal links, resume and restart nodes."""
        ...


class NodeTarget:
    """One node in this process: its actors, as ``selector`` allows."""

    def __init__(self, node: LocalNode, selector: ActorSelector) -> None:
        self.node = node
        self.selector = selector

    def node_names(self) -> list[str]:
        return []

    async def apply(self, fault: Fault, label: str) -> str:
        if fault.kind not in ACTOR_FAULTS:
            return f"skipped: a single node takes actor faults only, not {fault.kind}"
        ref = await strike(self.node, fault.kind, self.selector, fault.pick, label)
        return "no actor to strike" if ref is None else f"struck {ref!r}"

    async def calm(self) -> None:
        pass


class _ThroughServices:
    """What strikes nodes through their chaos services, from a client node: actor
    faults and link faults (the client's own links in ``client_faults``)."""

    def __init__(
        self, client: LocalNode, selector: ActorSelector, client_faults: FaultPlan | None
    ) -> None:
        self.client = client
        self.selector = selector
        self.client_faults = client_faults
        self._links: set[str] = set()  # nodes with faulted links

    async def _strike_actor(self, fault: Fault, label: str, live: list[str]) -> str:
        if not live:
            return "no node to strike"
        node = live[fault.pick % len(live)]
        request = ("strike", fault.kind, self.selector.to_term(), fault.pick, label)
        ref = await self._ask(node, request)
        return f"no actor to strike on {node}" if ref is None else f"struck {ref!r}"

    async def _link_fault(self, fault: Fault) -> str:
        source, target = fault.source, fault.target
        assert source is not None
        assert target is not None
        if fault.kind == "heal":
            for node in (source, target):
                await self._fault_link(node, ("heal", None))
            return f"healed {source}<->{target}"
        both_ways = fault.kind == "partition" and not fault.one_way
        ends = [(source, target), (target, source)] if both_ways else [(source, target)]
        lasts = float(fault.lasts)
        for node, peer in ends:
            request: tuple[Any, ...]
            if fault.kind == "partition":
                request = ("partition", peer, lasts)
            elif fault.kind == "delay":
                request = ("delay", peer, float(fault.seconds), lasts)
            else:
                request = ("drop", peer, float(fault.probability), lasts)
            await self._fault_link(node, request)
            self._links.add(node)
        return fault.what()

    async def _fault_link(self, node: str, request: tuple[Any, ...]) -> None:
        """Fault (or heal) ``node``'s outbound side of a link: the client's here, in its
        own plan; a node's through its chaos service."""
        if node != self.client.name or self.client_faults is None:
            await self._ask(node, request)
            return
        plan, me = self.client_faults, self.client.name
        match request:
            case ("partition", str(peer), float(lasts)):
                plan.partition(me, peer, one_way=True)
            case ("delay", str(peer), float(seconds), float(lasts)):
                plan.delay(me, peer, seconds)
            case ("drop", str(peer), float(probability), float(lasts)):
                plan.drop(me, peer, probability)
            case _:
                plan.heal()
                return
        heal = functools.partial(plan.heal, me, peer)
        asyncio.get_running_loop().call_later(lasts, heal)

    async def _ask(self, node: str, request: tuple[Any, ...]) -> Any:
        """A call to ``node``'s chaos service; None if it cannot be reached."""
        service = await self._service(node)
        if service is None:
            return None
        try:
            return await service.call(request, timeout=REQUEST_TIMEOUT)
        except (ActorExited, CallTimeout):
            return None

    async def _service(self, node: str) -> ActorRef | None:
        remote = getattr(self.client, "remote", None)
        node_service = None if remote is None else remote.service_of(node)
        if node_service is None:
            return None
        try:
            found = await node_service.call(("whereis", CHAOS_SERVICE), timeout=REQUEST_TIMEOUT)
        except EmberError:
            return None
        if found is None:
            raise EmberError(
                f"node {node} does not allow chaos: start it with ember node --allow-chaos "
                "(a LocalCluster with allow_chaos=True)"
            )
        return found if isinstance(found, ActorRef) else None

    async def _heal_links(self) -> None:
        for name in sorted(self._links):
            await self._fault_link(name, ("heal", None))
        self._links.clear()


class ClusterTarget(_ThroughServices):
    """A ``LocalCluster``'s node processes (see the module docstring)."""

    def __init__(self, cluster: LocalCluster, selector: ActorSelector) -> None:
        super().__init__(cluster.client, selector, cluster.faults)
        self.cluster = cluster
        self._paused: set[str] = set()
        self._stopped: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def node_names(self) -> list[str]:
        return list(self.cluster.names)

    async def apply(self, fault: Fault, label: str) -> str:
        kind = fault.kind
        if kind in ACTOR_FAULTS:
            live = [name for name in self.cluster.names if self._reachable(name)]
            return await self._strike_actor(fault, label, live)
        if kind in ("kill_node", "terminate_node", "pause_node", "restart_node"):
            assert fault.node is not None
            return await self._node_fault(kind, fault.node, fault.seconds)
        assert fault.source is not None
        assert fault.target is not None
        return await self._link_fault(fault)

    def _reachable(self, name: str) -> bool:
        running = name in self.cluster.processes and name not in self._stopped
        return running and name not in self._paused

    async def _node_fault(self, kind: str, name: str, seconds: float) -> str:
        cluster = self.cluster
        if kind == "restart_node":
            return await self._restart(name)
        if not self._reachable(name):
            return f"skipped: {name} is not running"
        if kind == "kill_node":
            cluster.kill(name)
            self._stopped.add(name)
            return f"SIGKILL {name}"
        if kind == "terminate_node":
            cluster.terminate(name)
            self._stopped.add(name)
            return f"SIGTERM {name}"
        cluster.pause(name)
        self._paused.add(name)
        task = asyncio.get_running_loop().create_task(self._resume_after(name, seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return f"SIGSTOP {name} for {seconds:.1f}s"

    async def _resume_after(self, name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._resume(name, long=seconds > 1.0)

    def _resume(self, name: str, *, long: bool) -> None:
        if name in self._paused:
            self._paused.discard(name)
            with contextlib.suppress(ProcessLookupError, KeyError):
                self.cluster.resume(name)
            if long:  # a pause past detection ends with the node told it is down: exit 3
                self._stopped.add(name)

    async def _restart(self, name: str) -> str:
        """Start ``name`` again once its process has ended: stopped by the run, or on its
        own (a node paused or cut off past detection finds out it was declared down
        and exits 3 soon after it can hear again)."""
        process = self.cluster.processes.get(name)
        if process is not None and process.returncode is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(EXIT_WITHIN):
                    await process.wait()
            if process.returncode is None:
                self._stopped.discard(name)
                return f"skipped: {name} is running"
        exited = None if process is None else process.returncode
        await self.cluster.start_node(name)
        self._stopped.discard(name)
        return f"restarted {name} (it had exited with status {exited})"

    async def calm(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for name in list(self._paused):
            self._resume(name, long=True)
        await self._heal_links()
        for name in sorted(self._stopped):
            await self._restart(name)
        await self.cluster.wait_members(self.cluster.names, within=30.0)


class RemoteCluster(_ThroughServices):
    """A running cluster, reached through ``client`` (a node joined to it), whose nodes
    run ``ember node --allow-chaos``: what ``ember chaos`` strikes.

    Everything goes through the nodes' chaos services, node faults included (a
    node signals itself). A node stopped this way is restarted by its own process
    supervisor, not by the run.
    """

    def __init__(self, client: LocalNode, selector: ActorSelector, nodes: list[str]) -> None:
        super().__init__(client, selector, None)
        self.nodes = nodes

    def node_names(self) -> list[str]:
        return list(self.nodes)

    def _live(self) -> list[str]:
        members = getattr(self.client, "members", None)
        if members is None:
            return []
        up = {member.name for member in members()}
        return [name for name in self.nodes if name in up]

    async def apply(self, fault: Fault, label: str) -> str:
        kind = fault.kind
        if kind in ACTOR_FAULTS:
            return await self._strike_actor(fault, label, self._live())
        if kind == "restart_node":
            return f"{fault.node} is for its process supervisor to restart"
        if kind in ("kill_node", "terminate_node", "pause_node"):
            assert fault.node is not None
            return await self._signal(kind, fault.node, fault.seconds)
        return await self._link_fault(fault)

    async def _signal(self, kind: str, name: str, seconds: float) -> str:
        if name not in self._live():
            return f"skipped: {name} is not a member now"
        service = await self._service(name)
        if service is None:
            return f"skipped: {name} cannot be reached"
        service.cast((kind, float(seconds)) if kind == "pause_node" else (kind,))
        return f"{name} told to {kind.removesuffix('_node')}"

    async def calm(self) -> None:
        await self._heal_links()
