"""Calling the hooks: each plugin gets its own context, in pluggy's order, sync or async alike.

pluggy passes the same arguments to every implementation, but a chatops plugin sees
its own :class:`~chatops.context.PluginContext` (its settings, its logger, its job
kinds). So hooks whose spec takes ``ctx`` are called here: the implementations come
from pluggy in pluggy's order (``tryfirst``/``trylast``, then registration order, the
last registered first), ``wrapper=True`` generators wrap the rest and may change the
result or handle an error, ``firstresult`` stops at the first non-None answer, and an
implementation's error propagates to the caller as it would from ``pm.hook.<name>()``.
An implementation may be a coroutine function when the hook is called with
:meth:`HookRunner.call`; :meth:`HookRunner.call_sync` refuses one with a clear error.

One algorithm (:meth:`HookRunner._run`) serves both: it yields each awaitable an
implementation returns, and the async driver awaits it while the sync driver refuses it.

``isolate=True`` is for notifications (events, inbound messages): an implementation's
error is logged with the plugin's name and the others are still called.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any

import pluggy

from chatops.plugin_errors import PluginFailed

log = logging.getLogger(__name__)

#: The argument name through which each implementation receives its own context.
CONTEXT_ARG = "ctx"

_Steps = Generator[Awaitable[Any], Any, Any]


class PluginHookError(PluginFailed):
    """A plugin's hook implementation is not usable as written (old-style wrapper, coroutine in a sync hook).

    A :class:`~chatops.plugin_errors.PluginFailed`, so the command line prints it as one line.
    """

    def __init__(self, plugin: str, hook: str, problem: str) -> None:
        super().__init__(plugin, f"{hook}: {problem}")
        self.hook = hook


class HookRunner:
    """Calls hooks for one bot: its plugin manager and each plugin's context."""

    def __init__(self, pm: pluggy.PluginManager, contexts: Callable[[str], Any]) -> None:
        self.pm = pm
        self._context_of = contexts
        self._awaiting = "?"  # the plugin whose awaitable is pending (named when a sync call refuses it)

    def implementers(self, name: str) -> list[str]:
        """The plugins implementing hook ``name``, in the order they are called."""
        return [impl.plugin_name for impl in reversed(getattr(self.pm.hook, name).get_hookimpls())]

    def implementers_in(self, name: str, order: Sequence[str]) -> list[str]:
        """The plugins implementing hook ``name``, in ``order`` (``[plugins] enabled``: lanes, checks)."""
        implementing = set(self.implementers(name))
        return [plugin for plugin in order if plugin in implementing]

    async def call(self, hook: str, /, *, isolate: bool = False, only: str | None = None, **kwargs: Any) -> Any:
        """Call ``hook``, awaiting implementations that are coroutines (see the module docstring).

        ``only`` calls one plugin's implementation (the lifecycle goes plugin by plugin).
        """
        steps = self._run(hook, kwargs, isolate=isolate, only=only)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                pending = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, error = await pending, None
            except Exception as exc:
                value, error = None, exc

    def call_sync(self, hook: str, /, *, only: str | None = None, **kwargs: Any) -> Any:
        """Call ``hook`` from synchronous code; an implementation that is a coroutine is refused."""
        steps = self._run(hook, kwargs, isolate=False, only=only)
        try:
            pending = steps.send(None)
        except StopIteration as stop:
            return stop.value
        if inspect.iscoroutine(pending):
            pending.close()  # never awaited: close it so Python does not warn
        steps.close()
        raise PluginHookError(self._awaiting, hook, "is a coroutine function, but this hook is called synchronously")

    def _arguments(self, impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> list[Any]:
        try:
            return [self._context_of(impl.plugin_name) if arg == CONTEXT_ARG else kwargs[arg] for arg in impl.argnames]
        except KeyError as exc:
            raise PluginHookError(impl.plugin_name, "hook", f"asks for an argument the hook has not: {exc}") from None

    def _run(self, name: str, kwargs: Mapping[str, Any], *, isolate: bool, only: str | None) -> _Steps:
        """pluggy's ``_multicall``, with per-plugin contexts and awaitable results handed to the driver."""
        caller = getattr(self.pm.hook, name)
        firstresult = bool(caller.spec and caller.spec.opts.get("firstresult"))
        impls = [impl for impl in caller.get_hookimpls() if only is None or impl.plugin_name == only]
        results: list[Any] = []
        error: BaseException | None = None
        teardowns: list[tuple[str, Generator[None, Any, Any]]] = []
        try:
            for impl in reversed(impls):
                if impl.hookwrapper:
                    raise PluginHookError(impl.plugin_name, name, "hookwrapper=True is not supported; use wrapper=True")
                args = self._arguments(impl, kwargs)
                if impl.wrapper:
                    wrapper = impl.function(*args)
                    try:
                        next(wrapper)
                    except StopIteration:
                        raise PluginHookError(impl.plugin_name, name, "the wrapper did not yield") from None
                    teardowns.append((impl.plugin_name, wrapper))
                    continue
                try:
                    result = impl.function(*args)
                    if inspect.isawaitable(result):
                        self._awaiting = impl.plugin_name
                        result = yield result
                except Exception:
                    if not isolate:
                        raise
                    log.exception("plugin %s failed in %s", impl.plugin_name, name)
                    continue
                if result is not None:
                    results.append(result)
                    if firstresult:
                        break
        except BaseException as exc:
            error = exc
        outcome: Any = (results[0] if results else None) if firstresult else results
        for plugin, teardown in reversed(teardowns):
            try:
                if error is not None:
                    teardown.throw(error)
                else:
                    teardown.send(outcome)
                teardown.close()
            except StopIteration as stop:
                outcome, error = stop.value, None
                continue
            except BaseException as exc:
                error = exc
                continue
            error = PluginHookError(plugin, name, "the wrapper yielded twice")
        if error is not None:
            raise error
        return outcome
